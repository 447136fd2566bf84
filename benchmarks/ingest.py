"""Ingest: the sync engine building a workspace vs raw ``executemany`` of the same rows.

"The same rows" are the ``runs`` and ``run_steps`` rows the engine ends up storing.

* Engine: ``SyncEngine.run`` over the demo source's first sync into an empty cache — parsing
  the API-shaped records, fingerprints, counters, steps, contacts, and building the deferred
  indexes at the end. The simulator's time to generate the records is excluded (the source is
  wrapped and the time spent inside it subtracted).
* Raw: the engine's resulting ``runs`` and ``run_steps`` rows, read back beforehand (not timed),
  inserted with ``sqlite3.executemany`` into an empty copy of the schema, one transaction per
  2,000 runs like the engine's batches, with the same indexes deferred and built at the end as
  the engine's bulk build defers (``DEFERRED_INDEXES`` less ``SYNC_INDEXES``).

So the ratio isolates the engine's own work — parsing, fingerprints, counters, steps, contacts —
on top of storing the same rows in the same schema the same way.

The raw baseline checkpoints the WAL at SQLite's default interval, as it always has; the engine
checkpoints rarely during a first sync (``db.BULK_WAL_AUTOCHECKPOINT``). The note also gives the
ratio against a raw insert that checkpoints as rarely, so that gain can be told from the rest.

Both rates are (runs + path rows) per second.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from benchmarks.common import CACHE, Figure
from benchmarks.workspaces import SEED, remove_db

CHUNK_RUNS = 2000


class TimedSource:
    """Wraps a source and adds up the time spent producing its batches."""

    def __init__(self, source: Any) -> None:
        self.source = source
        self.kind = source.kind
        self.name = source.name
        self.generation = 0.0
        self.generation_cpu = 0.0

    def batches(self, state, is_cancelled):  # noqa: ANN001, ANN201
        iterator = iter(self.source.batches(state, is_cancelled))
        while True:
            start, cpu = time.perf_counter(), time.process_time()
            try:
                batch = next(iterator)
            except StopIteration:
                return
            finally:
                self.generation += time.perf_counter() - start
                self.generation_cpu += time.process_time() - cpu
            yield batch


def engine_build(path: Path, runs: int, seed: int = SEED) -> tuple[float, float, int, int]:
    """(engine seconds, engine CPU seconds, runs, path rows) of a first sync into an empty
    cache at ``path``."""
    from flowdesk.core.db import connect, set_meta
    from flowdesk.core.demo import DemoSource
    from flowdesk.core.sync import SyncEngine

    remove_db(path)
    db = connect(path)
    with db.conn:
        set_meta(db, "demo", {"seed": seed, "contacts": runs})
    source = TimedSource(DemoSource(seed=seed, contacts=runs))
    start, cpu = time.perf_counter(), time.process_time()
    report = SyncEngine(db).run(source)
    total, total_cpu = time.perf_counter() - start, time.process_time() - cpu
    if report.outcome != "completed":
        raise RuntimeError(report.message)
    n_runs = db.execute("SELECT count(*) FROM runs").fetchone()[0]
    n_steps = db.execute("SELECT count(*) FROM run_steps").fetchone()[0]
    db.conn.close()
    return total - source.generation, total_cpu - source.generation_cpu, n_runs, n_steps


def raw_insert(
    source_path: Path, path: Path, autocheckpoint: int | None = None
) -> tuple[float, float]:
    """(seconds, CPU seconds) to executemany the runs and path rows of ``source_path`` into an
    empty schema (checkpointing every ``autocheckpoint`` pages, default SQLite's interval)."""
    import sqlite3

    from flowdesk.core.db import connect
    from flowdesk.core.schema import DEFERRED_INDEXES, SYNC_INDEXES

    remove_db(path)
    db = connect(path)
    conn = db.conn
    if autocheckpoint is not None:
        conn.execute(f"PRAGMA wal_autocheckpoint={autocheckpoint}")
    deferred = [(name, sql) for name, sql in DEFERRED_INDEXES if name not in SYNC_INDEXES]
    with conn:
        for name, _ in deferred:
            conn.execute(f"DROP INDEX {name}")
    src = sqlite3.connect(str(source_path))
    run_columns = [r[1] for r in src.execute("PRAGMA table_info(runs)")]
    step_columns = [r[1] for r in src.execute("PRAGMA table_info(run_steps)")]
    insert_runs = (
        f"INSERT INTO runs ({', '.join(run_columns)}) VALUES ({', '.join('?' * len(run_columns))})"
    )
    insert_steps = (
        f"INSERT INTO run_steps ({', '.join(step_columns)})"
        f" VALUES ({', '.join('?' * len(step_columns))})"
    )
    top = src.execute("SELECT max(key) FROM runs").fetchone()[0] or 0
    seconds = cpu = 0.0
    for low in range(0, top + 1, CHUNK_RUNS):
        high = low + CHUNK_RUNS - 1
        runs = src.execute("SELECT * FROM runs WHERE key BETWEEN ? AND ?", [low, high]).fetchall()
        steps = src.execute(
            "SELECT * FROM run_steps WHERE run_key BETWEEN ? AND ?", [low, high]
        ).fetchall()
        start, started_cpu = time.perf_counter(), time.process_time()
        with conn:
            conn.executemany(insert_runs, runs)
            conn.executemany(insert_steps, steps)
        seconds += time.perf_counter() - start
        cpu += time.process_time() - started_cpu
    src.close()
    start, started_cpu = time.perf_counter(), time.process_time()
    with conn:
        for _, sql in deferred:
            conn.execute(sql)
    if autocheckpoint is not None:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # as the engine does at its end
    seconds += time.perf_counter() - start
    cpu += time.process_time() - started_cpu
    conn.close()
    return seconds, cpu


def measure(scale: int, repeat: int) -> list[Figure]:
    from flowdesk.core.db import BULK_WAL_AUTOCHECKPOINT

    CACHE.mkdir(parents=True, exist_ok=True)
    engine_db = CACHE / f"ingest-engine-{scale}.db"
    raw_db = CACHE / f"ingest-raw-{scale}.db"
    engine_rates, raw_rates, cpu_ratios, bulk_ratios = [], [], [], []
    try:
        for _ in range(repeat):
            seconds, engine_cpu, runs, steps = engine_build(engine_db, scale)
            rows = runs + steps
            engine_rates.append(rows / seconds)
            raw_seconds, raw_cpu = raw_insert(engine_db, raw_db)
            raw_rates.append(rows / raw_seconds)
            cpu_ratios.append(raw_cpu / engine_cpu)
            bulk_seconds, _ = raw_insert(engine_db, raw_db, BULK_WAL_AUTOCHECKPOINT)
            bulk_ratios.append(bulk_seconds / seconds)
    finally:
        remove_db(engine_db)
        remove_db(raw_db)
    value = statistics.median(engine_rates)
    baseline = statistics.median(raw_rates)
    return [
        Figure(
            "ingest",
            scale,
            value,
            "rows/s",
            baseline,
            note=(
                f"first sync of {runs:,} runs + {steps:,} path rows, generation excluded;"
                f" {repeat} rep(s); on CPU time {statistics.median(cpu_ratios):.2f}×;"
                f" against a raw insert that also checkpoints rarely"
                f" {statistics.median(bulk_ratios):.2f}×"
            ),
            samples=engine_rates,
        )
    ]
