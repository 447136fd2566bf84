"""How the app words a failure that reaches the user: one presenter for every window and panel.

A :class:`~flowdesk.core.errors.UserError` already carries one sentence for the user, shown as it
is. :class:`~flowdesk.core.errors.Canceled` is the user's own request, said as such. Anything else
is a bug: its traceback goes to the log and the user gets the action, the exception's type and
its text, never a traceback.
"""

from __future__ import annotations

import logging

from flowdesk.core.errors import Canceled, UserError

log = logging.getLogger(__name__)


def error_text(exc: BaseException, action: str) -> str:
    """One line for ``action`` (e.g. "Sync") failing with ``exc``."""
    if isinstance(exc, UserError):
        text = str(exc) or f"{action} failed."
        return text[:1].upper() + text[1:]
    if isinstance(exc, Canceled):
        detail = str(exc)
        return f"{action} canceled{': ' + detail[:1].lower() + detail[1:] if detail else '.'}"
    log.error("%s failed: %s", action, getattr(exc, "__traceback_text__", None) or repr(exc))
    detail = str(exc) or exc.__class__.__name__
    return f"{action} failed: {detail}"
