"""The side panel of the "Where runs stop" mode: the steps that lose most, why, and how long.

Selecting a step here centres the diagram on it; the buttons (and double-clicks) open the
Contacts tab on the runs that went through it ("who went through").
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from flowdesk.core import formatting
from flowdesk.core.insights import bucket_bounds, percentile
from flowdesk.core.queries import StepFilter
from flowdesk.core.step_report import StepOutcome, StopReason, StopsView, ranked_losses
from flowdesk.ui.models.insights import (
    LOSS_COLUMNS,
    REASON_COLUMNS,
    TIME_COLUMNS,
    TimeRow,
    time_rows,
)
from flowdesk.ui.models.records import RECORD_ROLE, RecordTableModel
from flowdesk.ui.theme import series_color, static_chart, style_chart_axes
from flowdesk.ui.widgets.tables import record_table

_FIT = QHeaderView.ResizeMode.ResizeToContents


class TimeHistogram(QWidget):
    """Passes per time bucket of one step (or completed runs by entry → completion time), on a
    logarithmic time axis; the bar under the pointer is read out below."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        import pyqtgraph as pg

        self._pg = pg
        self.setAccessibleName("Time histogram")
        self.title = QLabel(" ")
        self.title.setWordWrap(True)
        self.plot = pg.PlotWidget(self)
        self.plot.setAccessibleName("Time histogram chart")
        static_chart(self.plot)
        self.readout = QLabel(" ")
        self.readout.setAccessibleName("Histogram value under the pointer")
        self.readout.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.readout)
        self.counts: dict[int, int] = {}
        self.plot.scene().sigMouseMoved.connect(self._on_move)

    def set_counts(self, title: str, counts: dict[int, int], noun: str = "passes") -> None:
        pg = self._pg
        self.counts = dict(counts)
        self.noun = noun
        palette = self.palette()
        self.plot.clear()
        self.plot.setBackground(palette.color(QPalette.ColorRole.Base))
        style_chart_axes(self.plot, palette)
        self.title.setText(title)
        if not counts:
            self.readout.setText("No times yet.")
            return
        low, high = min(counts), max(counts)
        xs = list(range(low, high + 1))
        heights = [counts.get(x, 0) for x in xs]
        color = series_color("completion", palette)
        bars = pg.BarGraphItem(
            x=xs, height=heights, width=0.85, brush=pg.mkBrush(color), pen=pg.mkPen(None)
        )
        self.plot.addItem(bars)
        step = max(1, (high - low + 4) // 5)
        ticks = [(b, formatting.duration(bucket_bounds(b)[0])) for b in range(low, high + 1, step)]
        self.plot.getAxis("bottom").setTicks([ticks])
        self.plot.setXRange(low - 0.6, high + 0.6, padding=0)
        self.plot.setYRange(0, max(heights) * 1.08, padding=0)
        total = sum(heights)
        p50, p90 = percentile(counts, 0.5), percentile(counts, 0.9)
        self.readout.setText(
            f"{formatting.count(total)} {noun} · median ≈ {formatting.duration(p50)}"
            f" · 90th percentile ≈ {formatting.duration(p90)} · hover a bar for its count"
        )

    def describe(self, bucket: int) -> str:
        low, high = bucket_bounds(bucket)
        upper = "and more" if high == float("inf") else f"to {formatting.duration(high)}"
        count = formatting.count(self.counts.get(bucket, 0))
        return f"{formatting.duration(low)} {upper}: {count} {self.noun}"

    def _on_move(self, position) -> None:  # noqa: ANN001
        if not self.counts:
            return
        point = self.plot.getPlotItem().vb.mapSceneToView(position)
        bucket = round(point.x())
        if bucket in self.counts:
            self.readout.setText(self.describe(bucket))


class StopsPanel(QWidget):
    stepSelected = Signal(int)  # noqa: N815
    # (StepFilter, status metric or None, words for the Contacts tab)
    contactsRequested = Signal(object, object, str)  # noqa: N815
    histogramRequested = Signal(int)  # step key  # noqa: N815

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Where runs stop")
        self.view: StopsView | None = None
        self.losses: RecordTableModel[StepOutcome] = RecordTableModel(self, columns=LOSS_COLUMNS)
        self.reasons: RecordTableModel[StopReason] = RecordTableModel(self, columns=REASON_COLUMNS)
        self.times: RecordTableModel[TimeRow] = RecordTableModel(self, columns=TIME_COLUMNS)
        self.loss_table = record_table(self.losses, "Steps that lose most", self, columns=_FIT)
        self.reason_table = record_table(self.reasons, "Why runs stop", self, columns=_FIT)
        # Reasons are long ("Message not sent: (#131026) Message undeliverable"): the Reason
        # column takes the room left and wraps; the step's name elides (its tooltip has it).
        reason_header = self.reason_table.horizontalHeader()
        reason_header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        reason_header.resizeSection(0, 8 * self.fontMetrics().averageCharWidth() + 40)
        reason_header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.reason_table.setWordWrap(True)
        self.reason_table.verticalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.time_table = record_table(self.times, "Time per step", self, columns=_FIT)
        self.time_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.summary = QLabel(" ")
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName("Where runs stop summary")
        self.reached_button = QPushButton("Contacts who reached it")
        self.ended_button = QPushButton("Contacts who ended there")
        for button in (self.reached_button, self.ended_button):
            button.setEnabled(False)
            button.setAccessibleName(button.text())
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.reached_button)
        buttons.addWidget(self.ended_button)
        buttons.addStretch(1)

        losses_page = QWidget(self)
        losses_layout = QVBoxLayout(losses_page)
        losses_layout.setContentsMargins(0, 4, 0, 0)
        losses_layout.addWidget(self.loss_table, 1)
        losses_layout.addLayout(buttons)
        why_page = QWidget(self)
        why_layout = QVBoxLayout(why_page)
        why_layout.setContentsMargins(0, 4, 0, 0)
        why_hint = QLabel("Double-click a reason for the contacts who stopped there that way.")
        why_hint.setWordWrap(True)
        why_layout.addWidget(self.reason_table, 1)
        why_layout.addWidget(why_hint)
        self._histogram: TimeHistogram | None = None
        self.time_splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.time_splitter.addWidget(self.time_table)
        self._histogram_holder = QWidget(self)
        QVBoxLayout(self._histogram_holder).setContentsMargins(0, 0, 0, 0)
        self.time_splitter.addWidget(self._histogram_holder)
        self.time_splitter.setChildrenCollapsible(False)
        # The histogram is what a row is picked for: give it room to read (~45% of the height).
        self._histogram_holder.setMinimumHeight(150)
        self.time_splitter.setStretchFactor(0, 1)
        self.time_splitter.setStretchFactor(1, 1)

        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(losses_page, "Lose most")
        self.tabs.addTab(why_page, "Why")
        self.tabs.addTab(self.time_splitter, "How long")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.tabs, 1)

        self.loss_table.selectionModel().currentRowChanged.connect(self._on_loss_row)
        self.loss_table.doubleClicked.connect(lambda _i: self._open("ended"))
        self.reason_table.selectionModel().currentRowChanged.connect(self._on_reason_row)
        self.reason_table.doubleClicked.connect(self._on_reason_activated)
        self.time_table.selectionModel().currentRowChanged.connect(self._on_time_row)
        self.reached_button.clicked.connect(lambda: self._open("reached"))
        self.ended_button.clicked.connect(lambda: self._open("ended"))
        self._selected: StepOutcome | None = None

    @property
    def histogram(self) -> TimeHistogram:
        """Built on first use: importing pyqtgraph costs ~0.4 s."""
        if self._histogram is None:
            self._histogram = TimeHistogram(self._histogram_holder)
            self._histogram_holder.layout().addWidget(self._histogram)
            total = max(sum(self.time_splitter.sizes()), 400)
            self.time_splitter.setSizes([total * 55 // 100, total * 45 // 100])
        return self._histogram

    def set_view(self, view: StopsView | None) -> None:
        self.view = view
        self._selected = None
        for button in (self.reached_button, self.ended_button):
            button.setEnabled(False)
        if view is None:
            for model in (self.losses, self.reasons, self.times):
                model.set_records([])
            self.summary.setText(" ")
            return
        self.losses.set_records(ranked_losses(view.outcomes))
        self.reasons.set_records(view.reasons)
        completion = None
        if view.completion:
            completion = TimeRow(
                "Entry → completion (whole flow)",
                sum(view.completion.values()),
                percentile(view.completion, 0.5),
                percentile(view.completion, 0.9),
            )
        self.times.set_records(time_rows(view.outcomes, completion))
        lost = sum(s.lost for s in view.outcomes)
        waiting = sum(s.waiting for s in view.outcomes)
        overdue = sum(s.overdue for s in view.outcomes)
        text = (
            f"{formatting.count(lost)} contacts lost at a step"
            f" · {formatting.count(waiting)} waiting now · {formatting.count(overdue)} overdue"
        )
        if view.as_of:
            text += f" (as of {formatting.timestamp(view.as_of)}, the latest activity synced)"
        if view.coverage.partial:
            basis = formatting.path_basis(view.coverage.with_path, view.coverage.runs)
            text = f"{basis[0].upper()}{basis[1:]} (the other paths are still being synced): {text}"
        self.summary.setText(text)
        if completion is not None:
            self.histogram.set_counts(
                "Entry → completion, completed contacts", view.completion, "contacts"
            )

    def update_view(self, view: StopsView) -> None:
        """Newer numbers for the same graph (a sync reading paths): the rows the agent picked
        stay picked and the tables stay scrolled where they were; the diagram does not move."""
        tables = (
            (self.loss_table, self.losses, lambda r: r.key),
            (self.reason_table, self.reasons, lambda r: (r.step_key, r.metric, r.reason)),
            (self.time_table, self.times, lambda r: r.step.key if r.step else None),
        )
        kept = []
        for table, model, identity in tables:
            record = model.record_at(table.currentIndex().row())
            kept.append(
                (identity(record) if record is not None else ..., table.verticalScrollBar().value())
            )
        self.set_view(view)
        self.blockSignals(True)  # re-selecting is not the agent picking a step again
        try:
            for (table, model, identity), (picked, scroll) in zip(tables, kept, strict=True):
                for row, record in enumerate(model.records()):
                    if picked is not ... and identity(record) == picked:
                        table.selectRow(row)
                        break
                table.verticalScrollBar().setValue(scroll)
        finally:
            self.blockSignals(False)
        step = self.times.record_at(self.time_table.currentIndex().row())
        if step is not None and step.step is not None:
            self.histogramRequested.emit(step.step.key)  # its histogram, with the new numbers

    def select_step(self, step_key: int) -> None:
        """A step picked on the diagram: select it in the tables."""
        for row, outcome in enumerate(self.losses.records()):
            if outcome.key == step_key:
                self.loss_table.selectRow(row)
                break
        else:
            self._set_selected(self.view.outcome(step_key) if self.view else None)
        for row, item in enumerate(self.times.records()):
            if item.step is not None and item.step.key == step_key:
                self.time_table.selectRow(row)
                break

    def show_histogram(self, step: StepOutcome, counts: dict[int, int]) -> None:
        what = "reply time" if step.wait_seconds else "time at the step"
        self.histogram.set_counts(f"{step.name or step.id}: {what} per pass", counts)

    # -- reactions -------------------------------------------------------------------------------

    def _set_selected(self, step: StepOutcome | None) -> None:
        self._selected = step
        for button in (self.reached_button, self.ended_button):
            button.setEnabled(step is not None)

    def _on_loss_row(self, current: QModelIndex, _previous: QModelIndex) -> None:
        step = self.losses.data(current, RECORD_ROLE) if current.isValid() else None
        self._set_selected(step)
        if step is not None:
            self.stepSelected.emit(step.key)

    def _on_reason_row(self, current: QModelIndex, _previous: QModelIndex) -> None:
        reason: StopReason | None = self.reasons.data(current, RECORD_ROLE)
        if reason is not None and reason.step_key:
            self.stepSelected.emit(reason.step_key)

    def _on_reason_activated(self, index: QModelIndex) -> None:
        reason: StopReason | None = self.reasons.data(index, RECORD_ROLE)
        if reason is None or not reason.step_key:
            return
        self.contactsRequested.emit(
            StepFilter(reason.step_key, "ended", reason=reason.reason),
            reason.metric,
            f"ended at \u201c{reason.step_name}\u201d: {reason.reason}",
        )

    def _on_time_row(self, current: QModelIndex, _previous: QModelIndex) -> None:
        item: TimeRow | None = self.times.data(current, RECORD_ROLE)
        if item is None:
            return
        if item.step is None:
            if self.view is not None:
                self.histogram.set_counts(
                    "Entry → completion, completed contacts", self.view.completion, "contacts"
                )
            return
        self.stepSelected.emit(item.step.key)
        self.histogramRequested.emit(item.step.key)

    def _open(self, mode: str) -> None:
        step = self._selected
        if step is None:
            return
        name = step.name or step.id
        words = (
            f"reached \u201c{name}\u201d" if mode == "reached" else f"ended at \u201c{name}\u201d"
        )
        self.contactsRequested.emit(StepFilter(step.key, mode), None, words)
