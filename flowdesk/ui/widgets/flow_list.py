"""The left panel: a search box over the flows and a two-line list (name; direction and numbers)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QFontMetrics, QPalette
from PySide6.QtWidgets import (
    QLabel,
    QLineEdit,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from flowdesk.core.model import Direction
from flowdesk.core.queries import FlowSummary
from flowdesk.ui.models.flows import FLOW_ROLE, FlowListModel, flow_subtitle_variants
from flowdesk.ui.theme import muted_text, status_color

# The delegate's text inset: 10 px on the left, 8 on the right.
TEXT_INSET = 18


def subtitle_for_width(
    flow: FlowSummary, mark_metrics: QFontMetrics, metrics: QFontMetrics, width: int
) -> tuple[str, str]:
    """The longest (mark, numbers) of :func:`flow_subtitle_variants` that fits ``width``; the
    shortest when none does (the painter then elides it)."""
    variants = flow_subtitle_variants(flow)
    for mark, numbers in variants:
        used = mark_metrics.horizontalAdvance(mark + " ") + metrics.horizontalAdvance(numbers)
        if used <= width:
            return mark, numbers
    return variants[-1]


class FlowDelegate(QStyledItemDelegate):
    """Name on the first line; direction marker, contacts and completion on the second."""

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        metrics = QFontMetrics(option.font)
        return QSize(200, metrics.height() * 2 + 16)

    def paint(self, painter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        flow: FlowSummary | None = index.data(FLOW_ROLE)
        if flow is None:
            return super().paint(painter, option, index)
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style = opt.widget.style() if opt.widget else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        palette = option.palette
        text_color = palette.color(
            QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        )
        sub_color = text_color if selected else muted_text(palette)
        rect = option.rect.adjusted(10, 6, 10 - TEXT_INSET, -6)
        metrics = QFontMetrics(option.font)
        line = metrics.height()
        painter.save()
        bold = QFont(option.font)
        bold.setBold(True)
        bold_metrics = QFontMetrics(bold)
        painter.setFont(bold)
        painter.setPen(text_color)
        painter.drawText(
            QRect(rect.left(), rect.top(), rect.width(), line),
            Qt.AlignmentFlag.AlignLeft,
            bold_metrics.elidedText(flow.name, Qt.TextElideMode.ElideRight, rect.width()),
        )
        # second line: a coloured direction marker, then the headline numbers
        mark, numbers = subtitle_for_width(flow, bold_metrics, metrics, rect.width())
        mark_color = (
            text_color
            if selected
            else status_color("ongoing" if flow.direction == Direction.OUTBOUND else "completed")
        )
        top = rect.top() + line + 2
        painter.setFont(bold)
        painter.setPen(mark_color)
        mark_width = bold_metrics.horizontalAdvance(mark + " ")
        painter.drawText(
            QRect(rect.left(), top, mark_width, line), Qt.AlignmentFlag.AlignLeft, mark
        )
        painter.setFont(option.font)
        painter.setPen(sub_color)
        sub_rect = QRect(rect.left() + mark_width, top, rect.width() - mark_width, line)
        painter.drawText(
            sub_rect,
            Qt.AlignmentFlag.AlignLeft,
            metrics.elidedText(numbers, Qt.TextElideMode.ElideRight, sub_rect.width()),
        )
        painter.restore()
        return None


class FlowListPanel(QWidget):
    flowSelected = Signal(str)  # noqa: N815
    searchChanged = Signal(str)  # noqa: N815

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = FlowListModel(self)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search flows…")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search flows")
        self.view = QListView(self)
        self.view.setModel(self.model)
        self.view.setItemDelegate(FlowDelegate(self.view))
        self.view.setAccessibleName("Flows")
        self.view.setUniformItemSizes(True)
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.header = QLabel("Flows")
        font = self.header.font()
        font.setBold(True)
        self.header.setFont(font)
        self.empty = QLabel("")
        self.empty.setWordWrap(True)
        self.empty.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 4, 8)
        layout.addWidget(self.header)
        layout.addWidget(self.search)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.empty)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(150)
        self._debounce.timeout.connect(lambda: self.searchChanged.emit(self.search.text()))
        self.search.textChanged.connect(self._debounce.start)
        self.view.selectionModel().currentChanged.connect(self._on_current)
        self._current_id: str | None = None

    def set_flows(self, flows: list[FlowSummary], select: str | None = None) -> None:
        keep = select or self._current_id
        blocker = self.view.selectionModel().blockSignals(True)
        self.model.set_flows(flows)
        row = self.model.row_of(keep) if keep else -1
        if row >= 0:
            self.view.setCurrentIndex(self.model.index(row, 0))
        self.view.selectionModel().blockSignals(blocker)
        self.empty.setVisible(not flows and bool(self.search.text()))
        self.empty.setText(f"No flow matches “{self.search.text()}”.")

    def select_flow(self, flow_id: str) -> bool:
        row = self.model.row_of(flow_id)
        if row < 0:
            return False
        changed = self._current_id != flow_id
        self._current_id = flow_id
        self.view.setCurrentIndex(self.model.index(row, 0))
        if changed:
            self.flowSelected.emit(flow_id)
        return True

    def current_flow_id(self) -> str | None:
        return self._current_id

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        flow = self.model.flow_at(current.row()) if current.isValid() else None
        if flow is not None and flow.id != self._current_id:
            self._current_id = flow.id
            self.flowSelected.emit(flow.id)
