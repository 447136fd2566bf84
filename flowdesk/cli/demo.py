"""``flowdesk demo``: build (or rebuild) a simulated workspace in a cache file."""

from __future__ import annotations

import argparse
from pathlib import Path

from flowdesk.cli._common import add_db_option, resolve_db, run_sync


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("demo", help="build or rebuild a demo workspace")
    add_db_option(parser)
    parser.add_argument("--contacts", type=int, default=5000, help="contact entries (runs)")
    parser.add_argument("--seed", type=int, default=1)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from flowdesk.core import workspace
    from flowdesk.core.db import connect

    path = resolve_db(args.db)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    db = connect(path)
    workspace.start_demo(db, args.seed, args.contacts)
    code = run_sync(db, workspace.source_for(db), "Building demo")
    print(path)
    return code
