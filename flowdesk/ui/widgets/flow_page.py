"""A flow's summary page: header with scope selector, six metric cards, and the four tabs.

The page has one scope (all versions, one version or one execution). Every number on it, the
contacts table and the viewer's heat follow that scope, so they always agree. A version or an
execution scope is that item's detail page: a banner says what it is and how to go back.

Counters, versions, executions, graphs and traces are read from maintained counters and primary
keys, so they are read on the GUI thread (well under 50 ms at 1M runs); contact pages, counts
with a search, and anything else that scans runs go through the worker pool.
"""

from __future__ import annotations

import html
import logging
import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from flowdesk.core import formatting
from flowdesk.core.export import ExportSpec
from flowdesk.core.model import Direction
from flowdesk.core.queries import (
    ContactRow,
    ExecutionInfo,
    FlowGraph,
    FlowSummary,
    Scope,
    StepFilter,
    VersionInfo,
    get_flow,
    list_executions,
    list_versions,
    run_detail,
    runs_of_contact,
    summary,
    version_graph,
)
from flowdesk.core.run_paths import path_waiting, read_run_path
from flowdesk.core.step_report import (
    PathViews,
    StopsView,
    entry_days,
    path_views,
    step_time_histogram,
    stops_view,
)
from flowdesk.ui.errors import error_text
from flowdesk.ui.models.flows import DIRECTION_LABELS
from flowdesk.ui.models.history import (
    execution_how,
    execution_how_detail,
    execution_labels,
    execution_state,
    execution_who,
    version_label,
)
from flowdesk.ui.reflow import CompactTabs, ReflowLayout, WrappingLabel
from flowdesk.ui.theme import status_color
from flowdesk.ui.widgets.compare_tab import CompareTab
from flowdesk.ui.widgets.contacts_tab import ContactsTab
from flowdesk.ui.widgets.history_tabs import ExecutionsTab, VersionsTab
from flowdesk.ui.widgets.metric_cards import MetricCards
from flowdesk.ui.widgets.over_time import OverTimeTab
from flowdesk.ui.widgets.scope_selector import ScopeSelector
from flowdesk.ui.widgets.viewer_tab import MODE_STOPS, ViewerTab, graph_note

log = logging.getLogger(__name__)

TAB_CONTACTS, TAB_EXECUTIONS, TAB_VERSIONS, TAB_VIEWER, TAB_COMPARE, TAB_OVER_TIME = range(6)


class FlowPage(QWidget):
    scopeChanged = Signal(object)  # noqa: N815
    timings = Signal(str, float)  # what, seconds (for the benchmark and the log)
    exportRequested = Signal(object)  # noqa: N815 - the ExportSpec of what is on screen

    def __init__(self, db, tasks, parent: QWidget | None = None) -> None:  # noqa: ANN001
        super().__init__(parent)
        self.db = db
        self.tasks = tasks
        self.flow: FlowSummary | None = None
        self.scope: Scope | None = None
        self.metric: str | None = None
        self.versions: list[VersionInfo] = []
        self.executions: list[ExecutionInfo] = []
        self._graphs: dict[tuple[str, str | None], FlowGraph] = {}
        self._viewer_dirty = True
        self._live = None  # the running refresh_paths read (a Task), if any

        # header: the flow's name is never cut. Scope and Download go onto a second line when
        # they do not fit beside it (1024 px), and a very long name wraps.
        self.title = WrappingLabel("")
        self.title.setAccessibleName("Flow name")
        font = self.title.font()
        font.setPointSizeF(max(font.pointSizeF(), 9.0) * 1.45)
        font.setBold(True)
        self.title.setFont(font)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.direction = QLabel("")
        self.direction.setAccessibleName("Flow direction")
        self.scope_selector = ScopeSelector(self)
        self.download = QPushButton("Download results…")
        self.download.setAccessibleName("Download results")
        self.download.setToolTip("Export this scope's contacts and their steps in the background")
        self.name_box = QWidget(self)
        name_layout = QHBoxLayout(self.name_box)
        name_layout.setContentsMargins(0, 0, 0, 0)
        name_layout.setSpacing(8)
        name_layout.addWidget(self.title)
        name_layout.addWidget(self.direction, 0, Qt.AlignmentFlag.AlignVCenter)
        name_layout.addStretch(1)
        self.name_box.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        controls = QWidget(self)
        controls_layout = QHBoxLayout(controls)
        controls_layout.setContentsMargins(0, 0, 0, 0)
        scope_label = QLabel("Scope:")
        scope_label.setBuddy(self.scope_selector)
        controls_layout.addWidget(scope_label)
        controls_layout.addWidget(self.scope_selector)
        controls_layout.addWidget(self.download)
        header = ReflowLayout(spacing=12)
        header.addWidget(self.name_box)
        header.addWidget(controls)

        # detail banner (version / execution scope)
        self.banner = QWidget(self)
        self.banner.setObjectName("detailBanner")
        self.banner.setAccessibleName("Details")
        self.banner_text = QLabel("")
        self.banner_text.setWordWrap(True)
        self.banner_text.setTextFormat(Qt.TextFormat.RichText)
        self.banner_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.back = QPushButton("← All versions")
        self.back.setAccessibleName("Back to all versions")
        banner_layout = QHBoxLayout(self.banner)
        banner_layout.setContentsMargins(10, 6, 10, 6)
        banner_layout.addWidget(self.banner_text, 1)
        banner_layout.addWidget(self.back, 0, Qt.AlignmentFlag.AlignTop)
        self.banner.hide()

        self.cards = MetricCards(self)
        self.contacts_tab = ContactsTab(tasks, self)
        self.executions_tab = ExecutionsTab(self)
        self.versions_tab = VersionsTab(self)
        self.viewer_tab = ViewerTab(self)
        self.compare_tab = CompareTab(tasks, self)
        self.over_time_tab = OverTimeTab(self)
        self._over_time_dirty = True
        self.tabs = CompactTabs(self)
        self.tabs.setAccessibleName("Flow tabs")
        self.tabs.setDocumentMode(True)
        self.tabs.add_tab(self.contacts_tab, "&Contacts")
        self.tabs.add_tab(self.executions_tab, "Messaging Flow &Executions", "&Executions")
        self.tabs.add_tab(self.versions_tab, "&Versions")
        self.tabs.add_tab(self.viewer_tab, "Flow &Viewer", "&Viewer")
        self.tabs.add_tab(self.compare_tab, "Com&pare versions", "Com&pare")
        self.tabs.add_tab(self.over_time_tab, "Over &time")
        for index, tip in enumerate(
            (
                "Contacts (Ctrl+1)",
                "Outbound executions: who, when, how (Ctrl+2)",
                "Change history with rates per version (Ctrl+3)",
                "Heat-coloured diagram, where runs stop; traced paths (Ctrl+4)",
                "Two versions side by side: what changed, and did it do better (Ctrl+5)",
                "Contacts entered per day by outcome, and the rates by entry day (Ctrl+6)",
            )
        ):
            self.tabs.setTabToolTip(index, tip)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 6)
        layout.setSpacing(8)
        layout.addLayout(header)
        layout.addWidget(self.banner)
        layout.addWidget(self.cards)
        layout.addWidget(self.tabs, 1)

        self.scope_selector.scopeChanged.connect(self.set_scope)
        self.contacts_tab.scopeRequested.connect(self.set_scope)
        self.contacts_tab.metricChanged.connect(self._on_metric_from_tab)
        self.contacts_tab.traceRequested.connect(self.trace_contact)
        self.cards.metricClicked.connect(self._on_card)
        self.executions_tab.executionActivated.connect(self.open_execution)
        self.versions_tab.versionActivated.connect(self.open_version)
        self.versions_tab.compareRequested.connect(
            lambda: self.tabs.setCurrentWidget(self.compare_tab)
        )
        self.viewer_tab.runPicked.connect(self.trace_run)
        self.viewer_tab.traceCleared.connect(self._load_viewer)
        self.viewer_tab.modeChanged.connect(self._load_stops)
        self.viewer_tab.viewer.contactsRequested.connect(
            lambda step, words: self.show_contacts_through(step, None, words)
        )
        self.viewer_tab.stops_panel.contactsRequested.connect(self.show_contacts_through)
        self.viewer_tab.stops_panel.histogramRequested.connect(self._load_histogram)
        self.back.clicked.connect(
            lambda: self.set_scope(Scope(self.flow.id)) if self.flow else None
        )
        self.tabs.currentChanged.connect(self._on_tab)
        self.download.clicked.connect(self._on_download)
        self._style_banner()

    # -- opening ---------------------------------------------------------------------------------

    def open_flow(self, flow_id: str, scope: Scope | None = None) -> bool:
        started = time.perf_counter()
        flow = get_flow(self.db, flow_id)
        if flow is None:
            return False
        if self.flow is not None and self.flow.id != flow.id:
            self._drop_trace()  # a path of another flow must not show under this one
        self.flow = flow
        self._graphs.clear()
        self.versions = list_versions(self.db, flow.id)
        self.executions = list_executions(self.db, flow.id)
        outbound = flow.direction == Direction.OUTBOUND or bool(self.executions)
        self.title.setText(flow.name)
        self.title.setToolTip(f"Flow {flow.id} · trigger {flow.trigger_type or 'unknown'}")
        direction = DIRECTION_LABELS.get(flow.direction, flow.direction)
        color = status_color("ongoing" if outbound else "completed", self.palette()).name()
        self.direction.setText(
            f"<span style='color:{color}; font-weight:600'>{html.escape(direction)}</span>"
        )
        self.direction.setToolTip(f"Trigger: {flow.trigger_type or 'unknown'}")
        self.scope_selector.set_options(flow.id, self.versions, self.executions)
        self.contacts_tab.set_flow(flow.id, flow.direction, self.versions, self.executions)
        self.executions_tab.set_executions(self.executions)  # scoped in _apply_scope
        self.versions_tab.set_versions(self.versions)
        self.compare_tab.set_flow(flow.id, self.versions)
        self.tabs.setTabVisible(TAB_EXECUTIONS, outbound)
        self.tabs.refit()
        if not outbound and self.tabs.currentIndex() == TAB_EXECUTIONS:
            self.tabs.setCurrentIndex(TAB_CONTACTS)
        self.metric = None
        self._apply_scope(scope or Scope(flow.id))
        self.timings.emit("open_flow", time.perf_counter() - started)
        return True

    def reload(self) -> None:
        """After a sync: re-read counters, lists and the visible contacts page."""
        if self.flow is None or self.scope is None:
            return
        flow = get_flow(self.db, self.flow.id)
        if flow is None:
            return
        self.flow = flow
        self._graphs.clear()
        self.versions = list_versions(self.db, flow.id)
        self.executions = list_executions(self.db, flow.id)
        self.scope_selector.set_options(flow.id, self.versions, self.executions)
        self.scope_selector.set_scope(self.scope)
        self.executions_tab.set_executions(self.executions, self._scope_version())
        self.versions_tab.set_versions(self.versions)
        self.compare_tab.set_flow(flow.id, self.versions)
        self.cards.set_counters(summary(self.db, self.scope))
        self._update_banner()
        self.contacts_tab.refresh()
        self._viewer_dirty = True
        if self.tabs.currentWidget() is self.viewer_tab and self.viewer_tab.traced is None:
            self._load_viewer(keep=True)
        self._over_time_dirty = True
        if self.tabs.currentWidget() is self.over_time_tab:
            self._load_over_time()

    def refresh_paths(self) -> None:
        """While a sync reads paths: the numbers built from paths again, read off the GUI
        thread, and nothing the agent set moves (scope, tab, trace, zoom and scroll, picked
        step and rows, sort, filters). Counters and lists come from the report, which phase 2
        does not change: they wait for the reload at the end of the sync.

        The Contacts tab re-reads its page and count only under a step filter (the only rows
        paths change); the diagram and "Where runs stop" only when shown without a trace (else
        when next shown)."""
        if self.flow is None or self.scope is None:
            return
        self._graphs.clear()
        self._viewer_dirty = True
        if self.contacts_tab.step_filter() is not None:
            self.contacts_tab.refresh()
        viewer = self.viewer_tab
        graph = viewer.graph
        if self.tabs.currentWidget() is not viewer or viewer.traced is not None or graph is None:
            return
        scope = self.scope
        self._live = self.tasks.query(
            path_views,
            scope,
            graph.version_id,
            graph.execution_id,
            viewer.mode == MODE_STOPS,
            success=lambda views: self._on_path_views(scope, views),
            key=(self, "live paths"),
        )

    def _on_path_views(self, scope: Scope, views: PathViews) -> None:
        shown, graph = self.viewer_tab.graph, views.graph
        if (
            scope != self.scope
            or self.viewer_tab.traced is not None
            or shown is None
            or (shown.version_id, shown.execution_id) != (graph.version_id, graph.execution_id)
        ):
            return  # the agent moved on: what is shown now was read for it
        self._graphs[(graph.version_id, graph.execution_id)] = graph
        _, what = self.scope_graph()
        self.viewer_tab.update_graph(graph, graph_note(graph, what), views.stops)
        self._viewer_dirty = False

    def refreshing(self) -> bool:
        """Whether the last :meth:`refresh_paths` is still reading (the diagram's numbers or
        the Contacts tab's page and count)."""
        live = self._live is not None and self._live.pending()
        return live or self.contacts_tab.model.is_loading()

    # -- scope -----------------------------------------------------------------------------------

    def set_scope(self, scope: Scope) -> None:
        if self.flow is None or scope == self.scope:
            return
        self._apply_scope(scope)

    def _apply_scope(self, scope: Scope) -> None:
        started = time.perf_counter()
        self.scope = scope
        self.scope_selector.set_scope(scope)
        self.cards.set_counters(summary(self.db, scope))
        self.cards.set_active(self.metric)
        self.contacts_tab.set_scope(scope, self.metric)
        self.executions_tab.set_executions(self.executions, self._scope_version())
        self.executions_tab.select(scope.execution_id)
        self.versions_tab.select(scope.version_id if not scope.execution_id else None)
        self._update_banner()
        self._viewer_dirty = True
        if self.tabs.currentWidget() is self.viewer_tab:
            self._load_viewer()
        self._over_time_dirty = True
        if self.tabs.currentWidget() is self.over_time_tab:
            self._load_over_time()
        self.scopeChanged.emit(scope)
        self.timings.emit("scope", time.perf_counter() - started)

    def open_version(self, version_id: str) -> None:
        """A version's detail: its numbers, and its own graph with its own heat."""
        if self.flow is None:
            return
        self.set_scope(Scope(self.flow.id, version_id))
        self.tabs.setCurrentWidget(self.viewer_tab)

    def open_execution(self, execution_id: str) -> None:
        """An execution's detail: its numbers and its contacts (its heat is a tab away)."""
        if self.flow is None:
            return
        execution = self._execution(execution_id)
        version_id = execution.version_id if execution else None
        self.set_scope(Scope(self.flow.id, version_id, execution_id))
        self.tabs.setCurrentWidget(self.contacts_tab)

    def _scope_version(self) -> str | None:
        """The version the page is scoped to (an execution's scope counts as its version)."""
        return self.scope.version_id if self.scope is not None else None

    def _execution(self, execution_id: str | None) -> ExecutionInfo | None:
        return next((e for e in self.executions if e.id == execution_id), None)

    def _version(self, version_id: str | None) -> VersionInfo | None:
        return next((v for v in self.versions if v.id == version_id), None)

    def _on_card(self, metric: str) -> None:
        new = None if metric == "contacts" or metric == self.metric else metric
        self.metric = new
        self.cards.set_active(new)
        self.contacts_tab.set_metric(new)
        self.tabs.setCurrentWidget(self.contacts_tab)

    def _on_metric_from_tab(self, metric: str | None) -> None:
        self.metric = metric
        self.cards.set_active(metric)

    def _update_banner(self) -> None:
        scope = self.scope
        if scope is None or not (scope.version_id or scope.execution_id):
            self.banner.hide()
            return
        parts: list[str] = []
        if scope.execution_id:
            execution = self._execution(scope.execution_id)
            if execution is not None:
                version = self._version(execution.version_id)
                label = execution_labels(self.executions)[execution.id]
                parts.append(f"<b>Execution {html.escape(label)}</b>")
                parts.append(f"triggered by {html.escape(execution_who(execution))}")
                parts.append(
                    f"{html.escape(execution_how(execution))}"
                    f" — {html.escape(execution_how_detail(execution))}"
                )
                if version is not None:
                    parts.append(f"version {html.escape(version_label(version))}")
                if execution.status:
                    parts.append(html.escape(execution_state(execution)))
                counters = execution.counters
                parts.append(f"completion {formatting.share(counters.completion_rate)}")
            else:
                parts.append(f"<b>Execution {html.escape(scope.execution_id)}</b>")
        else:
            version = self._version(scope.version_id)
            if version is not None:
                current = " (current)" if version.is_current else ""
                parts.append(f"<b>Version: {html.escape(version_label(version))}{current}</b>")
                if version.description:
                    parts.append(html.escape(version.description))
                published = "published"
                if version.published_by:
                    published += f" by {html.escape(version.published_by)}"
                if version.published_at:
                    published += f" on {formatting.timestamp(version.published_at)}"
                parts.append(published)
                counters = version.counters
                parts.append(
                    f"completion {formatting.share(counters.completion_rate)}, "
                    f"response {formatting.share(counters.response_rate)}"
                )
            else:
                parts.append(f"<b>Version {html.escape(scope.version_id or '')}</b>")
        self.banner_text.setText(" · ".join(parts))
        self.banner.show()

    def _style_banner(self) -> None:
        accent = status_color("ongoing", self.palette()).name()
        self.banner.setStyleSheet(
            f"#detailBanner {{ border: 1px solid {accent}; border-radius: 6px; }}"
        )

    # -- viewer and traces -----------------------------------------------------------------------

    def _on_tab(self, index: int) -> None:
        if index == TAB_VIEWER and self._viewer_dirty and self.viewer_tab.traced is None:
            self._load_viewer(keep=True)
        if index == TAB_OVER_TIME and self._over_time_dirty:
            self._load_over_time()

    def _load_over_time(self) -> None:
        if self.scope is None:
            return
        self._over_time_dirty = False
        scope, started = self.scope, time.perf_counter()

        def shown(days: list) -> None:  # noqa: ANN001
            self.over_time_tab.set_days(days)
            self.timings.emit("over_time", time.perf_counter() - started)

        self.tasks.query(entry_days, scope, success=shown, key=(self, "over time"))

    def _graph(self, version_id: str, execution_id: str | None) -> FlowGraph:
        key = (version_id, execution_id)
        graph = self._graphs.get(key)
        if graph is None:
            graph = version_graph(self.db, version_id, execution_id)
            self._graphs[key] = graph
        return graph

    def scope_graph(self) -> tuple[FlowGraph | None, str]:
        if self.flow is None or self.scope is None:
            return None, ""
        scope = self.scope
        if scope.execution_id:
            execution = self._execution(scope.execution_id)
            version_id = execution.version_id if execution else scope.version_id
            if not version_id:
                return None, "This execution has no version recorded."
            label = execution_labels(self.executions).get(scope.execution_id, scope.execution_id)
            what = f"Execution {label} — heat from its contacts only"
            return self._graph(version_id, scope.execution_id), what
        if scope.version_id:
            version = self._version(scope.version_id)
            name = version_label(version) if version else scope.version_id
            return self._graph(scope.version_id, None), f"Version {name} — its own heat"
        version_id = self.flow.current_version_id or (
            self.versions[-1].id if self.versions else None
        )
        if not version_id:
            return None, ""
        version = self._version(version_id)
        name = version_label(version) if version else version_id
        return (
            self._graph(version_id, None),
            f"Current version {name} (pick a version in Scope to see another)",
        )

    def _load_viewer(self, keep: bool = False) -> None:
        """``keep``: newer numbers for the graph the tab showed (after a sync, or back on the
        tab after one) keep its zoom, scroll and picked step."""
        started = time.perf_counter()
        graph, what = self.scope_graph()
        shown = self.viewer_tab.graph
        if (
            keep
            and graph is not None
            and shown is not None
            and shown is not graph
            and (shown.version_id, shown.execution_id) == (graph.version_id, graph.execution_id)
        ):
            self.viewer_tab.update_graph(graph, graph_note(graph, what), None)
        else:
            self.viewer_tab.set_graph(graph, graph_note(graph, what))
        self._viewer_dirty = False
        self._load_stops(keep=keep)
        self.timings.emit("viewer", time.perf_counter() - started)

    def _drop_trace(self) -> None:
        """Forget the traced path without reloading the viewer yet: the caller is about to
        change the scope, which reloads it (or marks it stale)."""
        self.viewer_tab.blockSignals(True)
        try:
            self.viewer_tab.clear_trace()
        finally:
            self.viewer_tab.blockSignals(False)
        self._viewer_dirty = True

    def _load_stops(self, _mode: str = "", keep: bool = False) -> None:
        """ "Where runs stop": its numbers for the graph shown, read off the GUI thread
        (``keep``: newer numbers, the panel keeps its picked rows)."""
        graph = self.viewer_tab.graph
        if self.viewer_tab.mode != MODE_STOPS or graph is None or self.scope is None:
            return
        started = time.perf_counter()
        self.tasks.query(
            stops_view,
            self.scope,
            graph.version_id,
            success=lambda view: self._on_stops(view, started, keep),
            key=(self, "where runs stop"),
        )

    def _on_stops(self, view: StopsView, started: float, keep: bool = False) -> None:
        self.viewer_tab.set_stops_view(view, keep)
        self.timings.emit("stops", time.perf_counter() - started)

    def _load_histogram(self, step_key: int) -> None:
        view = self.viewer_tab.stops_view
        step = view.outcome(step_key) if view is not None else None
        if step is None:
            return
        self.tasks.query(
            step_time_histogram,
            step_key,
            view.execution_id,
            success=lambda counts: self.viewer_tab.stops_panel.show_histogram(step, counts),
            key=(self, "time histogram"),
        )

    def show_contacts_through(self, step: StepFilter, metric: str | None, words: str) -> None:
        """ "Who went through": the Contacts tab on the runs that reached a step, ended there or
        took an arrow (with a status when one is given), within the page's scope."""
        if self.flow is None:
            return
        if metric is not None:
            self.metric = metric
            self.cards.set_active(metric)
        self.contacts_tab.set_step_filter(step, words, metric)
        self.tabs.setCurrentWidget(self.contacts_tab)

    def trace_contact(self, row: ContactRow) -> None:
        """Trace a contact's run at once; their other runs fill the run picker when read."""
        if self.flow is None:
            return
        started = time.perf_counter()
        self.viewer_tab.set_runs([row])
        if not self._trace(row.run_key):
            return
        self.timings.emit("trace", time.perf_counter() - started)
        run_key = row.run_key
        self.tasks.query(
            runs_of_contact,
            row.contact_id,
            self.flow.id,
            success=lambda runs: self._on_runs(run_key, runs),
            key=(self, "runs of contact"),
        )

    def _on_runs(self, run_key: int, runs: list[ContactRow]) -> None:
        traced = self.viewer_tab.traced
        if traced is not None and traced.row.run_key == run_key:
            self.viewer_tab.set_runs(runs)

    def trace_run(self, run_key: int) -> None:
        """A run picked in the run picker (the picker keeps its list)."""
        if self.flow is not None:
            self._trace(run_key)

    def _trace(self, run_key: int) -> bool:
        detail = run_detail(self.db, run_key)
        if detail is None:
            return False
        graph = self._graph(detail.row.version_id, None)
        name = f"{detail.row.first_name} {detail.row.last_name}".strip() or detail.row.phone
        note = (
            f"Path of {name} through version {detail.row.version_name}: numbered in order,"
            " other steps dimmed"
        )
        execution = execution_labels(self.executions).get(detail.row.execution_id or "")
        waiting = not detail.path and path_waiting(self.db, run_key)
        shown = f"{note} · reading this path from the account now…" if waiting else note
        self.viewer_tab.show_trace(detail, graph, shown, execution)
        self._viewer_dirty = True  # leaving the trace shows the scope graph again
        self.tabs.setCurrentWidget(self.viewer_tab)
        if waiting:
            self._read_path(run_key, detail.row.run_id, note)
        return True

    def _read_path(self, run_key: int, run_id: str, note: str) -> None:
        """The path of a run the sync has listed but not read yet: read now, ahead of the
        sync's queue, then traced again (the graph's heat gains it too)."""
        started = time.perf_counter()

        def read(_result: object) -> None:
            self._graphs.clear()
            self.timings.emit("path_on_demand", time.perf_counter() - started)
            traced = self.viewer_tab.traced
            if traced is not None and traced.row.run_key == run_key:
                self._trace(run_key)

        def failed(exc: BaseException) -> None:
            traced = self.viewer_tab.traced
            if traced is not None and traced.row.run_key == run_key:
                reason = error_text(exc, "Reading the path")
                self.viewer_tab.note.setText(f"{note} · {reason}")

        self.tasks.write(read_run_path, run_id, success=read, failure=failed)

    # -- export ----------------------------------------------------------------------------------

    def export_spec(self) -> ExportSpec | None:
        """What "Download results…" exports: the Contacts tab's filtered list when it is
        showing, else the whole scope."""
        if self.scope is None:
            return None
        if self.tabs.currentWidget() is self.contacts_tab:
            return ExportSpec.for_contacts(self.contacts_tab.current_query())
        return ExportSpec.for_scope(self.scope)

    def _on_download(self) -> None:
        spec = self.export_spec()
        if spec is not None:
            self.exportRequested.emit(spec)
