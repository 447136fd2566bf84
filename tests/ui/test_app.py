"""Application setup and the crash dialog: logged to a file, shown with Copy details, app lives."""

from __future__ import annotations

import sys

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from flowdesk.core.formatting import count as fmt_count
from flowdesk.core.formatting import share as fmt_share
from flowdesk.ui import app as app_module
from flowdesk.ui.theme import (
    dark_palette,
    is_dark,
    light_palette,
    status_color,
)


def test_app_names(qtbot):
    app = app_module.create_app()
    assert QApplication.applicationName() == "Flowdesk"
    assert QApplication.organizationName() == "Flowdesk"
    assert app is QApplication.instance()


def test_unhandled_exception_is_logged_and_shown(qtbot, tmp_path, monkeypatch):
    log_path = app_module.setup_logging(tmp_path)
    handler = app_module.ExceptionHandler(log_path)
    try:
        raise RuntimeError("the cache went away")
    except RuntimeError:
        handler.handle(*sys.exc_info())
    qtbot.waitUntil(lambda: handler.dialog is not None and handler.dialog.isVisible(), timeout=3000)
    dialog = handler.dialog
    assert "the cache went away" in dialog.informativeText()
    assert "Traceback" in dialog.detailedText()
    dialog.copy_button.click()
    assert "the cache went away" in QGuiApplication.clipboard().text()
    assert dialog.isVisible()  # copying does not close the dialog
    for h in __import__("logging").getLogger("flowdesk").handlers:
        h.flush()
    assert "the cache went away" in log_path.read_text(encoding="utf-8")
    # a second error while the dialog is open is appended, not a second dialog
    try:
        raise KeyError("second")
    except KeyError:
        handler.handle(*sys.exc_info())
    qtbot.waitUntil(lambda: "second" in dialog.detailedText(), timeout=3000)
    assert handler.count == 2
    dialog.close()


def test_palettes_keep_status_colours_legible():
    for palette in (light_palette(), dark_palette()):
        base = palette.color(palette.ColorRole.Base)
        for metric in ("expired", "ongoing", "canceled", "failed", "completed"):
            color = status_color(metric, palette)
            assert _contrast(color, base) >= 3.0, (metric, is_dark(palette))
    assert is_dark(dark_palette()) and not is_dark(light_palette())


def test_formats():
    assert fmt_count(1234567) == "1,234,567"
    assert fmt_share(0.4567) == "45.7%"
    assert fmt_share(None) == "—"
    assert fmt_share(0.0001) == "<0.1%"


def _contrast(a, b) -> float:
    def luminance(c):
        def channel(v):
            v = v / 255
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        return 0.2126 * channel(c.red()) + 0.7152 * channel(c.green()) + 0.0722 * channel(c.blue())

    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)
