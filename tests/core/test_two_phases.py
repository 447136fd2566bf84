"""ActiveCampaign in two phases: an exact report from the listings first, paths after.

Against the fake server (tests/fake_ac_server.py), over real HTTP.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils

from flowdesk.cli import main
from flowdesk.core.counters_check import compare_api_counters
from flowdesk.core.db import connect, get_meta
from flowdesk.core.errors import UserError
from flowdesk.core.integrity import mismatches
from flowdesk.core.queries import Scope, summary
from flowdesk.core.schema import MIGRATIONS
from flowdesk.core.sources.activecampaign import ActiveCampaignSource
from flowdesk.core.sync import SyncEngine
from tests.core.test_activecampaign import PAGE, Sleeps, polite
from tests.factories import cache_content
from tests.fake_ac_server import TOKEN, FakeAccount, FakeACServer

COUNTERS = ("num_contacts", "completed", "expired", "running", "canceled", "failed")


def two_phase(
    server: FakeACServer, *, report_only: bool = False, **overrides
) -> ActiveCampaignSource:
    return ActiveCampaignSource(
        server.base_url,
        TOKEN,
        politeness=polite(**overrides),
        page_size=PAGE,
        sleep=Sleeps(),
        report_only=report_only,
    )


@contextlib.contextmanager
def reported_cache(path: Path, server: FakeACServer) -> Iterator[sqlite_utils.Database]:
    """A cache after a report-only sync of ``server``'s account: every run listed, few paths
    read."""
    db = connect(path)
    try:
        assert SyncEngine(db).run(two_phase(server, report_only=True)).outcome == "completed"
        yield db
    finally:
        db.conn.close()


@pytest.fixture
def server():
    with FakeACServer(FakeAccount(seed=7, runs=60), max_page_size=100) as fake:
        yield fake


def _recount(db, scope: Scope) -> dict[str, int]:
    """The report's numbers for one scope, in the API's counter names."""
    total = summary(db, scope)
    return {
        "num_contacts": total.contacts,
        "completed": total.completed,
        "expired": total.expired,
        "running": total.ongoing,
        "canceled": total.canceled,
        "failed": total.failed,
    }


def _pending(db) -> set[str]:
    return {row[0] for row in db.execute("SELECT id FROM runs WHERE path_synced = 0")}


def test_a_report_only_sync_equals_the_servers_counts_at_every_scope(db, server):
    account = server.account
    progress = []
    report = SyncEngine(db).run(two_phase(server, report_only=True), progress=progress.append)
    assert report.outcome == "completed", report.message
    assert report.problems == []

    # Every scope: the server's own counters, computed from its runs.
    for flow_id in account.flows:
        assert _recount(db, Scope(flow_id)) == account.counters(flow_id=flow_id)
    for version in account.versions.values():
        scope = Scope(version.flow_id, version.id)
        assert _recount(db, scope) == account.counters(version_id=version.id)
    for execution in account.executions.values():
        scope = Scope(execution.flow_id, None, execution.id)
        assert _recount(db, scope) == account.counters(execution_id=execution.id)
    assert compare_api_counters(db) == [] and mismatches(db) == []

    # Contacts with status and reason, each run in its execution.
    rows = db.execute("SELECT id, status, status_reason, execution_id, contact_id FROM runs")
    assert {row[0]: row[1:] for row in rows} == {
        run.id: (run.status, run.status_reason or "", run.execution_id, run.contact["id"])
        for run in account.runs.values()
    }
    # Versions and flows as their details describe them, though most rows came from listings.
    flows = dict(db.execute("SELECT id, trigger_type FROM flows").fetchall())
    assert flows == {flow.id: flow.trigger_type for flow in account.flows.values()}
    versions = db.execute("SELECT id, name, description, published_by FROM versions").fetchall()
    assert {row[0]: row[1:] for row in versions} == {
        v.id: (v.name, v.description, "María Gómez") for v in account.versions.values()
    }
    executions = dict(db.execute("SELECT id, created_by FROM executions").fetchall())
    assert set(executions) == set(account.executions) and "Unknown" not in executions.values()

    # Requests: the listings, plus one run detail per version (it describes the version and
    # its flow, and carries their own counters).
    executions_count = len(account.executions)
    run_pages = -(-len(account.runs) // PAGE)
    samples = len(account.versions)
    assert {account.runs[r].version_id for r in server.detail_ids()} == set(account.versions)
    assert len(server.detail_ids()) == samples
    assert (
        report.stats["requests"]
        == len(server.log)
        == (1 + executions_count + executions_count + run_pages + samples)
    )
    assert report.stats["requests"] <= len(account.runs) / PAGE + 2 * executions_count + 50
    # The paths wait for the second phase, which the progress line names.
    assert _pending(db) == set(account.runs) - set(server.detail_ids())
    assert report.stats["paths_left"] == len(account.runs) - samples
    assert all(p.note.startswith(("report · ", "Indexing")) for p in progress)
    assert get_meta(db, "cursor:activecampaign")["phase"] == "done"


def test_the_next_full_sync_reads_the_paths_and_equals_a_fresh_one(db, tmp_path, server):
    engine = SyncEngine(db)
    assert engine.run(two_phase(server, report_only=True)).outcome == "completed"
    server.clear_log()
    progress = []
    report = engine.run(two_phase(server, concurrency=1), progress=progress.append)
    assert report.outcome == "completed", report.message
    assert _pending(db) == set()
    assert any(p.note.startswith("paths · ") for p in progress)
    # newest first
    newest = sorted(server.account.runs.values(), key=lambda r: r.created_on, reverse=True)
    read = server.detail_ids()
    assert read == [r.id for r in newest if r.id in set(read)]

    fresh = connect(tmp_path / "fresh.db")
    assert SyncEngine(fresh).run(two_phase(server)).outcome == "completed"
    ours, theirs = cache_content(db), cache_content(fresh)
    for table in ("flows", "versions", "executions", "steps", "step_stats", "transition_stats"):
        assert ours[table] == theirs[table], table
    assert mismatches(db) == []


def test_a_status_change_in_the_listing_drops_the_stale_path_until_it_is_read(db, server):
    account = server.account
    engine = SyncEngine(db)
    assert engine.run(two_phase(server)).outcome == "completed"
    # Two runs of one version finish: the first met is read in full (one detail per changed
    # version), the other keeps its listing row only.
    running = [r for r in account.runs.values() if r.status == "RUNNING"]
    version = next(
        r.version_id for r in running if sum(o.version_id == r.version_id for o in running) > 1
    )
    pair = [r.id for r in running if r.version_id == version][:2]
    for run_id in pair:
        account.finish(run_id, "COMPLETED")
    server.clear_log()
    assert engine.run(two_phase(server, report_only=True)).outcome == "completed"
    (sampled,) = server.detail_ids()
    (active,) = set(pair) - {sampled}
    assert _pending(db) == {active}
    key, length = db.execute("SELECT key, path_length FROM runs WHERE id = ?", [active]).fetchone()
    assert length == 0
    assert not db.execute("SELECT 1 FROM run_steps WHERE run_key = ?", [key]).fetchall()
    assert compare_api_counters(db) == [] and mismatches(db) == []

    assert engine.run(two_phase(server)).outcome == "completed"
    assert _pending(db) == set()
    assert db.execute("SELECT path_length FROM runs WHERE id = ?", [active]).fetchone()[0] > 0
    assert mismatches(db) == []


@pytest.mark.parametrize("auth", ["authorization", "api-token"])
def test_a_report_only_sync_through_either_auth_gateway(db, auth):
    with FakeACServer(FakeAccount(seed=3, runs=30), auth=auth) as server:
        report = SyncEngine(db).run(two_phase(server, report_only=True))
        assert report.outcome == "completed", report.message
        assert compare_api_counters(db) == []


def test_cli_report_only_then_a_full_sync(tmp_path, server, monkeypatch, capsys):
    path = tmp_path / "ac.db"
    monkeypatch.setenv("FLOWDESK_AC_TOKEN", TOKEN)
    monkeypatch.setenv("FLOWDESK_AC_RATE", "2000")
    first = ["sync", "--db", str(path), "--source", "activecampaign", "--url", server.base_url]
    assert main([*first, "--report-only"]) == 0
    err = capsys.readouterr().err
    assert "report · " in err and "paths_left=57" in err and "paths · " not in err
    assert main(["check", "--db", str(path)]) == 0
    assert main(["sync", "--db", str(path)]) == 0
    assert "paths · " in capsys.readouterr().err
    db = connect(path)
    assert _pending(db) == set()


def test_a_cache_from_schema_3_has_every_path_synced(tmp_path):
    path = tmp_path / "v3.db"
    conn = sqlite3.connect(path)
    for migration in MIGRATIONS[:3]:
        for step in migration:
            step(conn) if callable(step) else conn.execute(step)
    conn.execute(
        "INSERT INTO runs (key, id, flow_id, version_id, contact_id, status, metric, entered_at,"
        " last_activity) VALUES (1, 'r1', 'f1', 'v1', 'c1', 'COMPLETED', 'completed', 0, 0)"
    )
    conn.execute("PRAGMA user_version = 3")
    conn.commit()
    conn.close()
    db = connect(path)
    assert db.execute("SELECT path_synced FROM runs").fetchall() == [(1,)]
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


# -- honest partial views ------------------------------------------------------------------------


def test_per_step_numbers_say_how_many_paths_they_are_built_from(db, tmp_path, server, capsys):
    import csv
    import json

    from flowdesk.core.export import ExportSpec, run_export
    from flowdesk.core.queries import path_coverage, version_graph
    from flowdesk.core.step_report import stops_view
    from flowdesk.ui.widgets.viewer_tab import graph_note

    account = server.account
    assert SyncEngine(db).run(two_phase(server, report_only=True)).outcome == "completed"
    version = account.versions[account.inbound.current_version]
    runs = [r for r in account.runs.values() if r.version_id == version.id]
    read = set(server.detail_ids()) & {r.id for r in runs}
    graph = version_graph(db, version.id)
    assert (graph.coverage.with_path, graph.coverage.runs) == (len(read), len(runs))
    basis = f"from {len(read):,} of {len(runs):,} runs"
    assert basis in graph_note(graph, "Version 2")
    view = stops_view(db, Scope(version.flow_id), version.id)
    assert view.coverage == graph.coverage
    # The step counts are those of the runs with paths, exactly.
    reached = sum(s.reached for s in graph.steps if s.key in graph.entry_keys)
    assert reached == len(read)

    path = db.conn.execute("PRAGMA database_list").fetchone()[2]
    assert main(["stats", "--db", path, "--json"]) == 0
    stats = {f["id"]: f for f in json.loads(capsys.readouterr().out)}
    inbound = stats[account.inbound.id]
    versions = {v["id"]: v for v in inbound["versions"]}
    assert versions[version.id]["paths"] == {"runs": len(runs), "with_path": len(read)}
    flow_runs = [r for r in account.runs.values() if r.flow_id == account.inbound.id]
    assert inbound["paths"]["runs"] == len(flow_runs)
    # check: not an error, and the step counts were verified over the paths read.
    assert main(["check", "--db", path]) == 0
    out = capsys.readouterr().out
    assert "Maintained counters: exact." in out
    assert f"Paths: {len(server.detail_ids()):,} of {len(account.runs):,} runs read" in out

    # An export says which rows have no path yet.
    out_path = tmp_path / "v.csv"
    run_export(db.conn, ExportSpec(version.flow_id, version.id), out_path)
    rows = list(csv.reader(out_path.open(encoding="utf-8")))
    assert rows[0][-1] == "Path"
    notes = [row[-1] for row in rows[1:]]
    assert notes.count("not synced yet") == len(runs) - len(read)
    assert notes.count("") == len(read)

    # Once every path is read, nothing is partial and the column is gone.
    assert SyncEngine(db).run(two_phase(server)).outcome == "completed"
    assert not version_graph(db, version.id).coverage.partial
    assert path_coverage(db).partial is False
    assert "runs (the other" not in graph_note(version_graph(db, version.id), "Version 2")
    run_export(db.conn, ExportSpec(version.flow_id, version.id), out_path)
    assert next(csv.reader(out_path.open(encoding="utf-8")))[-1] != "Path"


# -- on demand -----------------------------------------------------------------------------------


def test_one_path_read_on_demand_beside_a_running_sync(tmp_path, server, monkeypatch):
    import threading
    import time

    from flowdesk.core.db import sync_lock
    from flowdesk.core.run_paths import read_run_path

    monkeypatch.setenv("FLOWDESK_AC_TOKEN", TOKEN)
    path = tmp_path / "ac.db"
    db = connect(path)
    assert SyncEngine(db).run(two_phase(server, report_only=True)).outcome == "completed"
    known = {row[0] for row in db.execute("SELECT id FROM steps")}
    account = server.account
    # The oldest run whose steps the report's details made known: the second phase reads it
    # last, and it can be written beside that sync.
    pending = [
        row[0]
        for row in db.execute("SELECT id FROM runs WHERE path_synced = 0 ORDER BY entered_at")
    ]
    wanted = next(
        run_id
        for run_id in pending
        if account.runs[run_id].path
        and {s["step"]["id"] for s in account.runs[run_id].path} <= known
    )
    cursor = get_meta(db, "cursor:activecampaign")

    # No sync running: under the sync lock, one request, the cursor unchanged.
    server.clear_log()
    read_run_path(db, wanted)
    assert server.requests() == [f"/api/3/channel/whatsapp/flow-execution-contact/{wanted}"]
    assert wanted not in _pending(db) and get_meta(db, "cursor:activecampaign") == cursor
    assert mismatches(db) == []

    # A sync reading paths holds the lock: the next path is written beside it.
    other = next(r for r in pending if r != wanted and r in _pending(db))
    steps_of_other = {s["step"]["id"] for s in account.runs[other].path}
    known = {row[0] for row in db.execute("SELECT id FROM steps")}
    with sync_lock(db):
        if steps_of_other <= known:
            read_run_path(db, other)
            assert other not in _pending(db)
        else:
            with pytest.raises(UserError, match="a sync is running"):
                read_run_path(db, other)

    # And with a real sync running its second phase alongside, the cache ends exact.
    server.latency = 0.01
    result = {}
    syncing = threading.Thread(
        target=lambda: result.update(
            report=SyncEngine(connect(path)).run(two_phase(server, concurrency=1))
        )
    )
    syncing.start()
    try:
        late = pending[0]  # the oldest: read last by the sync
        while syncing.is_alive():
            if (get_meta(db, "cursor:activecampaign") or {}).get("phase") == "paths":
                break
            time.sleep(0.005)
        if late in _pending(db):
            try:
                read_run_path(db, late)
            except UserError as exc:  # its steps are new: the sync writes it itself
                assert "a sync is running" in str(exc)
    finally:
        syncing.join(60)
    assert result["report"].outcome == "completed", result["report"].message
    assert _pending(db) == set()
    assert mismatches(db) == [] and compare_api_counters(db) == []
    fresh = connect(tmp_path / "fresh.db")
    assert SyncEngine(fresh).run(two_phase(server)).outcome == "completed"
    for table in ("step_stats", "transition_stats", "flows", "versions", "executions"):
        ours = db.execute(f"SELECT count(*) FROM {table}").fetchone()
        assert ours == fresh.execute(f"SELECT count(*) FROM {table}").fetchone(), table


def test_a_source_that_reads_paths_with_runs_has_no_path_to_read_on_demand(tmp_path):
    from flowdesk.core.run_paths import path_waiting, read_run_path

    path = tmp_path / "demo.db"
    assert main(["demo", "--db", str(path), "--contacts", "40"]) == 0
    db = connect(path)
    key, run_id = db.execute("SELECT key, id FROM runs LIMIT 1").fetchone()
    assert not path_waiting(db, key)
    with pytest.raises(UserError, match="cannot read one run's path on its own"):
        read_run_path(db, run_id)
