"""``flowdesk stats``: flows with their counters, as a table or as JSON."""

from __future__ import annotations

import argparse
from typing import Any

from flowdesk.cli._common import (
    add_db_option,
    find_flow,
    open_cache,
    terminal_json,
    terminal_text,
)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("stats", help="print flows with their counters")
    add_db_option(parser)
    parser.add_argument("--flow", help="flow id or name")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=run)


def flow_stats(db: Any, flow: Any) -> dict[str, Any]:
    from flowdesk.core.counters_check import compare_api_counters
    from flowdesk.core.queries import list_executions, list_versions, path_coverage
    from flowdesk.core.step_report import as_of, steps_json

    def counters(c: Any) -> dict[str, int]:
        return c.as_dict()

    now = as_of(db)  # "overdue" is measured against the cache's clock (docs/metrics.md)

    return {
        "id": flow.id,
        "name": flow.name,
        "direction": flow.direction,
        **counters(flow.counters),
        "response_rate": flow.counters.response_rate,
        # Per-step numbers ("steps") are built from the runs whose path is read: fewer than all
        # while a two-phase sync has not read every path yet.
        "paths": path_coverage(db, flow.id, runs=flow.counters.contacts).as_dict(),
        "versions": [
            {
                "id": v.id,
                "name": v.name,
                **counters(v.counters),
                "response_rate": v.counters.response_rate,
                "paths": path_coverage(db, None, v.id, runs=v.counters.contacts).as_dict(),
                "steps": steps_json(db, v.id, now),
            }
            for v in list_versions(db, flow.id)
        ],
        "executions": [
            {
                "id": e.id,
                **counters(e.counters),
                "paths": path_coverage(db, None, None, e.id, runs=e.counters.contacts).as_dict(),
            }
            for e in list_executions(db, flow.id)
        ],
        # Where the upstream's own counters disagree with the recount of synced runs.
        "counter_mismatches": [m.as_dict() for m in compare_api_counters(db, flow.id)],
    }


def run(args: argparse.Namespace) -> int:
    from flowdesk.core.queries import list_flows

    db = open_cache(args.db)
    flows = [find_flow(db, args.flow)] if args.flow else list_flows(db)
    data = [flow_stats(db, flow) for flow in flows]
    if args.json:
        print(terminal_json(data))
        return 0
    header = (
        f"{'Flow':40} {'Dir':8} {'Contacts':>9} {'Expired':>8} {'Ongoing':>8} "
        f"{'Canceled':>8} {'Failed':>7} {'Completed':>9}"
    )
    print(header)
    for item in data:
        print(
            f"{terminal_text(item['name'])[:40]:40} {item['direction']:8} {item['contacts']:>9,} "
            f"{item['expired']:>8,} {item['ongoing']:>8,} {item['canceled']:>8,} "
            f"{item['failed']:>7,} {item['completed']:>9,}"
        )
    return 0
