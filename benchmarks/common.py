"""Figures, timing helpers, targets and the machine description shared by every benchmark."""

from __future__ import annotations

import gc
import math
import os
import platform
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / ".cache"


@dataclass(frozen=True, slots=True)
class Target:
    """``kind`` says what the target bounds: "max" the value, "min_ratio" value / baseline."""

    kind: str
    limit: float

    def ok(self, value: float, ratio: float | None) -> bool:
        if self.kind == "max":
            return value <= self.limit
        return ratio is not None and ratio >= self.limit

    def text(self, unit: str) -> str:
        if self.kind == "max":
            return f"≤ {self.limit:g} {unit}"
        return f"≥ {self.limit:g}×"


# The targets, stated at 1M runs on the reference 2-core machine.
TARGETS: dict[str, Target] = {
    "ingest": Target("min_ratio", 0.5),
    "summary": Target("max", 50),
    "heat": Target("max", 50),
    "versions": Target("max", 50),
    "executions": Target("max", 50),
    "contacts_first_page": Target("max", 50),
    "contacts_last_page": Target("max", 50),
    "contacts_sorted": Target("max", 50),
    "contacts_filtered": Target("max", 50),
    "search_phone": Target("max", 100),
    "search_name": Target("max", 100),
    "find_phone": Target("max", 100),
    "find_name": Target("max", 100),
    "path": Target("max", 50),
    "stops": Target("max", 50),
    "step_times": Target("max", 50),
    "over_time": Target("max", 50),
    "who_went_through": Target("max", 100),
    "csv_export": Target("min_ratio", 0.8),
    "xlsx_export": Target("min_ratio", 0.9),
    "cold_start": Target("max", 1500),
    "peak_rss": Target("max", 400),
    "event_loop_latency": Target("max", 100),
}
FIGURE_ORDER = list(TARGETS)
# Figures whose value is a rate (higher is better); the others are costs (lower is better).
RATES = frozenset({"ingest", "csv_export", "xlsx_export"})


@dataclass(slots=True)
class Figure:
    name: str
    scale: int
    value: float
    unit: str
    baseline: float | None
    ratio: float | None = None
    target: float | None = None
    ok: bool | None = None
    note: str = ""
    samples: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.ratio is None and self.baseline:
            self.ratio = self.value / self.baseline
        target = TARGETS.get(self.name)
        if target is not None:
            self.target = target.limit
            self.ok = target.ok(self.value, self.ratio)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("samples")
        for key in ("value", "baseline", "ratio"):
            if isinstance(data[key], float):
                data[key] = round(data[key], 4)
        return data


def median_ms(fn: Callable[[], Any], repeat: int = 7, warmup: int = 1) -> tuple[float, list[float]]:
    """Median wall time of ``fn()`` in milliseconds over ``repeat`` calls after ``warmup``."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), samples


def paired_ms(
    ours: Callable[[], Any], raw: Callable[[], Any], repeat: int = 7
) -> tuple[float, float, list[float]]:
    """Medians (ours, raw) in ms, the two interleaved so machine noise hits both alike."""
    ours()
    raw()
    mine, theirs = [], []
    for _ in range(repeat):
        for fn, bucket in ((ours, mine), (raw, theirs)):
            gc.collect()
            start = time.perf_counter()
            fn()
            bucket.append((time.perf_counter() - start) * 1000)
    return statistics.median(mine), statistics.median(theirs), mine


def slowest_figure(
    name: str,
    scale: int,
    inputs: list[str],
    pair: Callable[[str], tuple[Callable[[], Any], Callable[[], Any]]],
    note: Callable[[str], str],
    repeat: int = 7,
) -> Figure:
    """The figure of the slowest input: what a user waits for when they may type any of them.

    ``pair(text)`` gives (ours, raw) for one input, measured with :func:`paired_ms`; the figure
    keeps the input whose own call was slowest, with that input's baseline, and ``note(text)``
    says which it was.
    """
    worst: tuple[float, float, list[float], str] | None = None
    for text in inputs:
        value, baseline, samples = paired_ms(*pair(text), repeat)
        if worst is None or value > worst[0]:
            worst = (value, baseline, samples, text)
    if worst is None:
        raise ValueError(f"{name}: no input to measure")
    value, baseline, samples, text = worst
    return Figure(name, scale, value, "ms", baseline, note=note(text), samples=samples)


def quoted(texts: list[str]) -> str:
    """ "“a”, “b”": inputs as a figure's note names them."""
    return ", ".join(f"“{t}”" for t in texts)


def growth(scales: list[int], values: list[float], rate: bool = False) -> str:
    """How a figure's cost grows with the number of runs: flat, log or linear.

    The exponent e of cost ∝ n^e between the smallest and the largest scale decides: a log-like
    cost rises by a small constant factor per decade (e ≈ 0.05–0.4), a linear one follows n.
    For rates the cost is the time per row.
    """
    pairs = [(n, v) for n, v in zip(scales, values, strict=True) if v and v > 0]
    if len(pairs) < 2:
        return "—"
    (n0, v0), (n1, v1) = pairs[0], pairs[-1]
    cost0, cost1 = (1 / v0, 1 / v1) if rate else (v0, v1)
    exponent = math.log(cost1 / cost0) / math.log(n1 / n0)
    if exponent < 0.06:
        word = "flat"
    elif exponent < 0.5:
        word = "log"
    else:
        word = "linear"
    return f"{word} (n^{exponent:.2f})"


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if "model name" in line), "")
    except OSError:
        pass
    memory = 0
    try:
        with open("/proc/meminfo", encoding="ascii") as info:
            memory = int(next(line.split()[1] for line in info if line.startswith("MemTotal")))
    except (OSError, StopIteration):
        pass
    try:
        load = os.getloadavg()
    except OSError:
        load = (0.0, 0.0, 0.0)
    try:
        from PySide6 import __version__ as pyside
    except ImportError:
        pyside = ""
    return {
        "cpu": cpu or platform.processor(),
        "cores": os.cpu_count(),
        "memory_gb": round(memory / 1024 / 1024, 1),
        "os": platform.platform(terse=True),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "pyside6": pyside,
        "load_average_at_start": [round(x, 2) for x in load],
    }


def fmt_scale(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def fmt_value(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "rows/s":
        return f"{value / 1000:,.1f}k/s" if value < 1e6 else f"{value / 1e6:,.2f}M/s"
    if unit == "ms":
        return f"{value:,.1f} ms" if value < 100 else f"{value:,.0f} ms"
    if unit == "MB":
        return f"{value:,.0f} MB"
    return f"{value:,.2f} {unit}"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
