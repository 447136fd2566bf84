"""``flowdesk server init|sync``: the team server's side, headless (no Qt is imported).

``server init --pg URL`` creates or upgrades the schema and prints the SQL for a read-only desktop
role. ``server sync --pg URL --source demo|activecampaign|rapidpro|twilio … [--every 5m]``
mirrors the upstream into PostgreSQL; it is the only process that talks to the upstream, and
only one may run.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from typing import Any

from flowdesk.cli._common import TerminalProgress, UserError

_EVERY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600}


def parse_every(text: str) -> float:
    """``90``, ``30s``, ``5m``, ``1h`` → seconds."""
    match = _EVERY.match(text or "")
    if not match or float(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not an interval like 30s, 5m or 1h")
    return float(match.group(1)) * _UNITS[match.group(2)]


def cmd_server_init(args: argparse.Namespace) -> int:
    from flowdesk.core.team.connection import parse_url
    from flowdesk.core.team.schema import reader_role_sql
    from flowdesk.core.team.server import init_server

    address = parse_url(args.pg)
    before, after = init_server(address)
    if before == after:
        print(f"{address.display}: team schema {after} is up to date", file=sys.stderr)
    else:
        print(f"{address.display}: team schema {before} → {after}", file=sys.stderr)
    print("-- Desktops read the team data through a read-only role; create it once with:")
    print(reader_role_sql(address.database))
    return 0


def _upstream(args: argparse.Namespace, stored: dict[str, Any] | None) -> tuple[Any, dict]:
    """The upstream source, built as for a desktop workspace, and the settings the server
    remembers it by; without ``--source`` the server keeps the upstream it already mirrors."""
    from flowdesk.core import workspace

    stored = stored or {}
    kind = args.source or stored.get("kind") or workspace.DEMO
    settings = dict(stored.get("settings") or {}) if stored.get("kind") == kind else {}
    if kind == workspace.DEMO:
        seed = args.seed if args.seed is not None else settings.get("seed", 1)
        contacts = args.contacts if args.contacts is not None else settings.get("contacts", 5000)
        demo = {"seed": int(seed), "contacts": int(contacts)}
        space = workspace.Workspace(kind=kind, demo=demo)
        return workspace.source_for_workspace(space), demo
    options = workspace.SourceOptions(url=args.url, rate=args.rate)
    extra = {"url": settings["url"]} if settings.get("url") else {}
    space = workspace.Workspace(kind=kind, account=settings.get("account"), extra=extra)
    source = workspace.source_for_workspace(space, kind, options)
    account = getattr(source, "account", None)
    if account:  # bound to an account that is not its URL (Twilio's SID): keep the URL too
        return source, {"account": account, "url": source.base_url}
    return source, {"account": source.base_url}


def _stored_source(address) -> dict[str, Any] | None:
    from flowdesk.core.team.connection import connect
    from flowdesk.core.team.schema import SCHEMA, check_version

    conn = connect(address)
    try:
        check_version(conn, address.display)
        return conn.execute(f"SELECT source FROM {SCHEMA}.server").fetchone()[0]
    finally:
        conn.close()


def _sync_once(address: Any, source: Any, settings: dict[str, Any]) -> Any:
    """One server sync with a progress bar, which also shows the source's notes (waits)."""
    from flowdesk.core.team.server import sync_server

    bar = TerminalProgress("Server sync")
    last: list[Any] = [0, None]  # done, total of the last batch, for notes in between

    def progress(batch: Any, _report: Any) -> None:
        last[:] = [batch.done, batch.total]
        bar.update(batch.done, batch.total, batch.note)

    try:
        return sync_server(
            address,
            source,
            settings,
            progress=progress,
            notify=lambda note: bar.update(last[0], last[1], note),
        )
    finally:
        bar.close()


def cmd_server_sync(args: argparse.Namespace) -> int:
    from flowdesk.core.team.connection import parse_url

    address = parse_url(args.pg)
    source, settings = _upstream(args, _stored_source(address))
    while True:
        report = _sync_once(address, source, settings)
        for kind, record_id, message in report.problems[:20]:
            print(f"skipped {kind} {record_id}: {message}", file=sys.stderr)
        print(f"{time.strftime('%H:%M:%S')} {report.summary}", file=sys.stderr)
        if report.outcome == "failed":
            print(f"sync failed: {report.message}", file=sys.stderr)
        if args.every is None:
            if report.outcome == "failed":
                raise UserError(f"sync failed: {report.message}")
            return 0 if report.outcome == "completed" else 1
        time.sleep(args.every)


def register(sub: argparse._SubParsersAction) -> None:
    server = sub.add_parser(
        "server", help="the team server: mirror the upstream into PostgreSQL for every desktop"
    )
    commands = server.add_subparsers(dest="server_command", metavar="SUBCOMMAND", required=True)
    pg_help = "postgresql://user[:password]@host[:port]/database (TLS unless the host is local)"

    init = commands.add_parser("init", help="create or upgrade the team schema (idempotent)")
    init.add_argument("--pg", required=True, metavar="URL", help=pg_help)
    init.set_defaults(func=cmd_server_init)

    sync = commands.add_parser("sync", help="sync the upstream into the team server")
    sync.add_argument("--pg", required=True, metavar="URL", help=pg_help)
    sync.add_argument(
        "--source",
        choices=["demo", "activecampaign", "rapidpro", "twilio"],
        help="the upstream (first sync; default demo, later the one the server mirrors)",
    )
    sync.add_argument("--contacts", type=int, help="demo: contact entries (default 5000)")
    sync.add_argument("--seed", type=int, help="demo: seed (default 1)")
    sync.add_argument("--url", help="the upstream's URL, as for flowdesk sync")
    sync.add_argument("--rate", type=float, help="upstream requests per second")
    sync.add_argument(
        "--every", type=parse_every, metavar="INTERVAL", help="keep syncing: 30s, 5m, 1h"
    )
    sync.set_defaults(func=cmd_server_sync)
