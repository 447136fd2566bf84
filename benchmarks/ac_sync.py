"""ActiveCampaign sync: requests until the report is exact, until every path is read, and of a
later sync with nothing changed, against a large fake account served on the loopback.

``python -m benchmarks.ac_sync [--runs 100000] [--executions 1000] [--active 0.1]
[--outbound 0.5] [--json PATH]``

The account: one outbound flow whose runs belong to ``--executions`` executions (each run picks
one at random), four inbound flows, two versions each, ``--active`` of the runs READY or RUNNING.
The server answers the four endpoints a sync reads (DRF paging, at most 100 a page, the
``flow_execution`` filter) and counts requests; it does not limit the rate, so the syncs run as
fast as the machine allows, and each count is converted to the time it takes at
ActiveCampaign's 5 requests per second, which is what a real account waits.

Figures, each against its raw baseline (what the sync before the two phases made, by its own
formula: execution pages + execution details + run pages + one detail per run, and for a later
sync run pages + one detail per active run):

* ``report``: requests of ``flowdesk sync --report-only`` on an empty cache, against the target
  runs/100 + 2 × executions + 50;
* ``all paths``: requests of a full sync (both phases) on an empty cache;
* ``nothing changed``: requests of the next full sync, nothing changed upstream.

Run it under the shared lock: ``flock /work/notes/heavy.lock .venv/bin/python -m
benchmarks.ac_sync`` (100k runs: a few minutes).
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

TOKEN = "bench-token-1a2b3c"
RATE = 5.0  # ActiveCampaign's requests per second per account
PAGE = 100
BASE = datetime(2026, 1, 1, tzinfo=UTC)
FINAL = ("COMPLETED", "COMPLETED", "COMPLETED", "EXPIRED", "FAILED", "CANCELED")


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Account:
    """The upstream's data, built once; rows and details are rendered on request."""

    flows: dict[str, dict[str, Any]] = field(default_factory=dict)
    versions: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> version object
    steps: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # version -> steps
    executions: dict[str, dict[str, Any]] = field(default_factory=dict)
    runs: list[dict[str, Any]] = field(default_factory=list)  # newest first
    by_execution: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    by_id: dict[str, dict[str, Any]] = field(default_factory=dict)
    counters: dict[str, dict[str, int]] = field(default_factory=dict)  # scope id -> counters


def build_account(runs: int, executions: int, active: float, outbound: float) -> Account:
    rng = random.Random(12)

    def new_id() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    account = Account()
    user = {"id": 1, "email": "ops@example.com", "first_name": "Ops", "last_name": "Team"}
    flow_ids = []
    for index in range(5):
        flow_id = new_id()
        trigger = "OUTBOUND_CAMPAIGN_CSV" if index == 0 else "INBOUND_ANY_MESSAGE"
        account.flows[flow_id] = {"id": flow_id, "name": f"Flow {index}", "trigger_type": trigger}
        flow_ids.append(flow_id)
        for number in (1, 2):
            version_id = new_id()
            account.versions[version_id] = {
                "id": version_id,
                "flow": flow_id,
                "version_name": f"v{number}",
                "version_description": "",
                "published_by": user,
                "created_on": _iso(BASE),
                "is_current_version": number == 2,
            }
            keys = [new_id() for _ in range(4)]
            account.steps[version_id] = [
                {
                    "id": key,
                    "flow_version": version_id,
                    "name": f"Step {position + 1}",
                    "step_type": "MESSAGE" if position else "TEMPLATE",
                    "next_step_default": keys[position + 1] if position < 3 else "",
                    "ordering_idx": position + 1,
                }
                for position, key in enumerate(keys)
            ]
        account.flows[flow_id]["current_version"] = version_id
    outbound_flow = flow_ids[0]
    outbound_versions = [v for v, data in account.versions.items() if data["flow"] == outbound_flow]
    for index in range(executions):
        execution_id = new_id()
        account.executions[execution_id] = {
            "id": execution_id,
            "flow": outbound_flow,
            "flow_version": outbound_versions[index % 2],
            "created_on": _iso(BASE + timedelta(hours=index)),
            "created_by": user,
        }
        account.by_execution[execution_id] = []
    execution_ids = list(account.executions)
    contacts = [
        {"id": str(10_000 + i), "phone": f"+1555{i:07d}", "first_name": f"C{i}", "last_name": ""}
        for i in range(max(1, runs // 5))
    ]
    versions_of = {f: [v for v, d in account.versions.items() if d["flow"] == f] for f in flow_ids}
    clock = BASE
    for _ in range(runs):
        clock += timedelta(seconds=rng.randint(1, 60))
        if rng.random() < outbound:
            flow_id, execution_id = outbound_flow, rng.choice(execution_ids)
            version_id = account.executions[execution_id]["flow_version"]
        else:
            flow_id, execution_id = rng.choice(flow_ids[1:]), None
            version_id = rng.choice(versions_of[flow_id])
        status = rng.choice(("READY", "RUNNING")) if rng.random() < active else rng.choice(FINAL)
        run = {
            "id": new_id(),
            "contact": rng.choice(contacts),
            "status": status,
            "created_on": _iso(clock),
            "status_reason": "Failed" if status == "FAILED" else None,
            "is_test": False,
            "flow_version": version_id,
            "flow": flow_id,
            "flow_name": account.flows[flow_id]["name"],
            "flow_execution": execution_id,
        }
        account.runs.append(run)
        account.by_id[run["id"]] = run
        if execution_id:
            account.by_execution[execution_id].append(run)
        bucket = "running" if status in ("READY", "RUNNING") else status.lower()
        for scope in (flow_id, version_id, execution_id):
            if scope:
                counts = account.counters.setdefault(
                    scope, dict.fromkeys(("num_contacts", *(b for b in _BUCKETS)), 0)
                )
                counts["num_contacts"] += 1
                counts[bucket] += 1
    account.runs.reverse()  # the API lists newest first
    for rows in account.by_execution.values():
        rows.reverse()
    return account


_BUCKETS = ("running", "completed", "expired", "failed", "canceled")


class Server:
    """Serves an :class:`Account` on 127.0.0.1 and counts requests by kind."""

    def __init__(self, account: Account) -> None:
        self.account = account
        self.counts: dict[str, int] = {}
        self.lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"server_state": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/api/3"

    def take(self) -> dict[str, int]:
        with self.lock:
            counts, self.counts = self.counts, {}
        return counts

    def count(self, kind: str) -> None:
        with self.lock:
            self.counts[kind] = self.counts.get(kind, 0) + 1

    # -- answers ---------------------------------------------------------------------------

    def respond(self, path: str, params: dict[str, str]) -> tuple[int, Any]:
        account = self.account
        parts = path.strip("/").split("/")[4:]  # after api/3/channel/whatsapp
        kind, item = parts[0], (parts[1] if len(parts) > 1 else None)
        if kind == "flow-execution-contact" and item:
            self.count("run detail")
            run = account.by_id.get(item)
            return (200, self.run_detail(run)) if run else (404, {"detail": "Not found."})
        if kind == "flow-execution-contact":
            execution_id = params.get("flow_execution")
            self.count("execution's runs page" if execution_id else "run page")
            rows = account.by_execution.get(execution_id, []) if execution_id else account.runs
            return self.page(rows, params, _list_row)
        if kind == "flow-execution" and item:
            self.count("execution detail")
            execution = account.executions.get(item)
            if execution is None:
                return 404, {"detail": "Not found."}
            return 200, self.execution_detail(execution)
        if kind == "flow-execution":
            self.count("execution page")
            return self.page(list(account.executions.values()), params, self.execution_row)
        return 404, {"detail": "Not found."}

    def page(self, items: list[Any], params: dict[str, str], render) -> tuple[int, Any]:  # noqa: ANN001
        page, size = int(params.get("page", "1")), min(PAGE, int(params.get("page_size", "20")))
        pages = max(1, -(-len(items) // size))
        if page < 1 or page > pages:
            return 404, {"detail": "Invalid page."}
        return 200, {
            "count": len(items),
            "next": "more" if page < pages else None,
            "previous": None,
            "results": [render(item) for item in items[(page - 1) * size : page * size]],
        }

    def version_object(self, version_id: str) -> dict[str, Any]:
        return {**self.account.versions[version_id], **self.account.counters.get(version_id, {})}

    def run_detail(self, run: dict[str, Any]) -> dict[str, Any]:
        account = self.account
        flow = account.flows[run["flow"]]
        steps = account.steps[run["flow_version"]]
        created = datetime.fromisoformat(run["created_on"])
        length = 2 if run["status"] in ("READY", "RUNNING") else 4
        path = [
            {
                "id": f"{run['id']}-{index}",
                "step": step,
                "status": run["status"] if index == length - 1 else "COMPLETED",
                "created_on": _iso(created + timedelta(minutes=index)),
                "messages": [],
            }
            for index, step in enumerate(steps[:length])
        ]
        return {
            **_list_row(run),
            "flow": {**flow, **account.counters.get(flow["id"], {})},
            "flow_version": self.version_object(run["flow_version"]),
            "flow_execution": run["flow_execution"],
            "execution_steps": path,
            "status_last_change_on": run["created_on"],
        }

    def execution_row(self, execution: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": execution["id"],
            "status": "COMPLETED",
            "execute_for": "LIST",
            "created_on": execution["created_on"],
            "start_on": execution["created_on"],
            "created_by": execution["created_by"],
            "flow_version": execution["flow_version"],
            **self.account.counters.get(execution["id"], dict.fromkeys(_BUCKETS, 0)),
        }

    def execution_detail(self, execution: dict[str, Any]) -> dict[str, Any]:
        flow = self.account.flows[execution["flow"]]
        return {
            **self.execution_row(execution),
            "flow": flow,
            "flow_version": self.version_object(execution["flow_version"]),
            "contact_filters": [],
            "contact_import": None,
        }


def _list_row(run: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in run.items() if key != "flow_execution"}


class _Handler(BaseHTTPRequestHandler):
    server_state: Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        split = urllib.parse.urlsplit(self.path)
        if self.headers.get("Api-Token") != TOKEN:
            status, data = 401, {"detail": "Invalid token."}
        else:
            params = {k: v[-1] for k, v in urllib.parse.parse_qs(split.query).items()}
            status, data = self.server_state.respond(split.path, params)
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


# -- the measurement ---------------------------------------------------------------------------


def _sync(server: Server, path: Path, report_only: bool) -> tuple[dict[str, int], float]:
    from flowdesk.core.db import connect
    from flowdesk.core.sources.activecampaign import ActiveCampaignSource
    from flowdesk.core.sources.http import Politeness
    from flowdesk.core.sync import SyncEngine

    source = ActiveCampaignSource(
        server.base_url,
        TOKEN,
        politeness=Politeness(rate=10_000.0, concurrency=4),
        report_only=report_only,
    )
    db = connect(path)
    started = time.monotonic()
    report = SyncEngine(db).run(source)
    seconds = time.monotonic() - started
    db.conn.close()
    if report.outcome != "completed":
        raise SystemExit(f"sync {report.outcome}: {report.message}")
    counts = server.take()
    if sum(counts.values()) != report.stats.get("requests"):
        raise SystemExit(f"the server counted {counts}, the sync {report.stats}")
    return counts, seconds


def _at_rate(requests: int) -> str:
    seconds = requests / RATE
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ac_sync")
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--executions", type=int, default=1_000)
    parser.add_argument("--active", type=float, default=0.1)
    parser.add_argument("--outbound", type=float, default=0.5, help="share of runs in executions")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    started = time.monotonic()
    account = build_account(args.runs, args.executions, args.active, args.outbound)
    runs, executions = len(account.runs), len(account.executions)
    active = sum(r["status"] in ("READY", "RUNNING") for r in account.runs)
    print(
        f"account: {runs:,} runs ({active:,} active, {args.outbound:.0%} in executions),"
        f" {executions:,} executions, {len(account.versions)} versions"
        f" (built in {time.monotonic() - started:.1f} s)"
    )
    execution_pages = -(-executions // PAGE)
    run_pages = -(-runs // PAGE)
    # The sync before the two phases read every run's detail in its first sync, and every
    # active run's detail in each later one (docs/activecampaign.md before this change).
    baseline = {
        "report": execution_pages + executions + run_pages + runs,
        "all paths": execution_pages + executions + run_pages + runs,
        "nothing changed": execution_pages + run_pages + active,
    }
    target = run_pages + 2 * executions + 50
    figures = []
    with Server(account) as server, tempfile.TemporaryDirectory() as folder:
        report, report_seconds = _sync(server, Path(folder, "report.db"), True)
        whole, whole_seconds = _sync(server, Path(folder, "whole.db"), False)
        again, again_seconds = _sync(server, Path(folder, "whole.db"), False)
    for name, counts, seconds in (
        ("report", report, report_seconds),
        ("all paths", whole, whole_seconds),
        ("nothing changed", again, again_seconds),
    ):
        requests = sum(counts.values())
        figures.append(
            {
                "name": name,
                "requests": requests,
                "at_5_per_s": _at_rate(requests),
                "baseline": baseline[name],
                "baseline_at_5_per_s": _at_rate(baseline[name]),
                "ratio": round(requests / baseline[name], 4),
                "by_kind": counts,
                "seconds_here": round(seconds, 1),
            }
        )
    print(f"{'figure':16} {'requests':>9} {'at 5/s':>9} {'before':>9} {'at 5/s':>9} {'ratio':>7}")
    for item in figures:
        print(
            f"{item['name']:16} {item['requests']:>9,} {item['at_5_per_s']:>9}"
            f" {item['baseline']:>9,} {item['baseline_at_5_per_s']:>9} {item['ratio']:>6.3f}×"
        )
    for item in figures:
        kinds = ", ".join(f"{n:,} {k}" for k, n in sorted(item["by_kind"].items()))
        print(f"  {item['name']}: {kinds} ({item['seconds_here']} s here)")
    ok = figures[0]["requests"] <= target
    print(
        f"report target: ≤ {target:,} requests (runs/100 + 2 × executions + 50): "
        f"{'ok' if ok else 'MISSED'}"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "runs": runs,
                    "executions": executions,
                    "active": active,
                    "target": target,
                    "figures": figures,
                },
                indent=2,
            )
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
