"""A sync killed with SIGKILL mid-way, then resumed, ends with exactly the uninterrupted cache."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flowdesk.core import search_terms
from flowdesk.core.db import connect
from flowdesk.core.integrity import mismatches
from tests.factories import cache_content_at

CONTACTS = 12000


def _flowdesk(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "flowdesk", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _committed_batches(path: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
        try:
            row = conn.execute("SELECT count(*) FROM run_steps").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return 0
    return row[0] if row else 0


@pytest.mark.slow
def test_killed_build_resumes_to_the_same_cache(tmp_path):
    reference = tmp_path / "reference.db"
    assert _flowdesk("demo", "--db", str(reference), "--contacts", str(CONTACTS)).wait() == 0

    crashed = tmp_path / "crashed.db"
    process = _flowdesk("demo", "--db", str(crashed), "--contacts", str(CONTACTS))
    deadline = time.monotonic() + 120
    while _committed_batches(crashed) == 0 and time.monotonic() < deadline:
        assert process.poll() is None, "the build finished before it could be killed"
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    partial = _committed_batches(crashed)
    assert 0 < partial < len(cache_content_at(reference)["run_steps"]), "the kill landed mid-build"
    stopped = connect(crashed, readonly=True)
    assert search_terms.is_pending(stopped.conn)  # the sorted build at the end never ran
    stopped.conn.close()

    assert _flowdesk("sync", "--db", str(crashed)).wait() == 0
    assert cache_content_at(crashed) == cache_content_at(reference)
    assert mismatches(connect(crashed)) == []
