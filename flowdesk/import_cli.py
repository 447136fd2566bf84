"""``flowdesk import`` (a "Download results" CSV as a flow) and ``flowdesk check``.

``flowdesk import --db PATH FILE.csv [--flow-name NAME]`` creates the cache when it does not
exist, prints progress on stderr and a one-line summary; bad rows are listed by line number.
``flowdesk check --db PATH`` proves the maintained counters exact and compares the upstream's own
counters with the recount from the synced runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _user_error(message: str) -> Exception:
    from flowdesk.cli import UserError

    return UserError(message)


def cmd_import(args: argparse.Namespace) -> int:
    from flowdesk.cli import TerminalProgress
    from flowdesk.core.db import CacheError, connect, get_meta
    from flowdesk.core.importer import KIND, CsvImportError, import_csv

    source_file = Path(args.file)
    if not source_file.is_file():
        raise _user_error(f"no file at {source_file}")
    zone = None
    if args.timezone:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            zone = ZoneInfo(args.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise _user_error(f"unknown time zone {args.timezone!r}") from None
    try:
        db = connect(args.db)
    except CacheError as exc:
        raise _user_error(str(exc)) from None
    try:
        meta = get_meta(db, "source", None) or {}
        has_runs = db.execute("SELECT 1 FROM runs LIMIT 1").fetchone() is not None
        if meta.get("kind") not in (None, KIND) and has_runs:
            raise _user_error(
                f"{args.db} holds {meta.get('name') or meta.get('kind')} data; import into its "
                "own cache file (another --db)"
            )
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
        except CsvImportError as exc:
            raise _user_error(str(exc)) from None
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
    if report.outcome == "failed":
        raise _user_error(f"import failed: {report.message}")
    print(
        f"{report.outcome}: flow {summary.flow_name!r} ({summary.flow_id}): {summary.runs:,} runs "
        f"from {summary.rows:,} rows, {len(summary.step_columns):,} steps, "
        f"{len(summary.bad_rows):,} bad rows skipped",
        file=sys.stderr,
    )
    return 0 if report.outcome == "completed" else 1


def cmd_check(args: argparse.Namespace) -> int:
    from flowdesk.cli import _open_existing
    from flowdesk.core import search_terms
    from flowdesk.core.counters_check import compare_api_counters
    from flowdesk.core.integrity import mismatches

    db = _open_existing(args.db)
    internal = mismatches(db)
    upstream = compare_api_counters(db)
    search_index = search_terms.mismatches(db.conn)
    if args.json:
        print(
            json.dumps(
                {
                    "counters_exact": not internal,
                    "counter_problems": internal,
                    "api_counters_agree": not upstream,
                    "api_counter_mismatches": [m.as_dict() for m in upstream],
                    "search_index_exact": not search_index,
                    "search_index_problems": search_index,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        if internal:
            print("Maintained counters differ from a recount:")
            for line in internal:
                print(f"  {line}")
        else:
            print("Maintained counters: exact.")
        if upstream:
            print("Upstream counters differ from the recount of synced runs:")
            for mismatch in upstream:
                print(f"  {mismatch.describe()}")
        else:
            print("Upstream counters: agree with the synced runs (or none to compare).")
        if search_index:
            print("Contact search index differs from the contacts:")
            for line in search_index:
                print(f"  {line}")
        else:
            print("Contact search index: exact.")
    return 1 if internal or upstream or search_index else 0


def register(subparsers) -> None:  # noqa: ANN001 - argparse's private type
    imp = subparsers.add_parser(
        "import",
        help="import a 'Download results' CSV as a flow",
        description="Import ActiveCampaign's 'Download results' CSV (or a Flowdesk export).",
    )
    imp.add_argument("--db", type=Path, required=True, help="cache file (created if missing)")
    imp.add_argument("file", type=Path, metavar="FILE.csv")
    imp.add_argument("--flow-name", help="name of the flow (default: the file's name)")
    imp.add_argument(
        "--date-order",
        choices=["auto", "mdy", "dmy"],
        default="auto",
        help="how to read dates like 03/04/2026 (default: auto, month first when unclear)",
    )
    imp.add_argument("--timezone", help="time zone of dates without an offset (default: UTC)")
    imp.set_defaults(func=cmd_import)

    if "check" not in getattr(subparsers, "choices", {}):
        check = subparsers.add_parser(
            "check",
            help="verify counters (maintained and upstream) and the contact search index",
        )
        check.add_argument("--db", type=Path, help="cache file")
        check.add_argument("--json", action="store_true")
        check.set_defaults(func=cmd_check)
