"""The six metric cards of the summary header: Contacts, Expired, Ongoing, Canceled, Failed,
Completed. Each shows its count and share of Contacts; its tooltip gives the definition.

Clicking a status card filters the contacts table by that status (clicking it again clears it).
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QPainter, QPalette, QPen
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from flowdesk.core.model import METRIC_DEFINITIONS, METRIC_LABELS
from flowdesk.core.queries import Counters
from flowdesk.ui.theme import fmt_count, fmt_share, status_color

CARD_METRICS = ("contacts", "expired", "ongoing", "canceled", "failed", "completed")


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
        self._apply_style()

    def set_counters(self, counters: Counters) -> None:
        self._counters = counters
        count = getattr(counters, self.metric_name)
        self.value.setText(fmt_count(count))
        definition = METRIC_DEFINITIONS[self.metric_name]
        if self.metric_name == "contacts":
            self.share.setText("all entries")
            tip = f"{definition}\n\n{fmt_count(count)} contact entries in this scope."
        else:
            share = counters.share(self.metric_name)
            self.share.setText(f"{fmt_share(share)} of contacts")
            tip = (
                f"{definition}\n\n{fmt_count(count)} of {fmt_count(counters.contacts)} "
                f"contacts ({fmt_share(share)})."
            )
            tip += "\nClick to list these contacts."
        self.setToolTip(tip)
        self.setAccessibleDescription(tip)

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
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        self.cards: dict[str, MetricCard] = {}
        for metric in CARD_METRICS:
            card = MetricCard(metric, self)
            card.clicked.connect(self.metricClicked)
            layout.addWidget(card)
            self.cards[metric] = card
        self.counters = Counters()

    def set_counters(self, counters: Counters) -> None:
        self.counters = counters
        for card in self.cards.values():
            card.set_counters(counters)

    def set_active(self, metric: str | None) -> None:
        for name, card in self.cards.items():
            card.set_active(name == metric)

    def value_text(self, metric: str) -> str:
        return self.cards[metric].value.text()
