"""Background exports for the desktop app: a job runner on its own small thread pool.

:class:`ExportRunnable` runs one export (``flowdesk.core.tasks.export_to_file``) in a child
process driven from a pool thread, so the export's CPU-bound Python never competes with the GUI
for the GIL. It uses its own SQLite connections and reports through a separate
:class:`ExportSignals` object: ``started`` → ``progress``\\* → ``finished`` | ``failed`` |
``canceled``. It records its own state changes in the jobs table (so the GUI thread never waits
on the database for them) and never touches a widget.

:class:`JobManager` lives on the GUI thread, owned by the main window. It creates jobs, keeps
the in-memory list the notifications panel shows, and re-emits job events as its own signals.
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot

from flowdesk.core.background import BackgroundProcessError
from flowdesk.core.db import CacheError, connect
from flowdesk.core.errors import Canceled
from flowdesk.core.export import (
    ExportError,
    ExportResult,
    ExportSpec,
    default_folder,
    export_title,
    file_name,
    unique_path,
)
from flowdesk.core.export import jobs_store as store
from flowdesk.core.export.atomic import remove_leftovers
from flowdesk.core.export.errors import describe_error
from flowdesk.core.tasks import export_to_file
from flowdesk.ui.workers import run_task

log = logging.getLogger(__name__)

SHUTDOWN_MESSAGE = "Canceled because Flowdesk was closed; no file was written."


class ExportSignals(QObject):
    """What one export reports; emitted from its pool thread, received on the GUI thread."""

    started = Signal(int)  # job id
    progress = Signal(int, int, int)  # job id, rows done, rows total
    finished = Signal(int, object)  # job id, ExportResult
    failed = Signal(int, str)  # job id, one-sentence reason
    canceled = Signal(int)  # job id


class ExportRunnable(QRunnable):
    """One export job. Cancel with :meth:`cancel` from any thread; it stops within one batch of
    rows, deletes its temporary file and reports ``canceled``."""

    def __init__(
        self,
        job: store.JobRecord,
        db_path: Path,
        signals: ExportSignals,
        progress_interval: float = 0.1,
        in_child: bool = True,
        task: Callable[..., ExportResult] = export_to_file,
    ) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the manager keeps the Python object until the job ends
        self.job = dataclasses.replace(job, params=dict(job.params))  # the worker's own copy
        self.db_path = Path(db_path)
        self.signals = signals
        self.progress_interval = progress_interval
        self.in_child = in_child
        self.task = task
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def _store(self, conn, action, *args, **kwargs) -> None:
        """Record a state change; a busy or broken cache must not hide the outcome."""
        if conn is None:
            return
        try:
            action(conn, *args, **kwargs)
        except sqlite3.Error:
            log.exception("could not record the state of export job %s", self.job.id)

    def run(self) -> None:
        job, signals = self.job, self.signals
        conn = None
        path: Path | None = None
        rows_done = 0
        try:
            try:
                conn = connect(self.db_path, create=False).conn  # it records the job
            except (CacheError, sqlite3.Error) as exc:
                raise ExportError(f"Could not open the cache {self.db_path}: {exc}") from exc
            if self.is_cancelled():
                raise Canceled
            spec = job.spec
            folder = job.folder or default_folder()
            path = unique_path(folder, file_name(conn, spec))
            job.path = str(path)
            self._store(conn, store.mark_running, job, path, time.time())
            signals.started.emit(job.id)

            total_known = False

            def progress(report: tuple[int, int]) -> None:
                nonlocal total_known, rows_done
                done, total = report
                rows_done = done
                if not total_known:
                    total_known = True
                    self._store(conn, store.set_rows_total, job.id, total)
                signals.progress.emit(job.id, done, total)

            result = run_task(
                self.task,
                (str(self.db_path), spec, str(path), self.progress_interval),
                progress,
                self.is_cancelled,
                in_child=self.in_child,
            )
            self._store(
                conn,
                store.mark_finished,
                job,
                path=result.path,
                rows=result.rows,
                size_bytes=result.size_bytes,
                seconds=result.seconds,
                sheets=result.sheets,
            )
            signals.finished.emit(job.id, result)
        except Canceled:
            self._store(conn, store.mark_canceled, job.id, rows_done)
            signals.canceled.emit(job.id)
        except ExportError as exc:
            self._store(conn, store.mark_failed, job.id, str(exc), rows_done=rows_done)
            signals.failed.emit(job.id, str(exc))
        except BackgroundProcessError as exc:  # the export's process was killed or crashed
            if path is not None:
                remove_leftovers(path)
            reason = f"{exc} No file was written; try again."
            self._store(conn, store.mark_failed, job.id, reason, rows_done=rows_done)
            signals.failed.emit(job.id, reason)
        except Exception as exc:  # a bug: report it as a failed job, never raise into Qt
            log.exception("export job %s failed", job.id)
            reason = describe_error(exc, path or (job.folder or Path.home()) / job.title)
            self._store(conn, store.mark_failed, job.id, reason, rows_done=rows_done)
            signals.failed.emit(job.id, reason)
        finally:
            if conn is not None:
                conn.close()


class JobManager(QObject):
    """Starts, cancels and retries exports; the notifications panel and main window listen.

    Signals carry job ids; read the job with :meth:`job`. ``jobChanged`` fires on every change
    (state or progress), ``jobAdded`` / ``jobRemoved`` when the list itself changes.
    """

    jobAdded = Signal(int)  # noqa: N815
    jobChanged = Signal(int)  # noqa: N815
    jobRemoved = Signal(int)  # noqa: N815
    jobStarted = Signal(int)  # noqa: N815
    jobProgress = Signal(int, int, int)  # noqa: N815 - job id, rows done, rows total
    jobFinished = Signal(int)  # noqa: N815
    jobFailed = Signal(int, str)  # noqa: N815
    jobCanceled = Signal(int)  # noqa: N815
    unseenChanged = Signal(int)  # noqa: N815

    # What runs an export: ``task(db_path, spec, output_path, progress_interval, *, progress,
    # is_cancelled)``. Tests swap in a wrapper that holds the export mid-way.
    export_task: Callable[..., ExportResult] = staticmethod(export_to_file)

    def __init__(
        self,
        db_path: str | Path,
        parent: QObject | None = None,
        *,
        max_threads: int = 2,
        folder: str | Path | None = None,
        progress_interval: float = 0.1,
        in_child: bool = True,
    ) -> None:
        super().__init__(parent)
        self.in_child = in_child
        self.db_path = Path(db_path)
        self.folder = Path(folder) if folder else None
        self.progress_interval = progress_interval
        self._db = connect(self.db_path)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max(1, max_threads))
        self._pool.setObjectName("flowdesk-exports")
        self._running: dict[int, ExportRunnable] = {}
        self._closed = False
        store.recover_interrupted(self._db)
        self._jobs: dict[int, store.JobRecord] = {j.id: j for j in store.list_jobs(self._db)}
        self._unseen = self._count_unseen()

    # -- reading ---------------------------------------------------------------------------------

    def jobs(self) -> list[store.JobRecord]:
        """Every job, newest first."""
        return [self._jobs[i] for i in sorted(self._jobs, reverse=True)]

    def job(self, job_id: int) -> store.JobRecord | None:
        return self._jobs.get(job_id)

    def active_count(self) -> int:
        return sum(1 for job in self._jobs.values() if job.active)

    def unseen_count(self) -> int:
        return self._unseen

    @property
    def pool(self) -> QThreadPool:
        return self._pool

    # -- actions ---------------------------------------------------------------------------------

    def start_export(self, spec: ExportSpec, folder: str | Path | None = None) -> int:
        """Queue an export of ``spec`` into ``folder`` (default: the manager's folder, else the
        user's Downloads folder); returns the job id at once."""
        if self._closed:
            raise RuntimeError("the job manager was shut down")
        target = Path(folder) if folder else (self.folder or default_folder())
        job = store.create_export_job(self._db, spec, target, export_title(self._db, spec))
        self._jobs[job.id] = job
        self.jobAdded.emit(job.id)
        self._launch(job)
        return job.id

    def cancel(self, job_id: int) -> bool:
        """Cancel a queued or running job; False when it is not active."""
        job = self._jobs.get(job_id)
        runnable = self._running.get(job_id)
        if job is None or not job.active or runnable is None:
            return False
        runnable.cancel()
        if job.state == store.QUEUED and self._pool.tryTake(runnable):
            # Never started: nothing to clean up, and no thread will report it.
            self._running.pop(job_id, None)
            store.mark_canceled(self._db, job_id)
            self._settle(job_id, store.CANCELED, store.CANCELED_MESSAGE)
            self.jobCanceled.emit(job_id)
        return True

    def retry(self, job_id: int) -> int:
        """Run a failed, canceled or missing-file export again (a new file name); returns the
        job id, or -1 when the job cannot be retried."""
        job = self._jobs.get(job_id)
        if (
            job is None
            or self._closed
            or not (job.state in (store.FAILED, store.CANCELED) or job.missing)
        ):
            return -1
        store.reset_for_retry(self._db, job_id)
        fresh = store.get_job(self._db, job_id)
        if fresh is None:
            return -1
        self._jobs[job_id] = fresh
        self.jobChanged.emit(job_id)
        self._update_unseen()
        self._launch(fresh)
        return job_id

    def remove(self, job_id: int) -> bool:
        """Take an ended job off the list (its file stays where it is)."""
        job = self._jobs.get(job_id)
        if job is None or job.active or self._closed:
            return False
        store.delete_job(self._db, job_id)
        del self._jobs[job_id]
        self.jobRemoved.emit(job_id)
        self._update_unseen()
        return True

    def clear_ended(self) -> int:
        """Remove every finished, failed and canceled job from the list; returns how many."""
        ended = [job.id for job in self._jobs.values() if job.ended]
        for job_id in ended:
            self.remove(job_id)
        return len(ended)

    def mark_all_seen(self) -> None:
        unseen = [job.id for job in self._jobs.values() if job.ended and not job.seen]
        if not unseen or self._closed:
            return
        store.mark_seen(self._db, unseen)
        for job_id in unseen:
            self._jobs[job_id].seen = True
        self._update_unseen()

    def refresh_files(self) -> None:
        """Re-check finished files on disk (a deleted file then shows as missing)."""
        for job in self._jobs.values():
            if job.state == store.FINISHED:
                self.jobChanged.emit(job.id)

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Cancel every job, wait for the pool threads; True when they all stopped in time."""
        if self._closed:
            return True
        self._closed = True
        for job_id, runnable in list(self._running.items()):
            runnable.cancel()
            if self._pool.tryTake(runnable):
                self._running.pop(job_id, None)
                store.mark_failed(self._db, job_id, SHUTDOWN_MESSAGE, state=store.CANCELED)
                self._settle(job_id, store.CANCELED, SHUTDOWN_MESSAGE)
        done = self._pool.waitForDone(timeout_ms)
        self._db.conn.close()
        return done

    # -- plumbing ----------------------------------------------------------------------------

    def _launch(self, job: store.JobRecord) -> None:
        signals = ExportSignals()
        queued = Qt.ConnectionType.QueuedConnection
        signals.started.connect(self._on_started, queued)
        signals.progress.connect(self._on_progress, queued)
        signals.finished.connect(self._on_finished, queued)
        signals.failed.connect(self._on_failed, queued)
        signals.canceled.connect(self._on_canceled, queued)
        runnable = ExportRunnable(
            job,
            self.db_path,
            signals,
            self.progress_interval,
            in_child=self.in_child,
            task=self.export_task,
        )
        self._running[job.id] = runnable
        self._pool.start(runnable)

    def _count_unseen(self) -> int:
        return sum(1 for job in self._jobs.values() if job.ended and not job.seen)

    def _update_unseen(self) -> None:
        count = self._count_unseen()
        if count != self._unseen:
            self._unseen = count
            self.unseenChanged.emit(count)

    def _settle(self, job_id: int, state: str, error: str | None) -> None:
        job = self._jobs.get(job_id)
        if job is None:
            return
        job.state = state
        job.error = error
        job.seen = False
        job.finished_at = int(time.time())
        self.jobChanged.emit(job_id)
        self._update_unseen()

    @Slot(int)
    def _on_started(self, job_id: int) -> None:
        job = self._jobs.get(job_id)
        if job is None:
            return
        job.state = store.RUNNING
        runnable = self._running.get(job_id)
        if runnable is not None:  # set by the worker before it emitted ``started``
            job.path, job.params = runnable.job.path, dict(runnable.job.params)
        self.jobChanged.emit(job_id)
        self.jobStarted.emit(job_id)

    @Slot(int, int, int)
    def _on_progress(self, job_id: int, done: int, total: int) -> None:
        job = self._jobs.get(job_id)
        if job is None or not job.active:
            return
        job.rows_done, job.rows_total = done, total
        self.jobChanged.emit(job_id)
        self.jobProgress.emit(job_id, done, total)

    @Slot(int, object)
    def _on_finished(self, job_id: int, result: ExportResult) -> None:
        self._running.pop(job_id, None)
        job = self._jobs.get(job_id)
        if job is None:
            return
        job.path = str(result.path)
        job.rows_done = job.rows_total = result.rows
        job.size_bytes = result.size_bytes
        job.params = {**job.params, "seconds": result.seconds, "sheets": result.sheets}
        self._settle(job_id, store.FINISHED, None)
        self.jobFinished.emit(job_id)

    @Slot(int, str)
    def _on_failed(self, job_id: int, reason: str) -> None:
        self._running.pop(job_id, None)
        self._settle(job_id, store.FAILED, reason)
        self.jobFailed.emit(job_id, reason)

    @Slot(int)
    def _on_canceled(self, job_id: int) -> None:
        self._running.pop(job_id, None)
        job = self._jobs.get(job_id)
        if job is not None and job.state == store.CANCELED:
            return  # already settled when it was taken off the queue
        self._settle(job_id, store.CANCELED, store.CANCELED_MESSAGE)
        self.jobCanceled.emit(job_id)
