"""The six metric cards of the summary header: Contacts, Expired, Ongoing, Canceled, Failed,
Completed. Each shows its count and share of Contacts; its tooltip gives the definition.

Clicking a status card filters the contacts table by that status (clicking it again clears it).
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QPainter, QPalette, QPen, QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from flowdesk.core import formatting
from flowdesk.core.model import COUNTERS, METRIC_DEFINITIONS, METRIC_LABELS
from flowdesk.core.queries import Counters
from flowdesk.ui.theme import status_color


class MetricCard(QFrame):
    clicked = Signal(str)

    def __init__(self, metric: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.metric_name = metric
        self._active = False
        self.setObjectName(f"metricCard_{metric}")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName(f"{METRIC_LABELS[metric]} metric")

        self.title = QLabel(METRIC_LABELS[metric])
        self.value = QLabel("—")
        self.share = QLabel(" ")
        value_font = self.value.font()
        value_font.setPointSizeF(max(value_font.pointSizeF(), 9.0) * 1.9)
        value_font.setBold(True)
        self.value.setFont(value_font)
        title_font = self.title.font()
        title_font.setBold(True)
        self.title.setFont(title_font)
        # The labels let clicks through: the big number is most of the card, and the tooltip
        # promises that clicking the card lists these contacts.
        for label in (self.title, self.value, self.share):
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.value)
        layout.addWidget(self.share)
        self._counters = Counters()
        self._styling = False
        self._compact = False
        self._share_text = " "
        self._apply_style()

    def set_counters(self, counters: Counters) -> None:
        self._counters = counters
        count = getattr(counters, self.metric_name)
        self.value.setText(formatting.count(count))
        definition = METRIC_DEFINITIONS[self.metric_name]
        if self.metric_name == "contacts":
            self._set_share("all entries", "")
            tip = f"{definition}\n\n{formatting.count(count)} contact entries in this scope."
        else:
            share = counters.share(self.metric_name)
            self._set_share(f"{formatting.share(share)} of contacts", formatting.share(share))
            tip = (
                f"{definition}\n\n{formatting.count(count)} of "
                f"{formatting.count(counters.contacts)} contacts ({formatting.share(share)})."
            )
            tip += "\nClick to list these contacts."
        self.setToolTip(tip)
        self.setAccessibleDescription(tip)

    def _set_share(self, text: str, short: str) -> None:
        self._share_text = text
        self._short_share = short
        self._show_share()

    def set_compact(self, compact: bool) -> None:
        """Two rows of three cards (a narrow page): the share moves up beside the title, so
        the two rows take little more height than one."""
        if compact != self._compact:
            self._compact = compact
            self._show_share()

    def _show_share(self) -> None:
        label = METRIC_LABELS[self.metric_name]
        short = getattr(self, "_short_share", "")
        self.title.setText(f"{label} · {short}" if self._compact and short else label)
        self.share.setText(self._share_text)
        self.share.setVisible(not self._compact)

    def set_active(self, active: bool) -> None:
        if active != self._active:
            self._active = active
            self.update()

    def _apply_style(self) -> None:
        """Colours come from the palette; the frame is painted, not styled (stylesheets on six
        cards cost a visible delay each time a flow opens)."""
        palette = self.title.palette()
        palette.setColor(
            QPalette.ColorRole.WindowText, status_color(self.metric_name, self.palette())
        )
        self.title.setPalette(palette)
        self.update()

    def paintEvent(self, event) -> None:  # noqa: ANN001
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        color = status_color(self.metric_name, self.palette())
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        border = color if self._active else self.palette().color(QPalette.ColorRole.Mid)
        painter.setPen(QPen(border, 2 if self._active else 1))
        painter.setBrush(self.palette().color(QPalette.ColorRole.Base))
        painter.drawRoundedRect(rect.adjusted(0.5, 0.5, -0.5, -0.5), 6, 6)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawRoundedRect(QRectF(rect.left(), rect.top(), 5, rect.height()), 2.5, 2.5)
        if self.hasFocus():
            painter.setPen(
                QPen(self.palette().color(QPalette.ColorRole.Highlight), 1, Qt.PenStyle.DashLine)
            )
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect.adjusted(3, 3, -3, -3), 4, 4)
        painter.end()

    def changeEvent(self, event) -> None:  # noqa: ANN001
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange and not self._styling:
            self._styling = True
            try:
                self._apply_style()
            finally:
                self._styling = False

    def mouseReleaseEvent(self, event) -> None:  # noqa: ANN001
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(
            event.position().toPoint()
        ):
            self.clicked.emit(self.metric_name)
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event) -> None:  # noqa: ANN001
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.clicked.emit(self.metric_name)
            return
        super().keyPressEvent(event)


class MetricCards(QWidget):
    """The row of cards. ``metricClicked`` carries the metric name ("contacts" clears)."""

    metricClicked = Signal(str)  # noqa: N815

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Summary metrics")
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(8)
        self.cards: dict[str, MetricCard] = {}
        for metric in COUNTERS:
            card = MetricCard(metric, self)
            card.clicked.connect(self.metricClicked)
            self.cards[metric] = card
        self.columns = 0
        self._arrange(len(COUNTERS))
        self.counters = Counters()

    def _card_width(self) -> int:
        return max(card.minimumSizeHint().width() for card in self.cards.values())

    def _width_for(self, columns: int) -> int:
        return columns * self._card_width() + (columns - 1) * self._grid.spacing()

    def _arrange(self, columns: int) -> None:
        """One row of six on a wide page; two rows of three on a narrow one (1024 px with a
        trace or the Downloads panel open), rather than widening the window."""
        if columns == self.columns:
            return
        self.columns = columns
        for index, card in enumerate(self.cards.values()):
            self._grid.removeWidget(card)
            self._grid.addWidget(card, index // columns, index % columns)
            card.set_compact(columns < len(COUNTERS))
        for column in range(len(COUNTERS)):
            self._grid.setColumnStretch(column, 1 if column < columns else 0)

    def minimumSizeHint(self) -> QSize:
        """Three columns wide (the narrowest arrangement), as tall as the current one."""
        rows = -(-len(COUNTERS) // self.columns)
        card = max(c.sizeHint().height() for c in self.cards.values())
        return QSize(self._width_for(3), rows * card + (rows - 1) * self._grid.spacing())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._arrange(6 if event.size().width() >= self._width_for(6) else 3)

    def set_counters(self, counters: Counters) -> None:
        self.counters = counters
        for card in self.cards.values():
            card.set_counters(counters)

    def set_active(self, metric: str | None) -> None:
        for name, card in self.cards.items():
            card.set_active(name == metric)

    def value_text(self, metric: str) -> str:
        return self.cards[metric].value.text()
