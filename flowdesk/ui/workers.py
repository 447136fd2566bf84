"""Background work for the GUI: QRunnable workers with a separate signals object.

A :class:`Worker` runs a plain function on a thread pool and reports through
:class:`WorkerSignals` (started → progress* → returned | errored → finished). Receivers live on
the GUI thread; the function never touches a widget. Cancellation is cooperative: the function
gets a :class:`WorkerContext` whose ``is_cancelled()`` it checks between batches.

Two pools keep interactive queries (a page of contacts, a trace) from queueing behind long jobs
(sync, exports). Long jobs are plain functions of the cache path (``flowdesk.core.tasks``) that
:meth:`CacheRunner.run_task` runs in a child process, so their CPU-bound Python never holds the
GUI's GIL; the pool thread only relays their progress. :class:`CacheRunner` lends each
interactive query a SQLite connection from a small set it keeps open (one per concurrently
running query), so pages do not pay for opening the cache; long jobs open their own.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)


class WorkerSignals(QObject):
    started = Signal()
    progress = Signal(object)
    returned = Signal(object)
    errored = Signal(object)  # the exception, with ``__traceback_text__`` attached
    finished = Signal()


class WorkerContext:
    """What a running function may use: progress reports and the cancel flag."""

    def __init__(self, worker: Worker) -> None:
        self._worker = worker

    def progress(self, value: Any) -> None:
        if not self._worker.is_cancelled():
            self._worker.signals.progress.emit(value)

    def is_cancelled(self) -> bool:
        return self._worker.is_cancelled()


class Worker(QRunnable):
    """Run ``fn(ctx, *args, **kwargs)`` on a pool; results arrive as signals on the GUI thread."""

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the Python object owns the signals; keep them alive
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.signals = WorkerSignals()
        self._cancel = threading.Event()
        self._done = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def is_done(self) -> bool:
        return self._done.is_set()

    def run(self) -> None:
        signals = self.signals
        signals.started.emit()
        try:
            result = self.fn(WorkerContext(self), *self.args, **self.kwargs)
        except Exception as exc:  # reported to the GUI; never raised into Qt
            exc.__traceback_text__ = traceback.format_exc()  # type: ignore[attr-defined]
            signals.errored.emit(exc)
        else:
            signals.returned.emit(result)
        finally:
            self._done.set()
            signals.finished.emit()


class WorkerPools:
    """The app's two pools: interactive queries and long jobs. Tracks its live workers."""

    def __init__(
        self, interactive_threads: int = 2, long_threads: int = 2, *, jobs_in_child: bool = True
    ) -> None:
        # Tests that patch a job's code in this process turn ``jobs_in_child`` off.
        self.jobs_in_child = jobs_in_child
        self.interactive = QThreadPool()
        self.interactive.setMaxThreadCount(interactive_threads)
        self.long = QThreadPool()
        self.long.setMaxThreadCount(long_threads)
        self._live: set[Worker] = set()
        self._lock = threading.Lock()

    def start(self, worker: Worker, *, long: bool = False) -> Worker:
        with self._lock:
            self._live.add(worker)
        worker.signals.finished.connect(lambda w=worker: self._forget(w))
        (self.long if long else self.interactive).start(worker)
        return worker

    def _forget(self, worker: Worker) -> None:
        with self._lock:
            self._live.discard(worker)

    def busy(self) -> bool:
        with self._lock:
            return bool(self._live)

    def cancel_all(self) -> None:
        with self._lock:
            workers = list(self._live)
        for worker in workers:
            worker.cancel()

    def wait(self, msecs: int = 30000) -> bool:
        ok = self.interactive.waitForDone(msecs)
        return self.long.waitForDone(msecs) and ok

    def shutdown(self, msecs: int = 10000) -> None:
        self.cancel_all()
        self.wait(msecs)


UI_CACHE_KIB = 16384


def open_for_ui(path: str | Path):
    """A cache connection for reading from the app, with a small memory footprint.

    The app keeps three connections open (the GUI thread's and two for interactive queries);
    each gets a 16 MB page cache and no memory map, so scans over a million runs do not grow the
    process by hundreds of MB. The OS file cache still keeps hot pages fast.
    """
    from flowdesk.core.db import connect

    db = connect(path)
    db.conn.execute(f"PRAGMA cache_size=-{UI_CACHE_KIB}")
    db.conn.execute("PRAGMA mmap_size=0")
    return db


class CacheRunner(QObject):
    """Runs ``fn(db, *args)`` against the cache off the GUI thread.

    ``submit`` takes callbacks rather than exposing signals so callers cannot forget to connect
    before the worker starts; the callbacks run on the GUI thread.
    """

    def __init__(self, db_path: str | Path, pools: WorkerPools, parent: QObject | None = None):
        super().__init__(parent)
        self.db_path = str(db_path)
        self.pools = pools
        self.closed = False
        self._idle: list[Any] = []  # connections not in use by a running query
        self._all: list[Any] = []
        self._lock = threading.Lock()

    def _borrow(self):
        """A connection for one query: SQLite connections are used by one thread at a time, so
        a query borrows one (opened on first need) and gives it back when done."""
        with self._lock:
            if self._idle:
                return self._idle.pop()
        db = open_for_ui(self.db_path)
        with self._lock:
            self._all.append(db)
        return db

    def _give_back(self, db) -> None:
        with self._lock:
            self._idle.append(db)

    def close(self) -> None:
        """Close every connection (after the pools are done). Results still on their way (a
        sync canceled by the shutdown reports after it) are dropped: their receivers are gone."""
        self.closed = True
        with self._lock:
            connections, self._all, self._idle = self._all, [], []
        for db in connections:
            try:
                db.conn.close()
            except Exception:  # closing is best effort at shutdown
                log.debug("closing a cache connection failed", exc_info=True)

    def submit(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[Any], None] | None = None,
        long: bool = False,
    ) -> Worker:
        """Start the query ``fn(db, *args)``.

        Long ones open a fresh connection and close it when done; interactive queries borrow one
        of the connections the runner keeps open.
        """

        def job(ctx: WorkerContext) -> Any:
            if long:
                from flowdesk.core.db import connect

                db = connect(self.db_path)
                try:
                    return fn(db, *args)
                finally:
                    db.conn.close()
            db = self._borrow()
            try:
                return fn(db, *args)
            finally:
                self._give_back(db)

        return self._start(job, on_result, on_error, on_progress, long=long)

    def run_task(
        self,
        task: Callable[..., Any],
        *args: Any,
        on_result: Callable[[Any], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[Any], None] | None = None,
    ) -> Worker:
        """Run a long job ``task(*args, progress=…, is_cancelled=…)`` on the long pool: in a
        child process when the pools say so, else on the pool thread itself."""
        in_child = self.pools.jobs_in_child

        def job(ctx: WorkerContext) -> Any:
            return run_task(task, args, ctx.progress, ctx.is_cancelled, in_child=in_child)

        return self._start(job, on_result, on_error, on_progress, long=True)

    def _start(self, job, on_result, on_error, on_progress, *, long: bool) -> Worker:  # noqa: ANN001
        """Start ``job`` with its results delivered to the callbacks on the GUI thread."""
        worker = Worker(job)
        receiver = _Receiver(on_result, on_error, on_progress, self)
        worker.signals.returned.connect(receiver.on_returned)
        worker.signals.errored.connect(receiver.on_errored)
        worker.signals.progress.connect(receiver.on_progress)
        worker.signals.finished.connect(receiver.deleteLater)
        return self.pools.start(worker, long=long)


def run_task(
    task: Callable[..., Any],
    args: tuple,
    progress: Callable[[Any], None] | None,
    is_cancelled: Callable[[], bool] | None,
    *,
    in_child: bool,
) -> Any:
    """Call ``task`` in a child process (``in_child``) or right here; same result either way."""
    if in_child:
        from flowdesk.core.background import run_in_child

        return run_in_child(
            task, *args, progress=progress, is_cancelled=is_cancelled, name=task.__name__
        )
    return task(*args, progress=progress, is_cancelled=is_cancelled)


class _Receiver(QObject):
    """Lives on the GUI thread and forwards a worker's signals to plain callbacks, until the
    runner is closed."""

    def __init__(self, on_result, on_error, on_progress, runner: CacheRunner) -> None:
        super().__init__(runner)
        self._runner = runner
        self._on_result = on_result
        self._on_error = on_error
        self._on_progress = on_progress

    @Slot(object)
    def on_returned(self, value: Any) -> None:
        if self._on_result is not None and not self._runner.closed:
            self._on_result(value)

    @Slot(object)
    def on_errored(self, exc: BaseException) -> None:
        if self._runner.closed:
            log.debug("dropped a late error after shutdown: %r", exc)
        elif self._on_error is not None:
            self._on_error(exc)
        else:
            log.error(
                "background query failed: %s",
                getattr(exc, "__traceback_text__", None) or repr(exc),
            )

    @Slot(object)
    def on_progress(self, value: Any) -> None:
        if self._on_progress is not None and not self._runner.closed:
            self._on_progress(value)
