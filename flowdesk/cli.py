"""Command line: open the app, build the demo, sync, print stats, export, screenshot.

User mistakes (missing cache, unknown flow, bad arguments) print one line on stderr and exit
non-zero; tracebacks are kept for real bugs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from flowdesk import __version__


class UserError(Exception):
    """An error the user can fix; printed as one line."""


def _db_arg(parser: argparse.ArgumentParser, required: bool = False) -> None:
    parser.add_argument(
        "--db",
        type=Path,
        required=required,
        help="cache file (default: the demo workspace in the user data folder)",
    )


def _resolve_db(path: Path | None) -> Path:
    if path is not None:
        return path
    from flowdesk.core.db import default_db_path

    return default_db_path()


def _open_existing(path: Path | None):
    from flowdesk.core.db import CacheError, connect

    resolved = _resolve_db(path)
    if not resolved.exists():
        raise UserError(f"no cache at {resolved} (create one with: flowdesk demo --db {resolved})")
    try:
        return connect(resolved)
    except CacheError as exc:
        raise UserError(str(exc)) from None


class TerminalProgress:
    """A one-line progress bar on stderr that stays quiet when stderr is not a terminal."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.tty = sys.stderr.isatty()
        self.last = 0.0

    def update(self, done: int, total: int | None, note: str = "") -> None:
        now = time.monotonic()
        if now - self.last < 0.2 and (total is None or done < total):
            return
        self.last = now
        if total:
            width = 30
            filled = int(width * min(done, total) / total)
            bar = "#" * filled + "-" * (width - filled)
            text = f"{self.label} [{bar}] {done:,}/{total:,} {note}"
        else:
            text = f"{self.label} {done:,} {note}"
        if self.tty:
            sys.stderr.write("\r" + text[:120].ljust(120))
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def close(self) -> None:
        if self.tty:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _run_sync(db, source, label: str) -> int:
    from flowdesk.core.sync import SyncEngine

    bar = TerminalProgress(label)
    report = SyncEngine(db).run(source, progress=lambda p: bar.update(p.done, p.total, p.note))
    bar.close()
    for kind, record_id, message in report.problems[:20]:
        print(f"skipped {kind} {record_id}: {message}", file=sys.stderr)
    if len(report.problems) > 20:
        print(f"... and {len(report.problems) - 20} more skipped records", file=sys.stderr)
    stats = " ".join(f"{k}={v}" for k, v in sorted(report.stats.items()))
    print(
        f"{report.outcome}: {report.records:,} records, {report.runs_changed:,} runs changed, "
        f"{len(report.problems)} skipped, {report.seconds:.1f} s {stats}".rstrip(),
        file=sys.stderr,
    )
    if report.outcome == "failed":
        raise UserError(f"sync failed: {report.message}")
    return 0 if report.outcome == "completed" else 1


def cmd_demo(args: argparse.Namespace) -> int:
    from flowdesk.core.db import connect, set_meta
    from flowdesk.core.demo import DemoSource

    path = _resolve_db(args.db)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    db = connect(path)
    with db.conn:
        set_meta(db, "demo", {"seed": args.seed, "contacts": args.contacts})
    source = DemoSource(seed=args.seed, contacts=args.contacts)
    code = _run_sync(db, source, "Building demo")
    print(path)
    return code


def cmd_sync(args: argparse.Namespace) -> int:
    if args.source == "activecampaign":
        from flowdesk.core.db import connect
        from flowdesk.core.sources.activecampaign import SourceError, source_from_cli

        try:
            source = source_from_cli(args)  # a first sync creates the cache
        except SourceError as exc:
            raise UserError(str(exc)) from None
        return _run_sync(connect(_resolve_db(args.db)), source, "Syncing")
    db = _open_existing(args.db)
    if args.source == "demo":
        from flowdesk.core.db import get_meta
        from flowdesk.core.demo import DemoSource

        settings = get_meta(db, "demo", {}) or {}
        source = DemoSource(**settings) if settings else DemoSource()
    return _run_sync(db, source, "Syncing")


def flow_stats(db, flow) -> dict[str, Any]:
    from flowdesk.core.counters_check import compare_api_counters
    from flowdesk.core.queries import COUNTER_FIELDS, list_executions, list_versions

    def counters(c) -> dict[str, int]:
        return {name: getattr(c, name) for name in COUNTER_FIELDS}

    return {
        "id": flow.id,
        "name": flow.name,
        "direction": flow.direction,
        **counters(flow.counters),
        "response_rate": flow.counters.response_rate,
        "versions": [
            {
                "id": v.id,
                "name": v.name,
                **counters(v.counters),
                "response_rate": v.counters.response_rate,
            }
            for v in list_versions(db, flow.id)
        ],
        "executions": [{"id": e.id, **counters(e.counters)} for e in list_executions(db, flow.id)],
        # Where the upstream's own counters disagree with the recount of synced runs.
        "counter_mismatches": [m.as_dict() for m in compare_api_counters(db, flow.id)],
    }


def cmd_stats(args: argparse.Namespace) -> int:
    from flowdesk.core.queries import get_flow, list_flows

    db = _open_existing(args.db)
    if args.flow:
        flow = get_flow(db, args.flow)
        if flow is None:
            raise UserError(f"no flow with id or name {args.flow!r}")
        flows = [flow]
    else:
        flows = list_flows(db)
    data = [flow_stats(db, flow) for flow in flows]
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    header = (
        f"{'Flow':40} {'Dir':8} {'Contacts':>9} {'Expired':>8} {'Ongoing':>8} "
        f"{'Canceled':>8} {'Failed':>7} {'Completed':>9}"
    )
    print(header)
    for item in data:
        print(
            f"{item['name'][:40]:40} {item['direction']:8} {item['contacts']:>9,} "
            f"{item['expired']:>8,} {item['ongoing']:>8,} {item['canceled']:>8,} "
            f"{item['failed']:>7,} {item['completed']:>9,}"
        )
    return 0


def cmd_open(args: argparse.Namespace) -> int:
    from flowdesk.ui.app import run_app

    return run_app(_resolve_db(args.db))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flowdesk", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"flowdesk {__version__}")
    _db_arg(parser)
    parser.set_defaults(func=cmd_open)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser("demo", help="build or rebuild a demo workspace")
    _db_arg(demo)
    demo.add_argument("--contacts", type=int, default=5000, help="contact entries (runs)")
    demo.add_argument("--seed", type=int, default=1)
    demo.set_defaults(func=cmd_demo)

    sync = sub.add_parser("sync", help="incremental sync from the workspace's source")
    _db_arg(sync)
    sync.add_argument("--source", choices=["demo", "activecampaign"], default="demo")
    sync.add_argument("--url", help="ActiveCampaign account URL (…/api/3)")
    sync.add_argument("--rate", type=float, help="requests per second (default 5)")
    sync.add_argument("--page-size", type=int, help="list page size (default 100)")
    sync.set_defaults(func=cmd_sync)

    stats = sub.add_parser("stats", help="print flows with their counters")
    _db_arg(stats)
    stats.add_argument("--flow", help="flow id or name")
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(func=cmd_stats)

    for register in _extra_commands():
        register(sub)
    return parser


def _extra_commands() -> list:
    """Subcommands that live beside the features they drive (export, screenshot, import, check,
    doctor).
    Their modules import their heavy dependencies (Qt, openpyxl) only when a command runs."""
    from flowdesk import doctor_cli, export_cli, find_cli, import_cli
    from flowdesk.ui import screenshot

    return [
        export_cli.register,
        screenshot.register,
        import_cli.register,
        doctor_cli.register,
        find_cli.register,
    ]


def main(argv: list[str] | None = None) -> int:
    # Background jobs run in spawned child processes; in a bundled app the child is this same
    # executable, and this call turns it into the worker instead of a second app.
    import multiprocessing

    multiprocessing.freeze_support()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"flowdesk: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("flowdesk: interrupted", file=sys.stderr)
        return 130
