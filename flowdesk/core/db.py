"""Opening the cache: one connection per thread, WAL mode, schema brought up to date."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import sqlite_utils

from flowdesk.core.errors import UserError
from flowdesk.core.schema import MIGRATIONS, SCHEMA_VERSION


class CacheError(UserError):
    """A cache file that cannot be used; the message is meant for the user."""


def default_db_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("Flowdesk", "Flowdesk")) / "demo.db"


def connect(
    path: str | Path, *, create: bool = True, readonly: bool = False
) -> sqlite_utils.Database:
    """Open (and migrate) a cache file.

    Every thread that touches the cache opens its own connection through here: SQLite
    connections must not be shared across threads, and WAL lets readers see a consistent snapshot
    while the sync engine writes.
    """
    path = Path(path)
    if str(path) != ":memory:":
        if not path.exists() and not create:
            raise CacheError(f"no cache at {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
    except sqlite3.DatabaseError as exc:
        raise CacheError(f"{path} is not a Flowdesk cache ({exc})") from None
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=OFF")
    conn.execute("PRAGMA cache_size=-65536")
    conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute("PRAGMA mmap_size=268435456")
    db = sqlite_utils.Database(conn)
    if not readonly:
        migrate(db)
    elif schema_version(db) != SCHEMA_VERSION:
        raise CacheError(f"{path} has schema {schema_version(db)}, expected {SCHEMA_VERSION}")
    return db


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
            conn.execute(f"PRAGMA user_version = {number + 1}")
    return SCHEMA_VERSION


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
