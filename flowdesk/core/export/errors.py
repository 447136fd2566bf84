"""Why an export did not produce a file, in words a user can act on."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

from flowdesk.core.errors import UserError


class ExportError(UserError):
    """An export that failed; ``str(exc)`` is one clear sentence for the user."""


def describe_os_error(exc: OSError, target: Path) -> str:
    """One sentence for a file-system failure while writing ``target``."""
    folder = target.parent
    code = exc.errno
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return f"Not enough disk space to write {target.name} in {folder}."
    if code == errno.EROFS:
        return f"The folder {folder} is on a read-only drive; choose another folder."
    if code == errno.ENOENT:
        return f"The folder {folder} does not exist (was it moved or disconnected?)."
    if code == errno.ENOTDIR:
        return f"{folder} is not a folder."
    if code in (errno.EACCES, errno.EPERM) or isinstance(exc, PermissionError):
        return (
            f"Cannot write {target.name} in {folder}: permission denied, or the file is open "
            "in another program."
        )
    if code == errno.ENAMETOOLONG:
        return f"The file name {target.name} is too long for this folder."
    detail = exc.strerror or str(exc) or exc.__class__.__name__
    return f"Could not write {target.name} in {folder}: {detail}."


def describe_error(exc: BaseException, target: Path) -> str:
    """One sentence for any failure of an export writing ``target``."""
    if isinstance(exc, ExportError):
        return str(exc)
    if isinstance(exc, OSError):
        return describe_os_error(exc, target)
    if isinstance(exc, sqlite3.Error):
        return f"Could not read the cache: {exc}."
    if isinstance(exc, MemoryError):
        return "Ran out of memory while writing the file."
    return f"Unexpected error while exporting ({exc.__class__.__name__}: {exc})."
