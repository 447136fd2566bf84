"""PathTimeline: one contact run, step by step, beside the diagram.

A header says who the contact is and how the run ended; the list below gives every executed step
in order with its local time, status (coloured dot and word), how long the contact took to
answer or when the wait expires, and the error of a failed step.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QRectF,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QStyle,
    QStyledItemDelegate,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from flowdesk.core import formatting
from flowdesk.core.model import METRIC_LABELS
from flowdesk.core.queries import PathEntry, RunDetail
from flowdesk.ui.viewer import style

COMPACT_STATUS_BELOW = 420  # px of timeline width
StepKeyRole = Qt.ItemDataRole.UserRole + 1
StatusRole = Qt.ItemDataRole.UserRole + 2

_NO_RUN = (
    "<b>No contact selected</b><br>Pick a contact to see each step they went through, when,"
    " and how it ended."
)


@dataclass(frozen=True, slots=True)
class TimelineRow:
    number: int
    step_key: int
    name: str
    type_text: str
    status: str
    executed: str
    wait: str
    problem: str
    is_error: bool = False

    def accessible(self) -> str:
        parts = [
            f"Step {self.number}",
            self.name,
            self.type_text,
            style.status_word(self.status),
            f"executed {self.executed}",
        ]
        if self.wait:
            parts.append(self.wait)
        if self.problem:
            parts.append(self.problem)
        return ", ".join(parts)


def wait_text(entry: PathEntry, following: PathEntry | None, now: float) -> str:
    """How long the contact stayed on a step that waits (reply or delay), or when it expires."""
    waits = entry.wait_seconds is not None or entry.step_type == "DELAY"
    if entry.status == "EXPIRED":
        limit = entry.wait_seconds
        if limit is None and entry.expire_on:
            limit = entry.expire_on - entry.executed_at
        return f"expired after {formatting.duration(limit)}" if limit else "expired"
    if following is not None:
        if not waits:
            return ""
        return f"waited {formatting.duration(following.executed_at - entry.executed_at)}"
    if entry.status in ("RUNNING", "WAITING_TO_START"):
        if entry.expire_on:
            if entry.expire_on > now:
                left = formatting.duration(entry.expire_on - now)
                return f"expires {formatting.moment(entry.expire_on, seconds=False)} (in {left})"
            return f"expiry was due {formatting.moment(entry.expire_on, seconds=False)}"
        if waits:
            return f"waiting for {formatting.duration(now - entry.executed_at)}"
    return ""


def _problem_text(entry: PathEntry) -> str:
    if entry.error:
        return entry.error
    if entry.status_reason and (entry.has_error or entry.status != "COMPLETED"):
        return entry.status_reason
    if entry.has_error:
        return "The step reported an error (no details given)."
    return ""


def _when(epoch: int, previous: int | None) -> str:
    """The full date on the first step and whenever the day changes; the time alone otherwise,
    so the column stays narrow and the step names readable."""
    if previous is not None:
        day = datetime.fromtimestamp(epoch).astimezone().date()
        if day == datetime.fromtimestamp(previous).astimezone().date():
            return formatting.clock(epoch, seconds=True)
    return formatting.moment(epoch)


class TimelineModel(QAbstractTableModel):
    """Flat table of the run's steps; row i is path entry i (numbered from 1)."""

    COLUMNS = ("#", "Step", "Status", "When")
    NUMBER, STEP, STATUS, WHEN = range(4)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[TimelineRow] = []
        self._palette = QPalette()
        self._icons: dict[str, QIcon] = {}
        self.compact_status = False  # a narrow panel shows the status as its dot alone

    # -- data --------------------------------------------------------------------------------

    def set_path(
        self, path: list[PathEntry], now: float | None = None, entered_at: int | None = None
    ) -> None:
        """``entered_at``: the run's entry time, shown in the header, so the first step needs
        no date of its own when it happened on the same day."""
        moment = time.time() if now is None else now
        self.beginResetModel()
        self._rows = [
            TimelineRow(
                number=i + 1,
                step_key=entry.step_key,
                name=entry.step_name or entry.step_id,
                type_text=style.type_label(entry.step_type),
                status=entry.status,
                executed=_when(entry.executed_at, path[i - 1].executed_at if i else entered_at),
                wait=wait_text(entry, path[i + 1] if i + 1 < len(path) else None, moment),
                problem=_problem_text(entry),
                is_error=entry.has_error or entry.status == "FAILED" or bool(entry.error),
            )
            for i, entry in enumerate(path)
        ]
        self.endResetModel()

    def set_palette(self, palette: QPalette) -> None:
        self._palette = palette
        self._icons.clear()
        if self._rows:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._rows) - 1, len(self.COLUMNS) - 1)
            )

    def row_at(self, row: int) -> TimelineRow:
        return self._rows[row]

    # -- Qt model ----------------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.COLUMNS)
        ):
            return self.COLUMNS[section]
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | (Qt.ItemFlag.ItemNeverHasChildren)
        )

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid() or index.parent().isValid():
            return None
        if not (0 <= index.row() < len(self._rows)) or not (0 <= index.column() < 4):
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return row.accessible()
        if role == StepKeyRole:
            return row.step_key
        if role == StatusRole:
            return row.status
        if role == Qt.ItemDataRole.ForegroundRole and column == self.STATUS:
            return style.status_color(row.status, self._palette)
        if role == Qt.ItemDataRole.DecorationRole and column == self.STATUS:
            return self._icon(row.status)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if column == self.NUMBER:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, row: TimelineRow, column: int) -> str:
        if column == self.NUMBER:
            return str(row.number)
        if column == self.STEP:
            text = f"{row.name}\n{row.type_text}"
            if row.problem:
                mark = "\u26a0 " if row.is_error else "Reason: "
                text += "\n" + mark + row.problem
            return text
        if column == self.STATUS:
            return "" if self.compact_status else style.status_word(row.status)
        return f"{row.executed}\n{row.wait}" if row.wait else row.executed

    def set_compact_status(self, compact: bool) -> None:
        if compact != self.compact_status:
            self.compact_status = compact
            if self._rows:
                last = len(self._rows) - 1
                self.dataChanged.emit(self.index(0, self.STATUS), self.index(last, self.STATUS))

    def details_html(self, row_number: int, palette: QPalette) -> str:
        row = self._rows[row_number]
        color = style.status_color(row.status, palette).name()
        lines = [
            f"<b>{row.number}. {html.escape(row.name)}</b> \u00b7 {html.escape(row.type_text)}",
            f"<span style='color:{color}'>\u25cf {html.escape(style.status_word(row.status))}"
            f"</span> \u00b7 {html.escape(row.executed)}"
            + (f" \u00b7 {html.escape(row.wait)}" if row.wait else ""),
        ]
        if row.problem:
            kind = "Error" if row.is_error else "Reason"
            lines.append(f"{kind}: {html.escape(row.problem)}")
        return "<br>".join(lines)

    def _tooltip(self, row: TimelineRow) -> str:
        lines = [
            f"<b>{row.number}. {html.escape(row.name)}</b> ({html.escape(row.type_text)})",
            f"Status: {html.escape(style.status_word(row.status))}",
            f"Executed: {html.escape(row.executed)}",
        ]
        if row.wait:
            lines.append(html.escape(row.wait[0].upper() + row.wait[1:]))
        if row.problem:
            kind = "Error" if row.is_error else "Reason"
            lines.append(f"{kind}: {html.escape(row.problem)}")
        return "<br>".join(lines)

    def _icon(self, status: str) -> QIcon:
        icon = self._icons.get(status)
        if icon is None:
            pixmap = QPixmap(12, 12)
            pixmap.fill(QColor(0, 0, 0, 0))
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(style.status_color(status, self._palette))
            painter.drawEllipse(QRectF(1, 1, 10, 10))
            painter.end()
            icon = self._icons[status] = QIcon(pixmap)
        return icon


class _PaddedDelegate(QStyledItemDelegate):
    """A little air between the multi-line rows, so each step reads as one block; a row is as
    tall as its text wrapped to the width of its column (the tree asks without a width)."""

    def sizeHint(self, option, index):  # noqa: ANN001, ANN201
        size = super().sizeHint(option, index)
        view = self.parent()
        width = view.header().sectionSize(index.column()) if view is not None else 0
        if width > 0 and index.column() == TimelineModel.STEP:
            style = view.style()
            margin = 2 * (style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 1)
            text = str(index.data() or "")
            wrapped = option.fontMetrics.boundingRect(
                QRect(0, 0, max(1, width - margin), 100_000),
                int(Qt.TextFlag.TextWordWrap),
                text,
            )
            size.setHeight(max(size.height(), wrapped.height() + 2))
            size.setWidth(min(size.width(), width))
        size.setHeight(size.height() + 6)
        return size


class PathTimeline(QWidget):
    """Public API: ``set_run(detail | None)``; ``stepSelected(step_key)`` when a row is chosen."""

    stepSelected = Signal(int)  # noqa: N815

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Contact path timeline")
        self.detail: RunDetail | None = None
        self._execution: str | None = None
        self.header = QLabel(_NO_RUN, self)
        self.header.setWordWrap(True)
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.header.setAccessibleName("Run summary")
        self.header.setContentsMargins(6, 4, 6, 4)

        self.model = TimelineModel(self)
        self.model.set_palette(self.palette())
        self.view = QTreeView(self)
        self.view.setModel(self.model)
        self.view.setAccessibleName("Steps of this run, in order")
        self.view.setRootIsDecorated(False)
        self.view.setUniformRowHeights(False)
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # Step names wrap onto more lines rather than shrinking to "…" beside the times.
        self.view.setWordWrap(True)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.setItemDelegate(_PaddedDelegate(self.view))
        header = self.view.header()
        header.setAccessibleName("Timeline columns")
        header.setStretchLastSection(False)
        header.setSectionResizeMode(TimelineModel.NUMBER, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(TimelineModel.STEP, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(TimelineModel.STATUS, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(TimelineModel.WHEN, QHeaderView.ResizeMode.ResizeToContents)
        # Wrapped rows take their height from the Step column's width: lay them out again
        # whenever that width changes (the panel is resized or widened).
        header.sectionResized.connect(lambda *_: self.view.doItemsLayout())
        self.view.selectionModel().currentRowChanged.connect(self._current_changed)
        self.view.clicked.connect(self._emit_for)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.header)
        layout.addWidget(self.view, 1)
        self.details = QLabel("", self)
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setAccessibleName("Selected step details")
        self.details.setContentsMargins(6, 2, 6, 4)
        layout.addWidget(self.details)

    def set_run(
        self, detail: RunDetail | None, now: float | None = None, execution: str | None = None
    ) -> None:
        """``execution``: how the app names the run's execution ("#60 · date"); its id when
        not given."""
        self.detail = detail
        self._execution = execution
        self.model.set_path(
            detail.path if detail else [], now, detail.row.entered_at if detail else None
        )
        self.header.setText(self._header_html(detail) if detail else _NO_RUN)
        self.view.setEnabled(detail is not None)
        # Until a row is chosen, show the first step that went wrong (errors are long: the list
        # shows them elided; here they wrap and can be copied into a ticket).
        problem = next(
            (i for i in range(self.model.rowCount()) if self.model.row_at(i).problem), None
        )
        self._show_details(problem)

    def select_step_number(self, number: int) -> None:
        """Select path entry ``number`` (1-based), as if the user had clicked it."""
        if 1 <= number <= self.model.rowCount():
            self.view.setCurrentIndex(self.model.index(number - 1, 0))

    def _current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        self._show_details(current.row() if current.isValid() else None)
        self._emit_for(current)

    def _show_details(self, row: int | None) -> None:
        if row is None or not (0 <= row < self.model.rowCount()):
            self.details.setText("")
            self.details.setVisible(False)
            return
        self.details.setText(self.model.details_html(row, self.palette()))
        self.details.setVisible(True)

    def _emit_for(self, index: QModelIndex) -> None:
        if index.isValid():
            self.stepSelected.emit(int(index.data(StepKeyRole)))

    def _header_html(self, detail: RunDetail) -> str:
        row = detail.row
        palette = self.palette()
        name = " ".join(part for part in (row.first_name, row.last_name) if part) or "(no name)"
        contact = [f"<b>{html.escape(name)}</b>", html.escape(row.phone)]
        if detail.email:
            contact.append(html.escape(detail.email))
        if row.is_test:
            contact.append("<i>test contact</i>")
        color = style.status_color(row.status, palette).name()
        bucket = METRIC_LABELS.get(row.metric, row.metric)
        word = style.status_word(row.status)
        status = f"<span style='color:{color}'>\u25cf <b>{html.escape(bucket)}</b></span>"
        if word.casefold() != str(bucket).casefold():
            status += f" ({html.escape(word)})"
        if row.reason:
            status += f" \u2014 {html.escape(row.reason)}"
        context = [f"Version {html.escape(row.version_name or row.version_id)}"]
        if row.execution_id:
            name = self._execution or row.execution_id
            context.append(f"execution {html.escape(name)}")
        context.append(f"entered {html.escape(formatting.moment(row.entered_at))}")
        steps = len(detail.path)
        footer = (
            f"{steps} step{'s' if steps != 1 else ''} \u00b7 times in local time"
            f" ({formatting.utc_offset()})"
        )
        return "<br>".join(
            [
                " \u00b7 ".join(contact),
                status,
                " \u00b7 ".join(context),
                f"<span style='color:{style.quiet_color(palette).name()}'>{footer}</span>",
            ]
        )

    def resizeEvent(self, event) -> None:  # noqa: ANN001
        super().resizeEvent(event)
        # Below this width the status word would take the room the step names need.
        self.model.set_compact_status(event.size().width() < COMPACT_STATUS_BELOW)

    def changeEvent(self, event) -> None:  # noqa: ANN001
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange:
            self.model.set_palette(self.palette())
            if self.detail is not None:
                self.header.setText(self._header_html(self.detail))
