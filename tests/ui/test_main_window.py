"""The main window end to end: navigation, scope, traces, tabs, shortcuts, settings, sync."""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QHeaderView,
    QLineEdit,
    QTabBar,
    QWidget,
)

from flowdesk.core.db import connect
from flowdesk.core.model import COUNTERS
from flowdesk.core.queries import (
    ContactQuery,
    Scope,
    contacts_page,
    count_contacts,
    list_executions,
    list_flows,
    run_detail,
    summary,
)
from flowdesk.ui.models.contacts import ROW_ROLE
from flowdesk.ui.widgets.flow_page import (
    TAB_COMPARE,
    TAB_CONTACTS,
    TAB_EXECUTIONS,
    TAB_OVER_TIME,
    TAB_VERSIONS,
    TAB_VIEWER,
)
from flowdesk.ui.widgets.viewer_tab import MODE_STOPS
from tests.ui.conftest import wait_idle


def _cards(window) -> dict[str, str]:
    return {m: window.page.cards.value_text(m) for m in COUNTERS}


def _expected(counters) -> dict[str, str]:
    return {m: f"{getattr(counters, m):,}" for m in COUNTERS}


def test_selecting_a_flow_shows_the_cache_counts(qtbot, make_window, demo, demo_db_path):
    window = make_window(demo_db_path)
    flows = list_flows(demo)
    assert window.flows.model.rowCount() == len(flows)
    for flow in flows[:4]:
        row = window.flows.model.row_of(flow.id)
        window.flows.view.setCurrentIndex(window.flows.model.index(row, 0))
        wait_idle(qtbot, window)
        assert window.page.flow.id == flow.id
        assert window.page.title.text() == flow.name
        assert _cards(window) == _expected(flow.counters)
        contacts = window.page.contacts_tab
        assert contacts.model.rowCount() == flow.counters.contacts
        assert contacts.count_label.text().startswith(f"{flow.counters.contacts:,}")
        first = contacts_page(demo, ContactQuery(Scope(flow.id)), 0, 1)[0]
        assert contacts.model.data(contacts.model.index(0, 0), ROW_ROLE).run_key == first.run_key


def test_card_tooltips_give_definition_and_share(make_window, demo_db_path):
    window = make_window(demo_db_path)
    card = window.page.cards.cards["failed"]
    counters = window.page.cards.counters
    assert "error" in card.toolTip()
    share = f"{counters.failed / counters.contacts * 100:.1f}%"
    assert share in card.toolTip() and share in card.share.text()


def test_executions_tab_only_on_outbound_flows(qtbot, make_window, demo, demo_db_path):
    window = make_window(demo_db_path)
    for flow in list_flows(demo):
        window.open_flow(flow.id)
        wait_idle(qtbot, window)
        visible = window.page.tabs.isTabVisible(TAB_EXECUTIONS)
        assert visible == (flow.direction == "outbound"), flow.name
        assert window.page.contacts_tab.execution.isVisibleTo(window) == visible
        if visible:
            assert window.page.executions_tab.model.rowCount() == len(
                list_executions(demo, flow.id)
            )


def test_scope_selector_changes_every_number_consistently(qtbot, make_window, demo, demo_db_path):
    window = make_window(demo_db_path)
    flow = next(f for f in list_flows(demo) if f.direction == "outbound")
    window.open_flow(flow.id)
    wait_idle(qtbot, window)
    page = window.page
    selector = page.scope_selector
    scopes = selector.scopes()
    assert scopes[0] == Scope(flow.id)
    assert any(s.version_id and not s.execution_id for s in scopes)
    assert any(s.execution_id for s in scopes)
    for scope in scopes[:4] + scopes[-2:]:
        index = next(i for i in range(selector.count()) if selector.itemData(i) == scope)
        selector.setCurrentIndex(index)
        selector.activated.emit(index)
        wait_idle(qtbot, window)
        counters = summary(demo, scope)
        assert page.scope == scope
        assert _cards(window) == _expected(counters)
        assert page.contacts_tab.model.rowCount() == counters.contacts
        assert page.contacts_tab.model.query().scope == scope
        assert page.banner.isVisibleTo(window) == bool(scope.version_id or scope.execution_id)
        page.tabs.setCurrentIndex(TAB_VIEWER)
        graph = page.viewer_tab.graph
        if scope.execution_id:
            assert graph.execution_id == scope.execution_id
        elif scope.version_id:
            assert graph.version_id == scope.version_id and graph.execution_id is None
        page.tabs.setCurrentIndex(TAB_CONTACTS)
    # the status filter narrows the table to exactly that card's number
    page.set_scope(Scope(flow.id))
    page._on_card("completed")
    wait_idle(qtbot, window)
    assert page.contacts_tab.model.rowCount() == flow.counters.completed
    assert page.cards.cards["completed"]._active


def test_double_click_traces_exactly_that_run_in_order(qtbot, make_window, factory_db_path):
    window = make_window(factory_db_path)
    page = window.page
    db = connect(factory_db_path)
    table = page.contacts_tab.table
    model = page.contacts_tab.model
    row = next(
        r for r in range(model.rowCount()) if model.data(model.index(r, 0), ROW_ROLE).run_id == "r3"
    )
    index = model.index(row, 0)
    table.scrollTo(index)
    rect = table.visualRect(index)
    # A real double-click is press, release, double-click, release.
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert page.tabs.currentIndex() == TAB_VIEWER
    wait_idle(qtbot, window)  # the contact's other runs arrive for the run picker
    expected = run_detail(db, model.data(index, ROW_ROLE).run_key)
    traced = page.viewer_tab.highlighted
    assert [e.step_id for e in traced] == ["s1", "s2", "s3", "s4", "s3", "s5", "s7"]
    assert [(e.seq, e.step_key) for e in traced] == [(e.seq, e.step_key) for e in expected.path]
    viewer = page.viewer_tab.viewer
    if hasattr(viewer, "scene"):
        assert [e.step_key for e in viewer.scene.path] == [e.step_key for e in expected.path]
    # this contact entered twice: the run picker offers both runs, newest first
    picker = page.viewer_tab.run_picker
    assert picker.isVisibleTo(window) and picker.count() == 2
    other = picker.itemData(0) if picker.itemData(0) != expected.row.run_key else picker.itemData(1)
    picker.setCurrentIndex(picker.findData(other))
    picker.activated.emit(picker.currentIndex())
    assert page.viewer_tab.traced.row.run_key == other
    assert [e.step_id for e in page.viewer_tab.highlighted] == ["s1", "s2", "s5", "s6"]
    scene = page.viewer_tab.viewer.scene
    nodes = dict(scene.nodes)
    page.viewer_tab.clear_trace()
    assert page.viewer_tab.highlighted is None and not page.viewer_tab.side.isVisibleTo(window)
    # Same version before and after: the built scene is kept, with the highlight gone.
    assert scene.nodes == nodes and not scene.badges and scene.path == []
    assert all(node.opacity() == 1.0 for node in scene.nodes.values())
    assert page.viewer_tab.note.text().startswith("Current version")
    db.conn.close()


def test_enter_traces_the_current_contact(qtbot, make_window, factory_db_path):
    window = make_window(factory_db_path)
    page = window.page
    table = page.contacts_tab.table
    table.setFocus()
    table.setCurrentIndex(page.contacts_tab.model.index(0, 0))
    qtbot.keyClick(table, Qt.Key.Key_Return)
    assert page.viewer_tab.traced is not None
    assert page.viewer_tab.traced.row.run_key == page.contacts_tab.model.row_at(0).run_key


def test_search_is_debounced_sql(qtbot, make_window, factory_db_path):
    window = make_window(factory_db_path)
    tab = window.page.contacts_tab
    db = connect(factory_db_path)
    qtbot.keyClicks(tab.search, "Bru")
    assert tab.model.query().search == ""  # nothing yet: the debounce is still running
    qtbot.waitUntil(lambda: tab.model.query().search == "Bru", timeout=3000)
    wait_idle(qtbot, window)
    assert tab.model.rowCount() == count_contacts(db, tab.model.query()) == 2
    tab.search.setText("+4915")
    tab.search_now()
    wait_idle(qtbot, window)
    assert tab.model.rowCount() == 2
    tab.search.setText("nobody here")
    tab.search_now()
    wait_idle(qtbot, window)
    assert tab.model.rowCount() == 0
    assert tab.empty.isVisibleTo(window)
    db.conn.close()


def test_version_and_execution_names_open_their_details(qtbot, make_window, demo, demo_db_path):
    window = make_window(demo_db_path)
    flow = next(f for f in list_flows(demo) if f.direction == "outbound")
    window.open_flow(flow.id)
    wait_idle(qtbot, window)
    page = window.page
    page.tabs.setCurrentIndex(TAB_VERSIONS)
    versions = page.versions_tab
    index = versions.model.index(0, 0)
    versions.table.clicked.emit(index)
    wait_idle(qtbot, window)
    version = versions.model.record_at(0)
    assert page.scope == Scope(flow.id, version.id)
    assert page.tabs.currentIndex() == TAB_VIEWER
    assert page.viewer_tab.graph.version_id == version.id
    assert _cards(window) == _expected(version.counters)
    assert versions.chart.series["completion"]

    page.tabs.setCurrentIndex(TAB_EXECUTIONS)
    executions = page.executions_tab
    execution = executions.model.record_at(0)
    executions.table.clicked.emit(executions.model.index(0, 0))
    wait_idle(qtbot, window)
    assert page.scope.execution_id == execution.id
    assert page.tabs.currentIndex() == TAB_CONTACTS
    assert page.contacts_tab.model.rowCount() == execution.counters.contacts
    assert _cards(window) == _expected(execution.counters)
    qtbot.mouseClick(page.back, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, window)
    assert page.scope == Scope(flow.id)


def test_shortcuts_switch_tabs_and_focus_search(qtbot, make_window, demo, demo_db_path):
    window = make_window(demo_db_path)
    outbound = next(f for f in list_flows(demo) if f.direction == "outbound")
    window.open_flow(outbound.id)
    wait_idle(qtbot, window)
    shortcuts = ((5, TAB_COMPARE), (4, TAB_VIEWER), (3, TAB_VERSIONS), (2, TAB_EXECUTIONS))
    for number, tab in (*shortcuts, (1, TAB_CONTACTS)):
        window.tab_actions[number - 1].trigger()
        assert window.page.tabs.currentIndex() == tab
    assert window.tab_actions[0].shortcut().toString() == "Ctrl+1"
    assert window.sync_action.shortcut().toString() == "F5"
    window.page.tabs.setCurrentIndex(TAB_VIEWER)
    window.find_action.trigger()
    assert window.page.tabs.currentIndex() == TAB_CONTACTS


def _unnamed(window) -> list[str]:
    missing = []
    for widget in window.findChildren(QWidget):
        if isinstance(widget, QTabBar | QHeaderView) or widget.objectName().startswith("qt_"):
            continue
        if isinstance(widget.parent(), QComboBox | QAbstractSpinBox):
            continue  # a combo box's own line edit / list
        interactive = QAbstractButton | QComboBox | QLineEdit | QAbstractItemView
        visible = isinstance(widget, interactive) and widget.isVisibleTo(window)
        if visible and not widget.accessibleName():
            label = widget.text() if hasattr(widget, "text") else ""
            missing.append(f"{type(widget).__name__} {label!r}")
    return missing


def test_every_interactive_widget_has_an_accessible_name(qtbot, make_window, demo, demo_db_path):
    window = make_window(demo_db_path)
    outbound = next(f for f in list_flows(demo) if f.direction == "outbound")
    window.open_flow(outbound.id)
    wait_idle(qtbot, window)
    for tab in (
        TAB_CONTACTS,
        TAB_EXECUTIONS,
        TAB_VERSIONS,
        TAB_VIEWER,
        TAB_COMPARE,
        TAB_OVER_TIME,
    ):
        window.page.tabs.setCurrentIndex(tab)
        wait_idle(qtbot, window)
        assert _unnamed(window) == [], tab
    window.page.tabs.setCurrentIndex(TAB_COMPARE)
    window.page.compare_tab.sections.setCurrentIndex(1)
    assert _unnamed(window) == []
    window.page.tabs.setCurrentIndex(TAB_VIEWER)
    window.page.viewer_tab.set_mode(MODE_STOPS)
    wait_idle(qtbot, window)
    assert window.page.viewer_tab.stops_panel.isVisible()
    assert _unnamed(window) == []
    window.page.trace_contact(window.page.contacts_tab.model.row_at(0))
    assert _unnamed(window) == []


def test_window_state_persists(qtbot, make_window, demo, demo_db_path, settings):
    window = make_window(demo_db_path)
    flow = list_flows(demo)[3]
    window.open_flow(flow.id)
    window.splitter.setSizes([350, 1090])
    window.close()
    again = make_window(demo_db_path)
    assert again.page.flow.id == flow.id
    assert abs(again.splitter.sizes()[0] - 350) <= 2


def test_empty_cache_explains_and_creates_the_demo(qtbot, make_window, tmp_path, monkeypatch):
    from flowdesk.ui import main_window

    monkeypatch.setattr(main_window, "DEMO_DEFAULTS", {"seed": 2, "contacts": 120})
    window = make_window(tmp_path / "empty.db")
    assert window.cache_label.text() == "Workspace: empty"  # no source yet: the file's name
    assert window.stack.currentWidget() is window.no_flows
    assert "flowdesk demo --db FILE" in window.no_flows.body.text()
    assert "Connect ActiveCampaign, RapidPro/TextIt or Twilio Studio" in window.no_flows.body.text()
    assert window.create_demo_button.isVisibleTo(window)
    assert not window.first_sync_button.isVisibleTo(window)
    window.sync_action.trigger()  # no source yet: says so, keeps running
    qtbot.waitUntil(lambda: not window.is_syncing(), timeout=10000)
    assert "no source" in window.statusBar().currentMessage()
    qtbot.mouseClick(window.create_demo_button, Qt.MouseButton.LeftButton)
    assert window.is_syncing() and window.progress.isVisibleTo(window)
    qtbot.waitUntil(lambda: not window.is_syncing(), timeout=60000)
    wait_idle(qtbot, window)
    assert window.stack.currentWidget() is window.page
    assert window.flows.model.rowCount() == 8
    assert window.sync_label.text().startswith("Last sync")
    assert window.cache_label.text() == "Workspace: Demo workspace"  # named by its first sync


def test_the_status_bar_names_the_workspace_not_its_cache_path(make_window, demo_db_path):
    """Screenshots and screen shares showed "/tmp/…/demo.db" on every page; the path stays one
    hover away."""
    window = make_window(demo_db_path)
    assert window.cache_label.text() == "Workspace: Demo workspace"
    assert str(demo_db_path.parent) not in window.cache_label.text()
    assert window.cache_label.toolTip() == f"Cache file: {demo_db_path}"


def test_sync_now_runs_in_the_background_and_refreshes(
    qtbot, make_window, demo_db_path, monkeypatch
):
    from flowdesk.core import background

    children: list[tuple[str, str]] = []
    real = background.run_in_child

    def spy(target, *args, **kwargs):
        report = real(target, *args, **kwargs)
        children.append((target.__name__, report.outcome))
        return report

    monkeypatch.setattr(background, "run_in_child", spy)
    window = make_window(demo_db_path)
    window.sync_action.trigger()
    assert window.is_syncing()
    assert window.sync_button.text() == "Cancel sync"
    qtbot.waitUntil(lambda: not window.is_syncing(), timeout=60000)
    wait_idle(qtbot, window)
    assert "Sync finished" in window.statusBar().currentMessage()
    assert children == [("sync_workspace", "completed")]  # it ran in a child process
    assert window.sync_button.text() == "Sync now"


@pytest.fixture
def building_demo(qtbot, make_window, tmp_path, monkeypatch):
    """A window on an empty cache whose demo is being built (in the sync's child process):
    returns (window, path) once two batches have committed."""
    from flowdesk.ui import main_window

    def start(contacts: int, seed: int):
        monkeypatch.setattr(main_window, "DEMO_DEFAULTS", {"seed": seed, "contacts": contacts})
        path = tmp_path / "building.db"
        window = make_window(path)
        progress: list[object] = []
        shown = window._on_sync_progress
        window._on_sync_progress = lambda report: (progress.append(report), shown(report))
        window.create_demo()
        qtbot.waitUntil(lambda: len(progress) >= 2, timeout=60_000)
        return window, path

    return start


def test_closing_the_window_mid_sync_stops_its_process_and_keeps_the_cache_whole(
    qtbot, building_demo
):
    import multiprocessing

    from flowdesk.core.integrity import mismatches

    window, path = building_demo(20_000, seed=5)
    (child,) = multiprocessing.active_children()
    pid = child.pid
    window.shutdown()  # what closing the window does
    assert not multiprocessing.active_children()  # canceled after its batch and joined
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # reaped, not left behind
    qtbot.wait(50)  # the sync's last report arrives after the window shut down: ignored

    db = connect(path)
    runs = db.execute("SELECT count(*) FROM runs").fetchone()[0]
    assert 0 < runs < 20_000  # it stopped part-way
    assert mismatches(db) == []  # every committed batch is whole
    db.conn.close()


def test_cancel_sync_stops_its_process_and_the_next_sync_resumes(qtbot, building_demo):
    from flowdesk.core.integrity import mismatches

    window, path = building_demo(12_000, seed=6)
    qtbot.mouseClick(window.sync_button, Qt.MouseButton.LeftButton)
    assert window.sync_button.text() == "Canceling…" and not window.sync_button.isEnabled()
    qtbot.waitUntil(lambda: not window.is_syncing(), timeout=60_000)
    assert window.statusBar().currentMessage().startswith("Sync canceled")
    assert window.sync_button.text() == "Sync now" and window.sync_button.isEnabled()
    db = connect(path)
    partial = db.execute("SELECT count(*) FROM runs").fetchone()[0]
    assert 0 < partial < 12_000 and mismatches(db) == []

    window.sync_action.trigger()  # resumes from the last committed batch
    qtbot.waitUntil(lambda: not window.is_syncing(), timeout=120_000)
    assert window.statusBar().currentMessage().startswith("Sync finished")
    total = db.execute("SELECT count(*) FROM runs").fetchone()[0]
    assert total > partial and mismatches(db) == []
    db.conn.close()


def test_a_trace_does_not_stay_under_another_flow(qtbot, make_window, demo, demo_db_path):
    """Trace a contact, switch flow from another tab, open the viewer: the new flow's graph,
    not the old path under the new header."""
    flows = sorted(list_flows(demo), key=lambda f: -f.counters.contacts)
    first, second = flows[0], flows[1]
    window = make_window(demo_db_path)
    window.open_flow(first.id)
    wait_idle(qtbot, window)
    page = window.page
    page.trace_contact(page.contacts_tab.model.row_at(0))
    assert page.viewer_tab.traced is not None
    page.tabs.setCurrentIndex(TAB_CONTACTS)
    window.open_flow(second.id)
    wait_idle(qtbot, window)
    page.tabs.setCurrentIndex(TAB_VIEWER)
    assert page.viewer_tab.traced is None
    assert not page.viewer_tab.side.isVisible()
    assert not page.viewer_tab.note.text().startswith("Path of")
    assert page.viewer_tab.graph is page.scope_graph()[0]
    assert page.viewer_tab.graph.version_id == second.current_version_id


@pytest.mark.parametrize("part", ["value", "title", "share"])
def test_clicking_anywhere_on_a_card_filters_by_its_status(
    qtbot, make_window, demo, demo_db_path, part
):
    """The tooltip promises "Click to list these contacts": the big number is most of the card."""
    window = make_window(demo_db_path)
    card = window.page.cards.cards["failed"]
    target = getattr(card, part)
    with qtbot.waitSignal(window.page.cards.metricClicked, timeout=2000) as signal:
        qtbot.mouseClick(target, Qt.MouseButton.LeftButton, pos=target.rect().center())
    assert signal.args == ["failed"]
    wait_idle(qtbot, window)
    assert window.page.contacts_tab.current_query().metric == "failed"


def test_view_menu_toggles_the_dark_theme_and_remembers_it(qtbot, make_window, demo_db_path):
    from PySide6.QtWidgets import QApplication

    from flowdesk.ui.theme import is_dark, saved_theme

    window = make_window(demo_db_path)
    view = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    assert window.dark_action in view.actions()
    assert not window.dark_action.isChecked() and not is_dark()
    try:
        window.dark_action.trigger()
        qtbot.wait(10)
        assert is_dark(QApplication.instance().palette())
        assert is_dark(window.page.cards.palette())
        assert saved_theme(window.settings) is True
    finally:
        window.dark_action.trigger()
    assert not is_dark()
    assert saved_theme(window.settings) is False


def test_the_trace_names_its_execution_as_the_rest_of_the_app(
    qtbot, make_window, demo, demo_db_path
):
    run_key, flow_id, execution_id = demo.execute(
        "SELECT key, flow_id, execution_id FROM runs WHERE execution_id IS NOT NULL LIMIT 1"
    ).fetchone()
    window = make_window(demo_db_path)
    window.open_flow(flow_id)
    wait_idle(qtbot, window)
    window.page.trace_contact(run_detail(demo, run_key).row)
    header = window.page.viewer_tab.timeline.header.text()
    assert execution_id not in header
    assert "execution #" in header


def test_an_empty_account_workspace_offers_its_first_sync_not_the_demo(
    qtbot, make_window, tmp_path
):
    from flowdesk.core import workspace

    path = tmp_path / "acme.db"
    db = connect(path)
    workspace.connect_account(db, "https://acme.api-us1.com")
    db.conn.close()
    window = make_window(path)
    assert window.stack.currentWidget() is window.no_flows
    assert window.no_flows.title.text() == "No flows synced yet"
    assert "acme" in window.no_flows.body.text()
    assert not window.create_demo_button.isVisibleTo(window)
    assert window.first_sync_button.isVisibleTo(window)


def test_a_version_scope_lists_only_that_versions_executions(
    qtbot, make_window, demo, demo_db_path
):
    flow = next(
        f for f in list_flows(demo) if len({e.version_id for e in list_executions(demo, f.id)}) > 1
    )
    executions = list_executions(demo, flow.id)
    version_id = executions[0].version_id
    window = make_window(demo_db_path)
    window.open_flow(flow.id)
    wait_idle(qtbot, window)
    page = window.page
    model = page.executions_tab.model
    assert model.rowCount() == len(executions)
    numbers = dict(model.numbers)
    page.set_scope(Scope(flow.id, version_id))
    shown = model.records()
    assert shown and {e.version_id for e in shown} == {version_id}
    assert len(shown) == sum(1 for e in executions if e.version_id == version_id)
    assert {e.id: model.numbers[e.id] for e in shown} == {e.id: numbers[e.id] for e in shown}
    page.set_scope(Scope(flow.id))
    assert model.rowCount() == len(executions)


def test_a_sync_keeps_the_selected_contact_and_the_rows_in_view(
    qtbot, make_window, demo, demo_db_path
):
    from flowdesk.core.db import get_meta
    from flowdesk.core.demo import DemoSource
    from flowdesk.core.sync import SyncEngine

    flow = max(list_flows(demo), key=lambda f: f.counters.contacts)
    window = make_window(demo_db_path)
    window.open_flow(flow.id)
    wait_idle(qtbot, window)
    tab = window.page.contacts_tab
    table, model = tab.table, tab.model
    table.scrollTo(model.index(60, 0), QAbstractItemView.ScrollHint.PositionAtTop)
    wait_idle(qtbot, window)
    table.selectRow(65)
    wait_idle(qtbot, window)
    selected = model.row_at(65)
    top_row = table.rowAt(0)
    top = model.row_at(top_row)
    before = model.rowCount()

    for _ in range(10):  # what F5 runs, until new contacts entered this flow
        report = SyncEngine(demo).run(DemoSource(**get_meta(demo, "demo")))
        assert report.outcome == "completed"
        if summary(demo, Scope(flow.id)).contacts > before:
            break
    window.page.reload()
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: model.rowCount() > before, timeout=10000)
    wait_idle(qtbot, window)
    row = table.currentIndex().row()
    assert row != 65  # new contacts entered above: the same row number is someone else now
    assert model.row_at(row).run_key == selected.run_key
    assert table.selectionModel().selectedRows()[0].row() == row
    assert model.row_at(table.rowAt(0)).run_key == top.run_key
