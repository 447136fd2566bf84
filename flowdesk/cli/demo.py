"""``flowdesk demo``: build a simulated workspace in a cache file (or rebuild one).

Only a path that holds nothing (absent, an empty file, an empty SQLite file) is built on; an
existing demo workspace is rebuilt only with ``--replace``; anything else (an account's cache, a
CSV import, another program's file, a folder) is refused and left as it is.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from flowdesk.cli._common import UserError, add_db_option, resolve_db, run_sync


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("demo", help="build or rebuild a demo workspace")
    add_db_option(parser)
    parser.add_argument("--contacts", type=int, default=5000, help="contact entries (runs)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--replace", action="store_true", help="rebuild the demo workspace already at --db"
    )
    parser.set_defaults(func=run)


def _check_target(path: Path, replace: bool) -> None:
    """Refuse a path whose content is not ours to delete."""
    from flowdesk.core import workspace
    from flowdesk.core.db import connect

    if path.is_dir():
        raise UserError(f"{path} is a folder; give the demo a file name (--db PATH/demo.db)")
    if not path.exists() or path.stat().st_size == 0:
        return
    db = connect(path, readonly=True) if _is_cache(path) else None
    if db is None:
        return  # an empty SQLite file
    try:
        found = workspace.describe(db)
    finally:
        db.conn.close()
    if found.kind not in (None, workspace.DEMO):
        raise UserError(
            f"{path} holds {found.holds()}; build the demo in another file (another --db)"
        )
    if found.has_runs and not replace:
        raise UserError(f"{path} already holds a demo workspace; add --replace to rebuild it")


def _is_cache(path: Path) -> bool:
    """True for a Flowdesk cache, False for an empty SQLite file; CacheError for anything
    else (a text file, another program's database, a newer cache)."""
    from flowdesk.core.db import inspect

    return inspect(path) > 0


def run(args: argparse.Namespace) -> int:
    from flowdesk.core import workspace
    from flowdesk.core.db import connect

    path = resolve_db(args.db)
    _check_target(path, args.replace)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    db = connect(path)
    workspace.start_demo(db, args.seed, args.contacts)
    code = run_sync(db, workspace.source_for(db), "Building demo")
    print(path)
    return code
