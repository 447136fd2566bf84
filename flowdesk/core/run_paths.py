"""One run's path read at once, ahead of the second phase of a sync.

A two-phase sync (docs/activecampaign.md) lists every run before it reads their paths, newest
first; a support agent who opens a contact whose path is not read yet should not wait for the
queue. The run's detail is fetched through the cache's own source and written by the sync
engine as a one-record batch, the sync's cursor unchanged.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from flowdesk.core import workspace
from flowdesk.core.db import SyncRunning
from flowdesk.core.errors import UserError
from flowdesk.core.sync import SyncEngine


def path_waiting(db: Any, run_key: int) -> bool:
    """Whether this run is known from a listing only, its path still to be read."""
    try:
        row = db.execute("SELECT path_synced FROM runs WHERE key = ?", [run_key]).fetchone()
    except sqlite3.OperationalError:  # a cache from before paths could wait (read-only)
        return False
    return row is not None and not row[0]


def read_run_path(db: Any, run_id: str) -> None:
    """Fetch run ``run_id``'s detail now and write it. Raises a UserError (one line) when the
    cache's source cannot read one run, the upstream refuses, or a running sync must write it
    itself (its steps are new to the cache)."""
    source = workspace.source_for(db)
    read_runs = getattr(source, "read_runs", None)
    if read_runs is None:
        raise UserError(f"{source.name} cannot read one run's path on its own: sync to get it")
    records, problems = read_runs([run_id])
    if problems:
        raise UserError(f"the path could not be read: {problems[0][1].removesuffix('; skipped')}")
    engine = SyncEngine(db)
    try:
        report = engine.write_records(source, records)
    except SyncRunning:
        # A sync reading paths (for hours, on a big account) need not be waited for: the path
        # is written beside it when its steps are known already, as they mostly are.
        report = engine.write_records(source, records, beside_a_sync=True)
    if report.problems:
        raise UserError(f"the path could not be stored: {report.problems[0][2]}")
