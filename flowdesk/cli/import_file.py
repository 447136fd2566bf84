"""``flowdesk import --db PATH FILE``: a results CSV, a RapidPro/TextIt export or run archive, or
a Twilio Studio flow definition, recognised by its content.

Says which format it found, creates the cache when it does not exist, prints progress on stderr
and a one-line summary; bad CSV rows are listed by line number, and a malformed JSON file is
refused whole, in one line naming the position of the problem. A cache that holds another
source's data is refused.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from flowdesk.cli._common import TerminalProgress, UserError, add_db_option, terminal_text


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "import",
        help="import a results CSV, a RapidPro export or run archive, or a Studio definition",
        description="Import ActiveCampaign's 'Download results' CSV (or a Flowdesk export), a "
        "RapidPro/TextIt flow export or run archive (JSON lines, optionally gzipped), or a "
        "Twilio Studio flow definition. The format is recognised from the content.",
    )
    add_db_option(parser, required=True, help="cache file (created if missing)")
    parser.add_argument("file", type=Path, metavar="FILE")
    parser.add_argument("--flow-name", help="CSV: name of the flow (default: the file's name)")
    parser.add_argument(
        "--date-order",
        choices=["auto", "mdy", "dmy"],
        default="auto",
        help="how to read dates like 03/04/2026 (default: auto, month first when unclear)",
    )
    parser.add_argument("--timezone", help="time zone of dates without an offset (default: UTC)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from flowdesk.core.formats.files import CSV, detect

    source_file = Path(args.file)
    if not source_file.is_file():
        raise UserError(f"no file at {source_file}")
    if detect(source_file) != CSV:
        return _import_flow_file(args, source_file)
    return _import_csv(args, source_file)


def _import_flow_file(args: argparse.Namespace, source_file: Path) -> int:
    from flowdesk.core import workspace
    from flowdesk.core.db import connect
    from flowdesk.core.errors import Outcome
    from flowdesk.core.formats.files import read_flows
    from flowdesk.core.formatting import counted
    from flowdesk.core.tasks import import_flow_file

    parsed = read_flows(source_file)  # the whole file, before the cache is even created
    db = connect(args.db)
    try:
        workspace.claim_for_import(db, args.db, parsed.kind)
        print(f"found: {parsed.label}", file=sys.stderr)
        bar = TerminalProgress("Importing")
        try:
            report = import_flow_file(
                db, parsed, progress=lambda p: bar.update(p.done, p.total, p.note)
            )
        finally:
            bar.close()
    finally:
        db.conn.close()
    for kind, record_id, message in report.problems[:20]:
        print(terminal_text(f"skipped {kind} {record_id}: {message}"), file=sys.stderr)
    if report.outcome == Outcome.FAILED:
        raise UserError(f"import failed: {report.message}")
    flows = {d["flow"]["name"] for d in parsed.definitions} | {
        r["flow"]["name"] for r in parsed.runs
    }
    print(
        f"{report.outcome}: {counted(len(flows), 'flow')}, "
        f"{counted(len(parsed.definitions), 'definition')} with {counted(parsed.steps, 'step')}, "
        f"{counted(len(parsed.runs), 'run')} ({report.runs_changed:,} changed)",
        file=sys.stderr,
    )
    return 0 if report.outcome == Outcome.COMPLETED else 1


def _import_csv(args: argparse.Namespace, source_file: Path) -> int:
    from flowdesk.core import workspace
    from flowdesk.core.db import connect
    from flowdesk.core.errors import Outcome
    from flowdesk.core.importer import import_csv

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
        print(terminal_text(f"skipped line {line}: {message}"), file=sys.stderr)
    if len(summary.bad_rows) > 20:
        print(f"... and {len(summary.bad_rows) - 20} more bad rows", file=sys.stderr)
    if summary.ignored_columns:
        print(
            terminal_text(
                "columns without dates, not read as steps: " + ", ".join(summary.ignored_columns)
            ),
            file=sys.stderr,
        )
    if report.outcome == Outcome.FAILED:
        raise UserError(f"import failed: {report.message}")
    print("found: ActiveCampaign results CSV", file=sys.stderr)
    print(
        f"{report.outcome}: flow {terminal_text(summary.flow_name)!r} ({summary.flow_id}): "
        f"{summary.runs:,} runs "
        f"from {summary.rows:,} rows, {len(summary.step_columns):,} steps, "
        f"{len(summary.bad_rows):,} bad rows skipped",
        file=sys.stderr,
    )
    return 0 if report.outcome == Outcome.COMPLETED else 1
