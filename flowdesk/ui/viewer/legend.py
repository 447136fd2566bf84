"""The diagram's legend: the heat colour scale with its counts, the symbols, and the exact
definition of "% of previous step" so every number on the diagram can be checked by hand."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import (
    QFontMetricsF,
    QLinearGradient,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QWidget

from flowdesk.ui.reflow import ReflowLayout
from flowdesk.ui.viewer import style

SHARE_DEFINITION = (
    "<b>% of previous step</b> \u2014 on an arrow: contacts who took it \u00f7 contacts who"
    " reached the step it leaves. On a step: contacts arriving over its arrows \u00f7 contacts"
    " who reached the steps those arrows leave (arrows looping back left out)."
)
SHARE_DEFINITION_PLAIN = (
    "% of previous step: on an arrow, contacts who took it divided by contacts who reached the"
    " step it leaves. On a step, contacts arriving over its arrows divided by contacts who"
    " reached the steps those arrows leave (arrows looping back left out)."
)


REACH_CAPTION = "Contacts who reached the step (log scale)"
LOSS_CAPTION = "Share of the step's arrivals lost there"
# What a narrow legend says instead (the whole caption stays in its tooltip).
SHORT_CAPTIONS = {REACH_CAPTION: "Reached (log scale)", LOSS_CAPTION: "Arrivals lost there"}
# The symbols' words, whole and short: (kind, whole, short).
KEYS = (
    ("quiet", "Nobody reached it yet / not executed yet", "Not reached yet"),
    ("loop", "Loop back to an earlier step", "Loop back"),
    ("path", "Path of the selected contact (numbered)", "Traced path"),
)


class HeatBar(QWidget):
    """The colour scale, with the smallest, middle and largest reach counts under it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scale = style.HeatScale([])
        self.setAccessibleName("Colour scale")
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self._update_description()

    def set_scale(self, scale: style.HeatScale) -> None:
        """A reach scale, or any scale with the same interface (``gradient``, ``label``,
        ``describe``: the "where runs stop" loss scale)."""
        self.scale = scale
        self._update_description()
        self.update()

    def tick_values(self) -> list[int]:
        if self.scale.is_empty:
            return []
        if self.scale.low == self.scale.high:
            return [self.scale.high]
        return [self.scale.value_at(0.0), self.scale.value_at(0.5), self.scale.value_at(1.0)]

    def _update_description(self) -> None:
        ticks = self.tick_values()
        text = self.scale.describe(ticks) if ticks else "No contact reached any step."
        self.setAccessibleDescription(text)
        self.setToolTip(text)

    def sizeHint(self) -> QSize:
        metrics = QFontMetricsF(self.font())
        return QSize(200, int(14 + 4 + metrics.height() + 2))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        bar = QRectF(4, 2, self.width() - 8, 14)
        gradient = QLinearGradient(bar.topLeft(), bar.topRight())
        for i in range(9):
            gradient.setColorAt(i / 8, self.scale.gradient(i / 8))
        painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Mid), 1))
        painter.setBrush(gradient)
        painter.drawRoundedRect(bar, 3, 3)
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        ticks = self.tick_values()
        text_top = bar.bottom() + 3
        height = self.height() - text_top
        if len(ticks) == 1:
            painter.drawText(
                QRectF(bar.left(), text_top, bar.width(), height),
                Qt.AlignmentFlag.AlignRight,
                self.scale.label(ticks[0]),
            )
        elif ticks:
            aligns = (
                Qt.AlignmentFlag.AlignLeft,
                Qt.AlignmentFlag.AlignHCenter,
                Qt.AlignmentFlag.AlignRight,
            )
            for value, align in zip(ticks, aligns, strict=True):
                painter.drawText(
                    QRectF(bar.left(), text_top, bar.width(), height),
                    align,
                    self.scale.label(value),
                )
        painter.end()


class Symbol(QWidget):
    """A small drawing of one diagram symbol (quiet step, loop arrow, highlighted path)."""

    def __init__(self, kind: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = kind
        self.setFixedSize(28, 16)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        rect = QRectF(2, 2, self.width() - 4, self.height() - 4)
        if self.kind == "quiet":
            pen = QPen(style.quiet_color(palette), 1.2, Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.setBrush(palette.color(QPalette.ColorRole.Base))
            painter.drawRoundedRect(rect, 3, 3)
        else:
            color = style.loop_color(palette) if self.kind == "loop" else style.path_color(palette)
            painter.setPen(QPen(color, 2.5 if self.kind == "path" else 1.8))
            y = rect.center().y()
            painter.drawLine(QPointF(rect.left(), y), QPointF(rect.right() - 5, y))
            painter.setBrush(color)
            painter.setPen(Qt.PenStyle.NoPen)
            tip = QPointF(rect.right(), y)
            painter.drawPolygon(
                [tip, QPointF(rect.right() - 6, y - 4), QPointF(rect.right() - 6, y + 4)]
            )
        painter.end()


SPACING = 18  # px between the scale, the symbols and the definition
MARGIN = 8
HEAT_BAR_WIDTH, COMPACT_HEAT_BAR_WIDTH = 180, 150
# The definition is shown only when it has this much room beside the scale and the symbols;
# on its own line it took four lines of the diagram's height (a trace at 1366×768).
DEFINITION_MIN_WIDTH = 360


class Legend(QWidget):
    """Scale, symbols and definitions in one line under the diagram.

    The diagram gets the height: a legend too narrow for the whole words (a trace beside the
    diagram at 1024 px) shortens its caption and symbols' words rather than take a second line,
    and the definition of "% of previous step" is shown only where it fits beside them; otherwise
    it is the legend's tooltip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Flow diagram legend")
        self.heat_bar = HeatBar(self)
        self.caption = QLabel(REACH_CAPTION, self)
        self.definition = QLabel(SHARE_DEFINITION, self)
        self.definition.setWordWrap(True)
        self.definition.setTextFormat(Qt.TextFormat.RichText)
        self.definition.setAccessibleName(SHARE_DEFINITION_PLAIN)
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        # Without this flag the layout takes the label's height at its narrowest (200 px) and
        # centres the text in it: an empty band above and below the definition.
        policy.setHeightForWidth(True)
        self.definition.setSizePolicy(policy)
        # Narrow enough that the viewer fits beside the flows list and the Downloads dock on a
        # 1440 px screen; the text wraps onto more lines instead.
        self.definition.setMinimumWidth(200)

        scale_box = QWidget(self)
        scale_layout = QGridLayout(scale_box)
        scale_layout.setContentsMargins(0, 0, 0, 0)
        scale_layout.setVerticalSpacing(2)
        scale_layout.addWidget(self.caption, 0, 0)
        scale_layout.addWidget(self.heat_bar, 1, 0)

        keys = QWidget(self)
        keys_layout = QGridLayout(keys)
        keys_layout.setContentsMargins(0, 0, 0, 0)
        keys_layout.setHorizontalSpacing(6)
        keys_layout.setVerticalSpacing(1)
        self.key_labels: list[QLabel] = []
        for row, (kind, text, _short) in enumerate(KEYS):
            keys_layout.addWidget(Symbol(kind, keys), row, 0)
            label = QLabel(text, keys)
            label.setToolTip(text)
            keys_layout.addWidget(label, row, 1)
            self.key_labels.append(label)

        # Side by side on a wide viewer; on a narrow one (a trace beside it, the Downloads panel
        # open at 1024 px) the parts wrap onto more lines instead of widening the window.
        layout = ReflowLayout(self, spacing=SPACING)
        layout.setContentsMargins(MARGIN, 4, MARGIN, 4)
        layout.addWidget(scale_box)
        layout.addWidget(keys)
        layout.addWidget(self.definition)
        self._caption = REACH_CAPTION
        self._compact = False
        self._show_words()

    def set_scale(self, scale: style.HeatScale, caption: str = REACH_CAPTION) -> None:
        self.heat_bar.set_scale(scale)
        self._caption = caption
        self._show_words()
        self._refit(self.width())

    def is_compact(self) -> bool:
        return self._compact

    def whole_line_width(self) -> int:
        """Width the scale and the symbols need on one line with their whole words."""
        metrics = self.caption.fontMetrics()
        scale = max(HEAT_BAR_WIDTH, metrics.horizontalAdvance(self._caption))
        words = max(metrics.horizontalAdvance(whole) for _kind, whole, _short in KEYS)
        symbols = 28 + 6 + words  # the symbol, the grid's spacing, the words
        return 2 * MARGIN + scale + SPACING + symbols + 8  # 8: the labels' own margins

    def _show_words(self) -> None:
        caption = self._caption
        if self._compact:
            caption = SHORT_CAPTIONS.get(caption, caption)
        self.caption.setText(caption)
        self.caption.setToolTip(self._caption)
        for label, (_kind, whole, short) in zip(self.key_labels, KEYS, strict=True):
            label.setText(short if self._compact else whole)
        metrics = self.caption.fontMetrics()
        if self._compact:
            self.heat_bar.setFixedWidth(COMPACT_HEAT_BAR_WIDTH)
        else:
            self.heat_bar.setFixedWidth(max(HEAT_BAR_WIDTH, metrics.horizontalAdvance(caption)))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._refit(event.size().width())

    def _refit(self, width: int) -> None:
        whole = self.whole_line_width()
        compact = width < whole
        if compact != self._compact:
            self._compact = compact
            self._show_words()
        shown = width >= whole + SPACING + DEFINITION_MIN_WIDTH
        self.definition.setVisible(shown)
        self.setToolTip("" if shown else SHARE_DEFINITION_PLAIN)
