"""Colours, glyphs and wording shared by the flow diagram, its legend and the path timeline.

Heat colours come from a perceptual colour map (viridis: lightness rises steadily from dark
purple to yellow), so "more contacts" always reads as "lighter and warmer" and stays readable in
greyscale. Text drawn on a heat colour is black or white, whichever contrasts more. Status
colours are derived from the widget palette so they stay legible on light and dark themes, and
are always shown next to a word, never alone.
"""

from __future__ import annotations

import math

from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPalette

from flowdesk.core import formatting
from flowdesk.core.model import KNOWN_STEP_TYPES, PLACEHOLDER_STEP_TYPE
from flowdesk.ui import theme

# -- heat ------------------------------------------------------------------------------------

# viridis sampled at nine evenly spaced stops (matplotlib's table, as used by pyqtgraph).
_VIRIDIS = (
    (0x44, 0x01, 0x54),
    (0x47, 0x2D, 0x7B),
    (0x3B, 0x52, 0x8B),
    (0x2C, 0x72, 0x8E),
    (0x21, 0x91, 0x8C),
    (0x28, 0xAE, 0x80),
    (0x5E, 0xC9, 0x62),
    (0xAD, 0xDC, 0x30),
    (0xFD, 0xE7, 0x25),
)


def colormap(t: float) -> QColor:
    """The heat colour at position ``t`` in [0, 1] (clamped)."""
    t = min(1.0, max(0.0, t))
    scaled = t * (len(_VIRIDIS) - 1)
    index = min(int(scaled), len(_VIRIDIS) - 2)
    frac = scaled - index
    a, b = _VIRIDIS[index], _VIRIDIS[index + 1]
    return QColor(*(round(a[i] + (b[i] - a[i]) * frac) for i in range(3)))


class HeatScale:
    """Maps a reach count to a colour on a logarithmic scale between the smallest and largest
    non-zero counts of the graph (funnels span orders of magnitude; a linear scale would paint
    every step past the first branch the same dark colour)."""

    def __init__(self, counts: list[int]) -> None:
        positive = [c for c in counts if c > 0]
        self.low = min(positive) if positive else 0
        self.high = max(positive) if positive else 0

    @property
    def is_empty(self) -> bool:
        return self.high <= 0

    def position(self, count: int) -> float:
        """Where ``count`` sits on the scale, 0..1; monotonic in ``count``."""
        if count <= 0 or self.high <= 0:
            return 0.0
        if self.high == self.low:
            return 1.0
        count = min(max(count, self.low), self.high)
        return math.log(count / self.low) / math.log(self.high / self.low)

    def color(self, count: int) -> QColor:
        return colormap(self.position(count))

    def value_at(self, t: float) -> int:
        """The count shown at position ``t`` of the legend bar."""
        if self.high <= 0:
            return 0
        if self.high == self.low:
            return self.high
        return round(self.low * (self.high / self.low) ** t)

    # What the legend bar draws (the "where runs stop" scale has its own).
    gradient = staticmethod(colormap)

    @staticmethod
    def label(value: int) -> str:
        return formatting.count(value)

    @staticmethod
    def describe(ticks: list[int]) -> str:
        return (
            f"Step colour by contacts who reached it, from {formatting.count(ticks[0])}"
            f" (dark purple) to {formatting.count(ticks[-1])} (yellow), logarithmic."
        )


def relative_luminance(color: QColor) -> float:
    """WCAG relative luminance of an opaque colour."""

    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(color.redF())
        + 0.7152 * channel(color.greenF())
        + 0.0722 * channel(color.blueF())
    )


def contrast_ratio(a: QColor, b: QColor) -> float:
    la, lb = relative_luminance(a), relative_luminance(b)
    light, dark = max(la, lb), min(la, lb)
    return (light + 0.05) / (dark + 0.05)


def text_on(background: QColor) -> QColor:
    """Black or white, whichever reads better on ``background``."""
    black, white = QColor(0, 0, 0), QColor(255, 255, 255)
    if contrast_ratio(background, black) >= contrast_ratio(background, white):
        return black
    return white


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightnessF() < 0.5


def mix(a: QColor, b: QColor, amount: float) -> QColor:
    """``a`` moved ``amount`` (0..1) of the way towards ``b``."""
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * amount,
        a.greenF() + (b.greenF() - a.greenF()) * amount,
        a.blueF() + (b.blueF() - a.blueF()) * amount,
    )


def quiet_color(palette: QPalette) -> QColor:
    """Text colour for things that exist but carry no data (unreached steps, placeholders)."""
    text = palette.color(QPalette.ColorRole.Text)
    base = palette.color(QPalette.ColorRole.Base)
    return mix(text, base, 0.42)


def edge_color(palette: QPalette) -> QColor:
    text = palette.color(QPalette.ColorRole.Text)
    base = palette.color(QPalette.ColorRole.Base)
    return mix(text, base, 0.35)


def loop_color(palette: QPalette) -> QColor:
    """Back edges (loops) are drawn in an accent hue so they stand out from the forward flow."""
    return _tone(0.07, 0.75, palette)  # warm orange


def path_color(palette: QPalette) -> QColor:
    """The highlighted run's path: the palette's own highlight, made legible on the canvas."""
    highlight = palette.color(QPalette.ColorRole.Highlight)
    base = palette.color(QPalette.ColorRole.Base)
    if contrast_ratio(highlight, base) >= 3.0:
        return highlight
    return _tone(max(0.0, highlight.hslHueF()), 0.8, palette)


def _tone(hue: float, saturation: float, palette: QPalette) -> QColor:
    """A colour of ``hue`` dark enough on light themes and light enough on dark themes."""
    lightness = 0.70 if is_dark(palette) else 0.36
    return QColor.fromHslF(hue, saturation, lightness)


# -- statuses ----------------------------------------------------------------------------------

# The report bucket whose colour an upstream step/run status takes (ui.theme holds one colour per
# status); a status not listed is neutral (drawn in the quiet text colour).
_STATUS_METRICS: dict[str, str] = {
    "COMPLETED": "completed",
    "RUNNING": "ongoing",
    "READY": "ongoing",
    "CANCELED": "canceled",
    "FAILED": "failed",
    "EXPIRED": "expired",
}

STATUS_WORDS: dict[str, str] = {
    "COMPLETED": "Completed",
    "RUNNING": "Running",
    "READY": "Ready",
    "WAITING_TO_START": "Waiting to start",
    "NOT_EXECUTED": "Not executed",
    "CANCELED": "Canceled",
    "FAILED": "Failed",
    "EXPIRED": "Expired",
}


def status_word(status: str) -> str:
    return STATUS_WORDS.get(status, status.replace("_", " ").capitalize() or "Unknown")


def status_color(status: str, palette: QPalette) -> QColor:
    metric = _STATUS_METRICS.get(status)
    if metric is None:
        return quiet_color(palette)
    return theme.status_color(metric, palette)


# -- step types --------------------------------------------------------------------------------

_TYPE_STYLE: dict[str, tuple[str, str, str]] = {
    # type: (glyph, fallback letter, badge colour)
    "TEMPLATE": ("T", "T", "#2563eb"),
    "MESSAGE": ("\u2709", "M", "#0891b2"),  # envelope
    "MENU": ("\u2261", "M", "#7c3aed"),  # three bars
    "QUESTION": ("?", "?", "#db2777"),
    "DELAY": ("\u25f7", "D", "#a16207"),  # clock-like circle
    "CONDITIONAL": ("\u25c7", "C", "#ea580c"),  # diamond
    "ACTION": ("\u21c4", "A", "#b91c1c"),  # request / response arrows
    "CONTACT_UPDATE": ("\u270e", "U", "#15803d"),  # pencil
    "TAG": ("#", "#", "#4d7c0f"),
    "TEAM": ("\u263a", "P", "#0f766e"),  # person
    "GO_TO_FLOW": ("\u21aa", "G", "#4338ca"),  # arrow leaving
    "END": ("\u25a0", "E", "#374151"),  # stop square
}

TYPE_LABELS: dict[str, str] = {
    "TEMPLATE": "Template",
    "MESSAGE": "Message",
    "MENU": "Menu",
    "QUESTION": "Question",
    "DELAY": "Delay",
    "CONDITIONAL": "Condition",
    "ACTION": "Action (HTTP request)",
    "CONTACT_UPDATE": "Contact update",
    "TAG": "Tags",
    "TEAM": "Team assignment",
    "GO_TO_FLOW": "Go to flow",
    "END": "End",
    PLACEHOLDER_STEP_TYPE: "Not executed yet",
}

GENERIC_BADGE = "#6b7280"

assert set(_TYPE_STYLE) == set(KNOWN_STEP_TYPES)


def type_label(step_type: str) -> str:
    """A readable type name; an unknown type reads as words ("AI_AGENT" → "AI agent"), its raw
    name is in the step's tooltip."""
    known = TYPE_LABELS.get(step_type)
    if known is not None:
        return known
    if not step_type:
        return "Unknown type"
    words = step_type.replace("-", "_").split("_")
    spelled = [w if len(w) <= 3 and w.isupper() else w.lower() for w in words if w]
    if not spelled:
        return step_type
    first = spelled[0]
    return " ".join([first[:1].upper() + first[1:], *spelled[1:]])


def is_known_type(step_type: str) -> bool:
    return step_type in _TYPE_STYLE


def type_badge(step_type: str, font: QFont) -> tuple[str, QColor]:
    """(glyph, colour) of a step type's badge; the glyph falls back to a letter when the font
    lacks it, and unknown types get a grey badge with their first letter."""
    style = _TYPE_STYLE.get(step_type)
    if style is None:
        letter = next((ch for ch in step_type if ch.isalnum()), "?").upper()
        return letter, QColor(GENERIC_BADGE)
    glyph, letter, color = style
    if len(glyph) == 1 and not QFontMetricsF(font).inFontUcs4(ord(glyph)):
        glyph = letter
    return glyph, QColor(color)
