"""A cache knows which source fills it, and no path (CLI sync, app sync, import, listing) mixes
two sources in one file or forgets what the cache is."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from flowdesk.cli import main
from flowdesk.core import workspace
from flowdesk.core.db import connect
from flowdesk.core.errors import UserError
from flowdesk.core.sync import SyncEngine
from flowdesk.core.tasks import sync_workspace
from tests.fake_ac_server import TOKEN, FakeAccount, FakeACServer


def dump(path: Path) -> list[str]:
    """Everything in the cache, schema and rows, in a stable order."""
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


@pytest.fixture
def server():
    with FakeACServer(FakeAccount(seed=6, runs=12)) as fake:
        yield fake


@pytest.fixture
def ac_cache(tmp_path, server, monkeypatch) -> Path:
    """A cache synced from ActiveCampaign through the command line."""
    path = tmp_path / "acme.db"
    monkeypatch.setenv("FLOWDESK_AC_TOKEN", TOKEN)
    monkeypatch.setenv("FLOWDESK_AC_RATE", "2000")
    args = ["sync", "--db", str(path), "--source", "activecampaign", "--url", server.base_url]
    assert main(args) == 0
    monkeypatch.delenv("FLOWDESK_AC_TOKEN")
    return path


def kind_of(path: Path) -> str | None:
    found = workspace.describe_file(path)
    assert found is not None
    return found.kind


def test_sync_without_source_on_an_account_cache_never_writes_demo_data(ac_cache, capsys):
    """The bug: a later `flowdesk sync --db acme.db` ran the demo into the account's cache."""
    before = dump(ac_cache)
    capsys.readouterr()
    assert main(["sync", "--db", str(ac_cache)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "flowdesk: no API token: set FLOWDESK_AC_TOKEN, or connect the account from the app"
    ]
    assert dump(ac_cache) == before
    assert kind_of(ac_cache) == "activecampaign"


def test_a_later_sync_uses_the_source_the_cache_names(ac_cache, server, monkeypatch, capsys):
    monkeypatch.setenv("FLOWDESK_AC_TOKEN", TOKEN)
    server.clear_log()
    assert main(["sync", "--db", str(ac_cache)]) == 0
    assert "completed:" in capsys.readouterr().err
    assert server.detail_ids() is not None and kind_of(ac_cache) == "activecampaign"


def test_another_source_into_an_account_cache_is_refused(ac_cache, capsys):
    before = dump(ac_cache)
    capsys.readouterr()
    assert main(["sync", "--db", str(ac_cache), "--source", "demo"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "its own cache file" in err[0] and "ActiveCampaign" in err[0]
    assert dump(ac_cache) == before


def test_a_cache_without_a_source_asks_for_one(tmp_path, capsys):
    path = tmp_path / "empty.db"
    connect(path).conn.close()
    assert main(["sync", "--db", str(path)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "flowdesk: this cache has no source yet: create the demo or connect a source"
    ]


def test_the_app_sync_keeps_an_account_cache_an_account_cache(ac_cache, monkeypatch):
    monkeypatch.setenv("FLOWDESK_AC_TOKEN", TOKEN)
    report = sync_workspace(ac_cache, is_cancelled=lambda: False)
    assert report.outcome == "completed", report.message
    assert kind_of(ac_cache) == "activecampaign"
    monkeypatch.delenv("FLOWDESK_AC_TOKEN")
    before = dump(ac_cache)
    with pytest.raises(UserError, match="no API token"):
        sync_workspace(ac_cache, is_cancelled=lambda: False)
    assert dump(ac_cache) == before


def test_the_engine_refuses_to_mix_sources(ac_cache):
    from flowdesk.core.demo import DemoSource

    before = dump(ac_cache)
    db = connect(ac_cache)
    with pytest.raises(UserError, match="its own cache file"):
        SyncEngine(db).run(DemoSource(seed=1, contacts=20))
    db.conn.close()
    assert dump(ac_cache) == before


def test_imports_keep_a_csv_cache_a_csv_cache(tmp_path, capsys):
    csv = tmp_path / "results.csv"
    csv.write_text(
        "Phone,Status,Entered,Step 1\n"
        "+15550000001,Completed,2026-11-01T10:00:00Z,2026-11-01T10:01:00Z\n"
    )
    path = tmp_path / "imported.db"
    assert main(["import", "--db", str(path), str(csv)]) == 0
    assert kind_of(path) == "csv"
    assert main(["import", "--db", str(path), str(csv), "--flow-name", "Again"]) == 0
    assert kind_of(path) == "csv"
    before = dump(path)
    capsys.readouterr()
    assert main(["sync", "--db", str(path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "import the file again" in err[0]
    assert dump(path) == before


def test_listing_a_workspace_reads_it_without_migrating_or_writing(tmp_path, ac_cache):
    # An older cache (schema 1) is listed by its source's name and stays at schema 1.
    old = tmp_path / "old.db"
    conn = sqlite3.connect(old)
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    conn.execute("CREATE TABLE runs (id TEXT)")
    conn.execute(
        'INSERT INTO meta VALUES (\'source\', \'{"kind": "demo", "name": "Demo workspace"}\')'
    )
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    before = old.read_bytes()
    found = workspace.describe_file(old)
    assert found is not None and found.kind == "demo" and found.title("old") == "Demo workspace"
    assert old.read_bytes() == before
    assert sorted(p.name for p in tmp_path.glob("old.db*")) == ["old.db"]

    foreign = tmp_path / "notes.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.commit()
    conn.close()
    before = foreign.read_bytes()
    assert workspace.describe_file(foreign) is None
    assert foreign.read_bytes() == before

    found = workspace.describe_file(ac_cache)
    assert found is not None and found.title("acme").startswith("ActiveCampaign · ")
