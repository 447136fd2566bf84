"""The order contacts pass through a version's steps, read from its graph alone.

An export's step columns read left to right in this order, the way the Flow Viewer draws the
steps top to bottom (core/layout.py uses the same first two rules):

1. Loops are broken where they go back: a depth-first walk from the entry steps, following each
   step's exits in their own order (options, then Next, No reply, Answer failed), marks the edge
   that returns to a step still being walked ("Invalid number" → "Ask order number") as a loop.
2. Without the loops the graph has no cycle; a step comes after every step that leads to it
   (longest path from the entry), so an end step reached both directly and through a branch
   comes after that branch.
3. Steps at the same depth keep the order a breadth-first walk from the entry finds them.
4. Steps no exit from the entry reaches come last, in the source's own order.

Only the graph decides, so the order is the same for every scope and every sync until a version
is published; a run's data never moves a column.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterable, Sequence
from typing import TypeVar

Node = TypeVar("Node", bound=Hashable)


def path_order(
    nodes: Sequence[Node], edges: Iterable[tuple[Node, Node]], entries: Sequence[Node]
) -> list[Node]:
    """Every node of ``nodes`` once, in path order (see the module's rules).

    ``nodes`` in the source's order (the tie-breaker for unreached steps); ``edges`` as
    (source, target) in each source's exit order, edges to unknown nodes ignored; ``entries``
    where contacts start, first entry first.
    """
    known = set(nodes)
    exits: dict[Node, list[Node]] = {node: [] for node in nodes}
    for source, target in edges:
        if source in known and target in known and source != target and target not in exits[source]:
            exits[source].append(target)
    starts = [node for node in dict.fromkeys(entries) if node in known]

    # 1. Loops: edges that close a cycle on the depth-first walk from the entries.
    loops: set[tuple[Node, Node]] = set()
    state: dict[Node, int] = {}  # 1 being walked, 2 done
    for start in starts:
        if start in state:
            continue
        state[start] = 1
        stack = [(start, iter(exits[start]))]
        while stack:
            node, remaining = stack[-1]
            target = next(remaining, None)
            if target is None:
                state[node] = 2
                stack.pop()
            elif target not in state:
                state[target] = 1
                stack.append((target, iter(exits[target])))
            elif state[target] == 1:
                loops.add((node, target))

    # 3. Breadth-first discovery order from the entries (the tie-breaker within one depth).
    found: dict[Node, int] = {}
    queue = deque(starts)
    for start in starts:
        found.setdefault(start, len(found))
    while queue:
        node = queue.popleft()
        for target in exits[node]:
            if target not in found:
                found[target] = len(found)
                queue.append(target)

    # 2. Longest path from the entries over the reached steps, loops left out.
    incoming = dict.fromkeys(found, 0)
    for node in found:
        for target in exits[node]:
            if (node, target) not in loops:
                incoming[target] += 1
    depth = dict.fromkeys(found, 0)
    ready = deque(node for node in found if incoming[node] == 0)
    while ready:
        node = ready.popleft()
        for target in exits[node]:
            if (node, target) in loops:
                continue
            depth[target] = max(depth[target], depth[node] + 1)
            incoming[target] -= 1
            if incoming[target] == 0:
                ready.append(target)

    reached = sorted(found, key=lambda node: (depth[node], found[node]))
    return reached + [node for node in nodes if node not in found]
