"""The team workspace against a real PostgreSQL server (tests/pg_server.py starts one).

upstream → ``server sync`` → PostgreSQL → ``sync --source team`` → desktop caches must equal a
desktop that synced the upstream itself, sync for sync, and fetch only what changed.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from flowdesk.cli import main
from flowdesk.cli.stats import flow_stats
from flowdesk.core.db import connect
from flowdesk.core.demo import DemoSource
from flowdesk.core.integrity import mismatches
from flowdesk.core.queries import list_flows
from flowdesk.core.sync import SyncEngine
from flowdesk.core.team import schema
from flowdesk.core.team.connection import TeamServerError, parse_url
from flowdesk.core.team.schema import (
    BULK_INDEXES,
    SCHEMA,
    SCHEMA_VERSION,
    WRITER_LOCK,
    reader_role_sql,
)
from flowdesk.core.team.server import init_server, sync_server
from flowdesk.core.team.source import source_for_url
from tests.factories import cache_content_at

SEED, CONTACTS = 4, 1000
READER_PASSWORD = "reader-pw-93b2"


def _stats(path: Path) -> list[dict]:
    db = connect(path)
    try:
        return [flow_stats(db, flow) for flow in list_flows(db)]
    finally:
        db.conn.close()


def _server_sync(url: str, contacts: int = CONTACTS):
    report = sync_server(
        parse_url(url),
        DemoSource(seed=SEED, contacts=contacts),
        {"seed": SEED, "contacts": contacts},
    )
    assert report.outcome == "completed", report.message
    return report


def _desktop_sync(path: Path, url: str):
    db = connect(path)
    try:
        report = SyncEngine(db).run(source_for_url(url))
    finally:
        db.conn.close()
    assert report.outcome == "completed", report.message
    return report


def _reader_url(pg_server, admin_url: str) -> str:
    """The read-only role ``server init`` prints, created as an administrator would."""
    database = parse_url(admin_url).database
    sql = reader_role_sql(database).replace("choose-a-password", READER_PASSWORD)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'flowdesk_reader'")
        if exists.fetchone():
            sql = sql.split(";", 1)[1]  # the role is cluster-wide: created by an earlier test
        for statement in sql.split(";"):
            if statement.strip():
                conn.execute(statement)
    return pg_server.url(database, "flowdesk_reader", READER_PASSWORD)


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# -- the round trip ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_server(pg_server, tmp_path_factory):
    """A server fed once by the demo, and a desktop synced from it (read-only for tests)."""
    url = pg_server.url(pg_server.create_database("t_demo_server"))
    init_server(parse_url(url))
    _server_sync(url)
    cache = tmp_path_factory.mktemp("demo_server") / "desk.db"
    _desktop_sync(cache, url)
    return url, cache


def test_round_trip_equals_a_local_demo_sync_for_sync(pg_server, pg_url, tmp_path):
    assert init_server(parse_url(pg_url)) == (0, SCHEMA_VERSION)
    assert init_server(parse_url(pg_url)) == (SCHEMA_VERSION, SCHEMA_VERSION)  # idempotent
    reader = _reader_url(pg_server, pg_url)
    local = connect(tmp_path / "local.db")
    desktops = [tmp_path / "a.db", tmp_path / "b.db"]
    for tick in range(3):
        server = _server_sync(pg_url)
        SyncEngine(local).run(DemoSource(seed=SEED, contacts=CONTACTS))
        first = _desktop_sync(desktops[0], pg_url)
        second = _desktop_sync(desktops[1], reader)  # the read-only role is enough
        expected = [flow_stats(local, flow) for flow in list_flows(local)]
        assert _stats(desktops[0]) == expected, f"tick {tick}"
        assert _stats(desktops[1]) == expected, f"tick {tick}"
        # Each desktop fetched exactly what the server changed, nothing it already had.
        for report in (first, second):
            assert report.stats.get("team_runs", 0) == server.changed["runs"]
            assert report.stats.get("team_executions", 0) == server.changed["executions"]
        if tick:
            assert 0 < server.changed["runs"] < CONTACTS / 5
    assert mismatches(connect(desktops[0])) == []
    # A desktop that skipped every sync catches up in one.
    _desktop_sync(tmp_path / "late.db", pg_url)
    assert _stats(tmp_path / "late.db") == [flow_stats(local, f) for f in list_flows(local)]
    local.conn.close()


def test_activecampaign_through_the_server_equals_a_desktop_syncing_it_directly(pg_url, tmp_path):
    from flowdesk.core.sources.activecampaign import ActiveCampaignSource
    from tests.core.test_activecampaign import Sleeps, polite
    from tests.fake_ac_server import TOKEN, FakeAccount, FakeACServer

    init_server(parse_url(pg_url))
    direct, desktop = tmp_path / "direct.db", tmp_path / "desk.db"
    with FakeACServer(FakeAccount(seed=5, runs=60)) as upstream:

        def upstream_source() -> ActiveCampaignSource:
            return ActiveCampaignSource(
                upstream.base_url, TOKEN, politeness=polite(), sleep=Sleeps()
            )

        account = upstream.account
        for step in range(2):
            if step:  # the upstream moves on: runs finish, advance, arrive
                active = [r.id for r in account.runs.values() if r.status in ("READY", "RUNNING")]
                account.finish(active[0], "COMPLETED")
                account.advance(active[1])
                for _ in range(4):
                    account.add_run()
            settings = {"account": upstream.base_url}
            report = sync_server(parse_url(pg_url), upstream_source(), settings)
            assert report.outcome == "completed", report.message
            db = connect(direct)
            assert SyncEngine(db).run(upstream_source()).outcome == "completed"
            db.conn.close()
            fetched = _desktop_sync(desktop, pg_url)
            assert _stats(desktop) == _stats(direct)
            # A run the server wrote twice in one sync (its listing row for the report, then its
            # path) reaches a desktop once.
            sent = fetched.stats.get("team_runs", 0)
            assert sent <= report.changed["runs"] <= 2 * sent
        # four new, one finished, one advanced (unless it was on its longest route already);
        # active runs fetched again unchanged are not sent to desktops again
        assert 5 <= sent <= 6
        upstream.settle()


def test_a_long_upstream_wait_is_shown_and_the_server_sync_goes_on(pg_url):
    """The ActiveCampaign source says when it waits out a rate limit; the server passes it on."""
    from flowdesk.core.sources.activecampaign import ActiveCampaignSource
    from tests.core.test_activecampaign import Sleeps, polite
    from tests.fake_ac_server import TOKEN, FakeAccount, FakeACServer

    init_server(parse_url(pg_url))
    with FakeACServer(FakeAccount(seed=5, runs=30)) as upstream:
        upstream.add_fault("429", r"flow-execution-contact\?page=1", retry_after="2")
        source = ActiveCampaignSource(upstream.base_url, TOKEN, politeness=polite(), sleep=Sleeps())
        notes: list[str] = []
        report = sync_server(
            parse_url(pg_url), source, {"account": upstream.base_url}, notify=notes.append
        )
        upstream.settle()
    assert report.outcome == "completed", report.message
    with psycopg.connect(pg_url) as conn:
        assert conn.execute(f"SELECT count(*) FROM {SCHEMA}.runs").fetchone()[0] == 30
    assert any(note.startswith("waiting ") and "429" in note for note in notes), notes


def _change_rapidpro(upstream, step: int) -> None:
    from tests.fake_rapidpro_server import BASE

    when = BASE + timedelta(days=step)
    waiting = [r for r in upstream.runs if r.get("status") == "waiting" and not r.get("exit_type")]
    upstream.finish(waiting[0]["uuid"], "expired", when)
    upstream.edit_flow(upstream.flows[0]["uuid"], f"Wording {step}", when)


def _change_twilio(upstream, step: int) -> None:
    from tests.fake_twilio_server import BASE

    when = BASE + timedelta(days=step)
    active = [e["sid"] for e in upstream.executions if e["status"] == "active"]
    upstream.end(active[0], when)
    upstream.add_execution(step % 3, when)


def _vendor(vendor: str, monkeypatch):
    """The fake upstream, how it changes, and its connector as the tests build it."""
    from tests import vendor_sources
    from tests.fake_rapidpro_server import TOKEN, FakeRapidPro
    from tests.fake_twilio_server import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

    if vendor == "rapidpro":
        monkeypatch.setenv("FLOWDESK_RAPIDPRO_TOKEN", TOKEN)
        fake = FakeRapidPro(runs=40, page_size=9)
        return fake, _change_rapidpro, vendor_sources.rapidpro_source
    monkeypatch.setenv("FLOWDESK_TWILIO_SID", ACCOUNT_SID)
    monkeypatch.setenv("FLOWDESK_TWILIO_TOKEN", AUTH_TOKEN)
    return FakeTwilio(executions=25), _change_twilio, vendor_sources.twilio_source


@pytest.mark.parametrize("vendor", ["rapidpro", "twilio"])
def test_rapidpro_and_twilio_through_the_server_equal_a_desktop_syncing_them_directly(
    vendor, pg_url, tmp_path, capsys, monkeypatch
):
    """Their runs do not say which version they ran: the server places them among the versions
    it holds, as a desktop places them among its cache's, sync for sync."""
    fake, change, connector = _vendor(vendor, monkeypatch)
    init_server(parse_url(pg_url))
    direct, desktop = tmp_path / "direct.db", str(tmp_path / "desk.db")
    shown: list[str] = []
    with fake as upstream:
        settings = {"account": connector(upstream).base_url}
        for step in range(3):
            if step:
                change(upstream, step)
            report = sync_server(parse_url(pg_url), connector(upstream), settings)
            assert report.outcome == "completed", report.message
            db = connect(direct)
            assert SyncEngine(db).run(connector(upstream)).outcome == "completed"
            db.conn.close()
            fetched = _desktop_sync(Path(desktop), pg_url)
            assert fetched.stats.get("team_runs", 0) == report.changed["runs"]
            code, expected, _ = _cli(capsys, "stats", "--db", str(direct), "--json")
            assert code == 0 and json.loads(expected)
            assert _cli(capsys, "stats", "--db", desktop, "--json")[1] == expected, f"step {step}"
            shown.append(expected)
    assert shown[0] != shown[1] != shown[2]  # each change upstream reached the desktop
    db = connect(Path(desktop))
    assert mismatches(db) == []
    db.conn.close()


@pytest.mark.parametrize("vendor", ["rapidpro", "twilio"])
def test_server_sync_takes_rapidpro_and_twilio_and_remembers_them(
    vendor, pg_url, capsys, monkeypatch
):
    fake, change, _ = _vendor(vendor, monkeypatch)
    init_server(parse_url(pg_url))
    with fake as upstream:
        url = upstream.url
        first = ("--source", vendor, "--url", url, "--rate", "500")
        code, _, err = _cli(capsys, "server", "sync", "--pg", pg_url, *first)
        assert code == 0, err
        change(upstream, 1)
        # Later syncs keep the upstream the server mirrors (Twilio's API URL included).
        code, _, err = _cli(capsys, "server", "sync", "--pg", pg_url, "--rate", "500")
        assert code == 0 and "completed:" in err and "changed: nothing" not in err, err
    with psycopg.connect(pg_url) as conn:
        source = conn.execute(f"SELECT source FROM {SCHEMA}.server").fetchone()[0]
        runs = conn.execute(f"SELECT count(*) FROM {SCHEMA}.runs").fetchone()[0]
    assert source["kind"] == vendor and runs == (40 if vendor == "rapidpro" else 26)
    assert (source["settings"].get("url") == url) == (vendor == "twilio")


def test_bi_views_count_what_the_desktop_shows(demo_server):
    pg_url, cache = demo_server
    names = ("contacts", "expired", "ongoing", "canceled", "failed", "completed")
    desktop = {item["id"]: {name: item[name] for name in names} for item in _stats(cache)}
    versions = {
        version["id"]: {name: version[name] for name in names}
        for item in _stats(cache)
        for version in item["versions"]
    }
    with psycopg.connect(pg_url) as conn:
        flows = conn.execute(f"SELECT flow_id, {', '.join(names)} FROM {SCHEMA}.flow_counters")
        assert {row[0]: dict(zip(names, row[1:], strict=True)) for row in flows} == desktop
        rows = conn.execute(f"SELECT version_id, {', '.join(names)} FROM {SCHEMA}.version_counters")
        assert {row[0]: dict(zip(names, row[1:], strict=True)) for row in rows} == versions
        executions = conn.execute(f"SELECT sum(contacts) FROM {SCHEMA}.execution_counters")
        assert executions.fetchone()[0] > 0
        reached = conn.execute(f"SELECT max(reached), sum(visits) FROM {SCHEMA}.step_counters")
        most, visits = reached.fetchone()
        assert 0 < most <= CONTACTS * 1.1 and visits >= most


# -- refusals: one line, nothing changed locally, no password shown ---------------------------


def test_a_read_only_role_cannot_write(pg_server, pg_url):
    init_server(parse_url(pg_url))
    reader = _reader_url(pg_server, pg_url)
    with psycopg.connect(reader, autocommit=True) as conn:
        for statement in (
            f"INSERT INTO {SCHEMA}.flows VALUES ('x', 'x', 'x', '{{}}', '\\x00', 1)",
            f"UPDATE {SCHEMA}.server SET cursor = NULL",
            f"DELETE FROM {SCHEMA}.runs",
        ):
            with pytest.raises(psycopg.errors.Error) as caught:
                conn.execute(statement)
            assert isinstance(
                caught.value,
                psycopg.errors.InsufficientPrivilege | psycopg.errors.ReadOnlySqlTransaction,
            )


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_wrong_password_unreachable_host_and_newer_schema_change_nothing(
    pg_server, pg_url, tmp_path, capsys, monkeypatch
):
    init_server(parse_url(pg_url))
    _server_sync(pg_url, contacts=150)
    cache = tmp_path / "desk.db"
    assert _cli(capsys, "sync", "--db", str(cache), "--source", "team", "--pg", pg_url)[0] == 0
    before = cache_content_at(cache)
    wrong = pg_server.url(parse_url(pg_url).database, password="not-the-password-51")
    cases = [
        (cache, wrong, "password authentication failed"),
        (tmp_path / "new.db", wrong, "password authentication failed"),
        (
            tmp_path / "new.db",
            "postgresql://flowdesk_admin:secret-pw-77@127.0.0.1:1/x",
            "Connection refused",
        ),
    ]
    for target, url, reason in cases:
        code, out, err = _cli(capsys, "sync", "--db", str(target), "--source", "team", "--pg", url)
        line = _one_line(err)
        assert code == 2 and reason in line and out == ""
        assert "not-the-password-51" not in line and "secret-pw-77" not in line
    code, _, err = _cli(capsys, "sync", "--db", str(cache))  # the cache keeps no password
    assert code == 2 and "no password (give it in the URL, in PGPASSWORD" in _one_line(err)
    monkeypatch.setenv("PGPASSWORD", parse_url(pg_url).password)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"UPDATE {SCHEMA}.server SET schema_version = 99")
    for argv in (("--pg", pg_url), ()):  # the URL given again, or the one the cache keeps
        code, _, err = _cli(capsys, "sync", "--db", str(cache), "--source", "team", *argv)
        line = _one_line(err)
        assert code == 2 and "team schema 99, newer than this Flowdesk reads" in line
        assert "admin-secret" not in line
    assert cache_content_at(cache) == before
    assert not (tmp_path / "new.db").exists()


def test_schema_1_upgrades_in_place_and_desktops_still_read_it_meanwhile(
    pg_url, monkeypatch, capsys
):
    """Schema 2 keeps runs as json with the views' columns of their own; desktops read a
    server not yet upgraded, a server sync asks for the upgrade first."""
    with monkeypatch.context() as old:
        old.setattr(schema, "SCHEMA_VERSION", 1)
        assert init_server(parse_url(pg_url)) == (0, 1)
    data = '{"id": "r1", "contact": {"id": "c1", "phone": "+34600"}, "status_reason": "late"}'
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            f"INSERT INTO {SCHEMA}.runs (id, flow_id, version_id, contact_id, status, is_test,"
            " created_on, data, digest, change) VALUES ('r1', 'f', 'v', 'c1', 'FAILED', false,"
            " now(), %s, '\\x01', 1)",
            [data],
        )
    source = source_for_url(pg_url)
    assert source.probe().schema_version == 1 and source.probe().runs == 1
    code, _, err = _cli(capsys, "server", "sync", "--pg", pg_url, "--contacts", "100")
    assert code == 2 and "older than this Flowdesk's (2): run flowdesk server init" in err
    assert init_server(parse_url(pg_url)) == (1, SCHEMA_VERSION)
    with psycopg.connect(pg_url) as conn:
        kind = conn.execute(
            "SELECT data_type FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = 'runs' AND column_name = 'data'",
            [SCHEMA],
        ).fetchone()[0]
        assert kind == "json"
        row = conn.execute(
            f"SELECT r.phone, r.status_reason, runs.data FROM {SCHEMA}.run_report r"
            f" JOIN {SCHEMA}.runs ON runs.id = r.run_id"
        ).fetchone()
        assert row[:2] == ("+34600", "late") and row[2]["contact"]["phone"] == "+34600"


def test_a_cache_of_another_source_is_refused(pg_url, tmp_path, capsys):
    init_server(parse_url(pg_url))
    cache = tmp_path / "demo.db"
    assert _cli(capsys, "demo", "--db", str(cache), "--contacts", "200")[0] == 0
    code, _, err = _cli(capsys, "sync", "--db", str(cache), "--source", "team", "--pg", pg_url)
    assert code == 2 and "holds Demo workspace data" in _one_line(err)


def test_a_second_server_sync_says_so_and_exits(pg_url, capsys):
    init_server(parse_url(pg_url))
    with psycopg.connect(pg_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", [WRITER_LOCK])
        code, _, err = _cli(capsys, "server", "sync", "--pg", pg_url, "--contacts", "100")
        assert code == 2 and "another flowdesk server sync is already writing" in _one_line(err)
    with psycopg.connect(pg_url) as conn:
        assert conn.execute(f"SELECT count(*) FROM {SCHEMA}.runs").fetchone()[0] == 0


def test_server_init_prints_the_reader_role_and_a_server_of_another_upstream_refuses(
    pg_url, capsys
):
    code, out, _ = _cli(capsys, "server", "init", "--pg", pg_url)
    assert code == 0 and "GRANT SELECT ON ALL TABLES IN SCHEMA flowdesk" in out
    assert "admin-secret" not in out
    assert _cli(capsys, "server", "sync", "--pg", pg_url, "--contacts", "150")[0] == 0
    code, _, err = _cli(
        capsys, "server", "sync", "--pg", pg_url, "--contacts", "150", "--seed", "9"
    )
    assert code == 2 and "already mirrors Demo workspace" in _one_line(err)
    # Without --contacts/--seed the server keeps the upstream it already mirrors.
    assert _cli(capsys, "server", "sync", "--pg", pg_url)[0] == 0


def test_a_server_that_was_never_initialised_is_named(pg_url, capsys, tmp_path):
    code, _, err = _cli(capsys, "server", "sync", "--pg", pg_url)
    assert code == 2 and "not a Flowdesk team server yet" in _one_line(err)
    code, _, err = _cli(
        capsys, "sync", "--db", str(tmp_path / "x.db"), "--source", "team", "--pg", pg_url
    )
    assert code == 2 and "server init" in _one_line(err)
    assert not (tmp_path / "x.db").exists()


def test_server_commands_import_no_qt(pg_url):
    code = (
        "import sys\nfrom flowdesk.cli import main\n"
        f"assert main(['server', 'init', '--pg', {pg_url!r}]) == 0\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


# -- URLs -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "sslmode"),
    [
        ("postgresql://u:pw@db.example.com/team", "require"),
        ("postgresql://u:pw@db.example.com/team?sslmode=prefer", "require"),
        ("postgresql://u:pw@db.example.com/team?sslmode=verify-full", "verify-full"),
        ("postgresql://u:pw@localhost/team", None),
        ("postgresql://u:pw@127.0.0.1:5433/team?sslmode=disable", "disable"),
        ("postgresql://u:pw@[::1]/team", None),
    ],
)
def test_tls_is_required_unless_the_host_is_local(url, sslmode):
    address = parse_url(url)
    assert address.params.get("sslmode") == sslmode
    for shown in (address.display, address.url, repr(address), str(address)):
        assert "pw" not in shown.replace("postgresql", "")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://u:pw@db.example.com/team?sslmode=disable", "over TLS"),
        ("https://db.example.com/team", "must start with postgresql://"),
        ("", "empty"),
        ("postgresql://u:pw@db.example.com:notaport/team", "invalid port"),
        ("postgresql://u:pw@db.example.com/team?nonsense=1", "not a valid"),
    ],
)
def test_bad_urls_are_refused_in_one_line(url, message):
    with pytest.raises(TeamServerError, match=message) as caught:
        parse_url(url)
    assert "pw" not in str(caught.value).replace("postgresql", "")


# -- kill -9 and resume -----------------------------------------------------------------------


def _flowdesk(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "flowdesk", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )


def _kill_when(process: subprocess.Popen, ready, what: str) -> None:
    deadline = time.monotonic() + 60
    while not ready():
        assert process.poll() is None, f"{what} finished before it could be killed"
        assert time.monotonic() < deadline, f"{what} never committed a batch"
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()


def test_killed_server_and_desktop_syncs_resume_exactly(pg_url, tmp_path, capsys):
    contacts = 3000  # two demo batches of runs: the kill lands after the first
    init_server(parse_url(pg_url))
    args = ("server", "sync", "--pg", pg_url, "--contacts", str(contacts), "--seed", str(SEED))
    process = _flowdesk(*args)

    def runs_on_server() -> int:
        with psycopg.connect(pg_url) as conn:
            return conn.execute(f"SELECT count(*) FROM {SCHEMA}.runs").fetchone()[0]

    def indexes() -> set[str]:
        with psycopg.connect(pg_url) as conn:
            rows = conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = %s", [SCHEMA])
            return {row[0] for row in rows}

    everything = indexes()
    _kill_when(process, lambda: runs_on_server() > 0, "the server sync")
    partial = runs_on_server()
    assert 0 < partial < contacts, "the kill landed mid-sync"
    # The first sync into an empty server builds the big tables' indexes at its end only.
    assert everything - indexes() == set(BULK_INDEXES)

    # A desktop syncs the partial server, then the rest once the server sync has resumed:
    # nothing it already had is sent again, and it ends equal to a local demo.
    early = tmp_path / "early.db"
    assert _desktop_sync(early, pg_url).stats["team_runs"] == partial
    assert _flowdesk(*args).wait() == 0
    assert indexes() == everything
    later = _desktop_sync(early, pg_url)
    with psycopg.connect(pg_url) as conn:
        total = conn.execute(f"SELECT count(*) FROM {SCHEMA}.runs").fetchone()[0]
    assert later.stats["team_runs"] == total - partial
    local = connect(tmp_path / "local.db")
    SyncEngine(local).run(DemoSource(seed=SEED, contacts=contacts))
    assert _stats(early) == [flow_stats(local, flow) for flow in list_flows(local)]
    local.conn.close()

    # A desktop sync killed mid-way resumes to exactly the cache of an uninterrupted one.
    sync = ("sync", "--source", "team", "--pg", pg_url)
    whole = tmp_path / "whole.db"
    assert _cli(capsys, *sync, "--db", str(whole))[0] == 0
    crashed = tmp_path / "crashed.db"
    env = {"FLOWDESK_TEAM_BATCH": "400"}
    process = _flowdesk(*sync, "--db", str(crashed), env=env)

    def runs_in_cache() -> int:
        try:
            with sqlite3.connect(f"file:{crashed}?mode=ro", uri=True, timeout=1) as conn:
                return conn.execute("SELECT count(*) FROM runs").fetchone()[0]
        except sqlite3.Error:
            return 0

    _kill_when(process, lambda: runs_in_cache() > 0, "the desktop sync")
    assert 0 < runs_in_cache() < total
    assert _flowdesk(*sync, "--db", str(crashed), env=env).wait() == 0
    assert cache_content_at(crashed) == cache_content_at(whole)
    assert _stats(whole) == _stats(early)
