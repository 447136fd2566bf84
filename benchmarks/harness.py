"""``python -m benchmarks [--quick] [--json PATH]``: every scale figure, one table.

For each scale (10k, 100k and, without ``--quick``, 1M runs) the harness takes the cached demo
workspace (building it first if needed), then measures the read figures, the exports, the GUI
figures in fresh processes, and ingest. It prints a table of how each figure grows with the
number of runs, with the raw baseline, ratio and target at the largest scale, and optionally
writes everything as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from benchmarks.common import (
    FIGURE_ORDER,
    RATES,
    TARGETS,
    Figure,
    fmt_scale,
    fmt_value,
    growth,
    log,
    machine,
)

QUICK_SCALES = [10_000, 100_000]
FULL_SCALES = [10_000, 100_000, 1_000_000]
GROUPS = ("queries", "exports", "gui", "ingest")


def _ingest_repeat(scale: int, quick: bool) -> int:
    if scale <= 10_000:
        return 3
    if scale <= 100_000:
        return 1 if quick else 3
    return 1


def measure_scale(scale: int, quick: bool, groups: set[str]) -> tuple[list[Figure], dict]:
    from benchmarks import export_figures, find_figures, gui_figures, ingest, query_figures
    from benchmarks.workspaces import workspace

    log(f"[{fmt_scale(scale)}] workspace")
    path, info = workspace(scale)
    figures: list[Figure] = []
    started = time.perf_counter()
    if "queries" in groups:
        log(f"[{fmt_scale(scale)}] queries")
        figures += query_figures.measure(path, scale)
        figures += find_figures.measure(path, scale)
    if "exports" in groups:
        log(f"[{fmt_scale(scale)}] exports")
        figures += export_figures.measure(
            path, scale, repeat=3, xlsx_cap=5_000 if quick else 20_000
        )
    if "gui" in groups:
        log(f"[{fmt_scale(scale)}] cold start")
        cold, bare_peak = gui_figures.cold_start(path, scale, repeat=3 if quick else 5)
        figures += cold
        log(f"[{fmt_scale(scale)}] peak RSS")
        figures += gui_figures.peak_rss(path, scale, bare_peak, repeat=1 if quick else 2)
        log(f"[{fmt_scale(scale)}] event-loop latency")
        figures += gui_figures.event_loop_latency(
            path, scale, seconds=8 if quick else 20, repeat=1 if quick else 2
        )
    if "ingest" in groups:
        log(f"[{fmt_scale(scale)}] ingest")
        figures += ingest.measure(scale, _ingest_repeat(scale, quick))
    info = {**info, "seconds": round(time.perf_counter() - started, 1)}
    return figures, info


def table(figures: list[Figure], scales: list[int]) -> str:
    by_key = {(f.name, f.scale): f for f in figures}
    names = [n for n in FIGURE_ORDER if any(f.name == n for f in figures)]
    names += sorted({f.name for f in figures} - set(names))
    largest = scales[-1]
    head = ["figure", *(fmt_scale(s) for s in scales), "growth"] + [
        f"baseline @{fmt_scale(largest)}",
        "ratio",
        "target",
        "ok",
    ]
    rows = [head]
    for name in names:
        values = [by_key.get((name, s)) for s in scales]
        present = [f for f in values if f is not None]
        unit = present[0].unit
        top = by_key.get((name, largest)) or present[-1]
        ratio = "—" if top.ratio is None else f"{top.ratio:.2f}×"
        target = TARGETS.get(name)
        rows.append(
            [
                name,
                *(fmt_value(f.value, unit) if f else "—" for f in values),
                growth([f.scale for f in present], [f.value for f in present], rate=name in RATES),
                fmt_value(top.baseline, unit),
                ratio,
                target.text(unit) if target else "—",
                "—" if top.ok is None else ("ok" if top.ok else "MISSED"),
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = []
    for index, row in enumerate(rows):
        cells = [
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        ]
        lines.append("| " + " | ".join(cells) + " |")
        if index == 0:
            lines.append(
                "|"
                + "|".join("-" * (w + 1) + (":" if i else "-") for i, w in enumerate(widths))
                + "|"
            )
    return "\n".join(lines)


def notes(figures: list[Figure], scale: int) -> str:
    return "\n".join(f"* `{f.name}`: {f.note}" for f in figures if f.scale == scale and f.note)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="10k and 100k runs only (< 3 min)")
    parser.add_argument("--json", type=Path, help="write every figure to this JSON file")
    parser.add_argument(
        "--scales", help="comma-separated run counts instead of the defaults (e.g. 10000,50000)"
    )
    parser.add_argument(
        "--only", help=f"comma-separated groups to measure: {', '.join(GROUPS)} (default: all)"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if args.scales:
        scales = sorted(int(s.replace("_", "")) for s in args.scales.split(","))
    else:
        scales = QUICK_SCALES if args.quick else FULL_SCALES
    groups = set(GROUPS) if not args.only else {g.strip() for g in args.only.split(",")}
    unknown = groups - set(GROUPS)
    if unknown:
        parser.error(f"unknown group(s): {', '.join(sorted(unknown))}")
    started = time.perf_counter()
    info_machine = machine()
    figures: list[Figure] = []
    infos = []
    for scale in scales:
        scale_figures, info = measure_scale(scale, args.quick, groups)
        figures += scale_figures
        infos.append({"runs_requested": scale, **info})
    seconds = time.perf_counter() - started
    info_machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(
        f"Flowdesk scale benchmark — {info_machine['cores']} cores ({info_machine['cpu']}),"
        f" Python {info_machine['python']}, SQLite {info_machine['sqlite']},"
        f" load {info_machine['load_average_at_start'][0]:.1f}; {seconds:.0f} s"
    )
    for info in infos:
        print(
            f"  {fmt_scale(info['runs_requested'])}: {info['runs']:,} runs,"
            f" {info['path_rows']:,} path rows"
        )
    print()
    print(table(figures, scales))
    print()
    print(f"Notes at {fmt_scale(scales[-1])}:")
    print(notes(figures, scales[-1]))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "machine": info_machine,
                    "scales": infos,
                    "seconds": round(seconds, 1),
                    "figures": [f.as_json() for f in figures],
                },
                indent=2,
                ensure_ascii=False,
            )
            + "\n"
        )
    missed = [f for f in figures if f.scale == scales[-1] and f.ok is False]
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
