"""Flow Viewer tab: the heat-coloured diagram of the scoped version, and a contact's traced path.

The diagram widgets (``FlowViewer``, ``PathTimeline``) live in ``flowdesk.ui.viewer``; when that
package is not importable this tab falls back to plain lists with the same methods, so the page
still works (and its tests still run) without it.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from flowdesk.core.model import METRIC_LABELS, METRICS
from flowdesk.core.queries import ContactRow, FlowGraph, PathEntry, RunDetail, step_share
from flowdesk.ui.theme import fmt_count, fmt_duration, fmt_share, fmt_time, muted_text

log = logging.getLogger(__name__)


class FallbackViewer(QTreeWidget):
    """Steps as rows with reach counts; a traced path numbered, everything else dimmed."""

    stepActivated = Signal(int)  # noqa: N815

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Flow steps")
        self.setRootIsDecorated(False)
        self.setHeaderLabels(["#", "Step", "Type", "Reached", "% of previous", "Ended here"])
        self.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.graph: FlowGraph | None = None
        self.path: list[PathEntry] | None = None
        self.itemActivated.connect(lambda item, _c: self.stepActivated.emit(item.data(0, 256)))

    def set_graph(self, graph: FlowGraph | None) -> None:
        self.graph = graph
        self.path = None
        self._render()

    def highlight_path(self, path: list[PathEntry] | None) -> None:
        self.path = list(path) if path else None
        self._render()

    def fit(self) -> None:
        pass

    def zoom_in(self) -> None:
        pass

    def zoom_out(self) -> None:
        pass

    def _render(self) -> None:
        self.clear()
        graph = self.graph
        if graph is None:
            return
        peak = max((s.reached for s in graph.steps), default=0) or 1
        order: dict[int, list[int]] = {}
        for entry in self.path or []:
            order.setdefault(entry.step_key, []).append(entry.seq)
        dim = muted_text(self.palette())
        for step in graph.steps:
            ended = ", ".join(
                f"{METRIC_LABELS[m]} {fmt_count(step.ended.get(m.value, 0))}"
                for m in METRICS
                if step.ended.get(m.value)
            )
            seqs = order.get(step.key)
            item = QTreeWidgetItem(
                [
                    ", ".join(str(s) for s in seqs) if seqs else "",
                    step.name,
                    step.step_type,
                    fmt_count(step.reached),
                    fmt_share(step_share(graph, step.key)),
                    ended,
                ]
            )
            item.setData(0, 256, step.key)
            if self.path is not None and not seqs:
                for column in range(6):
                    item.setForeground(column, QBrush(dim))
            elif self.path is None:
                heat = QColor(255, 140, 0, int(30 + 120 * step.reached / peak))
                item.setBackground(3, QBrush(heat))
            self.addTopLevelItem(item)


class FallbackTimeline(QTreeWidget):
    stepSelected = Signal(int)  # noqa: N815

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Path timeline")
        self.setRootIsDecorated(False)
        self.setHeaderLabels(["#", "Time", "Step", "Status", "Wait / expiry", "Error"])
        self.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.run: RunDetail | None = None
        self.currentItemChanged.connect(
            lambda item, _p: item is not None and self.stepSelected.emit(item.data(0, 256))
        )

    def set_run(self, run: RunDetail | None) -> None:
        self.run = run
        self.clear()
        for entry in run.path if run else []:
            wait = ""
            if entry.expire_on:
                wait = f"expires {fmt_time(entry.expire_on)}"
            elif entry.wait_seconds:
                wait = f"waits {fmt_duration(entry.wait_seconds)}"
            item = QTreeWidgetItem(
                [
                    str(entry.seq),
                    fmt_time(entry.executed_at, True),
                    entry.step_name,
                    entry.status.title(),
                    wait,
                    entry.error or entry.status_reason,
                ]
            )
            item.setData(0, 256, entry.step_key)
            self.addTopLevelItem(item)


def _viewer_classes():
    try:
        from flowdesk.ui.viewer import FlowViewer, PathTimeline  # type: ignore[attr-defined]
    except ImportError as exc:
        log.info("flow viewer not available, using the step list (%s)", exc)
        return FallbackViewer, FallbackTimeline
    return FlowViewer, PathTimeline


class ViewerTab(QWidget):
    runPicked = Signal(int)  # run key chosen in the run picker  # noqa: N815
    traceCleared = Signal()  # noqa: N815

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        viewer_cls, timeline_cls = _viewer_classes()
        self.viewer = viewer_cls(self)
        self.viewer.setAccessibleName("Flow viewer")
        self.timeline = timeline_cls(self)
        self.timeline.setAccessibleName("Path timeline")
        self.graph: FlowGraph | None = None
        self.traced: RunDetail | None = None
        self.highlighted: list[PathEntry] | None = None

        self.note = QLabel(" ")
        self.note.setWordWrap(True)
        self.note.setAccessibleName("Viewer scope")
        self.fit_button = QPushButton("Fit")
        self.fit_button.setAccessibleName("Fit diagram to window")
        self.zoom_out_button = QPushButton("−")
        self.zoom_out_button.setAccessibleName("Zoom out")
        self.zoom_out_button.setToolTip("Zoom out (Ctrl+-)")
        self.zoom_in_button = QPushButton("+")
        self.zoom_in_button.setAccessibleName("Zoom in")
        self.zoom_in_button.setToolTip("Zoom in (Ctrl++)")
        for button in (self.zoom_out_button, self.zoom_in_button):
            button.setFixedWidth(36)
        self.fit_button.clicked.connect(self.viewer.fit)
        self.zoom_in_button.clicked.connect(self.viewer.zoom_in)
        self.zoom_out_button.clicked.connect(self.viewer.zoom_out)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.note, 1)
        top.addWidget(self.fit_button)
        top.addWidget(self.zoom_out_button)
        top.addWidget(self.zoom_in_button)

        self.side = QWidget(self)
        self.side.setAccessibleName("Traced path")
        self.trace_title = QLabel("")
        font = self.trace_title.font()
        font.setBold(True)
        self.trace_title.setFont(font)
        self.trace_title.setWordWrap(True)
        self.trace_info = QLabel("")
        self.trace_info.setWordWrap(True)
        self.trace_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
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
        side_layout.addWidget(self.trace_title)
        side_layout.addWidget(self.trace_info)
        side_layout.addLayout(picker_row)
        side_layout.addWidget(self.timeline, 1)
        side_layout.addWidget(self.clear_button)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.viewer)
        self.splitter.addWidget(self.side)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        self.side.setMinimumWidth(330)
        self.side.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)

        self.fallback = isinstance(self.viewer, FallbackViewer)
        if not self.fallback:
            # The diagram has its own zoom controls; the timeline its own run summary.
            for widget in (self.fit_button, self.zoom_in_button, self.zoom_out_button):
                widget.hide()
            self.trace_title.hide()
            self.trace_info.hide()
        if hasattr(self.viewer, "center_on_step"):
            self.timeline.stepSelected.connect(self.viewer.center_on_step)
        self.viewer.stepActivated.connect(self._on_step_activated)
        self.run_picker.activated.connect(self._on_pick)
        self.clear_button.clicked.connect(self.clear_trace)
        self._scope_note = " "

    def set_graph(self, graph: FlowGraph | None, note: str) -> None:
        """Show a graph with its heat (drops any trace)."""
        self.graph = graph
        self._scope_note = note
        self.traced = None
        self.highlighted = None
        self.side.hide()
        self.viewer.set_graph(graph)
        self.viewer.highlight_path(None)
        self.note.setText(note)

    def show_trace(self, detail: RunDetail, graph: FlowGraph, note: str) -> None:
        if graph is not self.graph:
            self.viewer.set_graph(graph)
        self.graph = graph
        self.traced = detail
        self.highlighted = list(detail.path)
        self.viewer.highlight_path(self.highlighted)
        self.timeline.set_run(detail)
        row = detail.row
        name = f"{row.first_name} {row.last_name}".strip() or "Contact"
        self.trace_title.setText(f"{name} · {row.phone}")
        info = [
            f"Status: {METRIC_LABELS.get(row.metric, row.metric)} ({row.status.title()})",
            f"Entered {fmt_time(row.entered_at, True)} · version {row.version_name}",
            f"{len(detail.path)} steps · last activity {fmt_time(row.last_activity, True)}",
        ]
        if row.reason:
            info.append(f"Reason: {row.reason}")
        if detail.email:
            info.append(detail.email)
        self.trace_info.setText("\n".join(info))
        self._select_run(row.run_key)
        self.note.setText(note)
        if not self.side.isVisible():
            self.side.show()
            width = self.splitter.width()
            if width > 800:
                self.splitter.setSizes([width - 460, 460])

    def set_runs(self, runs: list[ContactRow]) -> None:
        """Fill the run picker (shown only when the contact entered more than once)."""
        self.run_picker.blockSignals(True)
        self.run_picker.clear()
        for run in runs:
            self.run_picker.addItem(
                f"{fmt_time(run.entered_at)} · {METRIC_LABELS.get(run.metric, run.metric)}"
                f" · {run.version_name}",
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
    return (
        f"{what} · {len(graph.steps)} steps, {reached} reached"
        " · colour = contacts who reached the step"
    )
