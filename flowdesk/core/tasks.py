"""The app's long jobs as plain functions of a cache path.

Each takes only picklable arguments and opens its own connection, so the app can run it in a
child process (:func:`flowdesk.core.background.run_in_child`) or, in tests, on a thread. Both
follow the calling convention of the background runner: keyword ``progress`` and
``is_cancelled`` callbacks.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowdesk.core import workspace
from flowdesk.core.db import CacheError, connect
from flowdesk.core.errors import Canceled
from flowdesk.core.export import (
    ExportError,
    ExportResult,
    ExportSpec,
    default_folder,
    file_name,
    run_export,
    unique_path,
)
from flowdesk.core.export import jobs_store as store
from flowdesk.core.export.errors import describe_error

if TYPE_CHECKING:  # the sync engine loads in the job's own process, not at app start
    from flowdesk.core.formats.files import ParsedFlows
    from flowdesk.core.sync import SyncProgress, SyncReport

log = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class ExportStarted:
    """An export job's first progress report: the file it writes and its recorded params."""

    path: str
    params: dict[str, Any] = field(default_factory=dict)


def export_job(
    db_path: str | Path,
    job: store.JobRecord,
    progress_interval: float = 0.1,
    export: Callable[..., ExportResult] = export_to_file,
    *,
    progress: Callable[[Any], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
) -> ExportResult:
    """Run one job of the Downloads list and record its states in the jobs table.

    Reports :class:`ExportStarted` once the file name is chosen, then ``(rows_done,
    rows_total)``. Raises :class:`Canceled` or :class:`ExportError` (one sentence for the
    user) after recording the outcome; a busy or broken cache never hides the outcome. ``export``
    is :func:`export_to_file` (tests pass one that holds mid-way).
    """
    report = progress or (lambda _value: None)
    cancelled = is_cancelled or (lambda: False)
    conn = None
    path: Path | None = None
    rows_done = 0

    def record(action: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        if conn is None:
            return
        try:
            action(conn, *args, **kwargs)
        except sqlite3.Error:
            log.exception("could not record the state of export job %s", job.id)

    try:
        try:
            conn = connect(db_path, create=False).conn  # it records the job
        except (CacheError, sqlite3.Error) as exc:
            raise ExportError(f"Could not open the cache {db_path}: {exc}") from exc
        if cancelled():
            raise Canceled
        spec = job.spec
        path = unique_path(job.folder or default_folder(), file_name(conn, spec))
        job.path = str(path)
        record(store.mark_running, job, path, time.time())
        report(ExportStarted(str(path), dict(job.params)))
        total_known = False

        def rows(value: tuple[int, int]) -> None:
            nonlocal total_known, rows_done
            done, total = value
            rows_done = done
            if not total_known:
                total_known = True
                record(store.set_rows_total, job.id, total)
            report(value)

        result = export(
            str(db_path),
            spec,
            str(path),
            progress_interval,
            progress=rows,
            is_cancelled=cancelled,
        )
        record(
            store.mark_finished,
            job,
            path=result.path,
            rows=result.rows,
            size_bytes=result.size_bytes,
            seconds=result.seconds,
            sheets=result.sheets,
        )
        return result
    except Canceled:
        record(store.mark_canceled, job.id, rows_done)
        raise
    except ExportError as exc:
        record(store.mark_failed, job.id, str(exc), rows_done=rows_done)
        raise
    except Exception as exc:  # a bug: reported as a failed job with a sentence, never a trace
        log.exception("export job %s failed", job.id)
        reason = describe_error(exc, path or (job.folder or Path.home()) / job.title)
        record(store.mark_failed, job.id, reason, rows_done=rows_done)
        raise ExportError(reason) from exc
    finally:
        if conn is not None:
            conn.close()


def record_lost_export(db: Any, job_id: int, path: str | None, reason: str, rows_done: int) -> None:
    """An export whose process died: no file, and the job failed with ``reason``."""
    if path:
        from flowdesk.core.export.atomic import remove_leftovers

        remove_leftovers(Path(path))
    store.mark_failed(db, job_id, reason, rows_done=rows_done)


def import_flow_file(
    db: Any,
    parsed: ParsedFlows,
    *,
    progress: Callable[[Any], None] | None = None,
    is_cancelled: Callable[[], bool] = lambda: False,
) -> SyncReport:
    """Write a read flow file into ``db`` (an open cache); returns the engine's report."""
    from flowdesk.core.formats.files import prepare
    from flowdesk.core.sources.files import flow_file_source
    from flowdesk.core.sync import SyncEngine

    prepare(parsed, db)
    source = flow_file_source(parsed)
    return SyncEngine(db).run(source, progress=progress, is_cancelled=is_cancelled)
