"""The app's long jobs as plain functions of a cache path.

Each takes only picklable arguments and opens its own connection, so the app can run it in a
child process (:func:`flowdesk.core.background.run_in_child`) or, in tests, on a thread. Both
follow the calling convention of the background runner: keyword ``progress`` and
``is_cancelled`` callbacks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowdesk.core import workspace
from flowdesk.core.db import connect
from flowdesk.core.export import ExportResult, ExportSpec, run_export

if TYPE_CHECKING:  # the sync engine loads in the job's own process, not at app start
    from flowdesk.core.sync import SyncProgress, SyncReport


def sync_workspace(
    db_path: str | Path,
    create_demo: dict[str, Any] | None = None,
    *,
    progress: Callable[[SyncProgress], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
) -> SyncReport:
    """Sync the cache at ``db_path`` from its own source (first recording a demo to build).

    The cache says which source it belongs to (:mod:`flowdesk.core.workspace`); a cache
    without one, or whose source cannot be built, raises a :class:`~flowdesk.core.errors.UserError`.
    """
    from flowdesk.core.sync import SyncEngine

    db = connect(db_path)
    try:
        if create_demo is not None:
            workspace.start_demo(db, **create_demo)
        source = workspace.source_for(db)  # raises a UserError the app shows as it is
        return SyncEngine(db).run(source, progress=progress, is_cancelled=is_cancelled)
    finally:
        db.conn.close()


def export_to_file(
    db_path: str | Path,
    spec: ExportSpec,
    output_path: str | Path,
    progress_interval: float = 0.1,
    *,
    progress: Callable[[tuple[int, int]], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
) -> ExportResult:
    """Export ``spec`` to ``output_path``, reporting ``(rows_done, rows_total)`` at most every
    ``progress_interval`` seconds (and always for the first and last batch)."""
    last = 0.0

    def report(done: int, total: int) -> None:
        nonlocal last
        if progress is None:
            return
        now = time.monotonic()
        if done in (0, total) or now - last >= progress_interval:
            last = now
            progress((done, total))

    return run_export(db_path, spec, output_path, report, is_cancelled)
