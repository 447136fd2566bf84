"""Worker lifecycle: signals in order, errors reported not raised, cooperative cancel, pools."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QThread

from flowdesk.core.queries import list_flows
from flowdesk.ui.workers import CacheRunner, Worker, WorkerPools


def test_lifecycle_signals_in_strict_order(qtbot):
    pools = WorkerPools()

    def job(ctx, x):
        ctx.progress(1)
        return x * 2

    worker = Worker(job, 21)
    signals = worker.signals
    results = []
    signals.returned.connect(results.append)
    with qtbot.waitSignals(
        [signals.started, signals.progress, signals.returned, signals.finished],
        order="strict",
        timeout=5000,
    ):
        pools.start(worker)
    assert results == [42]
    pools.shutdown()


def test_errors_arrive_as_signals(qtbot):
    pools = WorkerPools()

    def job(ctx):
        raise ValueError("boom")

    worker = Worker(job)
    errors = []
    worker.signals.errored.connect(errors.append)
    with qtbot.waitSignals(
        [worker.signals.errored, worker.signals.finished], order="strict", timeout=5000
    ):
        pools.start(worker)
    exc = errors[0]
    assert isinstance(exc, ValueError) and "boom" in exc.__traceback_text__
    pools.shutdown()


def test_cancel_is_cooperative(qtbot):
    pools = WorkerPools()
    started = threading.Event()

    def job(ctx):
        started.set()
        while not ctx.is_cancelled():
            time.sleep(0.005)
        return "stopped"

    worker = Worker(job)
    with qtbot.waitSignal(worker.signals.returned, timeout=5000) as blocker:
        pools.start(worker, long=True)
        started.wait(5)
        assert pools.busy()
        pools.cancel_all()
    assert blocker.args == ["stopped"]
    qtbot.waitUntil(lambda: not pools.busy(), timeout=5000)
    pools.shutdown()


def test_runner_queries_off_the_gui_thread_and_calls_back_on_it(qtbot, demo_db_path):
    pools = WorkerPools()
    runner = CacheRunner(demo_db_path, pools)
    gui = QThread.currentThread()
    seen = {}

    def query(db):
        seen["thread"] = QThread.currentThread()
        return list_flows(db)

    def done(flows):
        seen["callback_thread"] = QThread.currentThread()
        seen["flows"] = flows

    runner.submit(query, on_result=done)
    qtbot.waitUntil(lambda: "flows" in seen, timeout=5000)
    assert seen["thread"] is not gui
    assert seen["callback_thread"] is gui
    assert len(seen["flows"]) == 8

    errors = []
    runner.submit(lambda db: db.execute("SELECT nope FROM nowhere"), on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert "nowhere" in str(errors[0])
    pools.shutdown()
    runner.close()


def test_long_jobs_do_not_block_interactive_queries(qtbot, demo_db_path):
    pools = WorkerPools(interactive_threads=1, long_threads=1)
    runner = CacheRunner(demo_db_path, pools)
    release = threading.Event()
    runner.submit(lambda db: release.wait(10), long=True)
    answered = []
    runner.submit(lambda db: 1, on_result=answered.append)
    qtbot.waitUntil(lambda: answered == [1], timeout=5000)
    release.set()
    pools.shutdown()
    runner.close()
