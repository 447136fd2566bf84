"""``flowdesk import --db PATH FILE.csv [--flow-name NAME]``: a "Download results" CSV as a flow.

Creates the cache when it does not exist, prints progress on stderr and a one-line summary; bad
rows are listed by line number. A cache that holds another source's runs is refused.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from flowdesk.cli._common import TerminalProgress, UserError, add_db_option


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "import",
        help="import a 'Download results' CSV as a flow",
        description="Import ActiveCampaign's 'Download results' CSV (or a Flowdesk export).",
    )
    add_db_option(parser, required=True, help="cache file (created if missing)")
    parser.add_argument("file", type=Path, metavar="FILE.csv")
    parser.add_argument("--flow-name", help="name of the flow (default: the file's name)")
    parser.add_argument(
        "--date-order",
        choices=["auto", "mdy", "dmy"],
        default="auto",
        help="how to read dates like 03/04/2026 (default: auto, month first when unclear)",
    )
    parser.add_argument("--timezone", help="time zone of dates without an offset (default: UTC)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from flowdesk.core import workspace
    from flowdesk.core.db import connect
    from flowdesk.core.errors import Outcome
    from flowdesk.core.importer import import_csv

    source_file = Path(args.file)
    if not source_file.is_file():
        raise UserError(f"no file at {source_file}")
    zone = None
    if args.timezone:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            zone = ZoneInfo(args.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise UserError(f"unknown time zone {args.timezone!r}") from None
    db = connect(args.db)
    try:
        workspace.claim_for_import(db, args.db)
        bar = TerminalProgress("Importing")
        order = None if args.date_order == "auto" else args.date_order
        kwargs = {"date_order": order}
        if zone is not None:
            kwargs["zone"] = zone
        try:
            summary, report = import_csv(
                db,
                source_file,
                args.flow_name,
                progress=lambda p: bar.update(p.done, p.total, p.note),
                **kwargs,
            )
        finally:
            bar.close()
    finally:
        db.conn.close()
    for line, message in summary.bad_rows[:20]:
        print(f"skipped line {line}: {message}", file=sys.stderr)
    if len(summary.bad_rows) > 20:
        print(f"... and {len(summary.bad_rows) - 20} more bad rows", file=sys.stderr)
    if summary.ignored_columns:
        print(
            "columns without dates, not read as steps: " + ", ".join(summary.ignored_columns),
            file=sys.stderr,
        )
    if report.outcome == Outcome.FAILED:
        raise UserError(f"import failed: {report.message}")
    print(
        f"{report.outcome}: flow {summary.flow_name!r} ({summary.flow_id}): {summary.runs:,} runs "
        f"from {summary.rows:,} rows, {len(summary.step_columns):,} steps, "
        f"{len(summary.bad_rows):,} bad rows skipped",
        file=sys.stderr,
    )
    return 0 if report.outcome == Outcome.COMPLETED else 1
