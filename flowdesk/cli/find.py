"""``flowdesk find``: a customer across every flow, by any part of their number, name or e-mail."""

from __future__ import annotations

import argparse
import json
from typing import Any

from flowdesk.cli._common import UserError, add_db_option, open_cache
from flowdesk.core.customers import Customer, find_customers
from flowdesk.core.formats.common import iso_epoch


def customer_json(customer: Customer) -> dict[str, Any]:
    return {
        "contact_id": customer.contact_id,
        "phone": customer.phone,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "runs": [
            {
                "run_id": run.run_id,
                "flow_id": run.flow_id,
                "flow": run.flow,
                "version_id": run.version_id,
                "execution_id": run.execution_id,
                "status": run.status,
                "entered": iso_epoch(run.entered_at),
            }
            for run in customer.runs
        ],
    }


def _describe(customer: Customer) -> list[str]:
    who = customer.name or "(no name)"
    lines = [f"{who}  {customer.phone or '—'}  {customer.email}  [contact {customer.contact_id}]"]
    for run in customer.runs:
        execution = f"  execution {run.execution_id}" if run.execution_id else ""
        reason = f" ({run.reason})" if run.reason else ""
        lines.append(
            f"  {iso_epoch(run.entered_at)[:16].replace('T', ' ')} UTC  {run.flow} · {run.version}"
            f"{execution}  {run.status}{reason}  [run {run.run_id}]"
        )
    return lines


def run(args: argparse.Namespace) -> int:
    text = " ".join(args.text).strip()
    if not text:
        raise UserError("nothing to find: give a phone number, a name or an e-mail address")
    if args.limit is not None and args.limit < 1:
        raise UserError("--limit must be at least 1")
    db = open_cache(args.db)
    customers = find_customers(db, text, limit=args.limit)
    if args.json:
        print(json.dumps([customer_json(c) for c in customers], ensure_ascii=False, indent=2))
        return 0
    if not customers:
        print(f"No contact matches “{text}”.")
        return 0
    for customer in customers:
        print("\n".join(_describe(customer)))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    find = sub.add_parser(
        "find",
        help="find a customer across every flow",
        description=(
            "Find contacts across every flow by phone (any common way of writing it, or its last"
            " digits), name (accents, case and word order ignored) or e-mail; best match first,"
            " each with all their runs, newest first."
        ),
    )
    add_db_option(find, help="cache file")
    find.add_argument("text", nargs="+", metavar="TEXT", help="phone, name or e-mail")
    find.add_argument("--json", action="store_true", help="print JSON")
    find.add_argument("--limit", type=int, help="at most this many contacts (default: all)")
    find.set_defaults(func=run)
