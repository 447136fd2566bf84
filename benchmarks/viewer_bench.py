"""Flow Viewer scene build time for a large flow (60 steps, 10 branching steps, loops).

Usage: .venv/bin/python benchmarks/viewer_bench.py [--steps 60] [--branches 10] [--repeat 7]
       [--png /tmp/viewer-60.png]

Prints the median time to build the scene (layout included) and the ratio to creating the same
number of plain QGraphicsRectItems, which factors out the speed of the machine. Target: the build
stays under 300 ms for 60 steps.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtWidgets import QApplication, QGraphicsRectItem, QGraphicsScene  # noqa: E402

from benchmarks.common import median_ms  # noqa: E402
from flowdesk.core.queries import FlowGraph, GraphEdge, GraphStep  # noqa: E402
from flowdesk.ui.viewer import FlowViewer  # noqa: E402
from flowdesk.ui.viewer.scene import FlowScene  # noqa: E402

TYPES = ("MESSAGE", "TEMPLATE", "ACTION", "CONTACT_UPDATE", "TAG", "DELAY", "QUESTION")


def synthetic_graph(steps: int = 60, branches: int = 10, seed: int = 7) -> FlowGraph:
    """A flow shaped like real ones: a trunk, menus fanning out to 2-4 options that rejoin,
    retry loops on questions, a couple of steps nobody has executed yet."""
    rng = random.Random(seed)
    keys = list(range(1, steps + 1))
    branch_at = set(rng.sample(keys[1 : steps - 8], branches))
    edges: dict[tuple[int, int], tuple[list[str], list[str]]] = {}
    types: dict[int, str] = {}
    for key in keys[:-1]:
        if key in branch_at:
            types[key] = "MENU"
            count = rng.randint(2, 4)
            targets = sorted(
                {min(steps, key + rng.randint(1, 6)) for _ in range(count)} | {key + 1}
            )
            for i, target in enumerate(targets):
                edges.setdefault((key, target), ([], []))[0].append(f"Option {i + 1}")
            edges.setdefault((key, min(steps, key + 7)), ([], []))[0].append("No reply")
        else:
            types[key] = rng.choice(TYPES)
            edges.setdefault((key, key + 1), ([], []))[0].append("Next")
            if types[key] == "QUESTION" and key > 3:
                edges.setdefault((key, key - 2), ([], []))[0].append("Answer failed")
    types[steps] = "END"
    # Reach falls along the flow, faster after each menu.
    reached = {1: 5000}
    for key in keys[1:]:
        incoming = [s for (s, t) in edges if t == key and s < key]
        base = sum(reached.get(s, 0) for s in incoming) or reached[key - 1]
        reached[key] = max(0, int(base * rng.uniform(0.35, 0.95)))
    placeholders = set(rng.sample(keys[steps // 2 :], 2))
    graph_steps = [
        GraphStep(
            key,
            f"step-{key}",
            f"Step {key}: {types[key].title().replace('_', ' ')} with a longer descriptive name",
            "UNKNOWN" if key in placeholders else types[key],
            86400 if types[key] in ("MENU", "QUESTION", "TEMPLATE") else None,
            key,
            key in placeholders,
            0 if key in placeholders else reached[key],
            0 if key in placeholders else reached[key] + reached[key] // 10,
            {"completed": reached[key] // 20, "expired": reached[key] // 30},
        )
        for key in keys
    ]
    graph_edges = [
        GraphEdge(s, t, tuple(labels), ("option",) * len(labels), min(reached[s], reached[t]) // 2)
        for (s, t), (labels, _kinds) in edges.items()
    ]
    return FlowGraph("bench", None, graph_steps, graph_edges, [1])


def _time(fn, repeat: int) -> float:  # noqa: ANN001
    """Median seconds of ``fn()`` (the shared timer, with no warm-up call)."""
    return median_ms(fn, repeat, warmup=0)[0] / 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--branches", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--png", type=Path, help="also save a screenshot of the fitted viewer")
    args = parser.parse_args()

    app = QApplication.instance() or QApplication([])
    graph = synthetic_graph(args.steps, args.branches)
    viewer = FlowViewer()
    palette, font = viewer.palette(), viewer.font()
    scene = FlowScene()

    build = _time(lambda: scene.build(graph, palette, font), args.repeat)
    item_count = len(scene.items())

    def plain() -> None:
        plain_scene = QGraphicsScene()
        for i in range(item_count):
            plain_scene.addItem(QGraphicsRectItem(i * 10.0, 0.0, 216.0, 76.0))
        plain_scene.clear()

    baseline = _time(plain, args.repeat)

    from flowdesk.core.layout import LayoutEdge, LayoutNode, compute_layout

    layout_only = _time(
        lambda: compute_layout(
            [LayoutNode(str(s.key), 216, 76) for s in graph.steps],
            [
                LayoutEdge(str(e.source_key), str(e.target_key), "Option 1\n123 · 45%")
                for e in graph.edges
            ],
            roots=["1"],
        ),
        args.repeat,
    )

    viewer.resize(1400, 900)
    viewer.set_graph(graph)
    viewer.show()
    app.processEvents()
    first_paint = _time(lambda: viewer.grab(), 3)
    if args.png:
        viewer.grab().save(str(args.png))

    print(f"graph: {len(graph.steps)} steps, {len(graph.edges)} edges, {item_count} scene items")
    print(f"scene build (layout included): {build * 1000:.1f} ms (median of {args.repeat})")
    print(f"  of which layout:             {layout_only * 1000:.1f} ms")
    print(f"{item_count} plain QGraphicsRectItems:  {baseline * 1000:.2f} ms")
    print(f"ratio build / plain items:     {build / baseline:.0f}x")
    print(f"full repaint of the fitted view: {first_paint * 1000:.1f} ms")
    print("target: build <= 300 ms ->", "OK" if build <= 0.3 else "TOO SLOW")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
