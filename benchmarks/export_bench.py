"""Export throughput against bare baselines over the same rows, memory, and GUI latency.

Run:  .venv/bin/python benchmarks/export_bench.py --runs 100000 [--formats csv,xlsx] [--gui]

Without ``--db`` it builds a synthetic cache (one flow, three versions, ~13 step columns, loops,
unicode and formula-like names, ~7.4 path rows per run) with plain ``executemany``, so the
numbers do not depend on the demo generator. With ``--db PATH [--flow ID]`` it measures an
existing cache (e.g. one made by ``flowdesk demo``).

Every measurement reads the same rows, in the same process, one after the other:

* ``read``: the rows alone (``RowSource``: SQL, pivot), nothing written — the shared floor.
* ``csv baseline``: a bare ``csv.writer`` loop over those rows, times formatted with the same
  lookup tables (identical cell values); no formula guard, no progress, no temp file + rename.
* ``csv naive``: the same loop formatting times with ``datetime.isoformat`` (for reference).
* ``xlsx baseline``: a bare openpyxl write-only ``append`` loop over those rows (datetimes) and
  ``save``; no styles, widths, filter or formula guard.
* ``export``: ``flowdesk.core.export.run_export`` as the app runs it.

Ratios are export throughput / baseline throughput, on CPU time (steadier on a shared machine)
and on wall time. RSS is sampled every 50 ms during each measurement.
"""

from __future__ import annotations

import argparse
import csv
import gc
import os
import random
import resource
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flowdesk.core.db import connect  # noqa: E402
from flowdesk.core.export import ExportSpec, RowSource, run_export  # noqa: E402
from flowdesk.core.export.csv_writer import iso_tables  # noqa: E402

STEP_NAMES = [
    "Welcome", "Main menu", "Ask order number", "Invalid number", "Look up order",
    "Order status", "Agent handoff", "Wait 1 hour", "Reminder", "Survey", "Thanks", "Goodbye",
]  # fmt: skip
FIRST = ["José", "Ana", "Zoë", "Łukasz", "Mei", "=SUM(A1)", "Ola", "Søren", "李", "Nnamdi"]
LAST = ["Núñez", "", "Smith", "O'Brien", "García", "Ng", "Müller", "Popescu"]
STATUSES = [("COMPLETED", "completed"), ("EXPIRED", "expired"), ("RUNNING", "ongoing"),
            ("CANCELED", "canceled"), ("FAILED", "failed")]  # fmt: skip


def build_cache(path: Path, runs: int, seed: int = 7) -> None:
    """A synthetic cache of ``runs`` runs in one flow 'fb'."""
    rnd = random.Random(seed)
    db = connect(path)
    conn = db.conn
    t0 = 1_780_000_000
    steps: dict[str, list[int]] = {}
    with conn:
        conn.execute(
            "INSERT INTO flows (id, name, trigger_type, direction, current_version_id)"
            " VALUES ('fb', 'Bench flow', 'OUTBOUND_API', 'outbound', 'v3')"
        )
        key = 1
        layouts = [
            ("v1", STEP_NAMES[:8] + ["Reminder"]),  # a duplicate name inside one version
            ("v2", STEP_NAMES[:10] + ["Old promo"]),
            ("v3", STEP_NAMES),
        ]
        for index, (version, names) in enumerate(layouts):
            conn.execute(
                "INSERT INTO versions (id, flow_id, name, published_at, is_current)"
                " VALUES (?, 'fb', ?, ?, ?)",
                (version, f"Version {index + 1}", t0 + index * 86400, int(version == "v3")),
            )
            steps[version] = []
            for order, name in enumerate(names):
                conn.execute(
                    "INSERT INTO steps (key, id, version_id, flow_id, name, step_type, ordering)"
                    " VALUES (?, ?, ?, 'fb', ?, 'MESSAGE', ?)",
                    (key, f"{version}-s{order}", version, name, order),
                )
                steps[version].append(key)
                key += 1
        for number in range(20):
            conn.execute(
                "INSERT INTO executions (id, flow_id, version_id, name, method, created_on)"
                " VALUES (?, 'fb', 'v3', ?, 'api', ?)",
                (f"e{number}", f"Campaign {number}", t0 + number * 3600),
            )
    run_rows: list[tuple] = []
    step_rows: list[tuple] = []
    key = 1
    while key <= runs:
        for _ in range(min(50_000, runs - key + 1)):
            version = rnd.choice(("v1", "v2", "v3", "v3", "v3"))
            status, metric = rnd.choice(STATUSES)
            entered = t0 + key * 2 + rnd.randrange(60)
            path = steps[version]
            length = rnd.randrange(3, len(path) + 1)
            keys = path[:length]
            if rnd.random() < 0.2 and length > 4:
                keys = keys[:4] + [keys[3], keys[2]] + keys[4:]  # a loop
            moment = entered
            for seq, step_key in enumerate(keys):
                moment += rnd.randrange(1, 3600)
                step_rows.append((key, seq, step_key, "COMPLETED", moment))
            execution = f"e{rnd.randrange(20)}" if version == "v3" and rnd.random() < 0.7 else None
            run_rows.append((
                key, f"r{key}", "fb", version, execution, f"c{key}", f"+52155{key:08d}",
                rnd.choice(FIRST), rnd.choice(LAST), status, metric,
                "External API failed: HTTP 502" if metric == "failed" else "", 0, entered,
                moment, keys[-1], len(keys),
            ))  # fmt: skip
            key += 1
        with conn:
            conn.executemany(
                "INSERT INTO runs (key, id, flow_id, version_id, execution_id, contact_id, phone,"
                " first_name, last_name, status, metric, status_reason, is_test, entered_at,"
                " last_activity, last_step_key, path_length)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                run_rows,
            )
            conn.executemany(
                "INSERT INTO run_steps (run_key, seq, step_key, status, executed_at)"
                " VALUES (?, ?, ?, ?, ?)",
                step_rows,
            )
        run_rows.clear()
        step_rows.clear()
    with conn:
        conn.execute("UPDATE flows SET contacts = (SELECT count(*) FROM runs)")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


# -- measuring --------------------------------------------------------------------------------


def rss_mb() -> tuple[float, float]:
    """(anonymous, file-backed) resident memory in MB. SQLite maps the cache file (mmap) and
    keeps a page cache; the file-backed part is the OS's to reclaim, the anonymous part is the
    heap that must stay flat."""
    values = {}
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(("RssAnon:", "RssFile:")):
                name, amount, _unit = line.split()
                values[name] = int(amount) / 1024
    return values.get("RssAnon:", 0.0), values.get("RssFile:", 0.0)


class Measure:
    def __init__(self, name: str) -> None:
        self.name = name
        self.rows = 0
        self.samples: list[tuple[float, float]] = []

    def __enter__(self) -> Measure:
        gc.collect()
        self._stop = threading.Event()
        self.samples = [rss_mb()]
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()
        self.cpu = time.process_time()
        self.wall = time.perf_counter()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.samples.append(rss_mb())

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu
        self._stop.set()
        self._sampler.join()
        self.samples.append(rss_mb())

    def line(self, base: Measure | None = None) -> str:
        cpu_rate, wall_rate = self.rows / self.cpu, self.rows / self.wall
        text = (
            f"{self.name:<16} {self.rows:>9,} rows  wall {self.wall:7.1f} s {wall_rate:>9,.0f}/s"
            f"  cpu {self.cpu:7.1f} s {cpu_rate:>9,.0f}/s"
            f"  heap {self.samples[0][0]:4.0f}→{max(a for a, _ in self.samples):4.0f} MB"
            f" (mapped file {max(f for _, f in self.samples):4.0f} MB)"
        )
        if base is not None:
            text += (
                f"  ratio cpu {cpu_rate / (base.rows / base.cpu):.2f}"
                f" wall {wall_rate / (base.rows / base.wall):.2f}"
            )
        return text


def rows_of(db_path: Path, spec: ExportSpec):
    """(header, batches) of the export's rows, in a read transaction on a fresh connection."""
    conn = connect(db_path, create=False, readonly=True).conn
    conn.execute("BEGIN")
    source = RowSource(conn, spec)
    return conn, source


def measure_read(db_path: Path, spec: ExportSpec) -> Measure:
    with Measure("read only") as m:
        conn, source = rows_of(db_path, spec)
        for batch in source.batches():
            m.rows += len(batch)
        conn.close()
    return m


def measure_csv_baseline(db_path: Path, spec: ExportSpec, out: Path, naive: bool) -> Measure:
    with Measure("csv naive" if naive else "csv baseline") as m:
        conn, source = rows_of(db_path, spec)
        dates, times = iso_tables()
        from_ts, utc = datetime.fromtimestamp, UTC
        with open(out, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(source.header)
            # The same cells as the export: no Execution cell where the scope has none.
            n = 7 if source.with_execution else 6
            for batch in source.batches():
                # r = (7 text fields, entered, [step times]): flatten, format the times.
                if naive:
                    rows = [
                        [*r[:n], from_ts(r[7], utc).isoformat(),
                         *[None if t is None else from_ts(t, utc).isoformat() for t in r[8]]]
                        for r in batch
                    ]  # fmt: skip
                else:
                    rows = [
                        [*r[:n], dates[r[7] // 86400] + times[r[7] % 86400],
                         *[None if t is None else dates[t // 86400] + times[t % 86400]
                           for t in r[8]]]
                        for r in batch
                    ]  # fmt: skip
                writer.writerows(rows)
                m.rows += len(rows)
        conn.close()
    out.unlink()
    return m


def measure_xlsx_baseline(db_path: Path, spec: ExportSpec, out: Path) -> Measure:
    from openpyxl import Workbook

    with Measure("xlsx baseline") as m:
        conn, source = rows_of(db_path, spec)
        epoch, delta = datetime(1970, 1, 1), timedelta
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("Results")
        sheet.append(source.header)
        n = 7 if source.with_execution else 6  # the same cells as the export
        for batch in source.batches():
            for r in batch:
                sheet.append(
                    [*r[:n], epoch + delta(seconds=r[7]),
                     *[None if t is None else epoch + delta(seconds=t) for t in r[8]]]
                )  # fmt: skip
            m.rows += len(batch)
        workbook.save(out)
        conn.close()
    out.unlink()
    return m


def measure_export(db_path: Path, spec: ExportSpec, out: Path) -> Measure:
    cancel = threading.Event()
    with Measure(f"{spec.format} export") as m:
        result = run_export(db_path, spec, out, lambda done, total: None, cancel.is_set)
        m.rows = result.rows
    m.size = out.stat().st_size
    out.unlink()
    return m


def measure_gui(db_path: Path, spec: ExportSpec, folder: Path) -> str:
    """Event-loop latency on the GUI thread while the app's JobManager runs the export."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from flowdesk.ui.downloads.manager import JobManager
    from flowdesk.ui.tasks import TaskManager

    _app = QApplication.instance() or QApplication([])  # noqa: F841 - must exist for the loop
    tasks = TaskManager(db_path)
    manager = JobManager(tasks, folder=folder)
    lateness: list[float] = []
    clock = QElapsedTimer()
    interval = 10
    timer = QTimer()
    timer.setInterval(interval)
    last = [0]

    worst: list[tuple[float, int]] = []  # (lateness, rows done then)
    job_ref: list[int] = []

    def tick() -> None:
        now = clock.elapsed()
        late = max(0, now - last[0] - interval)
        lateness.append(late)
        last[0] = now
        if late >= 50 and job_ref:
            job = manager.job(job_ref[0])
            worst.append((late, job.rows_done if job else -1))

    timer.timeout.connect(tick)
    loop = QEventLoop()
    manager.jobFinished.connect(lambda _i: loop.quit())
    manager.jobFailed.connect(lambda _i, reason: (print("failed:", reason), loop.quit()))
    clock.start()
    timer.start()
    started = time.perf_counter()
    job_id = manager.start_export(spec)
    job_ref.append(job_id)
    loop.exec()  # a real event loop, as in the app, while the export runs on a pool thread
    timer.stop()
    seconds = time.perf_counter() - started
    job = manager.job(job_id)
    manager.shutdown()
    tasks.shutdown()
    if job.path and os.path.exists(job.path):
        os.remove(job.path)
    lateness.sort()
    p99 = lateness[int(len(lateness) * 0.99)] if lateness else 0.0
    return (
        f"gui {spec.format}: export {seconds:.1f} s on a pool thread; event loop "
        f"{len(lateness):,} ticks of {interval} ms, late by max {max(lateness):.0f} ms, "
        f"p99 {p99:.0f} ms (budget 100 ms)"
        + (
            "; ticks ≥ 50 ms late (ms @ rows done): "
            + ", ".join(f"{late:.0f} @ {rows:,}" for late, rows in sorted(worst)[-5:])
            if worst
            else ""
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000, help="runs in the synthetic cache")
    parser.add_argument("--db", type=Path, help="measure this cache instead of a synthetic one")
    parser.add_argument("--flow", help="flow id (default: the flow with most runs)")
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument("--repeat", type=int, default=1, help="baseline/export pairs per format")
    parser.add_argument("--gui", action="store_true", help="also measure GUI event-loop latency")
    parser.add_argument("--gui-only", action="store_true", help="only the GUI latency part")
    parser.add_argument("--workdir", type=Path, help="where to build the cache and write files")
    args = parser.parse_args(argv)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="flowdesk-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    if args.db:
        db_path = args.db
    else:
        db_path = workdir / f"bench-{args.runs}.db"
        if not db_path.exists():
            started = time.perf_counter()
            build_cache(db_path, args.runs)
            print(f"built {args.runs:,} runs in {time.perf_counter() - started:.0f} s: {db_path}")
    db = connect(db_path, create=False, readonly=True)
    flow = (
        args.flow
        or db.execute(
            "SELECT flow_id FROM runs GROUP BY flow_id ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()[0]
    )
    runs = db.execute("SELECT count(*) FROM runs WHERE flow_id = ?", [flow]).fetchone()[0]
    path_rows = db.execute(
        "SELECT count(*) FROM run_steps p JOIN runs r ON r.key = p.run_key WHERE r.flow_id = ?",
        [flow],
    ).fetchone()[0]
    source = RowSource(db.conn, ExportSpec(flow))
    print(
        f"flow {flow}: {runs:,} runs, {path_rows:,} path rows, {len(source.columns)} step "
        f"columns ({len(source.header)} in all); python {sys.version.split()[0]}, "
        f"{os.cpu_count()} cpus, load {os.getloadavg()[0]:.1f}"
    )
    db.conn.close()

    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    out = workdir / "out"
    out.mkdir(exist_ok=True)
    for fmt in [] if args.gui_only else formats:
        if fmt == formats[0]:
            print(measure_read(db_path, ExportSpec(flow)).line())
        spec = ExportSpec(flow, format=fmt)
        bases, exports = [], []
        for _ in range(args.repeat):  # alternate, so a noisy minute hits both sides
            if fmt == "csv":
                naive = measure_csv_baseline(db_path, spec, out / "naive.csv", naive=True)
                print(naive.line())
                base = measure_csv_baseline(db_path, spec, out / "base.csv", naive=False)
            else:
                base = measure_xlsx_baseline(db_path, spec, out / "base.xlsx")
            print(base.line())
            export = measure_export(db_path, spec, out / f"export.{fmt}")
            print(export.line(base) + f"  ({export.size / 1e6:,.1f} MB file)")
            bases.append(base)
            exports.append(export)
        if args.repeat > 1:
            best_base = min(bases, key=lambda m: m.cpu)
            best_export = min(exports, key=lambda m: m.cpu)
            best_base.name, best_export.name = f"best {fmt} base", f"best {fmt} export"
            print(best_base.line())
            print(best_export.line(best_base))
    if args.gui or args.gui_only:
        for fmt in formats:
            print(measure_gui(db_path, ExportSpec(flow, format=fmt), out))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the whole benchmark process: {peak:,.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
