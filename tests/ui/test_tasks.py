"""The one way into background work: queries, calls, jobs and writes, keys, cancel, shutdown.

Ordering tests use the test pools (tests/ui/pools.py): work runs when the test says so, so
"the older answer arrives last" happens every run, not one run in two.
"""

from __future__ import annotations

import logging
import os
import threading
import time

import pytest
from PySide6.QtCore import QObject, QThread

from flowdesk.core.errors import Canceled
from flowdesk.core.queries import list_flows
from tests import background_targets as targets
from tests.ui.pools import HeldPool, SyncPool, deliver


def test_queries_run_off_the_gui_thread_and_call_back_on_it(qtbot, tasks):
    gui = QThread.currentThread()
    seen = {}

    # Booleans, not the threads: a wrapper kept for a pool thread outlives the thread, and
    # shiboken hands it out again for whatever object Qt later allocates at its address.
    def query(db):
        seen["on_gui"] = QThread.currentThread() is gui
        return list_flows(db)

    def done(flows):
        seen["callback_on_gui"] = QThread.currentThread() is gui
        seen["flows"] = flows

    tasks.query(query, success=done)
    qtbot.waitUntil(lambda: "flows" in seen, timeout=5000)
    assert seen["on_gui"] is False
    assert seen["callback_on_gui"] is True
    assert len(seen["flows"]) == 8

    errors = []
    tasks.query(lambda db: db.execute("SELECT nope FROM nowhere"), failure=errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert "nowhere" in str(errors[0])
    assert "nowhere" in errors[0].__traceback_text__


def test_outcomes_arrive_after_the_call_returns_even_from_a_synchronous_pool(
    make_tasks, demo_db_path
):
    tasks = make_tasks(demo_db_path, interactive=SyncPool())
    events = []
    tasks.query(lambda db: 42, success=lambda value: events.append(("success", value)))
    events.append("returned")
    deliver()
    assert events == ["returned", ("success", 42)]


def test_an_unhandled_failure_is_logged_not_raised(make_tasks, caplog):
    tasks = make_tasks(interactive=SyncPool())

    def boom():
        raise ValueError("boom")

    with caplog.at_level(logging.ERROR, logger="flowdesk.ui.tasks"):
        tasks.call(boom)
        deliver()
    assert "boom" in caplog.text and "Traceback" in caplog.text


@pytest.mark.parametrize("order", [[0, 1, 2], [1, 2, 0], [2, 0, 1]], ids=str)
def test_a_newer_call_with_the_same_key_drops_the_older_answer(make_tasks, order):
    held = HeldPool(running=True)
    tasks = make_tasks(interactive=held)
    answers = []
    tasks.call(lambda: "older", success=answers.append, key=("search",))
    tasks.call(lambda: "newer", success=answers.append, key=("search",))
    tasks.call(lambda: "other", success=answers.append, key=("other",))
    assert len(held) == 3  # both searches are running: only their answers can be stopped
    held.release_in(order)
    assert sorted(answers) == ["newer", "other"]
    assert not tasks.busy()


def test_a_dropped_call_that_had_not_started_never_runs(make_tasks):
    held = HeldPool()
    tasks = make_tasks(interactive=held)
    ran = []
    tasks.call(lambda: ran.append("older"), key=("k",))
    tasks.call(lambda: ran.append("newer"), key=("k",))
    assert len(held) == 1  # the older one was taken off the queue
    held.release_all()
    assert ran == ["newer"] and not tasks.busy()


def test_drop_by_prefix(make_tasks):
    held = HeldPool(running=True)
    tasks = make_tasks(interactive=held)
    owner = object()
    answers = []
    for page in range(3):
        tasks.call(lambda p=page: p, success=answers.append, key=(owner, "page", page))
    tasks.call(lambda: "kept", success=answers.append, key=("someone else", "page", 0))
    assert tasks.drop((owner,)) == 3
    held.release_all()
    assert answers == ["kept"]


def test_jobs_report_progress_then_their_result_in_order(qtbot, make_tasks):
    tasks = make_tasks(in_child=False)
    events = []
    task = tasks.job(
        targets.count_to,
        3,
        progress=lambda value: events.append(("progress", value)),
        success=lambda value: events.append(("success", value["counted"])),
    )
    qtbot.waitUntil(lambda: not tasks.busy(), timeout=5000)
    assert events == [("progress", 1), ("progress", 2), ("progress", 3), ("success", 3)]
    assert not task.is_cancelled()


def test_jobs_run_in_a_child_process_unless_told_otherwise(qtbot, make_tasks):
    results = []
    for in_child in (True, False):
        tasks = make_tasks(in_child=in_child)
        tasks.job(targets.count_to, 1, success=results.append)
        qtbot.waitUntil(lambda t=tasks: not t.busy(), timeout=20_000)
    assert results[0]["pid"] != os.getpid() and results[1]["pid"] == os.getpid()


def test_cancel_is_cooperative_and_the_result_still_arrives(qtbot, make_tasks, tmp_path):
    tasks = make_tasks(in_child=False)
    marker = tmp_path / "started"
    results = []
    task = tasks.job(targets.wait_for_cancel, str(marker), success=results.append)
    qtbot.waitUntil(marker.exists, timeout=5000)
    assert tasks.busy()
    assert not task.cancel()  # running: it stops at its next check
    qtbot.waitUntil(lambda: results == ["canceled"], timeout=5000)
    assert not tasks.busy()


def test_cancel_before_start_reports_task_cancelled(make_tasks):
    held = HeldPool()
    tasks = make_tasks(long=held)
    failures, ran = [], []
    task = tasks.job(lambda **_kw: ran.append(1), failure=failures.append)
    assert task.cancel()  # never started: it never will
    deliver()
    assert ran == [] and len(held) == 0
    assert len(failures) == 1 and isinstance(failures[0], Canceled)


def test_long_jobs_do_not_block_interactive_queries(qtbot, make_tasks, demo_db_path):
    tasks = make_tasks(demo_db_path, interactive_threads=1, long_threads=1, in_child=False)
    release = threading.Event()

    def hold(*, progress, is_cancelled):
        return release.wait(10)

    tasks.job(hold)
    answered = []
    tasks.query(lambda db: 1, success=answered.append)
    qtbot.waitUntil(lambda: answered == [1], timeout=5000)
    release.set()


def test_writes_run_in_call_order_on_their_own_connection(qtbot, make_tasks, db, tmp_path):
    path = tmp_path / "cache.db"
    db.conn.execute("CREATE TABLE log (n INTEGER)")
    db.conn.commit()
    tasks = make_tasks(path)
    gui = QThread.currentThread()
    on_gui = []

    def append(conn, n):
        on_gui.append(QThread.currentThread() is gui)  # not the thread: see the first test
        time.sleep(0.01 if n % 2 else 0)
        with conn.conn:
            conn.conn.execute("INSERT INTO log VALUES (?)", [n])

    for n in range(6):
        tasks.write(append, n)
    done = []
    tasks.write(
        lambda conn: [r[0] for r in conn.conn.execute("SELECT n FROM log")], success=done.append
    )
    qtbot.waitUntil(lambda: bool(done), timeout=5000)
    assert done == [[0, 1, 2, 3, 4, 5]]
    assert on_gui == [False] * 6


def test_shutdown_drops_late_answers_but_finishes_queued_writes(make_tasks, db, tmp_path):
    db.conn.execute("CREATE TABLE log (n INTEGER)")
    db.conn.commit()
    interactive, writes = HeldPool(), HeldPool()
    tasks = make_tasks(tmp_path / "cache.db", interactive=interactive, writes=writes)
    answers = []
    tasks.call(lambda: "late", success=answers.append)
    tasks.write(lambda conn: conn.conn.execute("INSERT INTO log VALUES (1)") and conn.conn.commit())
    assert tasks.shutdown()
    deliver()
    assert answers == []
    assert db.conn.execute("SELECT count(*) FROM log").fetchone()[0] == 1
    with pytest.raises(RuntimeError):
        tasks.call(lambda: None)


def test_a_callback_of_a_deleted_widget_is_skipped(qtbot, make_tasks):
    held = HeldPool()
    tasks = make_tasks(interactive=held)

    class Receiver(QObject):
        got: list = []

        def take(self, value):
            self.got.append(value)

    receiver = Receiver()
    tasks.call(lambda: 1, success=receiver.take)
    receiver.deleteLater()
    qtbot.waitUntil(lambda: not _valid(receiver), timeout=1000)
    held.release_all()
    assert Receiver.got == []


def _valid(obj) -> bool:
    import shiboken6

    return shiboken6.isValid(obj)
