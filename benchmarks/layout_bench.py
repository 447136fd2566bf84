"""Flow layout time (flowdesk.core.layout) for a 60-step flow with 10 branching steps, and for
500-step flows shaped like real RapidPro/TextIt and Twilio Studio ones.

Usage: .venv/bin/python benchmarks/layout_bench.py [--steps 60] [--branches 10] [--repeat 15]

Prints the median layout time and its ratio to merely building the graph's adjacency dicts,
which factors out the speed of the machine. Targets: under 200 ms for 60 steps, under 1 s for
500 (real workspaces hold flows of 70-110 steps; RapidPro allows 1,000 a flow).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import median_ms  # noqa: E402
from flowdesk.core.layout import LayoutEdge, LayoutNode, compute_layout  # noqa: E402


def synthetic_flow(steps: int, branches: int, seed: int = 7):  # noqa: ANN201
    """Menus and conditionals whose options merge back, retry loops, "Main menu" back edges."""
    rng = random.Random(seed)
    nodes = [LayoutNode("s0", 216.0, 76.0)]
    edges: list[LayoutEdge] = []

    def step() -> str:
        nodes.append(LayoutNode(f"s{len(nodes)}", 216.0, 76.0))
        return nodes[-1].id

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
    nodes = [LayoutNode("n0", 216.0, 76.0)]
    edges: list[LayoutEdge] = []

    def step() -> str:
        nodes.append(LayoutNode(f"n{len(nodes)}", 216.0, 76.0))
        return nodes[-1].id

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


def adjacency(nodes: list[LayoutNode], edges: list[LayoutEdge]) -> None:
    out: dict[str, list[LayoutEdge]] = {node.id: [] for node in nodes}
    into: dict[str, list[LayoutEdge]] = {node.id: [] for node in nodes}
    for edge in edges:
        out[edge.source].append(edge)
        into[edge.target].append(edge)


def _cpu_ms(fn) -> float:  # noqa: ANN001
    start = time.process_time()
    fn()
    return (time.process_time() - start) * 1000


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
        ("500 steps, real-shaped", 1000.0, real_shaped_flow(500)),
    ]
    for name, target, (nodes, edges) in cases:
        layout, _ = median_ms(lambda n=nodes, e=edges: compute_layout(n, e), args.repeat)
        baseline, _ = median_ms(lambda n=nodes, e=edges: adjacency(n, e), args.repeat)
        cpu = statistics.median(
            _cpu_ms(lambda n=nodes, e=edges: compute_layout(n, e)) for _ in range(args.repeat)
        )
        print(
            f"{name}: {len(nodes)} steps, {len(edges)} edges: layout {layout:.1f} ms"
            f" (median of {args.repeat}; CPU {cpu:.1f} ms, which a busy machine does not"
            f" inflate), adjacency dicts {baseline * 1000:.0f} us, ratio {layout / baseline:.0f}x"
        )
        if target is not None:
            print(f"  target: <= {target:.0f} ms ->", "OK" if layout <= target else "TOO SLOW")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
