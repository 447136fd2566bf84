"""All-or-nothing output files: write a hidden temporary file beside the target, then rename.

The temporary file lives in the destination folder (so the final ``os.replace`` is a rename on
one file system, atomic on Windows, macOS and Linux) and is named ``.<final name>.<random>.part``.
Any exception — cancel, disk full, a bug — removes it, so a reader never sees half a file under
the final name. A process killed mid-export can leave a ``.part`` file behind:
:func:`remove_leftovers` deletes them for a target when its job is recovered at the next start.
"""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from flowdesk.core.export.errors import ExportError, describe_os_error

TEMP_SUFFIX = ".part"


def _check_folder(folder: Path, target: Path) -> None:
    if not folder.exists():
        raise ExportError(f"The folder {folder} does not exist (was it moved or disconnected?).")
    if not folder.is_dir():
        raise ExportError(f"{folder} is not a folder.")


@contextlib.contextmanager
def atomic_output(target: Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it becomes ``target``, on any error it goes.

    Failures to create, flush or rename raise :class:`ExportError` with a clear sentence.
    """
    target = Path(target)
    folder = target.parent
    _check_folder(folder, target)
    try:
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=folder)
    except OSError as exc:
        raise ExportError(describe_os_error(exc, target)) from exc
    os.close(handle)
    temp = Path(name)
    # mkstemp makes the file private (0600); an export is an ordinary document the user shares,
    # so it gets the permissions any new file of theirs gets (0666 less their umask).
    with contextlib.suppress(OSError):
        os.chmod(temp, 0o666 & ~_umask())
    try:
        yield temp
        _sync(temp)
        try:
            os.replace(temp, target)
        except OSError as exc:
            raise ExportError(describe_os_error(exc, target)) from exc
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _sync(path: Path) -> None:
    """Flush the finished file to disk before it takes its final name."""
    try:
        handle = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def leftovers(target: Path) -> list[Path]:
    """Temporary files an interrupted export of ``target`` may have left."""
    target = Path(target)
    pattern = os.path.join(glob.escape(str(target.parent)), f".{glob.escape(target.name)}.*")
    return [Path(p) for p in glob.glob(pattern) if p.endswith(TEMP_SUFFIX)]


def remove_leftovers(target: Path) -> int:
    removed = 0
    for path in leftovers(target):
        with contextlib.suppress(OSError):
            path.unlink()
            removed += 1
    return removed
