"""Demo workspaces of a given size, built once and cached by seed, size and schema.

A cached file is only reused when the cache schema (``MIGRATIONS``) and :data:`BUILD` are the
ones it was built with, so a schema or index change rebuilds it instead of measuring stale data.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

from benchmarks.common import CACHE, log

# Bump when what the sync engine stores changes without a schema change.
BUILD = 1
SEED = 1


def schema_tag() -> str:
    from flowdesk.core.schema import MIGRATIONS

    text = json.dumps(MIGRATIONS, default=lambda step: step.__qualname__) + f"/build{BUILD}"
    return hashlib.sha1(text.encode()).hexdigest()[:10]


def workspace_path(runs: int, seed: int = SEED) -> Path:
    return CACHE / f"demo-s{seed}-n{runs}-{schema_tag()}.db"


def remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", ".json"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def checkpoint(path: Path) -> None:
    """Fold the WAL into the main file so one file is the whole workspace."""
    conn = sqlite3.connect(str(path))
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def build(path: Path, runs: int, seed: int = SEED) -> dict[str, Any]:
    """Build a demo workspace of about ``runs`` runs at ``path`` (replacing what is there)."""
    from flowdesk.core.db import connect, set_meta
    from flowdesk.core.demo import DemoSource
    from flowdesk.core.sync import SyncEngine

    remove_db(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = connect(path)
    with db.conn:
        set_meta(db, "demo", {"seed": seed, "contacts": runs})
    started = time.perf_counter()
    last = [0.0]

    def progress(p) -> None:  # noqa: ANN001
        now = time.perf_counter()
        if now - last[0] > 15:
            last[0] = now
            log(f"    … {p.done:,}/{p.total or 0:,} ({now - started:.0f} s)")

    report = SyncEngine(db).run(DemoSource(seed=seed, contacts=runs), progress=progress)
    if report.outcome != "completed":
        raise RuntimeError(f"demo build failed: {report.message}")
    seconds = time.perf_counter() - started
    counts = {
        "runs": db.execute("SELECT count(*) FROM runs").fetchone()[0],
        "path_rows": db.execute("SELECT count(*) FROM run_steps").fetchone()[0],
    }
    db.conn.close()
    checkpoint(path)
    info = {"seed": seed, "contacts": runs, "build_seconds": round(seconds, 1), **counts}
    return info


def workspace(runs: int, seed: int = SEED) -> tuple[Path, dict[str, Any]]:
    """The cached workspace of ``runs`` runs, built first if missing. Returns (path, info)."""
    path = workspace_path(runs, seed)
    meta = Path(str(path) + ".json")
    if path.exists() and meta.exists():
        return path, json.loads(meta.read_text())
    for stale in CACHE.glob(f"demo-s{seed}-n{runs}-*.db"):
        if stale != path:
            remove_db(stale)
    log(f"  building the {runs:,}-run demo workspace (cached in {CACHE.name}/ afterwards)…")
    temp = path.with_suffix(".building")
    info = build(temp, runs, seed)
    for suffix in ("-wal", "-shm"):
        Path(str(temp) + suffix).unlink(missing_ok=True)
    temp.replace(path)
    meta.write_text(json.dumps(info))
    log(
        f"  built in {info['build_seconds']:.0f} s: {info['runs']:,} runs,"
        f" {info['path_rows']:,} path rows"
    )
    return path, info


def copy_workspace(path: Path, dest: Path) -> Path:
    """A private, writable copy (for benchmarks that sync into the cache)."""
    remove_db(dest)
    checkpoint(path)
    shutil.copyfile(path, dest)
    return dest
