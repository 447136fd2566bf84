"""Flow layout time (flowdesk.core.layout) for a 60-step flow with 10 branching steps, and for
500-step flows shaped like real RapidPro/TextIt exports (one with very wide splits, which the
layout wraps into rows) and Twilio Studio IVRs.

Usage: .venv/bin/python benchmarks/layout_bench.py [--steps 60] [--branches 10] [--repeat 15]

Each sample times one layout by the wall clock and by the process's CPU time, around the same
call, and a raw baseline (adjacency lists, longest-path layers, each layer sorted: the least a
layered layout does) interleaved with it; the ratio layout CPU ÷ baseline CPU factors out the
speed of the machine. Targets: under 200 ms for 60 steps, under 1 s for 500 (real workspaces
hold flows of 70-110 steps; RapidPro allows 1,000 a flow). On a loaded machine (load average
above 3/4 of the cores, or wall time over 1.3x CPU time) the targets are judged on CPU time,
and the output says so. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flowdesk.core.layout import LayoutEdge, LayoutNode, compute_layout  # noqa: E402


def _flow(prefix: str, starts: int = 1):  # noqa: ANN202
    """A flow under construction: its nodes (``starts`` of them already), its edges, and a
    function adding the next node (named ``prefix`` + its number) and returning its id."""
    nodes = [LayoutNode(f"{prefix}{i}", 216.0, 76.0) for i in range(starts)]
    edges: list[LayoutEdge] = []

    def step() -> str:
        nodes.append(LayoutNode(f"{prefix}{len(nodes)}", 216.0, 76.0))
        return nodes[-1].id

    return nodes, edges, step


def synthetic_flow(steps: int, branches: int, seed: int = 7):  # noqa: ANN201
    """Menus and conditionals whose options merge back, retry loops, "Main menu" back edges."""
    rng = random.Random(seed)
    nodes, edges, step = _flow("s")

    current, menus = "s0", []
    for branch in range(branches):
        head, merge = step(), step()
        edges.append(LayoutEdge(current, head, "Next"))
        for option in range(rng.randint(2, 4)):
            previous = head
            for _ in range(rng.randint(0, 2)):
                nxt = step()
                edges.append(LayoutEdge(previous, nxt, f"Option {option + 1}\n123 · 45%"))
                previous = nxt
            edges.append(LayoutEdge(previous, merge, "Next\n99 · 12%"))
        if branch % 3 == 2:
            edges.append(LayoutEdge(merge, rng.choice(menus), "Main menu"))
        menus.append(head)
        current = merge
    while len(nodes) < steps:
        nxt = step()
        edges.append(LayoutEdge(current, nxt, "Next"))
        current = nxt
    return nodes, edges


def real_shaped_flow(steps: int, seed: int = 11):  # noqa: ANN201
    """What real exports look like (ParentText's RapidPro flows, Studio IVRs): questions with
    up to ten categories, each category a short run of messages and splits, an "Other" category
    that loops back to ask again, and every branch returning to a main menu."""
    rng = random.Random(seed)
    nodes, edges, step = _flow("n")

    menu = current = "n0"
    while len(nodes) < steps:
        question = step()
        edges.append(LayoutEdge(current, question, "Next"))
        edges.append(LayoutEdge(question, question, "Other"))
        merge = step()
        for category in range(rng.randint(3, 10)):
            previous = question
            for _ in range(rng.randint(1, 3)):
                nxt = step()
                edges.append(LayoutEdge(previous, nxt, f"Category {category + 1}\n12 · 8%"))
                previous = nxt
            edges.append(LayoutEdge(previous, merge if category % 3 else menu, "Next"))
        edges.append(LayoutEdge(question, merge, "No Response"))
        current = merge
    return nodes[:steps], [e for e in edges if int(e.target[1:]) < steps]


def ivr_shaped_flow(steps: int, seed: int = 5):  # noqa: ANN201
    """A Twilio Studio IVR as published ones are built: a main menu leading to sub-menus, each
    option a short run of widgets that returns to its sub-menu or to the main menu, so dozens of
    back edges enter the same few steps (the shape that drew as a fan of parallel lanes)."""
    rng = random.Random(seed)
    nodes, edges, step = _flow("w", starts=2)
    edges.append(LayoutEdge("w0", "w1", "incomingCall"))
    main = "w1"
    edges.append(LayoutEdge(main, main, "timeout"))
    while len(nodes) < steps:
        submenu = step()
        edges.append(LayoutEdge(main, submenu, f"keypress {len(nodes) % 10}"))
        for option in range(rng.randint(6, 10)):
            previous, label = submenu, f"Digit {option + 1}"
            for _ in range(rng.randint(1, 4)):
                nxt = step()
                edges.append(LayoutEdge(previous, nxt, label))
                previous, label = nxt, rng.choice(["sent", "success", "audioComplete"])
            edges.append(LayoutEdge(previous, rng.choice([main, submenu]), "Return"))
        edges.append(LayoutEdge(submenu, main, "noMatch"))
    kept = {node.id for node in nodes[:steps]}
    return nodes[:steps], [e for e in edges if e.source in kept and e.target in kept]


def wide_split_flow(steps: int, seed: int = 3):  # noqa: ANN201
    """RapidPro splits by a contact field with a category per value (ParentText's splits by id
    have 15-38, a hundred is possible): each category starts a flow and saves a status, and
    all join the next question; the layout wraps such a split into rows."""
    rng = random.Random(seed)
    nodes, edges, step = _flow("d")

    current = "d0"
    while len(nodes) < steps:
        split, merge = step(), step()
        edges.append(LayoutEdge(current, split, "Next"))
        for category in range(rng.randint(40, 100)):
            start = step()
            edges.append(LayoutEdge(split, start, f"Category {category + 1}\n12 · 8%"))
            saved = step()
            edges.append(LayoutEdge(start, saved, "Complete"))
            edges.append(LayoutEdge(saved, merge, "Next"))
        current = merge
    kept = {node.id for node in nodes[:steps]}
    return nodes[:steps], [e for e in edges if e.source in kept and e.target in kept]


def raw_layering(nodes: list[LayoutNode], edges: list[LayoutEdge]) -> None:
    """The raw baseline: the least a layered layout must do in plain Python (adjacency lists, a
    topological longest-path layering of the forward edges, each layer sorted once)."""
    index = {node.id: i for i, node in enumerate(nodes)}
    succ: list[list[int]] = [[] for _ in nodes]
    indegree = [0] * len(nodes)
    for edge in edges:
        a, b = index[edge.source], index[edge.target]
        if a < b:  # generated flows number steps in reading order: a cheap DAG
            succ[a].append(b)
            indegree[b] += 1
    layer = [0] * len(nodes)
    queue = [v for v in range(len(nodes)) if indegree[v] == 0]
    for v in queue:
        for w in succ[v]:
            layer[w] = max(layer[w], layer[v] + 1)
            indegree[w] -= 1
            if indegree[w] == 0:
                queue.append(w)
    rows: dict[int, list[int]] = {}
    for v, row in enumerate(layer):
        rows.setdefault(row, []).append(v)
    for row in rows.values():
        row.sort(key=lambda v: (len(succ[v]), v))


def timed(fn) -> tuple[float, float]:  # noqa: ANN001
    """(wall ms, process CPU ms) of one call, measured around the same call."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def measure(nodes, edges, repeat: int) -> dict[str, float]:  # noqa: ANN001
    """Medians of the layout and the raw baseline, interleaved so load hits both alike."""
    compute_layout(nodes, edges)  # warm-up
    walls, cpus, raws = [], [], []
    for _ in range(repeat):
        wall, cpu = timed(lambda: compute_layout(nodes, edges))
        walls.append(wall)
        cpus.append(cpu)
        raws.append(timed(lambda: raw_layering(nodes, edges))[1])
    return {
        "wall": statistics.median(walls),
        "cpu": statistics.median(cpus),
        "raw": statistics.median(raws),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--branches", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    cases = [
        (f"{args.steps} steps", 200.0, synthetic_flow(args.steps, args.branches)),
        ("200 steps", None, synthetic_flow(200, 30)),
        ("500 steps", 1000.0, synthetic_flow(500, 80)),
        ("500 steps, RapidPro-shaped", 1000.0, real_shaped_flow(500)),
        ("500 steps, Studio IVR-shaped", 1000.0, ivr_shaped_flow(500)),
        ("500 steps, splits of 40-100 categories", 1000.0, wide_split_flow(500)),
    ]
    load = os.getloadavg()[0]
    cores = os.cpu_count() or 1
    results = [
        (name, target, nodes, edges, measure(nodes, edges, args.repeat))
        for name, target, (nodes, edges) in cases
    ]
    # Wall time counts the time other jobs hold the cores; process CPU time does not. On a
    # loaded machine the target is judged on CPU time, which is what the layout costs.
    stretch = statistics.median(r["wall"] / r["cpu"] for *_, r in results if r["cpu"] > 0)
    loaded = load > 0.75 * cores or stretch > 1.3
    print(
        f"load average {load:.1f} on {cores} cores, wall/CPU {stretch:.1f}: "
        + (
            "loaded, so targets are judged on process CPU time"
            if loaded
            else "idle, so targets are judged on wall time"
        )
    )
    missed = 0
    for name, target, nodes, edges, r in results:
        judged = r["cpu"] if loaded else r["wall"]
        print(
            f"{name}: {len(nodes)} steps, {len(edges)} edges: layout CPU {r['cpu']:.1f} ms,"
            f" wall {r['wall']:.1f} ms (medians of {args.repeat}); raw layering baseline"
            f" {r['raw']:.2f} ms CPU, ratio {r['cpu'] / r['raw']:.0f}x"
        )
        if target is not None:
            ok = judged <= target
            missed += not ok
            what = "CPU" if loaded else "wall"
            verdict = "OK" if ok else "TOO SLOW"
            print(f"  target: {what} <= {target:.0f} ms -> {verdict}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
