"""GUI figures, each in fresh processes (Qt offscreen) so nothing is shared with the harness.

* cold_start: from spawning ``python`` to the main window's first completed paint on the
  workspace; baseline: the same for an empty ``QMainWindow`` (interpreter + PySide6 floor).
* peak_rss: VmHWM after opening the workspace and visiting every tab of the biggest flow and of
  an outbound flow (contacts scrolled to the bottom and the middle, executions, versions, Flow
  Viewer with heat, a traced path); baseline: VmHWM of the empty window.
* event_loop_latency: worst lateness of a 10 ms ``QTimer`` on the GUI thread, in the app's own
  event loop, while a sync (the demo's next tick, into a private copy of the workspace) and a
  CSV export of the biggest flow run as the app runs them (each in a child process, started
  from a settled window); baseline: the same window with nothing running.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import CACHE, ROOT, Figure
from benchmarks.workspaces import copy_workspace, remove_db


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    # An installed app runs from compiled bytecode (pip and PyInstaller both ship it). Without
    # it every start recompiles the sources, and a worker thread compiling a module it imports
    # late holds the GIL the whole time. Keep the bytecode out of the source tree.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(CACHE / "pycache")
    env.setdefault("FLOWDESK_THEME", "light")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _child(*args: str, timeout: float = 600) -> tuple[dict, float]:
    """Run a gui_child mode; returns (its JSON line, seconds until that line arrived)."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.gui_child", *args],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    arrived = time.perf_counter() - start
    try:
        _, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
    if not line.strip():
        raise RuntimeError(f"gui_child {args[0]} failed:\n{err[-3000:]}")
    return json.loads(line), arrived


def cold_start(db_path: Path, scale: int, repeat: int = 5) -> tuple[list[Figure], float]:
    """The cold-start figure and the bare window's peak RSS (the RSS baseline)."""
    ours, bare, bare_peak = [], [], []
    _child("cold", str(db_path))  # warm the page cache: "cold" is the process, not the disk
    for _ in range(repeat):
        _, seconds = _child("cold", str(db_path))
        ours.append(seconds * 1000)
        data, seconds = _child("cold-bare")
        bare.append(seconds * 1000)
        bare_peak.append(data["peak_mb"])
    return [
        Figure(
            "cold_start",
            scale,
            statistics.median(ours),
            "ms",
            statistics.median(bare),
            note="spawn → first painted main window; baseline: an empty QMainWindow",
            samples=ours,
        )
    ], statistics.median(bare_peak)


def peak_rss(db_path: Path, scale: int, bare_peak: float, repeat: int = 2) -> list[Figure]:
    peaks = []
    tabs: list[str] = []
    for _ in range(repeat):
        data, _ = _child("rss", str(db_path))
        peaks.append(data["peak_mb"])
        tabs = data["tabs"]
    return [
        Figure(
            "peak_rss",
            scale,
            statistics.median(peaks),
            "MB",
            bare_peak,
            note=f"VmHWM after visiting {len(tabs)} tabs; baseline: an empty PySide6 window",
            samples=peaks,
        )
    ]


def event_loop_latency(db_path: Path, scale: int, seconds: float, repeat: int = 2) -> list[Figure]:
    copy = CACHE / f"latency-{scale}.db"
    worst, idle, notes = [], [], []
    try:
        for _ in range(repeat):
            copy_workspace(db_path, copy)
            data, _ = _child("latency", str(copy), str(seconds))
            worst.append(data["max_ms"])
            notes.append(data)
            idle_data, _ = _child("latency", str(db_path), "2", "idle")
            idle.append(idle_data["max_ms"])
    finally:
        remove_db(copy)
    last = notes[-1]
    finished = []
    if last["sync_finished"]:
        finished.append("sync")
    if last["export_finished"]:
        finished.append("export")
    return [
        Figure(
            "event_loop_latency",
            scale,
            statistics.median(worst),
            "ms",
            statistics.median(idle),
            note=(
                f"worst lateness of a 10 ms timer over {last['seconds']:.1f} s"
                f" (p99 {last['p99_ms']:.0f} ms; finished: {', '.join(finished) or 'neither'});"
                " baseline: idle window"
            ),
            samples=worst,
        )
    ]
