"""Opening the cache: one connection per thread, WAL mode, schema brought up to date.

A file is looked at read-only before anything is written to it: only an empty file, an empty
SQLite database or a Flowdesk cache is ever opened for writing, so a foreign SQLite file (another
program's tables, even one with its own ``meta`` table) is never modified. Read-only opens
(``stats``, ``check``, ``export``, ``doctor``) never migrate, never change the journal mode and
work on a read-only file or drive.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlite_utils

from flowdesk.core import insights
from flowdesk.core.errors import UserError
from flowdesk.core.schema import MIGRATIONS, SCHEMA_VERSION

SQLITE_HEADER = b"SQLite format 3\x00"
_NULL_VALUE = re.compile(r"NULL value in (\w+)\.(\w+)\Z")
# Tables every Flowdesk cache has had since schema 1: what tells a cache from a foreign file.
CACHE_TABLES = frozenset({"meta", "flows", "runs", "syncs"})
# Per-connection settings; none of them changes the file.
CONNECTION_PRAGMAS = [
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=OFF",
    "PRAGMA cache_size=-65536",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA mmap_size=268435456",
]
# While a first sync fills an empty cache, SQLite copies the WAL back into the file only every
# this many pages (400 MB) instead of every 1,000 (its default): a bulk build rewrites the same
# hot pages (the tails of the tables, the counters) batch after batch, and each checkpoint
# wrote them again and waited for the disk. Measured at 300k runs: 156 s -> 75 s.
BULK_WAL_AUTOCHECKPOINT = 100_000
WHAT_TO_DO_WHEN_DAMAGED = (
    "sync into a new cache file (another --db) and keep this one as it is for support"
)


class CacheError(UserError):
    """A cache file that cannot be used; the message is meant for the user."""


class SyncRunning(CacheError):
    """Another sync holds the cache's sync lock."""


@contextlib.contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """One transaction that takes the write lock at its start (``BEGIN IMMEDIATE``): what it
    reads cannot change under it before it commits; rolled back on any error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


@contextlib.contextmanager
def bulk_checkpoints(conn: sqlite3.Connection) -> Iterator[None]:
    """Checkpoint rarely while a bulk build writes; afterwards go back to the usual interval and
    copy the WAL into the file, truncating it when no reader is in the way (else the next
    checkpoint does)."""
    usual = int(conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
    conn.execute(f"PRAGMA wal_autocheckpoint={BULK_WAL_AUTOCHECKPOINT}")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA wal_autocheckpoint={usual}")
        # A reader in the middle of a long query may hold on to the old WAL: wait a moment for
        # it, not the connection's usual 30 s.
        timeout = int(conn.execute("PRAGMA busy_timeout").fetchone()[0])
        conn.execute("PRAGMA busy_timeout=1000")
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        finally:
            conn.execute(f"PRAGMA busy_timeout={timeout}")


def connect(
    path: str | Path, *, create: bool = True, readonly: bool = False
) -> sqlite_utils.Database:
    """Open (and, unless ``readonly``, migrate) a cache file.

    Every thread that touches the cache opens its own connection through here: SQLite
    connections must not be shared across threads, and WAL lets readers see a consistent snapshot
    while the sync engine writes. Raises :class:`CacheError` (one line) for a missing file (with
    ``create=False`` or ``readonly``), a folder, a file that is not a Flowdesk cache, a cache of a
    newer Flowdesk, or a damaged one.
    """
    if str(path) == ":memory:":
        conn = sqlite3.connect(":memory:", check_same_thread=False)
        db = sqlite_utils.Database(conn)
        migrate(db)
        return db
    path = Path(path)
    if path.is_dir():
        raise CacheError(f"{path} is a folder, not a cache file")
    if not path.exists() and (readonly or not create):
        raise CacheError(f"no cache at {path}")
    if readonly:
        return _open_readonly(path)
    version = inspect(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
        for pragma in CONNECTION_PRAGMAS:
            conn.execute(pragma)
        conn.execute("PRAGMA journal_mode=WAL")
        db = sqlite_utils.Database(conn)
        if version < SCHEMA_VERSION:
            migrate(db)
    except OSError as exc:
        raise CacheError(f"cannot create {path}: {exc.strerror or exc}") from None
    except sqlite3.Error as exc:
        raise explain(exc, path) from None
    return db


def inspect(path: Path) -> int:
    """The schema version of the cache at ``path`` (0: absent, empty, or a new SQLite file),
    looked at read-only. Raises :class:`CacheError` for anything that must not be written."""
    if not path.exists() or path.stat().st_size == 0:
        return 0
    # Only SQLite opens the file: closing any other descriptor of it would drop the POSIX
    # locks this process's connections hold, and let another process delete the WAL under
    # them (https://sqlite.org/howtocorrupt.html#_posix_advisory_locks_canceled_by_a_separate_thread_doing_close_).
    try:
        conn = _readonly_connection(path)
    except sqlite3.Error as exc:
        raise explain(exc, path) from None
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    except sqlite3.Error as exc:
        raise explain(exc, path) from None
    finally:
        conn.close()
    if not tables and version == 0:
        return 0
    if version < 1 or not tables >= CACHE_TABLES:
        raise CacheError(
            f"{path} is another program's SQLite file, not a Flowdesk cache; nothing was changed"
        )
    if version > SCHEMA_VERSION:
        raise CacheError(
            f"this cache was written by a newer Flowdesk (schema {version} > {SCHEMA_VERSION})"
        )
    return version


def _readonly_connection(path: Path) -> sqlite3.Connection:
    """A connection that cannot write; on a read-only drive (no ``-shm`` can be made) the file
    is read as immutable."""
    uri = path.resolve().as_uri()
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=30, check_same_thread=False)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:  # not NOTADB nor CORRUPT: those are DatabaseErrors
        conn.close()
        conn = sqlite3.connect(f"{uri}?immutable=1", uri=True, check_same_thread=False)
    return conn


def _open_readonly(path: Path) -> sqlite_utils.Database:
    version = inspect(path)
    if version == 0:
        raise CacheError(f"{path} is empty: not a Flowdesk cache yet")
    if version != SCHEMA_VERSION:
        raise CacheError(
            f"{path} was written by an older Flowdesk (schema {version}); sync it once to "
            "bring it up to date"
        )
    conn = _readonly_connection(path)
    for pragma in CONNECTION_PRAGMAS:
        conn.execute(pragma)
    return sqlite_utils.Database(conn)


def schema_version(db: sqlite_utils.Database) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite_utils.Database) -> int:
    """Apply pending migrations, each in its own transaction. Returns the new version."""
    current = schema_version(db)
    if current > SCHEMA_VERSION:
        raise CacheError(
            f"this cache was written by a newer Flowdesk (schema {current} > {SCHEMA_VERSION})"
        )
    conn = db.conn
    for number in range(current, SCHEMA_VERSION):
        with conn:
            for step in MIGRATIONS[number]:
                if callable(step):
                    step(conn)
                else:
                    conn.execute(step)
            if get_meta(db, "insights_rebuild"):
                # A cache that held runs before the per-step counters existed: fill them from
                # its runs in the same transaction, so no cache is left half-upgraded.
                insights.rebuild(db)
                conn.execute("DELETE FROM meta WHERE key = 'insights_rebuild'")
            conn.execute(f"PRAGMA user_version = {number + 1}")
    return SCHEMA_VERSION


def quick_check(db: Any) -> list[str]:
    """What SQLite finds wrong with the file's pages and indexes (empty: the file is sound).

    SQLite 3.40 reports "NULL value in T.C" for NOT NULL columns of some WITHOUT ROWID tables
    (``transitions``) that hold no NULL at all; such a report is kept only when a scan finds
    one.
    """
    try:
        rows = [row[0] for row in db.execute("PRAGMA quick_check").fetchall()]
        if rows == ["ok"]:
            return []
        nulls: dict[tuple[str, str], bool] = {}
        problems = []
        for row in rows:
            found = _NULL_VALUE.match(row)
            if found:
                key = (found[1], found[2])
                if key not in nulls:
                    nulls[key] = bool(
                        db.execute(
                            f'SELECT EXISTS (SELECT 1 FROM "{key[0]}" '
                            f"WHERE typeof(\"{key[1]}\") = 'null')"
                        ).fetchone()[0]
                    )
                if not nulls[key]:
                    continue
            problems.append(row)
        return problems
    except sqlite3.DatabaseError as exc:
        return [str(exc)]


def damaged(path: Any, problems: list[str]) -> CacheError:
    first = problems[0] if problems else "unreadable pages"
    more = f" and {len(problems) - 1} more problems" if len(problems) > 1 else ""
    return CacheError(f"{path} is damaged ({first}{more}): {WHAT_TO_DO_WHEN_DAMAGED}")


def explain(exc: BaseException, path: Any) -> CacheError:
    """One line for an SQLite failure on the cache at ``path`` (what happened, what to do).

    A failed write can leave SQLite without a transaction, so the rollback that follows fails
    too ("cannot rollback"); the first failure, kept as the exception's context, is the one
    explained.
    """
    cause = root_cause(exc)
    name = getattr(cause, "sqlite_errorname", "") or ""
    text = str(cause)
    if name == "SQLITE_NOTADB" or "file is not a database" in text:
        return CacheError(
            f"{path} is not a Flowdesk cache (not an SQLite file); nothing was changed"
        )
    if name.startswith("SQLITE_CORRUPT") or "malformed" in text:
        return damaged(path, [text])
    if name.startswith("SQLITE_FULL") or "disk is full" in text:
        return _disk_full(path)
    if name.startswith("SQLITE_READONLY") or "readonly database" in text:
        return CacheError(f"{path} cannot be written (a read-only file, folder or drive)")
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        return CacheError(f"{path} is busy in another Flowdesk; try again when it has finished")
    if name.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
        return CacheError(f"cannot open {path} (check the folder exists and can be written)")
    if name.startswith("SQLITE_IOERR") or "disk I/O error" in text:
        if _nearly_full(path):  # SQLite says "I/O error" when it cannot grow its -shm file
            return _disk_full(path)
        return CacheError(f"the drive holding {path} failed to read or write ({text})")
    return CacheError(f"cannot use {path}: {text}")


def failure_message(exc: BaseException, db: Any) -> str:
    """What to tell the user about a failed sync: the source's own words, or for a cache the
    disk or SQLite could not serve, what happened to the file and what to do."""
    if is_cache_failure(exc):
        return str(explain(exc, file_of(db) or "the cache"))
    return str(exc) or exc.__class__.__name__


def _disk_full(path: Any) -> CacheError:
    return CacheError(
        f"the disk holding {path} is full: free some space and sync again "
        "(what was synced so far is kept)"
    )


def _nearly_full(path: Any) -> bool:
    try:
        return shutil.disk_usage(Path(str(path)).resolve().parent).free < 1 << 20
    except (OSError, ValueError):
        return False


def is_cache_failure(exc: BaseException) -> bool:
    """Whether an SQLite error is about the file or the drive (damage, full, read-only, busy)
    rather than a bug in a query."""
    cause = root_cause(exc)
    if not isinstance(cause, sqlite3.Error):
        return False
    name = getattr(cause, "sqlite_errorname", "") or ""
    if name.startswith(
        (
            "SQLITE_CORRUPT",
            "SQLITE_NOTADB",
            "SQLITE_FULL",
            "SQLITE_READONLY",
            "SQLITE_BUSY",
            "SQLITE_LOCKED",
            "SQLITE_CANTOPEN",
            "SQLITE_IOERR",
        )
    ):
        return True
    text = str(cause)
    return any(
        marker in text
        for marker in ("malformed", "disk is full", "readonly database", "not a database")
    )


def root_cause(exc: BaseException) -> BaseException:
    """The first SQLite error of a chain ending in "cannot rollback"."""
    seen = exc
    while (
        isinstance(seen, sqlite3.Error)
        and "cannot rollback" in str(seen)
        and isinstance(seen.__context__, sqlite3.Error)
    ):
        seen = seen.__context__
    return seen


def file_of(db: Any) -> str | None:
    """The file behind an open cache (None for an in-memory one)."""
    row = db.execute("PRAGMA database_list").fetchone()
    return row[2] if row and row[2] else None


@contextlib.contextmanager
def sync_lock(db: Any) -> Iterator[None]:
    """Hold the cache's sync lock: one sync (CLI, app or import) writes a cache at a time.

    SQLite would let two syncs interleave their batches (and trip over each other's rows), so
    a second one is refused at once. The lock is an OS lock on ``<cache>-lock`` beside the
    file: the OS releases it when the holder exits, even on kill -9, so it never goes stale.
    """
    path = file_of(db)
    if path is None:
        yield
        return
    try:
        handle = open(f"{path}-lock", "a+b")  # noqa: SIM115 - held for the whole sync
    except OSError as exc:
        raise CacheError(f"cannot sync {path}: {exc.strerror or exc}") from None
    try:
        if not _try_lock(handle.fileno()):
            raise SyncRunning(f"another sync is running on {path}; wait for it to finish")
        yield
    finally:
        handle.close()  # closing the file releases the lock


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def get_meta(db: sqlite_utils.Database, key: str, default: Any = None) -> Any:
    row = db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return default if row is None else json.loads(row[0])


def set_meta(db: sqlite_utils.Database, key: str, value: Any) -> None:
    """Write a meta value; callers decide the transaction."""
    db.conn.execute(
        "INSERT INTO meta(key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [key, json.dumps(value)],
    )
