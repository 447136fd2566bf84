"""Hostile files and abused caches: nothing is lost or overwritten, and every failure is one
line (exit status 2), never a traceback. Cases from the adversarial round (issue 18)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from flowdesk.cli import main
from flowdesk.core import db as db_module
from flowdesk.core.db import connect, sync_lock
from flowdesk.core.export.naming import safe_file_stem

FLOW = "Appointment reminders"


@pytest.fixture
def demo(demo_db_path) -> Path:
    """A private copy of the session's demo workspace (tests/conftest.py), by its path."""
    return demo_db_path


def foreign_file(path: Path, with_meta: bool) -> Path:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.execute("INSERT INTO notes VALUES ('mine')")
    if with_meta:
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        conn.execute("INSERT INTO meta VALUES ('source', '{}')")
    conn.commit()
    conn.close()
    return path


def files_of(folder: Path) -> dict[str, bytes]:
    """Every file's bytes, but for what any reader of a WAL cache may create and which holds no
    data: SQLite's shared-memory index (``-shm``) and an empty ``-wal``."""
    return {
        p.name: p.read_bytes()
        for p in sorted(folder.iterdir())
        if p.is_file()
        and not p.name.endswith("-shm")
        and not (p.name.endswith("-wal") and p.stat().st_size == 0)
    }


def one_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("flowdesk: ")
    return err[0]


# -- 1. an export never replaces a database --------------------------------------------------


@pytest.mark.parametrize("target", ["demo.db", "demo.db-wal", "other.db"])
def test_export_refuses_to_write_over_a_database(demo, capsys, target):
    shutil.copy(demo, demo.parent / "other.db")
    (demo.parent / "demo.db-wal").write_bytes(b"")
    before = files_of(demo.parent)
    args = ["export", "--db", str(demo), "--flow", FLOW, "--format", "csv"]
    assert main([*args, "--output", str(demo.parent / target)]) == 2
    line = one_line(capsys)
    assert "choose another file name" in line.lower()
    assert files_of(demo.parent) == before


# -- 2. demo only builds on nothing, or rebuilds a demo when told ------------------------------


def test_demo_refuses_what_is_not_its_own(demo, tmp_path, capsys):
    text = tmp_path / "notes.txt"
    text.write_text("keep me")
    folder = tmp_path / "folder"
    folder.mkdir()
    imported = tmp_path / "imported.db"
    csv = tmp_path / "r.csv"
    csv.write_text("Phone,Status,Entered\n+15550000001,Completed,2026-11-01T10:00:00Z\n")
    assert main(["import", "--db", str(imported), str(csv)]) == 0
    foreign = foreign_file(tmp_path / "foreign.db", with_meta=True)
    capsys.readouterr()
    before = files_of(tmp_path)
    for path, words in (
        (text, "not an SQLite file"),
        (folder, "is a folder"),
        (imported, "CSV import"),
        (foreign, "another program's"),
        (demo, "--replace"),
    ):
        assert main(["demo", "--db", str(path), "--contacts", "20"]) == 2
        assert words in one_line(capsys)
    assert files_of(tmp_path) == before


def test_demo_builds_on_nothing_and_rebuilds_with_replace(demo, demo_template, tmp_path):
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    for path in (tmp_path / "new.db", empty):
        assert main(["demo", "--db", str(path), "--contacts", "20"]) == 0
    assert main(["demo", "--db", str(demo), "--contacts", "20", "--replace"]) == 0

    def runs(path: Path) -> int:
        conn = sqlite3.connect(path)
        try:
            return conn.execute("SELECT count(*) FROM runs").fetchone()[0]
        finally:
            conn.close()

    assert runs(demo) == runs(empty) == runs(tmp_path / "new.db") < runs(demo_template)


# -- 3. a foreign SQLite file is never modified; reading never migrates ------------------------


@pytest.mark.parametrize("with_meta", [False, True])
@pytest.mark.parametrize(
    "command",
    [
        ["stats"],
        ["check"],
        ["sync"],
        ["sync", "--source", "demo"],
        ["export", "--flow", FLOW, "--format", "csv", "--output", "out.csv"],
    ],
)
def test_a_foreign_sqlite_file_is_never_modified(tmp_path, capsys, command, with_meta):
    path = foreign_file(tmp_path / "theirs.db", with_meta)
    before = files_of(tmp_path)
    os.chdir(tmp_path)
    assert main([command[0], "--db", str(path), *command[1:]]) == 2
    assert "not a Flowdesk cache" in one_line(capsys)
    assert files_of(tmp_path) == before


def test_reading_commands_change_neither_schema_nor_journal_mode(demo, tmp_path, capsys):
    conn = sqlite3.connect(demo)
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.close()
    before = files_of(tmp_path)
    assert main(["stats", "--db", str(demo), "--json"]) == 0
    assert main(["check", "--db", str(demo)]) == 0
    out = tmp_path / "out"
    out.mkdir()
    assert main(["export", "--db", str(demo), "--flow", FLOW, "--output", str(out / "x.csv")]) == 0
    assert main(["doctor", "--db", str(demo)]) == 0
    assert files_of(tmp_path) == before
    conn = sqlite3.connect(demo)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()


# -- 15. damaged pages are found by check and doctor -----------------------------------------


def overwrite_pages(path: Path, count: int = 4) -> None:
    conn = sqlite3.connect(path)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()
    with path.open("r+b") as handle:
        for page in range(pages // 2, pages // 2 + count):
            handle.seek(page * page_size)
            handle.write(bytes([0x5A]) * page_size)


def test_check_and_doctor_find_overwritten_pages(demo, capsys):
    overwrite_pages(demo)
    before = demo.read_bytes()
    assert main(["check", "--db", str(demo)]) == 2
    line = one_line(capsys)
    assert "is damaged" in line and "new cache file" in line
    assert main(["doctor", "--db", str(demo)]) == 1
    out = capsys.readouterr().out
    assert "FAIL  cache:" in out and "is damaged" in out
    assert demo.read_bytes() == before  # the damaged file is kept as it is


def test_a_sound_cache_passes_the_page_check(demo, capsys):
    assert main(["check", "--db", str(demo)]) == 0
    assert "Maintained counters: exact." in capsys.readouterr().out


# -- 16. one line instead of a traceback -----------------------------------------------------


def test_sync_on_a_damaged_newer_or_folder_cache_is_one_line(demo, tmp_path, capsys):
    damaged = tmp_path / "damaged.db"
    shutil.copy(demo, damaged)
    overwrite_pages(damaged, 40)
    newer = tmp_path / "newer.db"
    shutil.copy(demo, newer)
    conn = sqlite3.connect(newer)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    folder = tmp_path / "folder.db"
    folder.mkdir()
    for path, words in (
        (damaged, "damaged"),
        (newer, "newer Flowdesk"),
        (folder, "is a folder"),
    ):
        assert main(["sync", "--db", str(path)]) == 2, path
        assert words in one_line(capsys)


def test_a_full_disk_during_a_sync_is_one_line_with_its_cause(demo, monkeypatch, capsys):
    """The disk is "filled" by capping the cache's size (PRAGMA max_page_count) just above
    what it holds: the sync's first new page then fails exactly as on a full disk (SQLITE_FULL)."""
    conn = sqlite3.connect(demo)
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()
    monkeypatch.setattr(
        db_module,
        "CONNECTION_PRAGMAS",
        [*db_module.CONNECTION_PRAGMAS, f"PRAGMA max_page_count={pages}"],
    )
    code = main(["sync", "--db", str(demo)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert "is full: free some space" in err[-1]
    assert "cannot rollback" not in err[-1]


def test_two_syncs_on_one_cache_at_once(demo, capsys):
    holder = connect(demo)
    with sync_lock(holder):
        assert main(["sync", "--db", str(demo)]) == 2
        assert "another sync is running" in one_line(capsys)
    holder.conn.close()
    assert main(["sync", "--db", str(demo)]) == 0


def test_export_names_longer_than_a_file_system_allows(demo, tmp_path, capsys):
    long = tmp_path / ("é" * 130 + ".csv")
    assert main(["export", "--db", str(demo), "--flow", FLOW, "--output", str(long)]) == 2
    assert "too long" in one_line(capsys)
    stem = safe_file_stem("🚀" * 120)
    assert len(f"{stem} - 2026-11-20 143005 (99).xlsx".encode()) <= 255


def test_a_page_size_that_is_not_a_number(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FLOWDESK_AC_TOKEN", "secret-token")
    monkeypatch.setenv("FLOWDESK_AC_PAGE_SIZE", "abc")
    args = ["sync", "--db", str(tmp_path / "ac.db"), "--source", "activecampaign"]
    assert main([*args, "--url", "https://acme.api-us1.com"]) == 2
    line = one_line(capsys)
    assert "FLOWDESK_AC_PAGE_SIZE='abc'" in line and "secret-token" not in line


def test_stats_into_a_closed_pipe_ends_quietly(demo):
    """`flowdesk stats | head -1`: the reader goes away; no traceback, the pipe's status."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "flowdesk", "stats", "--db", str(demo)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert done.stderr == ""
    assert done.returncode == 141


# -- read-only files and drives --------------------------------------------------------------


def _unprivileged() -> list[str] | None:
    """How to run a command as a user the file permissions apply to (root ignores them)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]


@pytest.fixture
def readonly_cache(demo_template):
    prefix = _unprivileged()
    if prefix is None:
        pytest.skip("running as root without setpriv: permissions cannot be tested")
    folder = Path(tempfile.mkdtemp(prefix="flowdesk-ro-"))
    path = folder / "demo.db"
    shutil.copy(demo_template, path)
    path.chmod(0o444)
    folder.chmod(0o555)  # a read-only drive: not even -shm or a lock file can be made
    yield prefix, path
    folder.chmod(0o755)
    shutil.rmtree(folder)


def flowdesk(prefix: list[str], *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HOME": tempfile.gettempdir()}
    return subprocess.run(
        [*prefix, sys.executable, "-m", "flowdesk", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tempfile.gettempdir(),
    )


def test_a_read_only_cache_is_read_but_not_synced(readonly_cache, tmp_path):
    prefix, path = readonly_cache
    before = files_of(path.parent)
    stats = flowdesk(prefix, "stats", "--db", str(path), "--json")
    assert stats.returncode == 0, stats.stderr
    assert FLOW in stats.stdout
    out = Path(tempfile.mkdtemp(prefix="flowdesk-out-"))
    out.chmod(0o777)
    try:
        export = flowdesk(
            prefix,
            "export",
            "--db",
            str(path),
            "--flow",
            FLOW,
            "--format",
            "csv",
            "--output",
            str(out),
        )
        assert export.returncode == 0, export.stderr
    finally:
        shutil.rmtree(out)
    sync = flowdesk(prefix, "sync", "--db", str(path))
    assert sync.returncode == 2
    assert sync.stderr.strip().splitlines()[-1].startswith("flowdesk: ")
    assert "Traceback" not in sync.stderr
    assert files_of(path.parent) == before


def test_opening_a_cache_never_drops_another_connections_locks(tmp_path):
    """Looking at a file before opening it must go through SQLite: a plain open() and close()
    of the cache drops this process's POSIX locks, and a sync in another process then deletes
    the WAL under the open connections (the cache was damaged this way once)."""
    from flowdesk.core.background import run_in_child
    from flowdesk.core.tasks import sync_workspace

    path = tmp_path / "shared.db"
    held = [connect(path), connect(path)]
    with pytest.raises(Exception, match="no source yet"):
        run_in_child(sync_workspace, str(path), None)
    report = run_in_child(sync_workspace, str(path), {"seed": 2, "contacts": 60})
    assert report.outcome == "completed"
    assert held[0].execute("SELECT count(*) FROM flows").fetchone()[0] > 0
    for db in held:
        db.conn.close()
    assert db_module.quick_check(connect(path)) == []
