"""Flow Viewer tab: the heat-coloured diagram of the scoped version, and a contact's traced path.

Two modes: traffic heat (how many reached each step) and "Where runs stop" (where contacts were
lost, waiting or overdue, why and how long), the latter with its panel of tables beside.

The diagram widgets (``FlowViewer``, ``PathTimeline``) live in ``flowdesk.ui.viewer``; when that
package is not importable this tab falls back to plain lists with the same methods, so the page
still works (and its tests still run) without it.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from flowdesk.core import formatting
from flowdesk.core.model import METRIC_LABELS
from flowdesk.core.queries import ContactRow, FlowGraph, PathCoverage, PathEntry, RunDetail
from flowdesk.core.step_report import StopsView
from flowdesk.ui.viewer import FlowViewer, PathTimeline
from flowdesk.ui.widgets.stops_panel import StopsPanel

MODE_TRAFFIC, MODE_STOPS = "traffic", "stops"
COLOUR_TRAFFIC = "colour = contacts who reached the step"
COLOUR_STOPS = (
    "colour = share of the step's arrivals lost there; right-click a step for its contacts"
)

log = logging.getLogger(__name__)


class ViewerTab(QWidget):
    runPicked = Signal(int)  # run key chosen in the run picker  # noqa: N815
    traceCleared = Signal()  # noqa: N815
    modeChanged = Signal(str)  # noqa: N815

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.viewer = FlowViewer(self)
        self.viewer.setAccessibleName("Flow viewer")
        self.timeline = PathTimeline(self)
        self.timeline.setAccessibleName("Path timeline")
        self.graph: FlowGraph | None = None
        self.traced: RunDetail | None = None
        self.highlighted: list[PathEntry] | None = None

        self.note = QLabel(" ")
        self.note.setWordWrap(True)
        self.note.setAccessibleName("Viewer scope")
        self.mode = MODE_TRAFFIC
        self.stops_view: StopsView | None = None
        self.mode_buttons = QButtonGroup(self)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.note, 1)
        for mode, text, tip in (
            (MODE_TRAFFIC, "Traffic", "Colour by contacts who reached each step"),
            (
                MODE_STOPS,
                "Where runs stop",
                "Colour by the share of each step's arrivals lost there; waiting and overdue"
                " contacts; why and how long",
            ),
        ):
            button = QToolButton(self)
            button.setText(text)
            button.setToolTip(tip)
            button.setAccessibleName(f"{text} mode")
            button.setCheckable(True)
            button.setChecked(mode == MODE_TRAFFIC)
            button.setProperty("mode", mode)
            self.mode_buttons.addButton(button)
            top.addWidget(button)
        self.mode_buttons.buttonClicked.connect(
            lambda button: self.set_mode(button.property("mode"))
        )
        self.stops_panel = StopsPanel(self)
        self.stops_panel.hide()
        self.stops_panel.setMinimumWidth(360)

        self.side = QWidget(self)
        self.side.setAccessibleName("Traced path")
        self.run_picker = QComboBox(self.side)
        self.run_picker.setAccessibleName("Run of this contact")
        self.run_picker.setToolTip("This contact entered the flow more than once: pick a run")
        self.run_picker_label = QLabel("Run:")
        self.clear_button = QPushButton("Clear trace")
        self.clear_button.setAccessibleName("Clear traced path")
        picker_row = QHBoxLayout()
        picker_row.addWidget(self.run_picker_label)
        picker_row.addWidget(self.run_picker, 1)
        side_layout = QVBoxLayout(self.side)
        side_layout.setContentsMargins(6, 0, 0, 0)
        side_layout.addLayout(picker_row)
        side_layout.addWidget(self.timeline, 1)
        side_layout.addWidget(self.clear_button)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.viewer)
        self.splitter.addWidget(self.side)
        self.splitter.addWidget(self.stops_panel)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setStretchFactor(2, 2)  # the stops panel's reasons need room to read
        self.splitter.setChildrenCollapsible(False)
        self.side.setMinimumWidth(280)
        self.side.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)

        # The diagram has its own zoom controls; the timeline its own run summary.
        self.timeline.stepSelected.connect(self.viewer.center_on_step)
        self.viewer.stepActivated.connect(self._on_step_activated)
        self.run_picker.activated.connect(self._on_pick)
        self.clear_button.clicked.connect(self.clear_trace)
        self.stops_panel.stepSelected.connect(self.viewer.center_on_step)
        self.viewer.view.nodeClicked.connect(self._on_step_clicked)
        self._scope_note = " "

    def set_graph(self, graph: FlowGraph | None, note: str) -> None:
        """Show a graph with its heat (drops any trace)."""
        self.graph = graph
        self._scope_note = note
        self.traced = None
        self.highlighted = None
        self.side.hide()
        if graph is not None and graph is self.viewer.graph():
            # Back from a trace through the same version: the scene is already built (a rebuild
            # lays the graph out again, ~30–100 ms on the GUI thread); only the framing resets.
            self.viewer.highlight_path(None)
            self.viewer.show_overview()
        else:
            self.viewer.set_graph(graph)
            self.viewer.highlight_path(None)
        self.note.setText(note)
        self._show_mode()

    def update_graph(self, graph: FlowGraph, note: str, stops: StopsView | None) -> None:
        """Newer numbers for the graph on screen (a sync reading paths): heat, counts, the
        note's "from N of M runs" and "Where runs stop" change; the zoom, the scroll, the step
        and the rows the agent picked stay. ``stops``: None when that mode is not shown."""
        self.graph = graph
        self._scope_note = note
        self.viewer.update_graph(graph)
        if stops is not None and stops.version_id == graph.version_id:
            self.stops_view = stops
        self._show_mode(keep=True)

    def set_mode(self, mode: str) -> None:
        """Traffic heat or "Where runs stop"; the page loads the latter's numbers
        (``modeChanged``) and hands them to :meth:`set_stops_view`."""
        if mode == self.mode:
            return
        self.mode = mode
        for button in self.mode_buttons.buttons():
            button.setChecked(button.property("mode") == mode)
        self._show_mode()
        self.modeChanged.emit(mode)

    def set_stops_view(self, view: StopsView | None, keep: bool = False) -> None:
        """``keep``: newer numbers for the same graph; the panel keeps its picked rows."""
        if view is not None and (self.graph is None or view.version_id != self.graph.version_id):
            return  # an answer for a graph no longer shown
        self.stops_view = view
        self._show_mode(keep)

    def _show_mode(self, keep: bool = False) -> None:
        """``keep``: the stops panel keeps its picked rows (newer numbers, same graph)."""
        stops = self.mode == MODE_STOPS and self.traced is None
        if self.traced is None:
            note = self._scope_note
            if stops:
                note = note.replace(COLOUR_TRAFFIC, COLOUR_STOPS)
            self.note.setText(note)
        view = self.stops_view
        current = (
            view is not None
            and self.graph is not None
            and view.version_id == self.graph.version_id
            and view.execution_id == self.graph.execution_id
        )
        self.viewer.show_stops(view.outcomes if stops and current else None)
        if keep and stops and current:
            self.stops_panel.update_view(view)
        else:
            self.stops_panel.set_view(view if stops and current else None)
        visible = stops and self.graph is not None
        if visible == self.stops_panel.isHidden():  # not isVisible(): the tab may be hidden
            self.stops_panel.setVisible(visible)
            # While this tab is not shown, Qt would keep the panel's minimum width in the
            # tab's size hint (and a window with the Downloads panel open would grow).
            self.splitter.updateGeometry()
            width = self.splitter.width()
            if visible and width > 900:
                self.splitter.setSizes([width - 480, 0, 480])

    def _on_step_clicked(self, step_key: int) -> None:
        if self.mode == MODE_STOPS:
            self.stops_panel.select_step(step_key)

    def show_trace(
        self, detail: RunDetail, graph: FlowGraph, note: str, execution: str | None = None
    ) -> None:
        """``execution``: the run's execution as the app names it ("#60 · date")."""
        if graph is not self.graph:
            self.viewer.set_graph(graph)
        self.graph = graph
        self.traced = detail
        self.highlighted = list(detail.path)
        self.viewer.highlight_path(self.highlighted)
        self.timeline.set_run(detail, execution=execution)
        self._show_mode()
        row = detail.row
        self._select_run(row.run_key)
        self.note.setText(note)
        if not self.side.isVisible():
            self.side.show()
            # 460 px for the timeline, or four tenths of a narrow tab (drag to widen it).
            width = self.splitter.width()
            side = max(self.side.minimumWidth(), min(460, int(width * 0.42)))
            self.splitter.setSizes([width - side, side])

    def set_runs(self, runs: list[ContactRow]) -> None:
        """Fill the run picker (shown only when the contact entered more than once)."""
        self.run_picker.blockSignals(True)
        self.run_picker.clear()
        for run in runs:
            self.run_picker.addItem(
                f"{formatting.timestamp(run.entered_at)}"
                f" · {METRIC_LABELS.get(run.metric, run.metric)} · {run.version_name}",
                run.run_key,
            )
        self.run_picker.blockSignals(False)
        if self.traced is not None:
            self._select_run(self.traced.row.run_key)
        several = len(runs) > 1
        self.run_picker.setVisible(several)
        self.run_picker_label.setVisible(several)

    def _select_run(self, run_key: int) -> None:
        index = self.run_picker.findData(run_key)
        if index >= 0:
            self.run_picker.blockSignals(True)
            self.run_picker.setCurrentIndex(index)
            self.run_picker.blockSignals(False)

    def clear_trace(self) -> None:
        if self.traced is None:
            return
        self.traced = None
        self.highlighted = None
        self.viewer.highlight_path(None)
        self.timeline.set_run(None)
        self.side.hide()
        self.note.setText(self._scope_note)
        self._show_mode()
        self.traceCleared.emit()

    def _on_step_activated(self, step_key: int) -> None:
        if self.highlighted and hasattr(self.timeline, "select_step_number"):
            for number, entry in enumerate(self.highlighted, start=1):
                if entry.step_key == step_key:
                    self.timeline.select_step_number(number)
                    return

    def _on_pick(self, index: int) -> None:
        run_key = self.run_picker.itemData(index)
        if run_key is not None:
            self.runPicked.emit(int(run_key))


def graph_note(graph: FlowGraph | None, what: str) -> str:
    if graph is None:
        return "No steps recorded for this scope yet."
    reached = sum(1 for s in graph.steps if s.reached)
    note = f"{what} · {len(graph.steps)} steps, {reached} reached · {COLOUR_TRAFFIC}"
    return note + partial_note(graph.coverage)


def partial_note(coverage: PathCoverage) -> str:
    """Said next to per-step numbers while some of their runs' paths are not read yet."""
    if not coverage.partial:
        return ""
    basis = formatting.path_basis(coverage.with_path, coverage.runs)
    return f" · {basis} (the other paths are still being synced)"
