"""The ActiveCampaign source against a local fake of the API (tests/fake_ac_server.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from flowdesk.cli import main
from flowdesk.core.counters_check import compare_api_counters
from flowdesk.core.db import connect, get_meta
from flowdesk.core.errors import UserError
from flowdesk.core.integrity import mismatches
from flowdesk.core.queries import Scope, summary
from flowdesk.core.sources import credentials
from flowdesk.core.sources.activecampaign import (
    PATH_PHASES,
    REPORT_PHASES,
    ActiveCampaignSource,
    normalize_base_url,
)
from flowdesk.core.sources.http import (
    ApiClient,
    Politeness,
    RateLimiter,
    TransportError,
    retry_after_seconds,
)
from flowdesk.core.sync import SyncEngine
from flowdesk.core.workspace import SourceOptions, source_for
from tests.factories import cache_content
from tests.fake_ac_server import TOKEN, FakeAccount, FakeACServer

ROOT = Path(__file__).resolve().parents[2]
RUNS_LISTING = "/api/3/channel/whatsapp/flow-execution-contact"
PAGE = 25


class Sleeps:
    """Records requested waits and sleeps only a sliver of each (keeps the suite fast)."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        time.sleep(min(seconds, 0.005))


def polite(**overrides) -> Politeness:
    values = dict(
        rate=2000.0,
        concurrency=3,
        timeout=2.0,
        max_retries=4,
        backoff_base=0.01,
        backoff_max=0.05,
        retry_after_max=5.0,
    )
    values.update(overrides)
    return Politeness(**values)


def source(server: FakeACServer, token: str = TOKEN, sleep=None, **overrides):
    return ActiveCampaignSource(
        server.base_url,
        token,
        politeness=polite(**overrides),
        page_size=PAGE,
        sleep=sleep or Sleeps(),
    )


def _ids(db) -> set[str]:
    return {row[0] for row in db.execute("SELECT id FROM runs")}


def _pending(db) -> set[str]:
    """Runs known from a listing whose path is still to be read."""
    return {row[0] for row in db.execute("SELECT id FROM runs WHERE path_synced = 0")}


def _listed_before_page_2(account: FakeAccount) -> set[str]:
    """The runs a sync has written when page 2 of the run listing fails: every execution's
    runs, then the first page of the listing (newest first)."""
    newest = sorted(account.runs.values(), key=lambda r: (r.created_on, r.id), reverse=True)
    return {r.id for r in account.runs.values() if r.execution_id} | {r.id for r in newest[:PAGE]}


@pytest.fixture
def server():
    with FakeACServer(FakeAccount(seed=7, runs=60), max_page_size=100) as fake:
        yield fake


# -- a full sync ---------------------------------------------------------------------------------


def test_full_sync_builds_the_cache_and_counts_requests(db, server):
    account = server.account
    progress = []
    report = SyncEngine(db).run(source(server), progress=progress.append)
    assert report.outcome == "completed", report.message
    assert report.problems == []
    # The report: 1 execution page + 3 execution details + 3 listings of an execution's runs
    # + 3 run pages + 1 run detail for each of the 3 versions (to describe them); then the
    # paths: the other 57 run details.
    assert report.stats["requests"] == len(server.log) == 1 + 3 + 3 + 3 + 3 + 57
    assert report.stats["pages"] == 7 and report.stats["details"] == 3 + 3 + 57
    assert report.stats.get("retries", 0) == 0
    last = [p for p in progress if p.note.startswith("report · runs:")][-1]
    assert "runs: page 3 of 3" in last.note and "13 requests" in last.note
    assert last.done == last.total == 60
    assert progress[-2].note.startswith("paths · 57 paths read")  # then "Indexing…"

    ids = {row[0] for row in db.execute("SELECT id FROM runs")}
    assert ids == set(account.runs)
    flows = {row[0]: row[1:] for row in db.execute("SELECT id, name, direction FROM flows")}
    assert flows == {
        account.inbound.id: ("Pedidos – atención 🛒", "inbound"),
        account.outbound.id: ('Promo "Navidad" =HYPERLINK()', "outbound"),
    }
    versions = db.execute("SELECT id, is_current, published_by FROM versions").fetchall()
    assert {v[0] for v in versions} == set(account.versions)
    current = {v[0] for v in versions if v[1]}
    assert current == {account.inbound.current_version, account.outbound.current_version}
    executions = {
        row[0]: row[1:]
        for row in db.execute("SELECT id, method, created_by, created_by_email FROM executions")
    }
    assert sorted(m for m, _, _ in executions.values()) == ["api", "csv", "filter"]
    assert {(who, email) for _, who, email in executions.values()} == {
        ("María Gómez", "maria@example.com"),
        ("ops@example.com", "ops@example.com"),
    }

    # Step graph: unknown types kept, referenced-but-never-executed steps are placeholders.
    types = {row[0] for row in db.execute("SELECT step_type FROM steps")}
    assert "AI_AGENT_HANDOFF" in types
    never = {
        v.steps["menu"]["next_steps_for_options"][2]
        for v in account.versions.values()
        if "menu" in v.steps
    }
    placeholders = {row[0] for row in db.execute("SELECT id FROM steps WHERE is_placeholder")}
    assert never <= placeholders

    # Test runs count like the upstream counts them, and are marked.
    tests = {r.id for r in account.runs.values() if r.is_test}
    assert tests
    assert {row[0] for row in db.execute("SELECT id FROM runs WHERE is_test")} == tests
    totals = summary(db, Scope(account.inbound.id))
    assert totals.contacts == account.counters(flow_id=account.inbound.id)["num_contacts"]

    # Unicode and hostile values are stored exactly as given (exports neutralise them).
    names = {row[0] for row in db.execute("SELECT last_name FROM contacts")}
    assert {"=SUM(A1)", "-2+3", "Núñez", "\tTab"} <= names
    firsts = {row[0] for row in db.execute("SELECT first_name FROM contacts")}
    assert {"Ana\nMaría", "李雷", "Zoë 🚀", "+cmd|' /C calc'!A0"} <= firsts

    assert mismatches(db) == []
    assert compare_api_counters(db) == []


def test_stats_json_reports_ids_as_the_api_gave_them(tmp_path, server, monkeypatch, capsys):
    path = tmp_path / "ac.db"
    connect(path).conn.close()
    monkeypatch.setenv("FLOWDESK_AC_TOKEN", TOKEN)
    monkeypatch.setenv("FLOWDESK_AC_RATE", "2000")
    code = main(["sync", "--db", str(path), "--source", "activecampaign", "--url", server.base_url])
    assert code == 0
    err = capsys.readouterr().err
    # 1 execution page + 3 details + 3 listings of their runs + 1 page of 100 runs + 3 details
    # describing the versions, then the 57 other paths
    assert "completed:" in err and "requests=68" in err
    assert TOKEN not in err
    assert main(["stats", "--json", "--db", str(path)]) == 0
    data = json.loads(capsys.readouterr().out)
    account = server.account
    assert {f["id"] for f in data} == set(account.flows)
    assert {v["id"] for f in data for v in f["versions"]} == set(account.versions)
    assert {e["id"] for f in data for e in f["executions"]} == set(account.executions)
    # A later sync needs no --url: the cache remembers its account.
    assert main(["sync", "--db", str(path), "--source", "activecampaign"]) == 0
    assert main(["check", "--db", str(path)]) == 0
    assert "agree" in capsys.readouterr().out


def test_cli_failures_are_one_clear_line(tmp_path, server, monkeypatch, capsys):
    path = tmp_path / "ac.db"
    connect(path).conn.close()
    monkeypatch.delenv("FLOWDESK_AC_TOKEN", raising=False)
    args = ["sync", "--db", str(path), "--source", "activecampaign", "--url", server.base_url]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "flowdesk: no API token: set FLOWDESK_AC_TOKEN, or connect the account from the app"
    ]
    monkeypatch.setenv("FLOWDESK_AC_TOKEN", "wrong-token-123")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1].startswith("flowdesk: sync failed: the token was rejected")
    assert "wrong-token-123" not in err
    assert (
        main(
            [
                "sync",
                "--db",
                str(path),
                "--source",
                "activecampaign",
                "--url",
                "http://example.com/api/3",
            ]
        )
        == 2
    )
    assert "https" in capsys.readouterr().err


# -- incremental ---------------------------------------------------------------------------------


def test_second_sync_fetches_only_new_changed_and_active_runs(db, tmp_path, server):
    account = server.account
    engine = SyncEngine(db)
    assert engine.run(source(server)).outcome == "completed"
    cached = dict(db.execute("SELECT id, status FROM runs").fetchall())
    active = [rid for rid, status in cached.items() if status in ("READY", "RUNNING")]
    assert len(active) >= 4

    # The upstream moves on: two active runs finish, one takes a step, five runs are new.
    account.finish(active[0], "COMPLETED")
    account.finish(active[1], "FAILED")
    account.advance(active[2])
    new = [account.add_run().id for _ in range(5)]
    server.clear_log()

    report = engine.run(source(server))
    assert report.outcome == "completed", report.message
    fetched = server.detail_ids()
    assert len(fetched) == len(set(fetched))
    expected = {
        rid
        for rid, run in account.runs.items()
        if cached.get(rid) != run.status or run.status in ("READY", "RUNNING")
    }
    assert set(fetched) == expected
    assert set(new) | set(active) == expected | {r for r in active if r not in expected}
    finished_unchanged = {
        rid for rid, status in cached.items() if status not in ("READY", "RUNNING")
    }
    assert not finished_unchanged & set(fetched)
    run_pages = -(-len(account.runs) // PAGE)
    # Only executions whose list row changed (their counters moved) are fetched again.
    changed_executions = {account.runs[r].execution_id for r in expected} - {None}
    assert set(server.detail_ids("flow-execution")) <= changed_executions
    # each changed execution: its detail and one page listing its runs
    assert (
        report.stats["requests"]
        == len(server.log)
        == (1 + 2 * len(server.detail_ids("flow-execution")) + run_pages + len(expected))
    )
    assert report.runs_changed >= 5 + 2  # (the advanced run may have been on its last route)

    # Same content as a fresh full sync of the changed upstream.
    fresh = connect(tmp_path / "fresh.db")
    assert SyncEngine(fresh).run(source(server)).outcome == "completed"

    def paths(database):
        return sorted(
            database.execute(
                "SELECT r.id, r.status, r.metric, r.last_name, group_concat(s.id, '>')"
                " FROM runs r LEFT JOIN run_steps p ON p.run_key = r.key"
                " LEFT JOIN steps s ON s.key = p.step_key GROUP BY r.id ORDER BY r.id"
            ).fetchall()
        )

    assert paths(db) == paths(fresh)
    for table in ("flows", "versions", "executions"):
        query = (
            f"SELECT id, contacts, expired, ongoing, canceled, failed, completed,"
            f" api_counters FROM {table} ORDER BY id"
        )
        assert db.execute(query).fetchall() == fresh.execute(query).fetchall()
    assert mismatches(db) == []
    assert compare_api_counters(db) == []

    # Nothing changed upstream: only the still-active runs are read again.
    server.clear_log()
    report = engine.run(source(server))
    still_active = {rid for rid, run in account.runs.items() if run.status in ("READY", "RUNNING")}
    assert set(server.detail_ids()) == still_active
    assert report.runs_changed == 0
    assert server.detail_ids("flow-execution") == []


def test_runs_of_an_execution_missing_from_the_listing_keep_counters_exact(db, server):
    account = server.account
    late, gone = account.add_execution(), account.add_execution("FILTERS")
    server.unlisted_executions |= {late.id, gone.id}
    server.add_fault("404", f"flow-execution/{gone.id}", times=100)
    for execution in (late, gone):
        for _ in range(2):
            account.add_run(flow=account.outbound).execution_id = execution.id
    report = SyncEngine(db).run(source(server))
    assert report.outcome == "completed"
    assert [rid for _, rid, _ in report.problems] == [gone.id]
    rows = dict(db.execute("SELECT id, method FROM executions").fetchall())
    assert rows[late.id] == "api" and rows[gone.id] == "api"  # the stub knows no better
    assert server.detail_ids("flow-execution").count(gone.id) == 1
    assert mismatches(db) == []
    # The stub has no upstream counters to compare; the fetched one agrees.
    assert compare_api_counters(db) == []


# -- faults --------------------------------------------------------------------------------------


def test_transient_faults_are_retried_and_bad_details_skipped(db, server):
    account = server.account
    run_ids = list(account.runs)
    missing, broken = run_ids[5], run_ids[7]
    server.add_fault("429", r"flow-execution-contact\?page=1", retry_after="2")
    server.add_fault("502", r"flow-execution/[^?]+$")
    server.add_fault("500", r"flow-execution-contact\?page=2", times=2)
    server.add_fault("reset", run_ids[1])
    server.add_fault("timeout", run_ids[2])
    server.add_fault("404", missing, times=100)
    server.add_fault("malformed", broken, times=100)
    server.hang = 0.6
    sleeps = Sleeps()
    report = SyncEngine(db).run(source(server, sleep=sleeps, timeout=0.3))
    assert report.outcome == "completed", report.message
    assert report.stats["retries"] == 6
    server.settle()
    assert report.stats["requests"] == len(server.log)
    assert 2.0 in sleeps.calls  # Retry-After honoured
    problems = {record_id: message for _, record_id, message in report.problems}
    assert set(problems) == {missing, broken}
    assert "404" in problems[missing]
    assert "malformed" in problems[broken]
    # The two runs are counted from their listing rows: the report is exact, their paths wait.
    assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == len(run_ids)
    assert _pending(db) == {missing, broken}
    assert mismatches(db) == []
    assert compare_api_counters(db) == []
    assert all(TOKEN not in m for _, _, m in report.problems)

    # Once the upstream behaves, the next sync reads their paths.
    server.faults.clear()
    report = SyncEngine(db).run(source(server))
    assert report.outcome == "completed"
    assert _pending(db) == set()
    assert compare_api_counters(db) == []


def test_retries_are_bounded_and_the_failed_page_is_not_written(db, server):
    server.add_fault("503", r"flow-execution-contact\?page=2", times=50)
    report = SyncEngine(db).run(source(server, max_retries=2))
    assert report.outcome == "failed"
    assert "gave up after 3 attempts (HTTP 503)" in report.message
    assert "\n" not in report.message
    server.settle()  # the log entry of the last answer is written after it is sent
    assert len(server.requests(r"flow-execution-contact\?page=2")) == 3
    assert _ids(db) == _listed_before_page_2(server.account)
    assert get_meta(db, "cursor:activecampaign")["page"] == 2
    server.faults.clear()
    server.clear_log()
    assert SyncEngine(db).run(source(server)).outcome == "completed"
    assert not server.requests(r"flow-execution-contact\?page=1")  # resumed at page 2
    assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == len(server.account.runs)


@pytest.mark.parametrize("status", ["401", "403"])
def test_a_rejected_token_stops_the_sync_and_changes_nothing(db, server, status):
    engine = SyncEngine(db)
    assert engine.run(source(server)).outcome == "completed"
    before = cache_content(db)
    server.account.add_run()
    report = engine.run(source(server, token="not-the-token"))
    assert report.outcome == "failed"
    assert report.message.startswith("the token was rejected (HTTP 401)")
    assert "not-the-token" not in report.message
    assert cache_content(db) == before
    server.add_fault(status, r"flow-execution-contact/", times=1)
    report = engine.run(source(server))
    assert report.outcome == "failed" and "the token was rejected" in report.message
    assert cache_content(db)["runs"] == before["runs"]


def test_cancel_then_resume_equals_an_uninterrupted_sync(db, tmp_path, server):
    batches = []

    def on_progress(progress):
        batches.append(progress)

    report = SyncEngine(db).run(
        source(server), progress=on_progress, is_cancelled=lambda: len(batches) >= 2
    )
    assert report.outcome == "canceled"
    assert 0 < db.execute("SELECT count(*) FROM runs").fetchone()[0] < len(server.account.runs)
    assert SyncEngine(db).run(source(server)).outcome == "completed"
    other = connect(tmp_path / "other.db")
    assert SyncEngine(other).run(source(server)).outcome == "completed"
    assert cache_content(db) == cache_content(other)


def test_cancel_during_a_long_retry_after_wait_stops_promptly(db, server):
    server.add_fault("429", r"flow-execution-contact\?page=2", retry_after="30")
    flag = {"cancel": False}

    def sleeper(seconds):
        if seconds >= 10:
            flag["cancel"] = True  # the user presses Cancel while the client waits

    report = SyncEngine(db).run(
        source(server, sleep=sleeper, retry_after_max=60), is_cancelled=lambda: flag["cancel"]
    )
    assert report.outcome == "canceled"
    # Nothing was asked of the server once the wait was cancelled: the throttled page was the
    # last request (not retried), and no wait followed.
    server.settle()
    assert server.requests()[-1].startswith(RUNS_LISTING + "?page=2")
    assert len(server.requests(r"flow-execution-contact\?page=2")) == 1
    # The cursor still points after the last written page.
    assert _ids(db) == _listed_before_page_2(server.account)
    assert get_meta(db, "cursor:activecampaign")["page"] == 2


@pytest.mark.parametrize(
    ("requests", "phases"),
    [(10, REPORT_PHASES), (30, PATH_PHASES)],
    ids=["report", "paths"],
)
def test_kill_9_mid_sync_then_resume_equals_an_uninterrupted_sync(tmp_path, requests, phases):
    with FakeACServer(FakeAccount(seed=11, runs=60), latency=0.01) as server:
        env = dict(
            os.environ,
            FLOWDESK_AC_TOKEN=TOKEN,
            FLOWDESK_AC_RATE="120",
            FLOWDESK_AC_PAGE_SIZE="10",
            FLOWDESK_NO_KEYRING="1",
            PYTHONPATH=str(ROOT),
        )

        def command(path):
            return [
                sys.executable,
                "-m",
                "flowdesk",
                "sync",
                "--db",
                str(path),
                "--source",
                "activecampaign",
                "--url",
                server.base_url,
            ]

        killed, whole = tmp_path / "killed.db", tmp_path / "whole.db"
        for path in (killed, whole):
            connect(path).conn.close()
        process = subprocess.Popen(
            command(killed), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT
        )
        deadline = time.monotonic() + 30
        while len(server.log) < requests and time.monotonic() < deadline:
            time.sleep(0.002)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        assert process.returncode == -signal.SIGKILL
        partial = connect(killed)
        phase = (get_meta(partial, "cursor:activecampaign") or {}).get("phase")
        written = partial.execute("SELECT count(*) FROM runs").fetchone()[0]
        pending = len(_pending(partial))
        partial.conn.close()
        assert phase in phases, "the kill should land in the phase under test"
        if phases == REPORT_PHASES:
            assert 0 < written < 60, "the kill should land mid-report"
        else:
            assert written == 60 and 0 < pending < 58, "the kill should land mid-paths"

        resumed = subprocess.run(
            command(killed), env=env, capture_output=True, text=True, cwd=ROOT, timeout=60
        )
        assert resumed.returncode == 0, resumed.stderr
        complete = subprocess.run(
            command(whole), env=env, capture_output=True, text=True, cwd=ROOT, timeout=60
        )
        assert complete.returncode == 0, complete.stderr
        assert TOKEN not in resumed.stderr + complete.stderr

    a, b = connect(killed), connect(whole)
    assert a.execute("SELECT count(*) FROM runs").fetchone()[0] == 60
    assert cache_content(a) == cache_content(b)
    assert mismatches(a) == []


# -- politeness ----------------------------------------------------------------------------------


def test_rate_and_concurrency_are_bounded(db):
    # A clock that stands still and a sleep that only records: every request start is reserved
    # from the rate limiter, so the waits asked for are exactly 1/rate, 2/rate, 3/rate... in
    # whatever order the threads got them, whatever the machine's load.
    waits: list[float] = []
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            waits.append(seconds)

    with FakeACServer(FakeAccount(seed=3, runs=30), latency=0.02) as server:
        rate = 60.0
        report = SyncEngine(db).run(
            ActiveCampaignSource(
                server.base_url,
                TOKEN,
                politeness=polite(rate=rate, concurrency=2),
                page_size=PAGE,
                sleep=sleep,
                clock=lambda: 0.0,
            )
        )
        assert report.outcome == "completed"
        assert server.max_in_flight <= 2
        requests = len(server.log)
    assert report.stats["requests"] == requests
    assert sorted(waits) == pytest.approx([n / rate for n in range(1, requests)])


def test_rate_limiter_spaces_requests():
    clock = [100.0]
    limiter = RateLimiter(5.0, clock=lambda: clock[0])
    waits = [limiter.reserve() for _ in range(4)]
    assert waits == pytest.approx([0.0, 0.2, 0.4, 0.6])
    clock[0] += 10
    assert limiter.reserve() == 0.0


def test_retry_after_accepts_seconds_and_http_dates():
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(" 0.5 ") == 0.5
    now = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert retry_after_seconds(later, now=now.timestamp()) == pytest.approx(90)
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_client_errors_never_contain_the_token(server):
    secret = "s3cr3t-token-value"
    client = ApiClient(server.base_url, secret, polite(max_retries=1))
    server.add_fault("502", ".", times=5)
    with pytest.raises(TransportError) as failure:
        client.get_json("channel/whatsapp/flow-execution", {"page": 1})
    assert secret not in str(failure.value)
    assert secret not in repr(ActiveCampaignSource(server.base_url, secret))


# -- account URLs and tokens ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("acme.api-us1.com", "https://acme.api-us1.com/api/3"),
        ("https://ACME.api-us1.com/", "https://acme.api-us1.com/api/3"),
        ("https://acme.api-us1.com/api/3/", "https://acme.api-us1.com/api/3"),
        ("http://127.0.0.1:8123/api/3", "http://127.0.0.1:8123/api/3"),
        ("https://proxy.example.com/ac/api/3", "https://proxy.example.com/ac/api/3"),
    ],
)
def test_account_urls_are_normalised(given, expected):
    assert normalize_base_url(given) == expected


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "ftp://acme.api-us1.com",
        "http://acme.api-us1.com",
        "https://acme.com/v2",
        "https://user:pw@acme.api-us1.com",
    ],
)
def test_bad_account_urls_are_refused(bad):
    with pytest.raises(ValueError):
        normalize_base_url(bad)


def test_tokens_come_from_the_environment_or_the_keyring(monkeypatch):
    account = "https://acme.api-us1.com/api/3"
    monkeypatch.delenv("FLOWDESK_AC_TOKEN", raising=False)
    assert os.environ["FLOWDESK_NO_KEYRING"] == "1"  # the real keyring stays untouched
    assert credentials.load_token(account) is None
    credentials.store_token(account, "  from-keyring  ")
    assert credentials.load_token(account) == "from-keyring"
    monkeypatch.setenv("FLOWDESK_AC_TOKEN", "from-env")
    assert credentials.load_token(account) == "from-env"
    credentials.delete_token(account)
    monkeypatch.delenv("FLOWDESK_AC_TOKEN")
    assert credentials.load_token(account) is None
    with pytest.raises(credentials.CredentialError):
        credentials.store_token(account, "   ")


def test_a_cache_keeps_to_its_own_account_and_source(db, server, monkeypatch):
    monkeypatch.setenv("FLOWDESK_AC_TOKEN", TOKEN)
    assert SyncEngine(db).run(source(server)).outcome == "completed"
    with pytest.raises(UserError, match="holds the account"):
        source_for(db, options=SourceOptions(url="https://other.api-us1.com"))
    assert source_for(db).base_url == server.base_url
    with db.conn:
        db.conn.execute(
            "UPDATE meta SET value = ? WHERE key = 'source'",
            [json.dumps({"kind": "demo", "name": "Demo"})],
        )
        db.conn.execute("DELETE FROM meta WHERE key = 'cursor:activecampaign'")
    with pytest.raises(UserError, match="its own cache file"):
        source_for(db, "activecampaign", SourceOptions(url=server.base_url))


def test_a_detail_that_keeps_failing_is_skipped_but_a_lost_network_fails_the_page(db, server):
    run_ids = list(server.account.runs)
    server.add_fault("502", run_ids[3], times=100)
    report = SyncEngine(db).run(source(server, max_retries=2))
    assert report.outcome == "completed"
    assert [(rid, "HTTP 502" in message) for _, rid, message in report.problems] == [
        (run_ids[3], True)
    ]
    server.faults.clear()

    other_db = connect(db.conn.execute("PRAGMA database_list").fetchone()[2] + ".2")
    server.add_fault("reset", run_ids[30], times=100)
    report = SyncEngine(other_db).run(source(server, max_retries=1))
    assert report.outcome == "failed"
    assert "network error" in report.message
    # The batch holding that run's path was not written; the next sync resumes there.
    assert run_ids[30] in _pending(other_db)
    assert get_meta(other_db, "cursor:activecampaign")["phase"] == "paths"
    server.faults.clear()
    assert SyncEngine(other_db).run(source(server)).outcome == "completed"
    assert _pending(other_db) == set()
