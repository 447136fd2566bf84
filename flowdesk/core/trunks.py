"""Where loops bundled by the layout share their line (a bundle's trunk), found from the routed
polylines alone.

The layout (:mod:`flowdesk.core.layout`) draws back edges into one step up one trunk, each
joining it beside its own source. Drawn one arrow per loop, the trunk shows only the topmost
loop's tooltip and the busiest loop's thickness; the viewer draws each shared stretch once
instead, as thick as the loops on it together and naming every one of them.

Polylines are compared geometrically, not by vertex: a loop's straight run may have been
simplified into one segment where another loop bends, so each segment is first split at every
vertex of the other polylines lying on it.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

from flowdesk.core.layout import Point

# Points closer than this (scene pixels) are the same point; a vertex this close to a segment
# lies on it.
_TOLERANCE = 0.5


@dataclass(frozen=True, slots=True)
class Stretch:
    """Consecutive-or-not segments carried by exactly the same loops (``members``, in input
    order). ``ends_at_target``: the last segment ends at the step the loops go back to."""

    members: tuple[Hashable, ...]
    segments: tuple[tuple[Point, Point], ...]
    ends_at_target: bool


def _key(point: Point) -> Point:
    return (round(point[0], 1), round(point[1], 1))


def _on_segment(p: Point, a: Point, b: Point) -> float | None:
    """Where ``p`` lies strictly inside segment a-b, as a fraction of it; None if it does not."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    length2 = dx * dx + dy * dy
    if length2 <= _TOLERANCE * _TOLERANCE:
        return None
    t = ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / length2
    if t <= 0.0 or t >= 1.0:
        return None
    cross = (p[0] - a[0]) * dy - (p[1] - a[1]) * dx
    if cross * cross > _TOLERANCE * _TOLERANCE * length2:
        return None
    if min(t, 1.0 - t) * length2**0.5 < _TOLERANCE:
        return None  # an end point, within tolerance
    return t


def shared_stretches(polylines: Mapping[Hashable, Sequence[Point]]) -> list[Stretch]:
    """The stretches two or more of these polylines run along together, grouped by the set of
    polylines on them; deterministic (input order)."""
    lines = {key: [_key(p) for p in points] for key, points in polylines.items() if len(points) > 1}
    if len(lines) < 2:
        return []
    vertices = sorted({p for points in lines.values() for p in points})
    carried: dict[tuple[Point, Point], list[Hashable]] = {}
    for key, points in lines.items():
        for a, b in zip(points, points[1:], strict=False):
            low_x, high_x = min(a[0], b[0]) - _TOLERANCE, max(a[0], b[0]) + _TOLERANCE
            low_y, high_y = min(a[1], b[1]) - _TOLERANCE, max(a[1], b[1]) + _TOLERANCE
            first = bisect_left(vertices, (low_x, -math.inf))
            last = bisect_right(vertices, (high_x, math.inf))
            inside = sorted(
                (t, v)
                for v in vertices[first:last]
                if low_y <= v[1] <= high_y
                for t in (_on_segment(v, a, b),)
                if t is not None
            )
            cuts = [a, *(v for _t, v in inside), b]
            for start, end in zip(cuts, cuts[1:], strict=False):
                members = carried.setdefault((start, end), [])
                if key not in members:
                    members.append(key)
    targets = {points[-1] for points in lines.values()}
    order = {key: n for n, key in enumerate(lines)}
    grouped: dict[tuple[Hashable, ...], list[tuple[Point, Point]]] = {}
    for segment, members in carried.items():
        if len(members) > 1:
            grouped.setdefault(tuple(sorted(members, key=order.__getitem__)), []).append(segment)
    stretches = []
    for members, segments in grouped.items():
        ends = segments[-1][1] in targets and all(lines[m][-1] == segments[-1][1] for m in members)
        stretches.append(Stretch(members, tuple(segments), ends))
    return stretches
