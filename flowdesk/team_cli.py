"""``flowdesk sync --db P --source team --pg URL``: a desktop cache fed by a team server.

The server is checked (reachable, password, schema, same server as before) before the cache is
created or touched, so a mistake prints one line and changes nothing locally.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def _user_error(message: str) -> Exception:
    from flowdesk.cli import UserError

    return UserError(message)


def cmd_sync_team(args: argparse.Namespace, db_path: Path) -> int:
    from flowdesk.cli import _run_sync
    from flowdesk.core.db import CacheError, connect, get_meta, set_meta
    from flowdesk.core.team.connection import TeamServerError
    from flowdesk.core.team.source import KIND, source_for_url, stored_url

    cursor: dict = {}
    url = args.pg
    if db_path.exists():
        try:
            db = connect(db_path)
        except CacheError as exc:
            raise _user_error(str(exc)) from None
        try:
            meta = get_meta(db, "source", None) or {}
            has_runs = db.execute("SELECT 1 FROM runs LIMIT 1").fetchone() is not None
            if meta.get("kind") not in (None, KIND) and has_runs:
                raise _user_error(
                    f"{db_path} holds {meta.get('name') or meta.get('kind')} data; sync the team "
                    "server into its own cache file (another --db)"
                )
            cursor = get_meta(db, f"cursor:{KIND}", {}) or {}
            url = url or stored_url(db)
        finally:
            db.conn.close()
    if not url:
        raise _user_error("the team server URL is needed for the first sync (--pg)")
    try:
        source = source_for_url(url)
        source.check(cursor)
    except TeamServerError as exc:
        raise _user_error(str(exc)) from None
    db = connect(db_path)
    with db.conn:
        set_meta(db, KIND, {"url": source.address.url})
    try:
        return _run_sync(db, source, "Syncing")
    finally:
        db.conn.close()
