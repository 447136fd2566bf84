"""A sync against a hostile but plausible server: nothing lost, nothing hangs, nothing leaks.

Each case is an input the well-behaved fake account never produces; ``FakeACServer`` injects it
(``patch_run`` / ``add_patch`` for valid-but-wrong JSON, faults for transport abuse, ``endless``
for paging that never ends).
"""

from __future__ import annotations

import time

import pytest

from flowdesk.core.db import get_meta
from flowdesk.core.integrity import mismatches
from flowdesk.core.sources.activecampaign import (
    ActiveCampaignSource,
    SourceError,
    check_connection,
)
from flowdesk.core.sources.http import ApiClient, Politeness, TransportError
from flowdesk.core.sync import SyncEngine
from tests.core.test_activecampaign import PAGE, Sleeps, polite, source
from tests.factories import cache_content
from tests.fake_ac_server import TOKEN, FakeAccount, FakeACServer


@pytest.fixture
def server():
    with FakeACServer(FakeAccount(seed=7, runs=60), max_page_size=100) as fake:
        yield fake


def _first_step(detail: dict) -> dict:
    return detail["execution_steps"][0]["step"]


def _set_step(field: str, value):
    return lambda detail: _first_step(detail).__setitem__(field, value)


CORRUPTIONS = {
    "ordering_idx is a word": _set_step("ordering_idx", "first"),
    "wait amount is text": _set_step("max_wait_time_amount", "24h"),
    "wait amount is huge": _set_step("max_wait_time_amount", 10**30),
    "step id is an object": _set_step("id", {"weird": True}),
    "options is a string": _set_step("next_steps_for_options", "abc"),
    "lone surrogate in a contact name": lambda d: d["contact"].__setitem__("first_name", "a\ud800"),
    "lone surrogate in a step name": _set_step("name", "Menu \ud800"),
    "lone surrogate deep in a step": _set_step("body", "x\udfff"),
    "lone surrogate in the flow name": lambda d: d["flow"].__setitem__("name", "F\ud800"),
    "is_test is a string": lambda d: d.__setitem__("is_test", "false"),
    "has_error is a string": lambda d: d["execution_steps"][0].__setitem__("has_error", "no"),
    "entered in year 1": lambda d: d.__setitem__("created_on", "0001-01-01T00:00:00+14:00"),
    "entered in year 9999": lambda d: d.__setitem__("created_on", "9999-12-31T23:59:59Z"),
    "a step in year 9999": lambda d: d["execution_steps"][0].__setitem__(
        "created_on", "9999-12-31T23:59:59Z"
    ),
    "expiry in year 1": lambda d: d["execution_steps"][0].__setitem__(
        "expire_on", "0001-01-01T00:00:00+14:00"
    ),
    "version published in year 9999": lambda d: d["flow_version"].__setitem__(
        "created_on", "9999-12-31T23:59:59Z"
    ),
}


def _victim(server: FakeACServer, first: bool = False) -> str:
    """A finished run with a path: in the middle of the second page, or the very first run
    listed (whose steps are new to the cache when it is written)."""
    runs = sorted(server.account.runs.values(), key=lambda r: (r.created_on, r.id), reverse=True)
    return next(r.id for r in runs[0 if first else PAGE + 3 :] if r.path and r.status != "READY")


def _by_ids(db) -> dict:
    """Runs, paths and steps by their upstream ids (row keys depend on arrival order)."""
    runs = db.execute(
        "SELECT r.id, r.status, r.metric, r.is_test, r.entered_at, r.last_activity,"
        " r.path_length, r.waited, r.responded, r.fingerprint, s.id FROM runs r"
        " LEFT JOIN steps s ON s.key = r.last_step_key ORDER BY r.id"
    ).fetchall()
    paths = db.execute(
        "SELECT r.id, p.seq, s.id, p.status, p.executed_at, p.expire_on, p.error FROM run_steps p"
        " JOIN runs r ON r.key = p.run_key JOIN steps s ON s.key = p.step_key ORDER BY 1, 2"
    ).fetchall()
    steps = db.execute(
        "SELECT id, name, step_type, wait_seconds, ordering, is_placeholder FROM steps ORDER BY id"
    ).fetchall()
    stats = db.execute(
        "SELECT s.id, t.execution_id, t.reached, t.visits FROM step_stats t"
        " JOIN steps s ON s.key = t.step_key ORDER BY 1, 2"
    ).fetchall()
    return {"runs": runs, "paths": paths, "steps": steps, "stats": stats}


@pytest.mark.parametrize("case", sorted(CORRUPTIONS))
def test_a_malformed_run_is_skipped_reported_and_lands_once_fixed(tmp_path, server, case):
    from flowdesk.core.db import connect

    clean = connect(tmp_path / "clean.db")
    assert SyncEngine(clean).run(source(server)).outcome == "completed"

    # Text deep in a definition is stored only with a step new to the cache: once the step is
    # known from other runs, the run lands (with the stored definition).
    deep = case == "lone surrogate deep in a step"
    victim = _victim(server, first=deep)
    server.patch_run(victim, CORRUPTIONS[case])
    db = connect(tmp_path / "cache.db")
    report = SyncEngine(db).run(source(server))
    assert report.outcome == "completed", report.message
    assert [(kind, rid) for kind, rid, _ in report.problems] == [("run", victim)]
    message = report.problems[0][2]
    assert message.isprintable() and "\ud800" not in message
    # Its listing row keeps the report exact; its path waits until the detail is fixed.
    stored = {row[0] for row in db.execute("SELECT id FROM runs")}
    assert stored == set(server.account.runs)
    pending = {row[0] for row in db.execute("SELECT id FROM runs WHERE path_synced = 0")}
    assert pending == {victim}
    assert not db.execute("SELECT 1 FROM steps WHERE id IN ('a', 'b', 'c')").fetchall()
    assert mismatches(db) == []
    assert db.execute("SELECT count(*) FROM sync_problems WHERE record_id = ?", [victim]).fetchone()

    # Still broken upstream: fetched again, reported again, nothing else changes.
    server.clear_log()
    report = SyncEngine(db).run(source(server))
    assert report.outcome == "completed"
    assert victim in server.detail_ids()
    assert [rid for _, rid, _ in report.problems] == ([] if deep else [victim])

    # Fixed upstream: it lands, and the cache is the one a clean sync builds.
    server.clear_patches()
    report = SyncEngine(db).run(source(server))
    assert report.outcome == "completed" and report.problems == []
    assert _by_ids(db) == _by_ids(clean)
    assert cache_content(db)["flows"] == cache_content(clean)["flows"]
    assert cache_content(db)["versions"] == cache_content(clean)["versions"]
    db.conn.close()
    clean.conn.close()


def test_a_malformed_execution_is_skipped_and_reported(db, server):
    execution_id = next(iter(server.account.executions))

    def corrupt(data):
        data["contact_filters"] = [{"value": "\ud800"}]
        data["status_reason"] = {"not": "text"}
        return data

    server.add_patch(rf"flow-execution/{execution_id}$", corrupt)
    report = SyncEngine(db).run(source(server))
    assert report.outcome == "completed", report.message
    assert ("execution", execution_id) in {(k, r) for k, r, _ in report.problems}
    assert mismatches(db) == []


# -- hanging and endless servers -------------------------------------------------------------------


def test_a_body_sent_one_byte_a_second_hits_the_total_deadline(server):
    server.drip = 0.05  # 20 bytes/s: a detail of several kB would take minutes
    run_id = next(iter(server.account.runs))
    server.add_fault("slow", run_id)
    client = ApiClient(
        server.base_url, TOKEN, polite(timeout=1.0, deadline=0.6, max_retries=0), sleep=Sleeps()
    )
    started = time.monotonic()
    with pytest.raises(TransportError) as caught:
        client.get_json(f"channel/whatsapp/flow-execution-contact/{run_id}")
    assert time.monotonic() - started < 2.0
    assert "no complete answer within" in str(caught.value)
    server.settle()


def test_a_slow_detail_is_retried_and_the_sync_completes(db, server):
    server.drip = 0.05
    run_id = next(iter(server.account.runs))
    server.add_fault("slow", run_id)
    report = SyncEngine(db).run(source(server, deadline=0.5))
    assert report.outcome == "completed", report.message
    assert report.stats["retries"] == 1
    assert db.execute("SELECT 1 FROM runs WHERE id = ?", [run_id]).fetchone()


@pytest.mark.parametrize("mode", ["repeat", "fresh"])
def test_a_listing_whose_next_never_ends_fails_the_sync(db, server, mode):
    server.endless = mode
    report = SyncEngine(db).run(source(server))
    assert report.outcome == "failed"
    assert "paging does not end" in report.message
    pages = server.requests(r"flow-execution-contact\?page=")
    assert len(pages) <= 3 + 3  # 60 runs fill 3 pages of 25: stopped within the margin
    assert mismatches(db) == []


def test_a_transient_404_on_a_list_page_is_retried(db, server):
    server.add_fault("404", r"flow-execution-contact\?page=2", times=2)
    report = SyncEngine(db).run(source(server))
    assert report.outcome == "completed", report.message
    assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == len(server.account.runs)


def test_a_list_page_that_stays_404_fails_the_sync_and_resumes_there(db, server):
    server.add_fault("404", r"flow-execution-contact\?page=2", times=100)
    report = SyncEngine(db).run(source(server, max_retries=2))
    assert report.outcome == "failed"
    assert "page 2 is missing (HTTP 404) although the listing counts 60" in report.message
    assert get_meta(db, "cursor:activecampaign")["page"] == 2
    server.faults.clear()
    assert SyncEngine(db).run(source(server)).outcome == "completed"
    assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == len(server.account.runs)


def test_a_listing_that_ends_before_its_count_is_a_failed_sync(db, server):
    def cut(data):
        return dict(data, next=None)  # page 2 says it is the last: 50 of 60 runs

    server.add_patch(r"flow-execution-contact\?page=2", cut)
    report = SyncEngine(db).run(source(server))
    assert report.outcome == "failed"
    assert "ended at page 2 with 50 of 60" in report.message
    server.clear_patches()
    assert SyncEngine(db).run(source(server)).outcome == "completed"
    assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == len(server.account.runs)


def test_a_huge_retry_after_is_shown_and_the_total_wait_is_capped(db, server):
    server.add_fault("429", r"flow-execution-contact\?page=1", times=50, retry_after="100000")
    sleeps = Sleeps()
    notes: list[str] = []
    report = SyncEngine(db).run(
        source(server, sleep=sleeps, retry_after_max=300.0, wait_budget=600.0, max_retries=9),
        progress=lambda p: notes.append(p.note),
    )
    assert report.outcome == "failed"
    waited = [s for s in sleeps.calls if s >= 1]  # rate-limit spacing aside
    assert waited == [300.0, 300.0]  # then the next wait would pass the budget
    assert "gave up after waiting 10 min" in report.message
    assert "asked to wait 27.8 h" in report.message
    waits = [n for n in notes if n.startswith("waiting")]
    assert waits and "waiting 5 min before retrying (HTTP 429" in waits[0]


# -- secrets ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token", ["abc\r\nX-Injected: 1", "abc def", "abc\x00", "tök", "abc\x1b[31m"]
)
def test_a_token_that_cannot_be_a_header_is_refused_without_echoing_it(server, token):
    from flowdesk.core.sources.credentials import check_token

    for attempt in (
        lambda: ActiveCampaignSource(server.base_url, token),
        lambda: check_connection(server.base_url, token),
        lambda: ApiClient(server.base_url, token),
        lambda: check_token(token),
    ):
        with pytest.raises((ValueError, SourceError)) as caught:
            attempt()
        assert "abc" not in str(caught.value) and "tök" not in str(caught.value)
    assert not server.log


def test_a_cli_sync_with_a_broken_token_is_one_line_and_stores_nothing(
    tmp_path, server, monkeypatch, capsys
):
    from flowdesk.cli import main
    from flowdesk.core.db import connect

    path = tmp_path / "ac.db"
    secret = "secret-part\r\nsecond-part"
    monkeypatch.setenv("FLOWDESK_AC_TOKEN", secret)
    code = main(["sync", "--db", str(path), "--source", "activecampaign", "--url", server.base_url])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "secret-part" not in err[0] and "second-part" not in err[0]
    assert "line breaks" in err[0]
    if path.exists():
        db = connect(path)
        messages = [row[0] for row in db.execute("SELECT message FROM syncs")]
        db.conn.close()
        assert not any("secret-part" in (m or "") for m in messages)
    assert not server.log


def test_the_default_politeness_bounds_every_wait():
    polite_default = Politeness()
    assert polite_default.deadline >= polite_default.timeout
    assert polite_default.wait_budget >= polite_default.retry_after_max


def test_stats_escapes_terminal_sequences_in_names(tmp_path, server, monkeypatch, capsys):
    import json

    from flowdesk.cli import main
    from flowdesk.core.db import connect

    evil = "\x1b]0;owned\x07\x1b[2J\x9b31mPromo\u202e"

    def rename(data):
        if isinstance(data.get("flow"), dict):
            data = dict(data, flow=dict(data["flow"], name=evil))
        return data

    server.add_patch(r"flow-execution(-contact)?/[^?]+$", rename)
    path = tmp_path / "ac.db"
    db = connect(path)
    assert SyncEngine(db).run(source(server)).outcome == "completed"
    db.conn.close()
    capsys.readouterr()
    assert main(["stats", "--db", str(path)]) == 0
    out = capsys.readouterr().out
    assert not any(ch in out for ch in "\x1b\x07\x9b\u202e")
    assert "\\x1b]0;owned\\x07" in out
    assert main(["stats", "--json", "--db", str(path)]) == 0
    out = capsys.readouterr().out
    assert not any(ch in out for ch in "\x1b\x07\x9b\u202e")
    assert evil in {flow["name"] for flow in json.loads(out)}
