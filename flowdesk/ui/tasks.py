"""One way into background work for the app: a :class:`TaskManager` per window.

Callers never see a pool, a signal or a runnable; they pass a plain function and callbacks:

* ``tasks.query(fn, *args, success=…, failure=…, key=…)`` reads the cache: ``fn(db, *args)``
  runs on the interactive pool with a read connection the manager lends it (kept open between
  queries, so a page of contacts does not pay for opening the cache).
* ``tasks.call(fn, *args, …)``: the same for work without the cache (a connection test).
* ``tasks.job(task, *args, progress=…, …)`` runs a long, CPU-bound job
  ``task(*args, progress=…, is_cancelled=…)`` on the long pool. Jobs run in a child process
  (:func:`flowdesk.core.background.run_in_child`), so their Python never holds the GIL the
  window needs; a manager built with ``in_child=False`` runs them on the pool thread instead
  (tests that patch a job's code in this process). This is the only place that decides.
* ``tasks.write(fn, *args, …)`` writes to the cache: ``fn(db, *args)`` runs on a one-thread
  lane with its own connection, in call order, so the window never waits for the write lock a
  sync's child may hold for a hundred milliseconds.

Callbacks run on the GUI thread, always after the call that started the work has returned (the
outcome is a queued event, even from a synchronous test pool), and exactly one of ``success`` or
``failure`` runs unless the result was dropped. A newer call with the same ``key`` drops the
older call's result and cancels its work: the key names what the result is for, so the latest
request wins without generation counters. :meth:`TaskManager.drop` drops every pending result
whose key starts with a prefix (keys are tuples). Work functions never touch a widget.

Pools are passed in, so tests can run work synchronously or release it in a chosen order
(``tests/ui/pools.py``).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import traceback
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, Protocol

import shiboken6
from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot

from flowdesk.core.errors import Canceled

log = logging.getLogger(__name__)

UI_CACHE_KIB = 16384


class Pool(Protocol):
    """What the manager needs of a thread pool (a ``QThreadPool`` or a test double)."""

    def start(self, runnable: QRunnable) -> None: ...

    def tryTake(self, runnable: QRunnable) -> bool: ...  # noqa: N802 - Qt's name

    def waitForDone(self, msecs: int = -1) -> bool: ...  # noqa: N802 - Qt's name


def open_for_ui(path: str | Path):  # noqa: ANN201 - a sqlite_utils.Database
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


def _alive(callback: Callable[..., Any] | None) -> bool:
    """Whether a callback can run: a method of a widget deleted meanwhile cannot."""
    if callback is None:
        return False
    owner = getattr(callback, "__self__", None)
    return not isinstance(owner, QObject) or shiboken6.isValid(owner)


def _pool(threads: int, name: str) -> QThreadPool:
    pool = QThreadPool()
    pool.setMaxThreadCount(threads)
    pool.setObjectName(name)
    return pool


class Task:
    """A handle on one piece of background work."""

    def __init__(
        self,
        manager: TaskManager,
        pool: Pool,
        key: Hashable | None,
        success: Callable[[Any], Any] | None,
        failure: Callable[[BaseException], Any] | None,
        progress: Callable[[Any], Any] | None = None,
    ) -> None:
        self.key = key
        self._manager = manager
        self._pool = pool
        self._success = success
        self._failure = failure
        self._progress = progress
        self._cancel = threading.Event()
        self._started = threading.Event()
        self._dropped = False  # read and written on the GUI thread only
        self._runnable: _Runnable | None = None

    def cancel(self) -> bool:
        """Ask the work to stop at its next check. Work that has not started never will: its
        ``failure`` then receives :class:`~flowdesk.core.errors.Canceled` and this returns True."""
        self._cancel.set()
        if self._take_off_queue():
            self._manager._post(self, "failure", Canceled())
            return True
        return False

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def pending(self) -> bool:
        """Whether its outcome is still to come: neither delivered nor dropped."""
        return not self._dropped and self._runnable is not None

    def drop(self) -> None:
        """Cancel the work and never call back."""
        self._dropped = True
        self._cancel.set()
        if self._take_off_queue():
            self._manager._forget(self)

    def _take_off_queue(self) -> bool:
        runnable = self._runnable
        if self._started.is_set() or runnable is None:
            return False
        return self._pool.tryTake(runnable)


class _Runnable(QRunnable):
    """Runs one task's function on a pool thread and posts its outcome to the manager."""

    def __init__(self, manager: TaskManager, task: Task, work: Callable[[], Any]) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the manager keeps the Python object until the outcome
        self._manager = manager
        self._task = task
        self._work = work

    def run(self) -> None:
        task = self._task
        task._started.set()
        try:
            value = self._work()
        except Exception as exc:  # posted to the GUI thread; never raised into Qt
            if not getattr(exc, "__traceback_text__", None):
                with contextlib.suppress(AttributeError, TypeError):
                    exc.__traceback_text__ = traceback.format_exc()  # type: ignore[attr-defined]
            self._manager._post(task, "failure", exc)
        else:
            self._manager._post(task, "success", value)


class TaskManager(QObject):
    """Runs the window's background work; see the module docstring for the four ways in."""

    _outcome = Signal(object, str, object)  # task, "success" | "failure" | "progress", value

    def __init__(
        self,
        db_path: str | Path | None = None,
        parent: QObject | None = None,
        *,
        interactive: Pool | None = None,
        long: Pool | None = None,
        writes: Pool | None = None,
        interactive_threads: int = 2,
        long_threads: int = 4,
        in_child: bool = True,
    ) -> None:
        super().__init__(parent)
        self.db_path = str(db_path) if db_path is not None else None
        self.in_child = in_child
        if interactive is None:
            interactive = _pool(interactive_threads, "flowdesk-interactive")
        self._interactive: Pool = interactive
        self._long: Pool = long if long is not None else _pool(long_threads, "flowdesk-long")
        self._writes: Pool = writes if writes is not None else _pool(1, "flowdesk-writes")
        self._live: set[Task] = set()
        self._latest: dict[Hashable, Task] = {}
        self._closed = False
        self._lock = threading.Lock()
        self._idle: list[Any] = []  # read connections not lent to a running query
        self._opened: list[Any] = []
        self._writer: Any = None
        # Outcomes are always queued: callbacks run from the event loop, never inside the call
        # that started the work, whichever pool ran it.
        self._outcome.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    # -- the ways in ---------------------------------------------------------------------------

    def query(
        self,
        fn: Callable[..., Any],
        *args: Any,
        success: Callable[[Any], Any] | None = None,
        failure: Callable[[BaseException], Any] | None = None,
        key: Hashable | None = None,
    ) -> Task:
        """Read the cache off the GUI thread: ``fn(db, *args)``."""

        def work() -> Any:
            db = self._borrow()
            try:
                return fn(db, *args)
            finally:
                self._give_back(db)

        return self._launch(Task(self, self._interactive, key, success, failure), work)

    def call(
        self,
        fn: Callable[..., Any],
        *args: Any,
        success: Callable[[Any], Any] | None = None,
        failure: Callable[[BaseException], Any] | None = None,
        key: Hashable | None = None,
        cancellable: bool = False,
    ) -> Task:
        """Run ``fn(*args)`` off the GUI thread (no cache); ``cancellable`` passes the task's
        ``is_cancelled`` to ``fn`` as a keyword, for work that can stop early."""
        task = Task(self, self._interactive, key, success, failure)

        def work() -> Any:
            if cancellable:
                return fn(*args, is_cancelled=task.is_cancelled)
            return fn(*args)

        return self._launch(task, work)

    def job(
        self,
        task_fn: Callable[..., Any],
        *args: Any,
        success: Callable[[Any], Any] | None = None,
        failure: Callable[[BaseException], Any] | None = None,
        progress: Callable[[Any], Any] | None = None,
        key: Hashable | None = None,
    ) -> Task:
        """Run a long job ``task_fn(*args, progress=…, is_cancelled=…)``: in a child process
        unless this manager runs jobs in process. ``task_fn`` must be a module-level function
        and its arguments must pickle."""
        task = Task(self, self._long, key, success, failure, progress)
        in_child = self.in_child

        def report(value: Any) -> None:
            if not task.is_cancelled():
                self._post(task, "progress", value)

        def work() -> Any:
            if in_child:
                from flowdesk.core.background import run_in_child

                return run_in_child(
                    task_fn,
                    *args,
                    progress=report,
                    is_cancelled=task.is_cancelled,
                    name=getattr(task_fn, "__name__", "flowdesk-job"),
                )
            return task_fn(*args, progress=report, is_cancelled=task.is_cancelled)

        return self._launch(task, work)

    def write(
        self,
        fn: Callable[..., Any],
        *args: Any,
        success: Callable[[Any], Any] | None = None,
        failure: Callable[[BaseException], Any] | None = None,
    ) -> Task:
        """Write to the cache off the GUI thread: ``fn(db, *args)``, after every earlier write."""

        def work() -> Any:
            return fn(self._write_connection(), *args)

        return self._launch(Task(self, self._writes, None, success, failure), work)

    # -- control ---------------------------------------------------------------------------------

    def drop(self, prefix: tuple) -> int:
        """Drop every pending result whose key is a tuple starting with ``prefix`` (and cancel
        its work); returns how many."""
        n = len(prefix)
        stale = [
            key
            for key in self._latest
            if key == prefix or (isinstance(key, tuple) and key[:n] == prefix)
        ]
        for key in stale:
            self._latest.pop(key).drop()
        return len(stale)

    def busy(self) -> bool:
        """Whether any work is running or waiting, or an outcome is on its way."""
        with self._lock:
            return bool(self._live)

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until the pools are idle (outcomes still arrive through the event loop)."""
        done = True
        for pool in (self._interactive, self._long, self._writes):
            done = pool.waitForDone(msecs) and done
        return done

    def shutdown(self, msecs: int = 10_000) -> bool:
        """Cancel every task, wait for the pools, close the connections; later outcomes are
        dropped. Writes already queued still happen. True when everything stopped in time."""
        if self._closed:
            return True
        with self._lock:
            live = list(self._live)
        for task in live:
            if task._pool is not self._writes:  # queued writes still happen
                task.drop()
        done = self.wait(msecs)
        self._closed = True
        with self._lock:
            self._live.clear()
        self._close_connections()
        return done

    def _launch(self, task: Task, work: Callable[[], Any]) -> Task:
        if self._closed:
            raise RuntimeError("the task manager was shut down")
        if task.key is not None:
            older = self._latest.get(task.key)
            if older is not None:
                older.drop()
            self._latest[task.key] = task
        runnable = _Runnable(self, task, work)
        task._runnable = runnable
        with self._lock:
            self._live.add(task)
        task._pool.start(runnable)
        return task

    def _forget(self, task: Task) -> None:
        with self._lock:
            self._live.discard(task)
        task._runnable = None  # the runnable may go now
        if self._latest.get(task.key) is task:
            del self._latest[task.key]

    def _post(self, task: Task, kind: str, value: Any) -> None:
        """From any thread: hand an outcome to the GUI thread."""
        self._outcome.emit(task, kind, value)

    @Slot(object, str, object)
    def _deliver(self, task: Task, kind: str, value: Any) -> None:
        if kind == "progress":
            if not task._dropped and not self._closed and _alive(task._progress):
                task._progress(value)
            return
        self._forget(task)
        if task._dropped or self._closed:
            log.debug("dropped the outcome of a task: %s %r", kind, value)
            return
        if kind == "success":
            if _alive(task._success):
                task._success(value)
        elif task._failure is not None:
            if _alive(task._failure):
                task._failure(value)
        elif not isinstance(value, Canceled):
            log.error(
                "background work failed: %s",
                getattr(value, "__traceback_text__", None) or repr(value),
            )

    def _borrow(self):  # noqa: ANN202
        """A read connection for one query: a SQLite connection serves one thread at a time,
        so a query borrows one (opened on first need) and gives it back when done."""
        with self._lock:
            if self._idle:
                return self._idle.pop()
        if self.db_path is None:
            raise RuntimeError("this task manager has no cache")
        db = open_for_ui(self.db_path)
        with self._lock:
            self._opened.append(db)
        return db

    def _give_back(self, db) -> None:  # noqa: ANN001
        with self._lock:
            self._idle.append(db)

    def _write_connection(self):  # noqa: ANN202
        if self._writer is None:  # only the write lane's one thread gets here
            if self.db_path is None:
                raise RuntimeError("this task manager has no cache")
            from flowdesk.core.db import connect

            self._writer = connect(self.db_path)
            with self._lock:
                self._opened.append(self._writer)
        return self._writer

    def _close_connections(self) -> None:
        with self._lock:
            connections, self._opened, self._idle = self._opened, [], []
        self._writer = None
        for db in connections:
            try:
                db.conn.close()
            except Exception:  # closing is best effort at shutdown
                log.debug("closing a cache connection failed", exc_info=True)
