"""Team server: desktops syncing from PostgreSQL vs building the same demo locally.

``python -m benchmarks.team_bench [--runs 100000] [--desktops 20] [--first-runs 25000] [--pg URL]``

Without ``--pg`` a temporary PostgreSQL server is started (tests/pg_server.py: initdb + postgres,
durability off, as in the tests). Every step runs in fresh processes; times are wall clock, and
CPU seconds are given too since the reference machine's two cores are shared. Figures, each
against a raw baseline:

* server sync: ``flowdesk server sync`` of the demo's first sync (N runs) into PostgreSQL vs the
  local ``flowdesk demo`` build of the same N runs (both include generating the demo), with the
  writer's CPU and the PostgreSQL server's CPU;
* desktop first sync: ``flowdesk sync --source team`` of the whole server into an empty cache vs
  the local demo build (the desktop's alternative: sync the upstream itself);
* 1 % changed: 1 % of the runs change upstream (their contact's name: the demo's own clock would
  move 4 % of them), the server syncs them, then one desktop syncs: records fetched and its time
  against its first sync;
* K desktops at once, incremental: K copies of the desktop's cache from before that change sync
  it at the same moment, each in its own process: each one's time and the CPU the PostgreSQL
  server spent serving them all;
* K desktops at once, first sync, at a smaller scale (``--first-runs``): K empty caches sync a
  server of that many runs together.

Upstream requests per hour (one server against K desktops) are measured by
``benchmarks.team_requests``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

SEED = 1
CHANGED_SHARE = 0.01


def _flowdesk(*args: str) -> list[str]:
    return [sys.executable, "-m", "flowdesk", *args]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one command in a fresh process."""
    cpu, start = _children_cpu(), time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start, _children_cpu() - cpu


def _server_cpu(url: str) -> float:
    """CPU seconds used so far by the PostgreSQL server: the postmaster and its reaped
    backends (a backend's time is added to the postmaster's children when it exits)."""
    import psycopg

    with psycopg.connect(url) as conn:
        data_dir = conn.execute("SHOW data_directory").fetchone()[0]
    try:
        pid = int(Path(data_dir, "postmaster.pid").read_text().split()[0])
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")  # a server on another machine
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / ticks


def _count(url: str, sql: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        return int(conn.execute(sql).fetchone()[0])


def _changes(url: str) -> int:
    """Rows given a change number so far (the sequence's position)."""
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT last_value, is_called FROM flowdesk.change_seq").fetchone()
        return int(row[0]) if row[1] else 0


@contextlib.contextmanager
def _servers(url: str | None) -> Iterator[Callable[[str], str]]:
    """A factory of empty databases: on the given server, or on a temporary one."""
    if url:
        yield lambda name: url
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.pg_server import running_server

    with running_server() as server:
        yield lambda name: server.url(server.create_database(name))


class _Renamed:
    """1 % of the demo's runs as the API shows them, each with its contact renamed: a change of
    content in exactly those runs, whatever the demo's clock would do. Same kind and settings
    as the demo the server mirrors; the demo's cursor is handed back unchanged."""

    kind = "demo"
    name = "Demo workspace"

    def __init__(self, contacts: int, run_ids: list[str]) -> None:
        from flowdesk.core.demo import DemoSource

        self.demo = DemoSource(seed=SEED, contacts=contacts)
        self.run_ids = run_ids

    def batches(self, state: Any, is_cancelled: Callable[[], bool]) -> Iterator[Any]:
        from flowdesk.core.sources.base import Batch, Record

        tick = int((state.cursor or {}).get("tick", 0))
        records = []
        for run_id in self.run_ids:
            record = self.demo.run_record(run_id, tick)
            if record is not None:
                record["contact"] = {**record["contact"], "first_name": "Renamed"}
                records.append(Record("run", record))
        for start in range(0, len(records), 2000):
            yield Batch(records[start : start + 2000], dict(state.cursor or {}))


def _change_one_percent(url: str, contacts: int) -> tuple[float, int]:
    """Rename the contacts of every hundredth run (by id) through ``server sync``'s writer."""
    import psycopg

    from flowdesk.core.team.connection import parse_url
    from flowdesk.core.team.server import sync_server

    with psycopg.connect(url) as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM flowdesk.runs ORDER BY id")]
    chosen = ids[:: round(1 / CHANGED_SHARE)]
    start = time.perf_counter()
    report = sync_server(
        parse_url(url),
        _Renamed(contacts, chosen),
        {"seed": SEED, "contacts": contacts},
    )
    if report.outcome != "completed":
        raise RuntimeError(report.message)
    return time.perf_counter() - start, report.changed.get("runs", 0)


def _at_once(argvs: list[list[str]], url: str) -> tuple[float, list[float], float]:
    """Start every command together; wall time, each one's time, PostgreSQL's CPU."""
    cpu_before = _server_cpu(url)
    start = time.perf_counter()
    processes = [
        subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for argv in argvs
    ]
    times: dict[int, float] = {}
    while len(times) < len(processes):  # each one's own end, whatever the order they end in
        for index, process in enumerate(processes):
            if index not in times and process.poll() is not None:
                if process.returncode != 0:
                    raise RuntimeError("a desktop sync failed")
                times[index] = time.perf_counter() - start
        time.sleep(0.05)
    wall = time.perf_counter() - start
    return wall, [times[i] for i in range(len(processes))], _server_cpu(url) - cpu_before


def _spread(times: list[float]) -> str:
    ordered = sorted(times)
    return (
        f"fastest {ordered[0]:.1f} s, median {ordered[len(ordered) // 2]:.1f} s, "
        f"slowest {ordered[-1]:.1f} s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.team_bench")
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--desktops", type=int, default=20)
    parser.add_argument(
        "--first-runs", type=int, default=25_000, help="server size for the K first syncs"
    )
    parser.add_argument("--pg", help="an empty database to use (default: a temporary server)")
    parser.add_argument("--skip-local", action="store_true", help="no local demo baseline")
    args = parser.parse_args(argv)
    n, k = args.runs, args.desktops
    say = lambda text: print(text, flush=True)  # noqa: E731
    with (
        tempfile.TemporaryDirectory(prefix="flowdesk-team-bench-") as folder,
        _servers(args.pg) as database,
    ):
        work = Path(folder)
        url = database("bench")
        say(f"team server benchmark: {n:,} demo runs, {k} desktops; load {os.getloadavg()}")
        local = float("nan")
        if not args.skip_local:
            local, cpu = _timed(
                _flowdesk("demo", "--db", str(work / "local.db"), "--contacts", str(n))
            )
            (work / "local.db").unlink()
            say(f"local demo build:           {local:7.1f} s, CPU {cpu:6.1f} s (baseline)")
        subprocess.run(_flowdesk("server", "init", "--pg", url), check=True, capture_output=True)
        server_cpu = _server_cpu(url)
        wall, cpu = _timed(
            _flowdesk("server", "sync", "--pg", url, "--contacts", str(n), "--seed", str(SEED))
        )
        server_cpu = _server_cpu(url) - server_cpu
        total = _count(url, "SELECT count(*) FROM flowdesk.runs")
        say(
            f"server sync (first):        {wall:7.1f} s  ×{wall / local:.2f} of local; CPU:"
            f" writer {cpu:.1f} s + PostgreSQL {server_cpu:.1f} s; {total:,} runs"
        )
        sync = ("sync", "--source", "team", "--pg", url)
        desk = work / "desk.db"
        server_cpu = _server_cpu(url)
        first, cpu = _timed(_flowdesk(*sync, "--db", str(desk)))
        server_cpu = _server_cpu(url) - server_cpu
        say(
            f"desktop first sync:         {first:7.1f} s  ×{first / local:.2f} of local; CPU:"
            f" desktop {cpu:.1f} s, PostgreSQL {server_cpu:.1f} s;"
            f" cache {desk.stat().st_size / 1e6:,.0f} MB"
        )
        copies = [work / f"d{i}.db" for i in range(k)]
        for copy in copies:
            shutil.copyfile(desk, copy)

        before = _changes(url)
        changed_wall, changed = _change_one_percent(url, n)
        assert _changes(url) - before == changed
        incremental, cpu = _timed(_flowdesk(*sync, "--db", str(desk)))
        say(
            f"1% changed: server {changed_wall:.1f} s for {changed:,} runs"
            f" ({100 * changed / total:.2f}% of {total:,}); desktop {incremental:.2f} s"
            f" (CPU {cpu:.1f} s), ×{incremental / first:.3f} of its first sync"
        )
        wall, times, server_cpu = _at_once(
            [_flowdesk(*sync, "--db", str(copy)) for copy in copies], url
        )
        say(
            f"{k} desktops at once, incremental ({changed:,} runs each): {wall:.1f} s wall;"
            f" {_spread(times)}; PostgreSQL CPU {server_cpu:.1f} s"
            f" ({server_cpu / k:.2f} s per desktop)"
        )
        say("  each: " + ", ".join(f"{t:.1f}" for t in times))
        for copy in copies:
            copy.unlink()
        desk.unlink()

        m = args.first_runs
        small = database("bench_first")
        subprocess.run(_flowdesk("server", "init", "--pg", small), check=True, capture_output=True)
        subprocess.run(
            _flowdesk("server", "sync", "--pg", small, "--contacts", str(m), "--seed", str(SEED)),
            check=True,
            capture_output=True,
        )
        alone, _ = _timed(
            _flowdesk("sync", "--source", "team", "--pg", small, "--db", str(work / "one.db"))
        )
        small_runs = _count(small, "SELECT count(*) FROM flowdesk.runs")
        wall, times, server_cpu = _at_once(
            [
                _flowdesk("sync", "--source", "team", "--pg", small, "--db", str(work / f"f{i}.db"))
                for i in range(k)
            ],
            small,
        )
        say(
            f"{k} desktops at once, first sync of {small_runs:,} runs (alone: {alone:.1f} s):"
            f" {wall:.1f} s wall; {_spread(times)}; PostgreSQL CPU {server_cpu:.1f} s"
            f" ({server_cpu / k:.2f} s per desktop)"
        )
        say("  each: " + ", ".join(f"{t:.1f}" for t in times))
        say(f"load {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
