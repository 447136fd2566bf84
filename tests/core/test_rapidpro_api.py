"""The RapidPro API v2 connector against a local fake server (tests/fake_rapidpro_server.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flowdesk.cli import main
from flowdesk.core import workspace
from flowdesk.core.db import connect
from flowdesk.core.integrity import mismatches
from flowdesk.core.queries import list_flows, list_versions
from flowdesk.core.sources.rapidpro import normalize_url
from flowdesk.core.sync import SyncEngine
from tests.core.test_activecampaign import Sleeps
from tests.factories import cache_content
from tests.fake_rapidpro_server import BASE, TOKEN, FakeRapidPro
from tests.vendor_sources import rapidpro_source, statuses, sync

MAIN_FLOW = "a1b2c3d4-0000-4000-8000-000000009000"


@pytest.fixture
def server():
    with FakeRapidPro(runs=30, page_size=7) as fake:
        yield fake


def test_a_first_sync_reads_definitions_then_every_run_oldest_change_first(db, server):
    report = sync(db, rapidpro_source(server))
    assert report.runs_changed == 30 and not report.problems
    assert report.stats["definitions"] == 2
    flows = {f.id: f for f in list_flows(db)}
    assert flows[MAIN_FLOW].counters.contacts == 30
    assert [v.name for v in list_versions(db, MAIN_FLOW)] == ["Revision 42"]
    runs_requests = server.requests(r"runs\.json")
    assert len(runs_requests) == 5  # 30 runs, 7 a page
    assert all("reverse=true" in r for r in runs_requests)
    assert server.requests(r"definitions\.json\?flow=.*flow=.*dependencies=none")
    assert not mismatches(db)


def test_an_incremental_sync_asks_after_the_last_change_and_skips_the_boundary(db, server):
    sync(db, rapidpro_source(server))
    before = cache_content(db)
    server.clear_log()
    report = sync(db, rapidpro_source(server))
    assert report.runs_changed == 0
    # The newest modified_on is shared by three runs: the inclusive bound returns them again.
    assert report.stats["duplicates"] == 3
    runs_requests = server.requests(r"runs\.json")
    assert len(runs_requests) == 1 and "after=" in runs_requests[0]
    assert not server.requests(r"definitions\.json")  # no flow changed
    after = cache_content(db)
    assert {k: v for k, v in after.items() if k not in ("meta", "syncs")} == {
        k: v for k, v in before.items() if k not in ("meta", "syncs")
    }


def test_a_run_that_ends_upstream_changes_on_the_next_sync(db, server):
    sync(db, rapidpro_source(server))
    waiting = next(r for r in server.runs if r.get("status") == "waiting")
    assert statuses(db)[waiting["uuid"]] == "RUNNING"
    server.finish(waiting["uuid"], "expired", BASE + timedelta(days=2))
    report = sync(db, rapidpro_source(server))
    assert report.runs_changed == 1
    assert statuses(db)[waiting["uuid"]] == "EXPIRED"
    assert not mismatches(db)


def test_an_edited_flow_adds_a_version(db, server):
    sync(db, rapidpro_source(server))
    server.edit_flow(MAIN_FLOW, "Welcome (new wording)", BASE + timedelta(days=3))
    report = sync(db, rapidpro_source(server))
    assert report.stats["definitions"] == 1
    assert sorted(v.name for v in list_versions(db, MAIN_FLOW)) == ["Revision 42", "Revision 43"]


def test_rate_limits_and_server_errors_are_retried(db, server):
    server.add_fault(429, r"runs\.json", times=2, retry_after="2")
    server.add_fault(503, r"flows\.json", times=1)
    sleeps = Sleeps()
    notes: list[str] = []
    report = sync(db, rapidpro_source(server, sleep=sleeps), notes)
    assert report.runs_changed == 30
    assert report.stats["retries"] == 3
    assert 2.0 in sleeps.calls  # Retry-After honoured
    # and said while it lasts, as for ActiveCampaign
    assert "waiting 2 s before retrying (HTTP 429" in "\n".join(notes)
    assert server.statuses().count(429) == 2


def test_a_bad_token_fails_the_sync_in_one_line_without_the_token(db, server):
    report = SyncEngine(db).run(rapidpro_source(server, token="wrong-secret-token"))
    assert report.outcome == "failed"
    assert "rejected" in report.message and "wrong-secret-token" not in report.message
    assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == 0


def test_an_interrupted_sync_resumes_to_the_same_cache(tmp_path, server):
    whole = connect(tmp_path / "whole.db")
    sync(whole, rapidpro_source(server))
    parts = connect(tmp_path / "parts.db")
    batches = []

    def cancel_after_two() -> bool:
        return len(batches) >= 2

    # The resumed sync runs later than the whole one; the same clock stands for "at once",
    # which is what "the same cache" means (the label of the flow without a revision says when).
    report = SyncEngine(parts).run(
        rapidpro_source(server), progress=batches.append, is_cancelled=cancel_after_two
    )
    assert report.outcome == "canceled"
    assert 0 < parts.execute("SELECT count(*) FROM runs").fetchone()[0] < 30
    sync(parts, rapidpro_source(server))
    strip = ("meta", "syncs", "sync_problems")
    assert {k: v for k, v in cache_content(parts).items() if k not in strip} == {
        k: v for k, v in cache_content(whole).items() if k not in strip
    }
    names = sorted(n for (n,) in whole.execute("SELECT name FROM versions"))
    assert names == ["Imported 2026-03-03 10:00 UTC", "Revision 42"]


def test_a_flow_without_a_revision_is_labelled_by_the_sync_clock(db, server):
    """The label comes from the injected clock, not the wall clock: a resumed sync a minute
    later cannot name the same version differently in a test."""
    sync(db, rapidpro_source(server, clock=lambda: BASE + timedelta(days=5, minutes=7)))
    names = sorted(n for (n,) in db.execute("SELECT name FROM versions"))
    assert names == ["Imported 2026-03-06 10:07 UTC", "Revision 42"]


def test_urls_and_tokens(db, server, monkeypatch):
    assert normalize_url("textit.com") == "https://textit.com/api/v2"
    assert normalize_url("https://app.rapidpro.io/api/v2/") == "https://app.rapidpro.io/api/v2"
    with pytest.raises(ValueError, match="must use https"):
        normalize_url("http://textit.com")
    options = workspace.SourceOptions(url=server.url)
    monkeypatch.delenv("FLOWDESK_RAPIDPRO_TOKEN", raising=False)
    with pytest.raises(
        workspace.WorkspaceError,
        match="set FLOWDESK_RAPIDPRO_TOKEN, or connect the account from the app",
    ):
        workspace.source_for(db, "rapidpro", options)
    monkeypatch.setenv("FLOWDESK_RAPIDPRO_TOKEN", TOKEN)
    built = workspace.source_for(db, "rapidpro", options)
    assert built.base_url == server.url + "/api/v2" and TOKEN not in repr(built)
    assert SyncEngine(db).run(built).outcome == "completed"
    # The cache now belongs to that workspace: later syncs need no --url, another is refused.
    assert workspace.source_for(db).base_url == built.base_url
    with pytest.raises(workspace.WorkspaceError, match="another cache file"):
        workspace.source_for(db, "rapidpro", workspace.SourceOptions(url="https://textit.com"))


def test_cli_sync_creates_the_cache_then_syncs_incrementally(tmp_path, server, monkeypatch, capsys):
    monkeypatch.setenv("FLOWDESK_RAPIDPRO_TOKEN", TOKEN)
    cache = str(tmp_path / "rp.db")
    args = ["sync", "--db", cache, "--source", "rapidpro", "--url", server.url, "--rate", "500"]
    assert main(args) == 0
    assert "completed: " in capsys.readouterr().err
    assert main(["sync", "--db", cache]) == 0
    assert "0 runs changed" in capsys.readouterr().err
    monkeypatch.setenv("FLOWDESK_RAPIDPRO_TOKEN", "wrong-token-xyz")
    assert main(["sync", "--db", cache]) == 2
    err = capsys.readouterr().err
    assert "rejected" in err and "wrong-token-xyz" not in err
