"""While a two-phase ActiveCampaign sync has not read every path, the app says what per-step
numbers are built from; a contact whose path is missing has it read on demand."""

from __future__ import annotations

import pytest

from flowdesk.core.db import connect
from flowdesk.core.queries import Scope, version_graph
from flowdesk.core.step_report import stops_view
from flowdesk.core.sync import SyncEngine
from flowdesk.ui.widgets.viewer_tab import MODE_STOPS, ViewerTab, graph_note
from tests.core.test_two_phases import two_phase
from tests.fake_ac_server import FakeAccount, FakeACServer


@pytest.fixture
def server():
    with FakeACServer(FakeAccount(seed=7, runs=60), max_page_size=100) as fake:
        yield fake


@pytest.fixture
def reported(tmp_path, server):
    """A cache after a report-only sync: every run listed, few paths read."""
    db = connect(tmp_path / "ac.db")
    assert SyncEngine(db).run(two_phase(server, report_only=True)).outcome == "completed"
    yield db
    db.conn.close()


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
