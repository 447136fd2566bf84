"""The exports of the Downloads list: which jobs there are and what happens to them.

:class:`JobManager` lives on the GUI thread. It keeps the jobs in memory (the panel reads them
from here), starts each export as a long job of the window's
:class:`~flowdesk.ui.tasks.TaskManager` (``flowdesk.core.tasks.export_job``, which records its
own state changes from its process), and records the user's actions — a new job, cancel before
start, retry, remove, seen — on the task manager's write lane, so the GUI thread never writes
to the jobs table.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from flowdesk.core.background import BackgroundProcessError
from flowdesk.core.db import connect
from flowdesk.core.errors import Canceled
from flowdesk.core.export import (
    ExportError,
    ExportResult,
    ExportSpec,
    default_folder,
    export_title,
)
from flowdesk.core.export import jobs_store as store
from flowdesk.core.tasks import ExportStarted, export_job, export_to_file, record_lost_export
from flowdesk.ui.errors import error_text
from flowdesk.ui.tasks import Task, TaskManager

log = logging.getLogger(__name__)

SHUTDOWN_MESSAGE = "Canceled because Flowdesk was closed; no file was written."


class JobManager(QObject):
    """Starts, cancels and retries exports; the Downloads panel and its badge listen.

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

    # What writes an export's file: ``export(db_path, spec, output_path, progress_interval, *,
    # progress, is_cancelled)``, a module-level function. Tests swap in one that holds mid-way.
    export_task: Callable[..., ExportResult] = staticmethod(export_to_file)

    def __init__(
        self,
        tasks: TaskManager,
        parent: QObject | None = None,
        *,
        folder: str | Path | None = None,
        progress_interval: float = 0.1,
    ) -> None:
        super().__init__(parent)
        if tasks.db_path is None:
            raise ValueError("exports need a task manager on a cache")
        self.tasks = tasks
        self.db_path = Path(tasks.db_path)
        self.folder = Path(folder) if folder else None
        self.progress_interval = progress_interval
        self._db = connect(self.db_path)  # reads only: names for titles, the list at start
        jobs = store.list_jobs(self._db)
        settled = store.settle_interrupted(jobs)
        if settled:
            self.tasks.write(store.save_settled, [_copy(job) for job in settled])
        self._jobs: dict[int, store.JobRecord] = {job.id: job for job in jobs}
        self._next_id = store.next_job_id(self._db)
        self._running: dict[int, Task] = {}
        self._closed = False
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

    # -- actions ---------------------------------------------------------------------------------

    def start_export(self, spec: ExportSpec, folder: str | Path | None = None) -> int:
        """Queue an export of ``spec`` into ``folder`` (default: the manager's folder, else the
        user's Downloads folder); returns the job id at once."""
        if self._closed:
            raise RuntimeError("the job manager was shut down")
        target = Path(folder) if folder else (self.folder or default_folder())
        job_id = self._next_id
        self._next_id += 1
        job = store.new_export_job(job_id, spec, target, export_title(self._db, spec))
        self._jobs[job_id] = job
        self.jobAdded.emit(job_id)
        self.tasks.write(
            store.insert_job,
            _copy(job),
            success=lambda _none: self._launch(job_id),
            failure=lambda exc: self._not_recorded(job_id, exc),
        )
        return job_id

    def cancel(self, job_id: int) -> bool:
        """Cancel a queued or running job; False when it is not active."""
        job = self._jobs.get(job_id)
        if job is None or not job.active:
            return False
        task = self._running.get(job_id)
        if task is None:  # its row is still being written: it never starts
            self._cancel_unstarted(job_id, store.CANCELED_MESSAGE)
        else:
            task.cancel()  # a job that had not started reports Canceled at once
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
        job.state, job.error, job.path, job.seen = store.QUEUED, None, None, True
        job.rows_done, job.rows_total, job.size_bytes, job.finished_at = 0, None, None, None
        self.jobChanged.emit(job_id)
        self._update_unseen()
        self.tasks.write(
            store.reset_for_retry,
            job_id,
            success=lambda _none: self._launch(job_id),
            failure=lambda exc: self._not_recorded(job_id, exc),
        )
        return job_id

    def remove(self, job_id: int) -> bool:
        """Take an ended job off the list (its file stays where it is)."""
        job = self._jobs.get(job_id)
        if job is None or job.active or self._closed:
            return False
        del self._jobs[job_id]
        self.tasks.write(store.delete_job, job_id)
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
        for job_id in unseen:
            self._jobs[job_id].seen = True
        self.tasks.write(store.mark_seen, unseen)
        self._update_unseen()

    def refresh_files(self) -> None:
        """Re-check finished files on disk (a deleted file then shows as missing)."""
        for job in self._jobs.values():
            if job.state == store.FINISHED:
                self.jobChanged.emit(job.id)

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Cancel every job and wait until they and the writes they caused are done; True when
        everything stopped in time. Running exports record their own end."""
        if self._closed:
            return True
        for job in list(self._jobs.values()):
            if not job.active:
                continue
            task = self._running.get(job.id)
            if task is None or task.cancel():
                self._cancel_unstarted(job.id, SHUTDOWN_MESSAGE)
        self._closed = True
        done = self.tasks.wait(timeout_ms)
        self._db.conn.close()
        return done

    # -- plumbing ----------------------------------------------------------------------------

    def _launch(self, job_id: int) -> None:
        job = self._jobs.get(job_id)
        if job is None or job.state != store.QUEUED or self._closed:
            return  # canceled while its row was being written
        self._running[job_id] = self.tasks.job(
            export_job,
            str(self.db_path),
            _copy(job),
            self.progress_interval,
            self.export_task,
            success=lambda result: self._on_finished(job_id, result),
            failure=lambda exc: self._on_failed(job_id, exc),
            progress=lambda value: self._on_progress(job_id, value),
        )

    def _cancel_unstarted(self, job_id: int, message: str) -> None:
        self._running.pop(job_id, None)
        self.tasks.write(lambda db: store.mark_failed(db, job_id, message, state=store.CANCELED))
        self._settle(job_id, store.CANCELED, message)
        self.jobCanceled.emit(job_id)

    def _not_recorded(self, job_id: int, exc: BaseException) -> None:
        log.error("could not record export job %s: %r", job_id, exc)
        reason = f"Could not record the export in the cache ({exc}); try again."
        self._settle(job_id, store.FAILED, reason)
        self.jobFailed.emit(job_id, reason)

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

    def _on_progress(self, job_id: int, value: object) -> None:
        job = self._jobs.get(job_id)
        if job is None or not job.active:
            return
        if isinstance(value, ExportStarted):
            job.state, job.path, job.params = store.RUNNING, value.path, dict(value.params)
            self.jobChanged.emit(job_id)
            self.jobStarted.emit(job_id)
            return
        done, total = value  # type: ignore[misc]
        job.rows_done, job.rows_total = done, total
        self.jobChanged.emit(job_id)
        self.jobProgress.emit(job_id, done, total)

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

    def _on_failed(self, job_id: int, exc: BaseException) -> None:
        self._running.pop(job_id, None)
        job = self._jobs.get(job_id)
        if job is None or self._closed:
            return
        if isinstance(exc, Canceled):  # recorded again: it may have been taken off the queue
            self._cancel_unstarted(job_id, store.CANCELED_MESSAGE)
            return
        if isinstance(exc, ExportError):
            reason = str(exc)
        else:  # the export's process was killed or crashed, or a bug: nobody recorded it
            said = (
                str(exc) if isinstance(exc, BackgroundProcessError) else error_text(exc, "Export")
            )
            reason = f"{said} No file was written; try again."
            # Said once its half-written file is gone, as a failed job promises.
            self.tasks.write(
                record_lost_export,
                job_id,
                job.path,
                reason,
                job.rows_done,
                success=lambda _none: self._fail(job_id, reason),
                failure=lambda _exc: self._fail(job_id, reason),
            )
            return
        self._fail(job_id, reason)

    def _fail(self, job_id: int, reason: str) -> None:
        self._settle(job_id, store.FAILED, reason)
        self.jobFailed.emit(job_id, reason)


def _copy(job: store.JobRecord) -> store.JobRecord:
    """A copy for another thread or process: the in-memory record belongs to the GUI thread."""
    return dataclasses.replace(job, params=dict(job.params))
