"""Long jobs in a child process: results, progress, errors, cancel, and a child or parent dying."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from flowdesk.core.background import BackgroundProcessError, run_in_child
from flowdesk.core.export import ExportError
from tests import background_targets as targets

ROOT = Path(__file__).resolve().parents[1]


def test_result_and_every_progress_report_come_back_in_order():
    seen: list[int] = []
    result = run_in_child(targets.count_to, 50, progress=seen.append)
    assert result["counted"] == 50
    assert result["pid"] != os.getpid()  # it really ran elsewhere
    assert seen == list(range(1, 51))


def test_an_exception_keeps_its_type_message_and_child_traceback():
    with pytest.raises(ExportError, match="disk on fire") as caught:
        run_in_child(targets.fail_clearly, "disk on fire")
    assert "fail_clearly" in caught.value.__traceback_text__


def test_an_exception_that_cannot_be_pickled_arrives_as_its_text():
    with pytest.raises(BackgroundProcessError, match=r"_Stubborn: 1/2"):
        run_in_child(targets.fail_unpicklably)


def test_a_child_that_dies_is_reported_with_its_exit_code():
    seen: list[str] = []
    with pytest.raises(BackgroundProcessError, match=r"stopped unexpectedly \(exit code 7\)"):
        run_in_child(targets.die, 7, progress=seen.append)
    assert seen == ["about to die"]


def test_cancel_reaches_the_child_between_its_checks(tmp_path):
    marker = tmp_path / "pid"
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()  # long after the child started spinning
    started = time.monotonic()
    result = run_in_child(targets.wait_for_cancel, str(marker), is_cancelled=cancel.is_set)
    assert result == "canceled"
    assert time.monotonic() - started < 30
    assert marker.exists()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it has stopped running all the same.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc and sends SIGKILL")
def test_a_child_stops_by_itself_when_the_app_is_killed(tmp_path):
    marker = tmp_path / "pid"
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                from flowdesk.core.background import run_in_child
                from tests import background_targets as targets
                run_in_child(targets.wait_for_cancel, {str(marker)!r})
                """
            ),
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,  # its resource tracker reports the killed parent's semaphores
    )
    try:
        deadline = time.monotonic() + 30
        while not marker.exists() or not marker.read_text():
            assert time.monotonic() < deadline, "the child never started"
            assert parent.poll() is None, "the parent exited early"
            time.sleep(0.05)
        child = int(marker.read_text())
        assert _alive(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 10
        while _alive(child):
            assert time.monotonic() < deadline, "the child outlived the app"
            time.sleep(0.05)
    finally:
        if parent.poll() is None:
            parent.kill()
