"""The three ways a piece of work ends, and the two exceptions that end it early.

Every error whose text is written for the user derives from :class:`UserError`: the command
line catches it and prints its text as one line (exit status 2), the app shows it as it is.
Anything else that escapes is a bug and keeps its traceback. Work stopped on request raises
:class:`Canceled`, whichever layer noticed the request (an HTTP wait, an export batch, a sync).
"""

from __future__ import annotations

from enum import StrEnum


class UserError(Exception):
    """A failure the user can understand and act on; ``str(exc)`` is one sentence for them.

    The text never holds a secret (tokens) nor a traceback; subclasses only say where it
    came from (the cache, a source, an export...).
    """


class Canceled(Exception):  # noqa: N818 - a request, not an error
    """The user asked to stop; nothing half-done was kept (an export wrote no file, a sync
    resumes at its last committed batch)."""


class Outcome(StrEnum):
    """How a sync, an import or an export ended. A ``str``: it is stored and compared as text."""

    COMPLETED = "completed"
    CANCELED = "canceled"
    FAILED = "failed"
