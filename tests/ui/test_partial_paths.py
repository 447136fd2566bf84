"""While a two-phase ActiveCampaign sync has not read every path, the app says what per-step
numbers are built from; a contact whose path is missing has it read on demand."""

from __future__ import annotations

import pytest

from flowdesk.core.queries import Scope, version_graph
from flowdesk.core.step_report import stops_view
from flowdesk.ui.widgets.viewer_tab import MODE_STOPS, ViewerTab, graph_note
from tests.fake_ac_server import FakeAccount, FakeACServer


@pytest.fixture
def server():
    with FakeACServer(FakeAccount(seed=7, runs=60), max_page_size=100) as fake:
        yield fake


def test_the_viewer_and_where_runs_stop_say_how_many_paths_they_show(qtbot, reported, server):
    account = server.account
    version = account.versions[account.inbound.current_version]
    runs = sum(r.version_id == version.id for r in account.runs.values())
    graph = version_graph(reported, version.id)
    basis = f"from {graph.coverage.with_path:,} of {runs:,} runs"
    assert graph.coverage.partial

    tab = ViewerTab()
    qtbot.addWidget(tab)
    tab.set_graph(graph, graph_note(graph, "Version 2"))
    assert basis in tab.note.text()
    tab.set_mode(MODE_STOPS)
    tab.set_stops_view(stops_view(reported, Scope(version.flow_id), version.id))
    assert basis in tab.note.text()
    assert tab.stops_panel.summary.text().startswith(f"F{basis[1:]}")


def test_a_contact_without_a_path_has_it_read_on_demand(
    qtbot, make_tasks, reported, server, monkeypatch
):
    from flowdesk.core.db import get_meta
    from flowdesk.core.queries import ContactQuery, contacts_page
    from flowdesk.ui.widgets.flow_page import FlowPage
    from tests.fake_ac_server import TOKEN
    from tests.ui.pools import SyncPool

    monkeypatch.setenv("FLOWDESK_AC_TOKEN", TOKEN)
    monkeypatch.setenv("FLOWDESK_AC_RATE", "2000")
    path = reported.conn.execute("PRAGMA database_list").fetchone()[2]
    account = server.account
    flow_id = account.inbound.id
    pending = {row[0] for row in reported.execute("SELECT id FROM runs WHERE path_synced = 0")}
    rows = contacts_page(reported, ContactQuery(Scope(flow_id)), 0, 100)
    row = next(r for r in rows if r.run_id in pending and account.runs[r.run_id].path)
    cursor = get_meta(reported, "cursor:activecampaign")
    tasks = make_tasks(path, interactive=SyncPool(), writes=SyncPool())
    page = FlowPage(reported, tasks)
    qtbot.addWidget(page)
    assert page.open_flow(flow_id)
    server.clear_log()

    page.trace_contact(row)  # what a double-click on the contact does
    # The write lane read the detail (one request), the engine stored it, the trace came back.
    qtbot.waitUntil(lambda: bool(page.viewer_tab.traced and page.viewer_tab.traced.path))
    assert server.requests() == [f"/api/3/channel/whatsapp/flow-execution-contact/{row.run_id}"]
    traced = page.viewer_tab.traced
    expected = [
        s["step"]["id"]
        for s in account.runs[row.run_id].path
        if s["status"] not in ("WAITING_TO_START", "NOT_EXECUTED")
    ]
    assert [entry.step_id for entry in traced.path] == expected
    assert "reading this path" not in page.viewer_tab.note.text()
    assert row.run_id not in {
        r[0] for r in reported.execute("SELECT id FROM runs WHERE path_synced = 0")
    }
    # The sync's cursor is as it was: the next sync goes on where the last one stopped.
    assert get_meta(reported, "cursor:activecampaign") == cursor


def test_a_path_that_cannot_be_read_says_why(qtbot, make_tasks, reported, server, monkeypatch):
    from flowdesk.core.queries import ContactQuery, contacts_page
    from flowdesk.ui.widgets.flow_page import FlowPage
    from tests.fake_ac_server import TOKEN
    from tests.ui.pools import SyncPool

    monkeypatch.setenv("FLOWDESK_AC_TOKEN", TOKEN)
    path = reported.conn.execute("PRAGMA database_list").fetchone()[2]
    pending = {row[0] for row in reported.execute("SELECT id FROM runs WHERE path_synced = 0")}
    flow_id = server.account.inbound.id
    rows = contacts_page(reported, ContactQuery(Scope(flow_id)), 0, 100)
    row = next(r for r in rows if r.run_id in pending)
    server.add_fault("404", row.run_id, times=10)
    tasks = make_tasks(path, interactive=SyncPool(), writes=SyncPool())
    page = FlowPage(reported, tasks)
    qtbot.addWidget(page)
    assert page.open_flow(flow_id)
    page.trace_contact(row)
    qtbot.waitUntil(lambda: "could not be read" in page.viewer_tab.note.text())
    assert "not found upstream (HTTP 404)" in page.viewer_tab.note.text()


def test_who_went_through_says_it_sees_only_runs_with_a_path(qtbot, make_tasks, reported, server):
    """A step filter matches runs by their path: while paths are missing, the chip and the count
    say how many runs it could look at, and stop saying so once every path is read."""
    from flowdesk.core.queries import StepFilter, path_coverage
    from flowdesk.ui.widgets.flow_page import FlowPage
    from tests.ui.pools import SyncPool

    path = reported.conn.execute("PRAGMA database_list").fetchone()[2]
    account = server.account
    flow_id = account.inbound.id
    coverage = path_coverage(reported, flow_id)
    assert coverage.partial
    basis = f"from {coverage.with_path:,} of {coverage.runs:,} runs"
    step_key = reported.execute(
        "SELECT step_key FROM run_steps JOIN runs ON runs.key = run_steps.run_key"
        " WHERE runs.flow_id = ? LIMIT 1",
        [flow_id],
    ).fetchone()[0]
    tasks = make_tasks(path, interactive=SyncPool(), writes=SyncPool())
    page = FlowPage(reported, tasks)
    qtbot.addWidget(page)
    assert page.open_flow(flow_id)
    tab = page.contacts_tab

    page.show_contacts_through(StepFilter(step_key), None, "reached the step")
    qtbot.waitUntil(lambda: basis in tab.count_label.text())
    assert basis in tab.step_chip.text()
    assert "still being synced" in tab.step_chip.toolTip()

    # Every path read: the filter sees every run and says nothing more.
    reported.execute("UPDATE runs SET path_synced = 1")
    reported.conn.commit()
    tab.refresh()
    qtbot.waitUntil(lambda: "from " not in tab.step_chip.text())
    assert tab.step_chip.text().startswith("Contacts who reached the step")
    qtbot.waitUntil(lambda: not tab.model.is_loading())
    assert "match" in tab.count_label.text()
    assert "from " not in tab.count_label.text()
