"""Team server: desktops syncing from PostgreSQL vs building the same demo locally.

``python -m benchmarks.team_bench [--runs 100000] [--desktops 4] [--pg URL]``

Without ``--pg`` a temporary PostgreSQL server is started (tests/pg_server.py: initdb + postgres,
durability off, as in the tests). Figures, each against a raw baseline:

* server sync: ``flowdesk server sync`` of the demo's first sync (N runs) into PostgreSQL vs the
  local ``flowdesk demo`` build of the same N runs (both include generating the demo);
* desktop first sync: ``flowdesk sync --source team`` of the whole server into an empty cache vs
  the local demo build (the desktop's alternative: sync the upstream itself);
* incremental: the next server sync (the demo's clock moves six hours: new runs and runs that
  finished) and the desktop sync after it: records fetched vs all runs, and its time vs the
  first sync;
* K desktops at once: K first syncs started together in separate processes, each one's time,
  and the CPU the PostgreSQL server spent serving them.

Sized for the 2-core reference machine: 100k runs by default (1M takes about ten times as long
and 3 GB of PostgreSQL data).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SEED = 1


def _flowdesk(*args: str) -> list[str]:
    return [sys.executable, "-m", "flowdesk", *args]


def _timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


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


def _runs_on_server(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM flowdesk.runs").fetchone()[0]


@contextlib.contextmanager
def _server(url: str | None):
    if url:
        yield url
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.pg_server import running_server

    with running_server() as server:
        yield server.url(server.create_database("bench"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.team_bench")
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--desktops", type=int, default=4)
    parser.add_argument("--pg", help="an empty database to use (default: a temporary server)")
    args = parser.parse_args(argv)
    n = args.runs
    with (
        tempfile.TemporaryDirectory(prefix="flowdesk-team-bench-") as folder,
        _server(args.pg) as url,
    ):
        work = Path(folder)
        print(f"team server benchmark: {n:,} demo runs, {args.desktops} desktops", flush=True)
        local = _timed(_flowdesk("demo", "--db", str(work / "local.db"), "--contacts", str(n)))
        print(f"local demo build:          {local:7.1f} s (baseline)", flush=True)
        subprocess.run(_flowdesk("server", "init", "--pg", url), check=True, capture_output=True)
        server = _timed(
            _flowdesk("server", "sync", "--pg", url, "--contacts", str(n), "--seed", str(SEED))
        )
        total = _runs_on_server(url)
        print(f"server sync (first):       {server:7.1f} s  ×{server / local:.2f} of local")
        sync = ("sync", "--source", "team", "--pg", url)
        first = _timed(_flowdesk(*sync, "--db", str(work / "desk.db")))
        print(f"desktop first sync:        {first:7.1f} s  ×{first / local:.2f} of local")

        changed_before = _changes(url)
        incremental_server = _timed(_flowdesk("server", "sync", "--pg", url))
        changed = _changes(url) - changed_before
        incremental = _timed(_flowdesk(*sync, "--db", str(work / "desk.db")))
        print(
            f"incremental: server {incremental_server:.1f} s, desktop {incremental:.2f} s"
            f" for {changed:,} changed records ({100 * changed / total:.1f}% of {total:,} runs),"
            f" ×{incremental / first:.3f} of the first sync"
        )

        cpu_before = _server_cpu(url)
        start = time.perf_counter()
        processes = [
            (
                time.perf_counter(),
                subprocess.Popen(
                    _flowdesk(*sync, "--db", str(work / f"d{i}.db")),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                ),
            )
            for i in range(args.desktops)
        ]
        times = []
        for began, process in processes:
            if process.wait() != 0:
                raise RuntimeError("a desktop sync failed")
            times.append(time.perf_counter() - began)
        wall = time.perf_counter() - start
        cpu = _server_cpu(url) - cpu_before
        print(
            f"{args.desktops} desktops at once:       {wall:7.1f} s wall; each "
            + ", ".join(f"{t:.1f}" for t in times)
            + f" s; server CPU {cpu:.1f} s ({cpu / args.desktops:.1f} s per desktop)"
        )
    return 0


def _changes(url: str) -> int:
    """Rows given a change number so far (the sequence's position)."""
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT last_value, is_called FROM flowdesk.change_seq").fetchone()
        return int(row[0]) if row[1] else 0


if __name__ == "__main__":
    sys.exit(main())
