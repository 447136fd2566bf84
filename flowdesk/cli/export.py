"""``flowdesk export``: write a flow's results (one row per run) to a CSV or XLSX file."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from flowdesk.cli._common import TerminalProgress, UserError, add_db_option, find_flow, open_cache


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "export",
        help="download results: one row per run, as CSV or XLSX",
        description="Write a flow's results, one row per contact entry (run), with the time "
        "each step was first reached. Progress goes to stderr; the file's path to stdout.",
    )
    add_db_option(parser, help="cache file (default: the demo workspace)")
    parser.add_argument("--flow", required=True, help="flow id or exact name")
    parser.add_argument("--version", dest="version_id", help="only this version (id)")
    parser.add_argument("--execution", dest="execution_id", help="only this execution (id)")
    parser.add_argument(
        "--format",
        choices=["csv", "xlsx"],
        help="file format (default: from the --output extension)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        required=True,
        help="file to write, or an existing folder to write a named file into",
    )
    parser.add_argument(
        "--excel-bom",
        action="store_true",
        help="CSV only: add a byte-order mark so Excel reads accents correctly",
    )
    parser.add_argument(
        "--local-time",
        action="store_true",
        help="times in this machine's zone, as the app shows them (default: UTC)",
    )
    parser.set_defaults(func=run)


MAX_NAME_BYTES = 255  # the longest file name ext4, APFS, NTFS (in UTF-16 units) and FAT allow


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # a name too long, a path through a file...
        return False


def _format(args: argparse.Namespace) -> str:
    size = len(os.fsencode(args.output.name))
    if size > MAX_NAME_BYTES:
        raise UserError(
            f"the --output file name is too long ({size} bytes; file systems allow "
            f"{MAX_NAME_BYTES}); choose a shorter one"
        )
    suffix = args.output.suffix.lower().lstrip(".")
    if args.format:
        if not _is_dir(args.output) and suffix in ("csv", "xlsx") and suffix != args.format:
            raise UserError(f"--output ends in .{suffix} but --format is {args.format}")
        return args.format
    if suffix in ("csv", "xlsx") and not _is_dir(args.output):
        return suffix
    raise UserError("say --format csv or --format xlsx (or end --output in .csv or .xlsx)")


def run(args: argparse.Namespace) -> int:
    from flowdesk.core.errors import Canceled
    from flowdesk.core.export import ExportSpec, file_name, run_export
    from flowdesk.core.formatting import elapsed, size

    fmt = _format(args)
    db = open_cache(args.db)
    flow = find_flow(db, args.flow)
    if args.version_id:
        row = db.execute("SELECT flow_id FROM versions WHERE id = ?", [args.version_id]).fetchone()
        if row is None or row[0] != flow.id:
            raise UserError(f"flow {flow.name!r} has no version {args.version_id!r}")
    if args.execution_id:
        row = db.execute(
            "SELECT flow_id FROM executions WHERE id = ?", [args.execution_id]
        ).fetchone()
        if row is None or row[0] != flow.id:
            raise UserError(f"flow {flow.name!r} has no execution {args.execution_id!r}")
    spec = ExportSpec(
        flow.id,
        args.version_id,
        args.execution_id,
        fmt,
        excel_bom=args.excel_bom and fmt == "csv",
        local_time=args.local_time,
    )
    output = args.output
    if _is_dir(output):
        output = output / file_name(db, spec)
    elif not output.parent.is_dir():
        raise UserError(f"the folder {output.parent} does not exist")
    bar = TerminalProgress(f"Exporting {output.name}")
    try:
        result = run_export(db, spec, output, progress=lambda done, total: bar.update(done, total))
    except Canceled:
        raise UserError("export canceled; no file was written") from None
    finally:
        bar.close()
    sheets = f" on {result.sheets} sheets" if result.sheets > 1 else ""
    print(
        f"exported {result.rows:,} rows{sheets} to {result.path} "
        f"({size(result.size_bytes)}) in {elapsed(result.seconds)}",
        file=sys.stderr,
    )
    print(result.path)
    return 0
