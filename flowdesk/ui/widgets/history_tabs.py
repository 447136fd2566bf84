"""Messaging Flow Executions tab (outbound flows) and Versions tab (change history + chart)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedLayout,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from flowdesk.core import formatting
from flowdesk.core.compare.stats import wilson_interval
from flowdesk.core.queries import ExecutionInfo, VersionInfo
from flowdesk.ui.models.history import ExecutionsModel, VersionsModel, version_label
from flowdesk.ui.models.records import RECORD_ROLE
from flowdesk.ui.theme import series_color, static_chart, style_chart_axes
from flowdesk.ui.widgets.empty_state import EmptyState
from flowdesk.ui.widgets.tables import record_table


class _RecordTab(QWidget):
    """A table whose first column opens the record (click on it, double-click or Enter)."""

    def _wire(self, table: QTableView) -> None:
        table.clicked.connect(self._on_clicked)
        table.activated.connect(self._emit)
        table.doubleClicked.connect(self._emit)

    def _on_clicked(self, index: QModelIndex) -> None:
        if index.column() == 0:
            self._emit(index)

    def _activated(self, record_id: str) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _emit(self, index: QModelIndex) -> None:
        record = index.data(RECORD_ROLE)
        if record is not None:
            self._activated(record.id)

    def select(self, record_id: str | None) -> None:
        """Select the row of one record (or none), as the scope selector moves."""
        for row, record in enumerate(self.model.records()):
            if record.id == record_id:
                self.table.selectRow(row)
                return
        self.table.clearSelection()


_NO_EXECUTIONS = (
    "Executions appear when someone sends this outbound flow to contacts (from a contact filter,"
    " a CSV file upload, or the API). Run “Sync now” (F5) to fetch new ones."
)


class ExecutionsTab(_RecordTab):
    executionActivated = Signal(str)  # noqa: N815

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = ExecutionsModel(self)
        self.table = record_table(self.model, "Messaging flow executions", self, sortable=True)
        self.table.horizontalHeader().setSortIndicator(3, Qt.SortOrder.DescendingOrder)
        widths = (112, 150, 130, 122, 112, 88)
        for column, width in enumerate(widths):
            self.table.setColumnWidth(column, width)
        for column in range(len(widths), self.model.columnCount()):
            self.table.setColumnWidth(column, 70 if column < len(widths) + 6 else 84)
        self.hint = QLabel(
            "Who started each outbound run of this flow, when and how; click an execution's name"
            " to open its metrics, contacts and heat."
        )
        self.hint.setWordWrap(True)
        self.empty = EmptyState("No executions yet", _NO_EXECUTIONS)
        self._stack = QStackedLayout()
        self._stack.addWidget(self.table)
        self._stack.addWidget(self.empty)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(self.hint)
        layout.addLayout(self._stack, 1)
        self._wire(self.table)

    def set_executions(
        self, executions: list[ExecutionInfo], version_id: str | None = None
    ) -> None:
        """The flow's executions, or only those of ``version_id`` when the page is scoped to
        a version; numbers stay those of the whole flow ("#60" is #60 everywhere)."""
        shown = [e for e in executions if version_id is None or e.version_id == version_id]
        self.model.set_records(shown, numbered_among=executions)
        header = self.table.horizontalHeader()
        self.model.sort(header.sortIndicatorSection(), header.sortIndicatorOrder())
        self._stack.setCurrentWidget(self.table if shown else self.empty)
        if version_id is not None and not shown:
            self.empty.set_text(
                "No executions of this version",
                "Nobody sent this version of the flow. Pick “All versions” in Scope to see the"
                " executions of the others.",
            )
        elif not shown:
            self.empty.set_text("No executions yet", _NO_EXECUTIONS)

    def _activated(self, record_id: str) -> None:
        self.executionActivated.emit(record_id)


def rate_intervals(version: VersionInfo) -> dict[str, tuple[float, float] | None]:
    """The 95 % Wilson interval of each rate of a version, in percent (None without data)."""
    c = version.counters
    found = {
        "response": wilson_interval(c.responded, c.waited),
        "completion": wilson_interval(c.completed, c.contacts),
    }
    return {
        name: None if i is None else (round(i.low * 100, 2), round(i.high * 100, 2))
        for name, i in found.items()
    }


class RatesChart(QWidget):
    """Response and completion rate across versions (oldest → newest), values on hover.

    Each point carries its 95 % interval as an error bar, so a version with few contacts shows
    how little its rate says yet; a version with contacts still in the flow is drawn hollow,
    since its rates will move as they finish.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        import pyqtgraph as pg

        self._pg = pg
        self.setAccessibleName("Response and completion rate by version")
        self.plot = pg.PlotWidget(self)
        self.plot.setAccessibleName("Rates chart")
        static_chart(self.plot)
        self.plot.setYRange(0, 100, padding=0.02)
        self.plot.setLabel("left", "%")
        self.title = QLabel("")
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setWordWrap(True)
        self.title.setAccessibleName("Chart title and legend")
        self.readout = QLabel(" ")
        self.readout.setAccessibleName("Chart value under the pointer")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.readout)
        self.versions: list[VersionInfo] = []
        self.series: dict[str, list[float | None]] = {}
        self.intervals: dict[str, list[tuple[float, float] | None]] = {}
        self.running: list[bool] = []
        self._apply_palette()

    def _apply_palette(self) -> None:
        palette = self.palette()
        self.plot.setBackground(palette.color(QPalette.ColorRole.Base))
        style_chart_axes(self.plot, palette)
        response = series_color("response", palette).name()
        completion = series_color("completion", palette).name()
        self.title.setText(
            "<b>Did the new version improve?</b> &nbsp; "
            f"<span style='color:{response}'>●━ <b>Response rate</b></span> &nbsp; "
            f"<span style='color:{completion}'>●━ <b>Completion rate</b></span>"
            " &nbsp; by version, oldest → newest &nbsp; ○ still running &nbsp; ┬┴ 95 % interval"
        )

    def set_versions(self, versions: list[VersionInfo]) -> None:
        pg = self._pg
        self.versions = list(versions)
        self.plot.clear()
        self._apply_palette()
        xs = list(range(len(versions)))
        ticks = [
            (i, _short(version_label(v)) + (" ●" if v.is_current else ""))
            for i, v in enumerate(versions)
        ]
        self.plot.getAxis("bottom").setTicks([ticks])
        self.series = {
            "response": [_pct(v.counters.response_rate) for v in versions],
            "completion": [_pct(v.counters.completion_rate) for v in versions],
        }
        intervals = [rate_intervals(v) for v in versions]
        self.intervals = {
            name: [found[name] for found in intervals] for name in ("response", "completion")
        }
        self.running = [bool(v.counters.ongoing) for v in versions]
        labels = {"response": "Response rate", "completion": "Completion rate"}
        for name in ("response", "completion"):
            color = series_color(name, self.palette())
            values = self.series[name]
            points = [(x, y) for x, y in zip(xs, values, strict=True) if y is not None]
            if not points:
                continue
            px, py = zip(*points, strict=True)
            pen = pg.mkPen(color, width=2.5)
            self.plot.plot(list(px), list(py), pen=pen, name=labels[name])
            bars = [(x, self.intervals[name][x]) for x in px if self.intervals[name][x]]
            if bars:
                # Side by side, so the two series' bars never hide each other.
                shift = -0.06 if name == "response" else 0.06
                import numpy as np  # pyqtgraph's own dependency: ErrorBarItem wants arrays

                self.plot.addItem(
                    pg.ErrorBarItem(
                        x=np.array([x + shift for x, _ in bars]),
                        y=np.array([self.series[name][x] for x, _ in bars]),
                        top=np.array([high - self.series[name][x] for x, (_, high) in bars]),
                        bottom=np.array([self.series[name][x] - low for x, (low, _) in bars]),
                        beam=0.08,
                        pen=pg.mkPen(color, width=1.5),
                    )
                )
            base = self.palette().color(QPalette.ColorRole.Base)
            scatter = pg.ScatterPlotItem(
                list(px),
                list(py),
                size=10,
                brush=[pg.mkBrush(base if self.running[x] else color) for x in px],
                pen=[pg.mkPen(color if self.running[x] else base, width=2) for x in px],
                hoverable=True,
                hoverSize=14,
                tip=None,
                data=[(name, int(x)) for x in px],
            )
            scatter.sigHovered.connect(self._on_hover)
            self.plot.addItem(scatter)
            if len(points) <= 12:
                above = name == "response" or len(points) == 1
                for x, y in points:
                    other = self.series["completion" if name == "response" else "response"][x]
                    up = above if other is None else y >= other
                    label = pg.TextItem(
                        formatting.share(y / 100), color=color, anchor=(0.5, 1.3 if up else -0.3)
                    )
                    label.setPos(x, y)
                    self.plot.addItem(label)
        self.plot.setXRange(-0.5, max(len(versions) - 0.5, 0.5), padding=0)
        self.plot.setYRange(0, 100, padding=0.02)
        self.readout.setText("Hover a point for its values." if versions else " ")

    def _on_hover(self, _item, points, _event) -> None:  # noqa: ANN001
        if len(points) == 0:
            return
        name, index = points[0].data()
        self.readout.setText(self.describe(index))
        self.plot.setToolTip(self.describe(index))

    def describe(self, index: int) -> str:
        version = self.versions[index]
        c = version.counters

        def interval(name: str) -> str:
            found = self.intervals[name][index]
            return "" if found is None else f", 95 % {found[0]:.1f}–{found[1]:.1f} %"

        text = (
            f"{version_label(version)}: response rate {formatting.share(c.response_rate)}"
            f" ({c.responded:,} of {c.waited:,}{interval('response')}), completion rate"
            f" {formatting.share(c.completion_rate)} ({c.completed:,} of {c.contacts:,}"
            f"{interval('completion')})"
        )
        if c.ongoing:
            text += (
                f"; still running: {c.ongoing:,} contacts in the flow"
                f" ({formatting.share(c.share('ongoing'))}), so its rates will move"
            )
        return text


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 2)


def _short(text: str, limit: int = 18) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class VersionsTab(_RecordTab):
    versionActivated = Signal(str)  # noqa: N815
    compareRequested = Signal()  # noqa: N815

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = VersionsModel(self)
        self.table = record_table(self.model, "Versions", self, sortable=True)
        self.table.horizontalHeader().setSortIndicator(3, Qt.SortOrder.DescendingOrder)
        widths = (176, 150, 112, 120)
        for column, width in enumerate(widths):
            self.table.setColumnWidth(column, width)
        for column in range(len(widths), self.model.columnCount()):
            self.table.setColumnWidth(column, 70 if column < len(widths) + 6 else 84)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self._chart: RatesChart | None = None
        self._chart_holder = QWidget(self)
        holder_layout = QVBoxLayout(self._chart_holder)
        holder_layout.setContentsMargins(0, 0, 0, 0)
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self._chart_holder)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setAccessibleName("Versions and chart")
        self._chart_versions: list[VersionInfo] = []
        self._chart_dirty = False
        self.compare = QPushButton("Compare two versions…", self)
        self.compare.setAccessibleName("Compare two versions")
        self.compare.setToolTip("What changed between two versions, and whether it did better")
        self.compare.clicked.connect(self.compareRequested)
        self.hint = QLabel("Click a version's name to open its own numbers and graph.")
        self.hint.setWordWrap(True)
        header = QHBoxLayout()
        header.setContentsMargins(0, 0, 0, 0)
        header.addWidget(self.hint, 1)
        header.addWidget(self.compare)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.splitter, 1)
        self._wire(self.table)

    def set_versions(self, versions: list[VersionInfo]) -> None:
        self.model.set_records(versions)
        header = self.table.horizontalHeader()
        self.model.sort(header.sortIndicatorSection(), header.sortIndicatorOrder())
        self.compare.setEnabled(len(versions) >= 2)
        self._chart_versions = list(versions)
        self._chart_dirty = True
        if self.isVisible():
            self._draw_chart()
        rows = min(max(len(versions), 3), 10)
        table_height = (
            self.table.horizontalHeader().height()
            + rows * self.table.verticalHeader().defaultSectionSize()
            + 2 * self.table.frameWidth()
            + self.table.horizontalScrollBar().sizeHint().height()
        )
        total = max(self.splitter.height(), 600)
        self.splitter.setSizes([table_height, max(total - table_height, 260)])

    @property
    def chart(self) -> RatesChart:
        """Built on first use: importing pyqtgraph costs ~0.4 s, which opening the app (and
        every flow that is never looked at on this tab) should not pay."""
        if self._chart is None:
            self._chart = RatesChart(self._chart_holder)
            self._chart_holder.layout().addWidget(self._chart)
        return self._chart

    def _draw_chart(self) -> None:
        """The chart is drawn when the tab is shown: opening a flow does not pay for it."""
        if self._chart_dirty:
            self._chart_dirty = False
            self.chart.set_versions(self._chart_versions)

    def showEvent(self, event) -> None:  # noqa: ANN001
        super().showEvent(event)
        self._draw_chart()

    def _activated(self, record_id: str) -> None:
        self.versionActivated.emit(record_id)
