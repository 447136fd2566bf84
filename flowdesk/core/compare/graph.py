"""One graph for "what changed": the newer version's steps and edges, plus the older version's
removed steps and transitions placed where they were, each step tagged with its diff status.

The viewer draws it like any version graph (the layout sees one graph), with added, changed
and removed steps styled apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flowdesk.core.compare.diff import VersionDiff
from flowdesk.core.queries import FlowGraph, GraphEdge


@dataclass(frozen=True, slots=True)
class DiffGraph:
    graph: FlowGraph
    status: dict[int, str]  # step key → added | removed | changed | same
    changes: dict[int, tuple[str, ...]] = field(default_factory=dict)
    removed_edges: frozenset[tuple[int, int]] = frozenset()


def diff_graph(a: FlowGraph, b: FlowGraph, diff: VersionDiff) -> DiffGraph:
    """Merge ``a`` (older) into ``b`` along ``diff``; removed items keep a's reach counts."""
    a_by_id = {s.id: s for s in a.steps}
    b_by_id = {s.id: s for s in b.steps}
    status: dict[int, str] = {}
    changes: dict[int, tuple[str, ...]] = {}
    placed: dict[int, int] = {}  # a's step key → the key it is drawn at
    steps = list(b.steps)
    for change in diff.steps:
        if change.b is not None and change.b.id in b_by_id:
            key = b_by_id[change.b.id].key
            status[key] = change.status
            changes[key] = change.changes
            if change.a is not None and change.a.id in a_by_id:
                placed[a_by_id[change.a.id].key] = key
        elif change.a is not None and change.a.id in a_by_id:
            old = a_by_id[change.a.id]
            status[old.key] = "removed"
            placed[old.key] = old.key
            steps.append(old)
    a_ids = {s.key: s.id for s in a.steps}
    gone = {(t.source_id, t.target_id) for t in diff.transitions if t.status == "removed"}
    drawn = {(e.source_key, e.target_key) for e in b.edges}
    edges = list(b.edges)
    removed_edges: set[tuple[int, int]] = set()
    for edge in a.edges:
        if (a_ids.get(edge.source_key), a_ids.get(edge.target_key)) not in gone:
            continue
        pair = (placed.get(edge.source_key), placed.get(edge.target_key))
        if None in pair or pair in drawn:
            continue
        source, target = pair
        assert source is not None and target is not None
        drawn.add((source, target))
        removed_edges.add((source, target))
        edges.append(GraphEdge(source, target, edge.labels, edge.kinds, 0))
    merged = FlowGraph(b.version_id, None, steps, edges, list(b.entry_keys))
    return DiffGraph(merged, status, changes, frozenset(removed_edges))
