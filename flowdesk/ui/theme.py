"""Colours that stay legible on light and dark palettes; one colour per status, everywhere.

Numbers, shares and times are written by :mod:`flowdesk.core.formatting`.

Status colours are never the only signal: every place that shows one also shows the word. The two
tone sets are chosen for contrast against a light (white) and a dark (#1e1e1e-ish) base.
"""

from __future__ import annotations

import os
from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QApplication

from flowdesk.paths import SettingsKey

# metric → (light palette tone, dark palette tone)
_STATUS_TONES: dict[str, tuple[str, str]] = {
    "contacts": ("#2b5797", "#8ab4f8"),
    "expired": ("#a05a00", "#f0b354"),
    "ongoing": ("#1565c0", "#64b5f6"),
    "canceled": ("#5f6368", "#b0b4b9"),
    "failed": ("#c62828", "#ff8a80"),
    "completed": ("#2e7d32", "#81c995"),
}

# Rates drawn in the versions chart.
_SERIES_TONES = {
    "completion": ("#2e7d32", "#81c995"),
    "response": ("#6a1b9a", "#ce93d8"),
}

# What changed between two versions: steps added, changed, removed (ghosted), the same.
_DIFF_TONES = {
    "added": ("#2e7d32", "#81c995"),
    "changed": ("#b26a00", "#f0b354"),
    "removed": ("#5f6368", "#b0b4b9"),
    "same": ("#5f6368", "#9aa0a6"),
}


def diff_color(status: str, palette: QPalette | None = None) -> QColor:
    light, dark = _DIFF_TONES.get(status, _DIFF_TONES["same"])
    return QColor(dark if is_dark(palette) else light)


def is_dark(palette: QPalette | None = None) -> bool:
    if palette is None:
        app = QApplication.instance()
        palette = app.palette() if app is not None else QPalette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def status_color(metric: str, palette: QPalette | None = None) -> QColor:
    light, dark = _STATUS_TONES.get(metric, ("#5f6368", "#b0b4b9"))
    return QColor(dark if is_dark(palette) else light)


def series_color(name: str, palette: QPalette | None = None) -> QColor:
    light, dark = _SERIES_TONES[name]
    return QColor(dark if is_dark(palette) else light)


def muted_text(palette: QPalette | None = None) -> QColor:
    if palette is None:
        app = QApplication.instance()
        palette = app.palette() if app is not None else QPalette()
    return palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.PlaceholderText)


def style_chart_axes(plot: Any, palette: QPalette) -> None:
    """A pyqtgraph plot's axes in the palette: lines in Mid, tick labels and axis titles in Text.

    The line pen goes first: pyqtgraph gives an axis title the colour of whichever pen was set
    last, and titles drawn in Mid read as disabled."""
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setPen(palette.color(QPalette.ColorRole.Mid))
        axis.setTextPen(palette.color(QPalette.ColorRole.Text))


def static_chart(plot: Any) -> None:
    """A pyqtgraph plot (a PlotWidget or a PlotItem) to read, not to explore: no context menu,
    no pan or zoom, no auto-range button, and faint horizontal lines to read values against."""
    plot.setMenuEnabled(False)
    plot.setMouseEnabled(x=False, y=False)
    plot.hideButtons()
    plot.showGrid(x=False, y=True, alpha=0.25)


_DOT_CACHE: dict[tuple[str, bool], QIcon] = {}


def status_dot(metric: str, palette: QPalette | None = None) -> QIcon:
    """A small filled circle in the status colour, for item views' DecorationRole."""
    dark = is_dark(palette)
    key = (metric, dark)
    icon = _DOT_CACHE.get(key)
    if icon is None:
        pixmap = QPixmap(12, 12)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(status_color(metric, palette))
        painter.drawEllipse(1, 1, 10, 10)
        painter.end()
        icon = QIcon(pixmap)
        _DOT_CACHE[key] = icon
    return icon


def dark_palette() -> QPalette:
    """A dark Fusion palette (used by ``--dark`` and the screenshot's dark variant)."""
    p = QPalette()
    window, base, text = QColor("#202124"), QColor("#17181a"), QColor("#e8eaed")
    p.setColor(QPalette.ColorRole.Window, window)
    p.setColor(QPalette.ColorRole.WindowText, text)
    p.setColor(QPalette.ColorRole.Base, base)
    p.setColor(QPalette.ColorRole.AlternateBase, QColor("#24262a"))
    p.setColor(QPalette.ColorRole.ToolTipBase, QColor("#303134"))
    p.setColor(QPalette.ColorRole.ToolTipText, text)
    p.setColor(QPalette.ColorRole.Text, text)
    p.setColor(QPalette.ColorRole.PlaceholderText, QColor("#9aa0a6"))
    p.setColor(QPalette.ColorRole.Button, QColor("#2d2f33"))
    p.setColor(QPalette.ColorRole.ButtonText, text)
    p.setColor(QPalette.ColorRole.BrightText, QColor("#ffffff"))
    p.setColor(QPalette.ColorRole.Highlight, QColor("#3b6fb6"))
    p.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    p.setColor(QPalette.ColorRole.Link, QColor("#8ab4f8"))
    p.setColor(QPalette.ColorRole.Mid, QColor("#3c4043"))
    p.setColor(QPalette.ColorRole.Midlight, QColor("#34373b"))
    p.setColor(QPalette.ColorRole.Dark, QColor("#111213"))
    p.setColor(QPalette.ColorRole.Light, QColor("#44474b"))
    disabled = QColor("#6f7378")
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.WindowText,
    ):
        p.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return p


def light_palette() -> QPalette:
    p = QPalette()
    window, base, text = QColor("#f5f6f7"), QColor("#ffffff"), QColor("#1f1f1f")
    p.setColor(QPalette.ColorRole.Window, window)
    p.setColor(QPalette.ColorRole.WindowText, text)
    p.setColor(QPalette.ColorRole.Base, base)
    p.setColor(QPalette.ColorRole.AlternateBase, QColor("#f3f5f8"))
    p.setColor(QPalette.ColorRole.ToolTipBase, QColor("#ffffe8"))
    p.setColor(QPalette.ColorRole.ToolTipText, text)
    p.setColor(QPalette.ColorRole.Text, text)
    p.setColor(QPalette.ColorRole.PlaceholderText, QColor("#6b6f75"))
    p.setColor(QPalette.ColorRole.Button, QColor("#eceef1"))
    p.setColor(QPalette.ColorRole.ButtonText, text)
    p.setColor(QPalette.ColorRole.Highlight, QColor("#2b6cc4"))
    p.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    p.setColor(QPalette.ColorRole.Link, QColor("#1a5fb4"))
    p.setColor(QPalette.ColorRole.Mid, QColor("#c4c7cc"))
    p.setColor(QPalette.ColorRole.Midlight, QColor("#dfe1e5"))
    p.setColor(QPalette.ColorRole.Dark, QColor("#9aa0a6"))
    p.setColor(QPalette.ColorRole.Light, QColor("#ffffff"))
    return p


def saved_theme(settings: QSettings) -> bool | None:
    """True for dark, False for light, None when the user never chose (follow the system)."""
    if os.environ.get("FLOWDESK_THEME", "").lower() in ("dark", "light"):
        return None  # the environment decides, in apply_theme
    value = str(settings.value(SettingsKey.THEME, "") or "")
    return {"dark": True, "light": False}.get(value)


def apply_theme(app: QApplication, dark: bool | None = None) -> None:
    """Fusion with an explicit light or dark palette; None follows the system colour scheme."""
    app.setStyle("Fusion")
    if dark is None:
        env = os.environ.get("FLOWDESK_THEME", "").lower()
        if env in ("dark", "light"):
            dark = env == "dark"
        else:
            scheme = QGuiApplication.styleHints().colorScheme()
            dark = scheme == Qt.ColorScheme.Dark
    app.setPalette(dark_palette() if dark else light_palette())
