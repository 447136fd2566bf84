"""Upstream requests: one team server against K desktops each syncing the account themselves.

``python -m benchmarks.team_requests [--runs 200] [--desktops 20] [--cycles 3] [--every 5]``

A fake ActiveCampaign account (tests/fake_ac_server.py, ``--runs`` contact runs: a scaled-down
account) counts every request it answers. Then, in fresh processes:

* one ``flowdesk server sync --every <seconds>`` runs its first sync and ``--cycles`` more;
* K desktops each run ``flowdesk sync --source activecampaign`` once and ``--cycles`` more times,
  all K at once per cycle (as K agents' apps on one schedule would).

Reported: requests of a first sync and of each later sync, for the server and for all K desktops,
and what that makes per hour at a 5-minute interval. The account does not change between syncs
here, so a later sync's requests are the floor every sync pays (listings, plus the runs still
active, which ActiveCampaign only shows by reading them again); changes upstream add the same
requests to the server's sync as to each desktop's.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PRODUCTION_INTERVAL = 300  # seconds: --every 5m


def _flowdesk(*args: str) -> list[str]:
    return [sys.executable, "-m", "flowdesk", *args]


def _requests_between(log: list[tuple[float, str, int]], start: float, end: float) -> int:
    return sum(1 for moment, _, _ in log if start <= moment < end)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.team_requests")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--desktops", type=int, default=20)
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--every", type=float, default=5.0, help="seconds between server syncs")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.fake_ac_server import TOKEN, FakeAccount, FakeACServer
    from tests.pg_server import running_server

    env = {**os.environ, "FLOWDESK_AC_TOKEN": TOKEN, "FLOWDESK_AC_RATE": "1000"}
    k, cycles = args.desktops, args.cycles
    with (
        tempfile.TemporaryDirectory(prefix="flowdesk-team-requests-") as folder,
        FakeACServer(FakeAccount(seed=11, runs=args.runs), lifetime=3600) as upstream,
        running_server() as pg,
    ):
        work = Path(folder)
        print(
            f"upstream requests: a fake account of {len(upstream.account.runs):,} runs,"
            f" {k} desktops, {cycles} syncs after the first; load {os.getloadavg()}",
            flush=True,
        )
        url = pg.url(pg.create_database("requests"))
        subprocess.run(_flowdesk("server", "init", "--pg", url), check=True, capture_output=True)

        # One server, syncing every few seconds; each sync ends with a summary line.
        ends: list[float] = []
        started = time.monotonic()
        server = subprocess.Popen(
            _flowdesk(
                "server", "sync", "--pg", url, "--source", "activecampaign",
                "--url", upstream.base_url, "--every", f"{args.every}s",
            ),
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            env=env,
            text=True,
        )  # fmt: skip

        def watch() -> None:
            assert server.stderr is not None
            for line in server.stderr:
                if " completed: " in line or " failed" in line:
                    ends.append(time.monotonic())

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            while len(ends) < cycles + 1:
                if server.poll() is not None:
                    raise RuntimeError("the server sync stopped")
                time.sleep(0.1)
        finally:
            server.terminate()
            server.wait()
        log = list(upstream.log)
        bounds = [started, *ends]
        server_counts = [
            _requests_between(log, bounds[i], bounds[i + 1]) for i in range(cycles + 1)
        ]
        upstream.settle()

        # K desktops, all at once, cycle after cycle.
        desktop_counts = []
        for cycle in range(cycles + 1):
            first = () if cycle else ("--source", "activecampaign", "--url", upstream.base_url)
            start = time.monotonic()
            processes = [
                subprocess.Popen(
                    _flowdesk("sync", "--db", str(work / f"d{i}.db"), *first),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    env=env,
                )
                for i in range(k)
            ]
            if any(process.wait() != 0 for process in processes):
                raise RuntimeError("a desktop sync failed")
            upstream.settle()
            desktop_counts.append(_requests_between(list(upstream.log), start, time.monotonic()))

    later_server = sum(server_counts[1:]) / cycles
    later_desktops = sum(desktop_counts[1:]) / cycles
    per_hour = 3600 / PRODUCTION_INTERVAL
    print(f"server, first sync:         {server_counts[0]:8,} requests")
    print(f"server, each later sync:    {later_server:8,.0f} requests  ({server_counts[1:]})")
    print(f"{k} desktops, first sync:    {desktop_counts[0]:8,} requests")
    print(f"{k} desktops, each later:    {later_desktops:8,.0f} requests  ({desktop_counts[1:]})")
    print(
        f"per hour at --every 5m (12 syncs): server {later_server * per_hour:,.0f},"
        f" {k} desktops {later_desktops * per_hour:,.0f}"
        f" (×{later_desktops / max(later_server, 1):.1f}); the account allows 18,000 (5/s)"
    )
    print(f"load {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
