"""Fixtures for the desktop app's tests: small caches, isolated settings, a waiting helper."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from flowdesk.core.db import connect
from flowdesk.core.sync import SyncEngine
from tests.core.test_two_phases import reported_cache
from tests.factories import PATH_COMPLETED, PATH_LOOP_THEN_FAIL, ListSource, run, runs_batch

DONE = "COMPLETED"


def _factory_runs():
    """An inbound flow with known paths: a loop (s3 twice), several runs of one contact."""
    return runs_batch(
        run("r1", PATH_COMPLETED, DONE),
        run(
            "r2",
            [("s1", DONE), ("s2", "RUNNING")],
            "RUNNING",
            contact="c2",
            last=None,
            phone="+5511999990000",
            first="Ana",
        ),
        run(
            "r3",
            PATH_LOOP_THEN_FAIL,
            "FAILED",
            contact="c3",
            first="Bruno",
            last="Costa",
            phone="+4915100000003",
            reason="External API failed: HTTP 502",
            start=30,
        ),
        run(
            "r4",
            [("s1", DONE), ("s2", "EXPIRED")],
            "EXPIRED",
            contact="c4",
            first="Carla",
            last="Dias",
            phone="+34600000004",
            start=40,
        ),
        run(
            "r5",
            [("s1", DONE), ("s2", DONE), ("s5", DONE), ("s6", DONE)],
            DONE,
            contact="c3",
            first="Bruno",
            last="Costa",
            phone="+4915100000003",
            start=90,
        ),
    )


@pytest.fixture
def factory_db_path(tmp_path) -> Path:
    path = tmp_path / "factory.db"
    db = connect(path)
    report = SyncEngine(db).run(ListSource([_factory_runs()]))
    assert report.outcome == "completed"
    db.conn.close()
    return path


@pytest.fixture(autouse=True)
def _no_background_work_left(monkeypatch):
    """Fail a test that leaves a thread pool busy: its work would run into the next test."""
    from PySide6.QtCore import QThreadPool

    from flowdesk.ui import tasks as tasks_module

    made: list[QThreadPool] = []
    real = tasks_module._pool

    def tracked(threads: int, name: str) -> QThreadPool:
        pool = real(threads, name)
        made.append(pool)
        return pool

    monkeypatch.setattr(tasks_module, "_pool", tracked)
    yield
    pools = [*made, QThreadPool.globalInstance()]
    busy = [pool.objectName() or "global" for pool in pools if pool.activeThreadCount()]
    for pool in pools:
        pool.waitForDone(10_000)  # whatever happens, nothing leaks into the next test
    assert not busy, f"the test left background work running on {busy}"


@pytest.fixture
def make_tasks(qtbot):
    """Task managers as the app makes them (pools may be swapped for test pools); each is
    shut down after the test."""
    from flowdesk.ui.tasks import TaskManager

    made = []

    def make(db_path=None, **kwargs):
        tasks = TaskManager(db_path, **kwargs)
        made.append(tasks)
        return tasks

    yield make
    for tasks in made:
        assert tasks.shutdown(10_000)


@pytest.fixture
def tasks(make_tasks, demo_db_path):
    """The background-work manager on the demo copy, with real thread pools."""
    return make_tasks(demo_db_path)


@pytest.fixture
def dialog_tasks(qtbot, make_tasks):
    """The task manager a connect dialog's tests run on (no cache: a connection test needs
    none); waits for its last test to finish."""
    tasks = make_tasks()
    yield tasks
    tasks.wait(10000)
    qtbot.waitUntil(lambda: not tasks.busy(), timeout=5000)


@pytest.fixture
def make_jobs(make_tasks, factory_db_path, folder):
    """Export job managers on the factory cache, as the app makes them: each export runs in a
    child process unless ``in_child=False`` (a test that patches the export in this process);
    ``max_threads`` long jobs run at once; ``long`` and ``writes`` replace the job and write
    lanes with test pools (tests/ui/pools.py). Each is shut down after the test."""
    from flowdesk.ui.downloads.manager import JobManager

    managers = []

    def make(*, in_child: bool = True, max_threads: int = 2, long=None, writes=None, **kwargs):
        kwargs.setdefault("folder", folder)
        kwargs.setdefault("progress_interval", 0.0)
        tasks = make_tasks(
            factory_db_path,
            long_threads=max_threads,
            in_child=in_child,
            long=long,
            writes=writes,
        )
        manager = JobManager(tasks, **kwargs)
        managers.append(manager)
        return manager

    yield make
    for manager in managers:
        assert manager.shutdown(10_000)


@pytest.fixture
def folder(tmp_path) -> Path:
    """An empty Downloads folder for exports."""
    path = tmp_path / "Downloads"
    path.mkdir()
    return path


@pytest.fixture
def settings(tmp_path):
    from PySide6.QtCore import QSettings

    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_window(qtbot, settings):
    """Build a MainWindow on a cache; waits for its first queries and shuts it down after."""
    from flowdesk.ui.main_window import MainWindow

    windows = []

    def make(path: Path, **kwargs):
        window = MainWindow(path, settings=kwargs.pop("settings", settings), **kwargs)
        qtbot.addWidget(window)
        window.resize(1440, 900)
        window.show()
        windows.append(window)
        wait_idle(qtbot, window)
        return window

    yield make
    for window in windows:
        window.shutdown()


def wait_idle(qtbot, window, timeout: float = 20.0) -> None:
    """Wait until every worker finished and the contacts pages on screen arrived."""
    deadline = time.monotonic() + timeout
    model = window.page.contacts_tab.model

    def idle() -> bool:
        return not window.tasks.busy() and not model.pending_pages() and not model.is_loading()

    while time.monotonic() < deadline:
        qtbot.wait(5)
        if idle():
            qtbot.wait(5)
            if idle():
                return
    raise AssertionError("workers did not finish in time")


@pytest.fixture
def reported(tmp_path, server):
    """A cache after a report-only sync of the test module's fake account (its ``server``
    fixture): every run listed, few paths read."""
    with reported_cache(tmp_path / "ac.db", server) as db:
        yield db
