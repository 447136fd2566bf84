"""One presenter words every failure the user sees."""

from __future__ import annotations

import logging

from flowdesk.core.errors import Canceled
from flowdesk.core.export import ExportError
from flowdesk.ui.errors import error_text


def test_a_user_error_is_shown_as_it_is_a_cancel_as_such_and_a_bug_is_logged(caplog):
    assert error_text(ExportError("the folder is gone."), "Export") == "The folder is gone."
    assert error_text(Canceled(), "Sync") == "Sync canceled."
    with caplog.at_level(logging.ERROR, logger="flowdesk.ui.errors"):
        text = error_text(KeyError("x"), "Sync")
    assert text == "Sync failed: 'x'"
    assert "KeyError" in caplog.text
