"""Layered (Sugiyama-style) layout of a flow's step graph, drawn top to bottom.

The Flow Viewer draws whatever this module returns, so every readability promise of the product
spec ("branches side by side, no overlapping nodes or edge labels, loops drawn as back edges") is
kept here, in plain Python with no Qt import: the geometry can then be unit-tested headless and
reused by exports.

Pipeline, each phase chosen for predictability over cleverness:

1. Cycle removal: a depth-first search from the entry steps (in the given order) marks every edge
   that closes a cycle as a *back edge*. Back edges are laid out reversed, so the rest of the
   pipeline only ever sees a DAG, and they are drawn afterwards as loops on the nodes' right side.
2. Layering: longest path from the top, so every forward edge points strictly downward. Steps
   nobody can reach from the entry are pulled down next to the steps they lead to; fully isolated
   steps get their own bottom row instead of crowding the entry. A split with more options than
   a row holds (``max_row_steps``) is wrapped: its options fill rows block after block, each
   block below the short branches of the one before, so a hundred categories draw as a grid
   rather than one row tens of thousands of pixels wide.
3. Edges spanning several layers get one virtual node per crossed layer. Virtual nodes take part in
   ordering and positioning like real ones, which reserves a free lane for the edge in every row
   it crosses: that is what guarantees edges never run through a node. The lanes of back edges
   are kept right of everything else in their rows, the way flowcharts draw loops. Back edges
   into the same step are bundled: they share one virtual node per layer (one trunk) and one
   port on the step's side, each joining the trunk beside its own source, so twenty "Main menu"
   loops draw as one line into the menu instead of a fan of twenty lanes. The options of a
   wrapped split reach their rows the same way, down one line from the split run through the
   middle of the rows it passes, each leaving it above its own step with its label.
4. Crossing reduction: depth-first initial order (option order), then barycenter sweeps and
   adjacent swaps, keeping the best order seen.
5. x coordinates: Brandes-Koepf. Four passes align each element with a median neighbour and pack
   the resulting vertical blocks; their balanced combination puts parents over their children,
   keeps siblings side by side and long edges straight, in linear time.
6. y coordinates, ports and labels: every inter-layer gap holds one horizontal band of labels. The
   edges crossing a gap pass *vertically* through that band, each through its own slot; labels are
   packed sideways with least displacement, so labels never overlap one another, a node, or an
   edge other than their own. A gap grows to the height of its tallest label, and its bends
   grow with the longest sideways run through them, so edges fanning out far keep a visible
   slope instead of running flat on top of one another.

All sorting uses explicit tie-breakers and no hashing of unordered sets, so the same input always
gives the same output.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass

Point = tuple[float, float]
MeasureFn = Callable[[str], tuple[float, float]]

# Above this many nodes plus virtual nodes, the quadratic neighbour-swap pass is skipped: such
# graphs are far beyond a readable flow, and the layout must still come back promptly.
_TRANSPOSE_LIMIT = 4000
# A wrapped split's next row of options starts below the branches of the row before, up to this
# many rows deep; deeper branches share their rows with the next options.
_WRAP_DEPTH = 4

__all__ = [
    "GraphLayout",
    "LayoutEdge",
    "LayoutNode",
    "LayoutOptions",
    "MeasureFn",
    "PlacedNode",
    "Point",
    "Rect",
    "RoutedEdge",
    "compute_layout",
    "default_measure",
]


# --------------------------------------------------------------------------------------------
# Public data types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LayoutNode:
    """A box to place; the size is whatever the viewer needs to draw the step card."""

    id: str
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class LayoutEdge:
    """A transition to draw. ``key`` lets the caller map the route back to its own edge object."""

    source: str
    target: str
    label: str = ""
    key: Hashable = None


@dataclass(frozen=True, slots=True)
class Rect:
    """Axis-aligned rectangle; x, y is the top-left corner (scene coordinates, y grows down)."""

    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height

    @property
    def center(self) -> Point:
        return (self.x + self.width / 2.0, self.y + self.height / 2.0)

    def intersects(self, other: Rect, margin: float = 0.0) -> bool:
        """True when the interiors overlap, after growing ``self`` by ``margin`` on every side.

        Rectangles that merely touch do not intersect, so a margin of 0 checks plain overlap and
        a positive margin checks a minimum clearance.
        """
        return (
            self.x - margin < other.right
            and other.x < self.right + margin
            and self.y - margin < other.bottom
            and other.y < self.bottom + margin
        )

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.x, self.y, self.width, self.height)


@dataclass(frozen=True, slots=True)
class LayoutOptions:
    """Spacing knobs, in scene units (pixels at zoom 1)."""

    # Horizontal gap between two neighbouring nodes of a layer.
    node_spacing: float = 40.0
    # Minimum vertical gap between two layers; grows when a gap holds labels.
    layer_spacing: float = 56.0
    # Distance between parallel edge lanes (long edges, loop stubs on a node's side).
    edge_spacing: float = 12.0
    # Horizontal gap kept between two labels of the same band.
    label_spacing: float = 10.0
    # Free height above and below a label band, where edges bend towards their slot.
    label_clearance: float = 14.0
    # Least slope (height / sideways run) of an edge changing lanes between two rows: a gap
    # grows, up to max_bend_height per bend, so far-reaching edges do not run flat and merge.
    bend_slope: float = 0.1
    max_bend_height: float = 80.0
    # Padding added around the measured text, so the viewer can draw a pill behind it.
    label_padding_x: float = 6.0
    label_padding_y: float = 2.0
    # Run the long lanes of back edges right of all other nodes of the layers they pass, the
    # way flowcharts are usually drawn; when False they go wherever crossings are fewest.
    loops_outside: bool = True
    # Crossing-reduction iterations (one downward or upward sweep each).
    crossing_sweeps: int = 12
    # Back edges into the same step share one lane and one port on its right side, each
    # joining that trunk beside its own source (edge bundling); False gives each its own lane.
    bundle_back_edges: bool = True
    # A split's options fill rows of at most this many steps: the options of a very wide split
    # (a RapidPro split of a hundred categories) continue on the rows below, reached through one
    # shared line, instead of one row tens of thousands of pixels wide. 0: no limit.
    max_row_steps: int = 12


@dataclass(frozen=True, slots=True)
class PlacedNode:
    """Where a node ended up. ``order`` is its left-to-right index among the layer's nodes."""

    id: str
    rect: Rect
    layer: int
    order: int
    reachable: bool


@dataclass(frozen=True, slots=True)
class RoutedEdge:
    """The polyline of one input edge, from source port to target port.

    Forward edges start on the source's bottom side and end on the target's top side. Back edges
    (those closing a cycle) and self-loops leave from the source's right side and enter the
    target's right side, running up a lane reserved for them so they cross no node; back edges
    into the same target share that lane's trunk and their last points (bundling).
    ``label_rect`` is None for an empty label; otherwise the polyline passes through its centre.
    """

    index: int
    source: str
    target: str
    label: str
    key: Hashable
    points: tuple[Point, ...]
    is_back_edge: bool
    is_self_loop: bool
    label_rect: Rect | None


@dataclass(frozen=True, slots=True)
class GraphLayout:
    """Result of :func:`compute_layout`; coordinates are normalised so ``bounds`` starts at 0, 0.

    ``edges`` follows the input edge order (``RoutedEdge.index`` is the input position);
    ``skipped_edges`` lists the input edges that referenced an unknown node and were not drawn.
    """

    nodes: dict[str, PlacedNode]
    edges: tuple[RoutedEdge, ...]
    bounds: Rect
    layer_count: int
    skipped_edges: tuple[LayoutEdge, ...]


def default_measure(label: str) -> tuple[float, float]:
    """Rough text size (7 px per character, 16 px per line) for callers without font metrics."""
    lines = label.split("\n")
    return (7.0 * max(len(line) for line in lines), 16.0 * len(lines))


# --------------------------------------------------------------------------------------------
# Small algorithms
# --------------------------------------------------------------------------------------------


def _pack(desired: Sequence[float], weights: Sequence[float], gaps: Sequence[float]) -> list[float]:
    """Positions closest to ``desired`` (weighted least squares) keeping order and minimum gaps.

    ``gaps[i]`` is the minimum distance from item i to item i + 1. Subtracting the cumulative gap
    turns the separation constraints into plain monotonicity, which pool-adjacent-violators solves
    exactly in linear time. One call therefore removes every overlap while moving items as little
    as possible: labels are placed with it, and it is the last guard on node spacing.
    """
    count = len(desired)
    offsets = [0.0] * count
    for i in range(1, count):
        offsets[i] = offsets[i - 1] + gaps[i - 1]
    block_weight: list[float] = []
    block_sum: list[float] = []
    block_size: list[int] = []
    for i in range(count):
        weight = weights[i]
        total = weight * (desired[i] - offsets[i])
        size = 1
        while block_weight and block_sum[-1] * weight > total * block_weight[-1]:
            weight += block_weight.pop()
            total += block_sum.pop()
            size += block_size.pop()
        block_weight.append(weight)
        block_sum.append(total)
        block_size.append(size)
    result: list[float] = []
    for weight, total, size in zip(block_weight, block_sum, block_size, strict=True):
        result.extend([total / weight] * size)
    return [value + offset for value, offset in zip(result, offsets, strict=True)]


def _count_inversions(pairs: list[tuple[int, int]], size: int) -> int:
    """Crossings between two layers: pairs are (upper position, lower position) of segments.

    Sorting by upper position and counting inversions of the lower positions with a Fenwick tree
    is O(E log V), cheap enough to evaluate after every sweep.
    """
    pairs.sort()
    lowers = [lower for _, lower in pairs]
    if lowers == sorted(lowers):
        return 0  # most gaps of a big flow are parallel lanes: nothing crosses
    tree = [0] * (size + 1)
    crossings = 0
    for seen, (_, lower) in enumerate(pairs):
        i = lower + 1
        not_greater = 0
        while i > 0:
            not_greater += tree[i]
            i -= i & -i
        crossings += seen - not_greater
        i = lower + 1
        while i <= size:
            tree[i] += 1
            i += i & -i
    return crossings


def _simplify(points: list[Point]) -> list[Point]:
    """Drop repeated points and points in the middle of a straight run.

    Fewer points make the viewer's paths cheaper and keep tests about segments meaningful; a point
    where the path turns back on itself is kept. Bundled loops run the length of the flow, so
    this is written for speed: plain comparisons instead of ``abs`` calls.
    """
    result: list[Point] = []
    append = result.append
    for point in points:
        x, y = point
        if result:
            lx, ly = result[-1]
            dx2, dy2 = x - lx, y - ly
            if -1e-9 < dx2 < 1e-9 and -1e-9 < dy2 < 1e-9:
                continue
            if len(result) >= 2:
                ax, ay = result[-2]
                dx1, dy1 = lx - ax, ly - ay
                cross = dx1 * dy2 - dy1 * dx2
                if -1e-9 < cross < 1e-9 and dx1 * dx2 + dy1 * dy2 > 0:
                    result[-1] = point
                    continue
        append(point)
    return result


# --------------------------------------------------------------------------------------------
# The layout itself
# --------------------------------------------------------------------------------------------


class _Layout:
    """State shared by the layout phases.

    Elements are integers: 0..n-1 are the real nodes (input order), larger ones are the virtual
    nodes of long edges. A *segment* joins two elements of adjacent layers; every drawn edge
    except a self-loop is a chain of segments from its upper to its lower end.
    """

    def __init__(
        self,
        nodes: list[LayoutNode],
        edges: list[LayoutEdge],
        valid: list[tuple[int, int, int]],
        roots: list[int],
        measure: MeasureFn,
        options: LayoutOptions,
    ) -> None:
        self.opt = options
        self.n = len(nodes)
        self.width = [max(0.0, float(node.width)) for node in nodes]
        self.height = [max(0.0, float(node.height)) for node in nodes]
        self.roots = roots
        # Valid edges as parallel arrays indexed by "edge slot" (position in ``valid``).
        self.e_index = [index for index, _, _ in valid]
        self.e_src = [src for _, src, _ in valid]
        self.e_tgt = [tgt for _, _, tgt in valid]
        self.e_self = [src == tgt for _, src, tgt in valid]
        self.e_back = [False] * len(valid)
        self.e_label_size: list[tuple[float, float] | None] = []
        sizes: dict[str, tuple[float, float]] = {}
        for index in self.e_index:
            label = edges[index].label
            if not label:
                self.e_label_size.append(None)
                continue
            if label not in sizes:
                w, h = measure(label)
                sizes[label] = (
                    max(0.0, float(w)) + 2.0 * options.label_padding_x,
                    max(0.0, float(h)) + 2.0 * options.label_padding_y,
                )
            self.e_label_size.append(sizes[label])
        self.reachable = [False] * self.n

    # ---------------------------------------------------------------- 1. cycle removal
    def remove_cycles(self) -> None:
        """Mark edges closing a cycle, exploring from the roots first and in option order.

        Starting from the entry steps means the edge that goes "back up" in the conversation
        (retry, main menu) is the one reversed, not an arbitrary edge of the cycle.
        """
        out: list[list[int]] = [[] for _ in range(self.n)]
        for slot, src in enumerate(self.e_src):
            if not self.e_self[slot]:
                out[src].append(slot)
        state = [0] * self.n  # 0 unseen, 1 on the DFS stack, 2 finished
        starts = self.roots + list(range(self.n))
        for number, start in enumerate(starts):
            if number == len(self.roots):
                self.reachable = [value != 0 for value in state]
            if state[start]:
                continue
            state[start] = 1
            stack = [(start, 0)]
            while stack:
                node, cursor = stack[-1]
                if cursor < len(out[node]):
                    stack[-1] = (node, cursor + 1)
                    slot = out[node][cursor]
                    target = self.e_tgt[slot]
                    if state[target] == 0:
                        state[target] = 1
                        stack.append((target, 0))
                    elif state[target] == 1:
                        self.e_back[slot] = True
                else:
                    state[node] = 2
                    stack.pop()

    # ---------------------------------------------------------------- 2. layering
    def assign_layers(self) -> None:
        """Longest-path layering on the DAG, then tidy up unreachable and isolated nodes."""
        succ: list[list[int]] = [[] for _ in range(self.n)]
        indegree = [0] * self.n
        for slot in range(len(self.e_src)):
            if self.e_self[slot]:
                continue
            upper, lower = self._oriented(slot)
            succ[upper].append(lower)
            indegree[lower] += 1
        has_pred = [d > 0 for d in indegree]
        layer = [0] * self.n
        queue = [v for v in range(self.n) if indegree[v] == 0]
        topo: list[int] = []
        head = 0
        while head < len(queue):
            node = queue[head]
            head += 1
            topo.append(node)
            for nxt in succ[node]:
                layer[nxt] = max(layer[nxt], layer[node] + 1)
                indegree[nxt] -= 1
                if indegree[nxt] == 0:
                    queue.append(nxt)
        self.wrapped = [False] * self.n  # put below its natural row by max_row_steps
        self._bound_rows(layer, topo, succ)
        # Unreachable steps without predecessors would all sit in the top row; drop each one to
        # just above the highest step it leads to, so it is drawn next to where it joins the flow.
        is_root = [False] * self.n
        for root in self.roots:
            is_root[root] = True
        for node in reversed(topo):
            if not has_pred[node] and succ[node] and not is_root[node]:
                layer[node] = min(layer[nxt] for nxt in succ[node]) - 1
        # Steps with no transition at all are unrelated to the flow's shape: a row of their own
        # at the bottom keeps them visible without pushing real branches apart.
        isolated = [not has_pred[v] and not succ[v] and not is_root[v] for v in range(self.n)]
        connected_layers = [layer[v] for v in range(self.n) if not isolated[v]]
        bottom = (max(connected_layers) + 1) if connected_layers else 0
        for v in range(self.n):
            if isolated[v]:
                layer[v] = bottom
        # Compact away layers left without any real node.
        used = sorted(set(layer))
        dense = {value: index for index, value in enumerate(used)}
        self.layer_of = [dense[value] for value in layer]
        self.layer_count = len(used)

    def _bound_rows(self, layer: list[int], topo: list[int], succ: list[list[int]]) -> None:
        """Wrap the options of a split with more than ``max_row_steps`` of them: in option
        order, each row of the split's options holds that many, and the next ones continue
        below the steps those options lead to on their own (up to ``_WRAP_DEPTH`` rows), so a
        row of options and the short branches under them stay together, block after block.
        Other rows keep the plain layering: bounding every row would push steps of unrelated
        branches down and make the graph wider, not narrower."""
        limit = self.opt.max_row_steps
        if limit <= 0 or not any(len(nexts) > limit for nexts in succ):
            return
        indegree = [0] * self.n
        for nexts in succ:
            for nxt in nexts:
                indegree[nxt] += 1
        # Rows a step's own branch takes: itself and the steps only it leads to.
        depth = [1] * self.n
        for node in reversed(topo):
            own = [depth[nxt] for nxt in succ[node] if indegree[nxt] == 1]
            depth[node] = 1 + max(own, default=0)
        new_layer = [0] * self.n
        for node in topo:
            nexts = succ[node]
            steps = [1] * len(nexts)
            if len(nexts) > limit:
                offset = 1
                for first in range(0, len(nexts), limit):
                    block = nexts[first : first + limit]
                    steps[first : first + limit] = [offset] * len(block)
                    offset += min(max(depth[nxt] for nxt in block), _WRAP_DEPTH)
            for nxt, step in zip(nexts, steps, strict=True):
                new_layer[nxt] = max(new_layer[nxt], new_layer[node] + step)
        for v in range(self.n):
            self.wrapped[v] = new_layer[v] > layer[v]
        layer[:] = new_layer

    def _oriented(self, slot: int) -> tuple[int, int]:
        """(upper, lower) node of an edge once back edges are reversed."""
        if self.e_back[slot]:
            return self.e_tgt[slot], self.e_src[slot]
        return self.e_src[slot], self.e_tgt[slot]

    # ---------------------------------------------------------------- 3. virtual nodes
    def build_chains(self) -> None:
        """Split every edge into per-layer segments, creating virtual nodes for long edges."""
        opt = self.opt
        self.el_layer = list(self.layer_of)
        self.el_back_dummy: list[bool] = [False] * self.n
        self.half_left = [w / 2.0 for w in self.width]
        self.half_right = [w / 2.0 for w in self.width]
        self.seg_upper: list[int] = []
        self.seg_lower: list[int] = []
        self.seg_edge: list[int] = []
        self.up_segs: list[list[int]] = [[] for _ in range(self.n)]
        self.down_segs: list[list[int]] = [[] for _ in range(self.n)]
        self.chain: dict[int, list[int]] = {}
        self.chain_segs: dict[int, list[int]] = {}
        self.label_seg: dict[int, int] = {}
        # Back edges into one target share their lane (one virtual node per layer and target)
        # and the segments between those: twenty "Main menu" loops become one trunk that each
        # loop joins beside its own source, instead of twenty parallel lanes.
        shared_lane: dict[tuple[int, int, str, bool], int] = {}
        shared_seg: dict[tuple[int, int], int] = {}
        wrap = self._wrap_bundles()
        self.wrap_lines: list[int] = []  # virtual nodes of the lines down to wrapped rows
        slots = range(len(self.e_src))
        # Forward edges first, so a node's downward neighbours list its options before its loops.
        ordered = [s for s in slots if not self.e_back[s]] + [s for s in slots if self.e_back[s]]
        for slot in ordered:
            if self.e_self[slot]:
                continue
            upper, lower = self._oriented(slot)
            back = self.e_back[slot]
            # Bundles share one virtual node per row and the segments between them: "out" (a
            # loop's trunk up from its target, a wrapped split's line down to its rows) shares
            # the segments from the upper end, "in" (many rows into a step put below them by a
            # wrap) those into the lower end.
            bundle = "out" if back and opt.bundle_back_edges else wrap.get(slot)
            owner = lower if bundle == "in" else upper
            chain = [upper]
            for layer in range(self.layer_of[upper] + 1, self.layer_of[lower]):
                lane = (owner, layer, bundle or "", back)
                element = shared_lane.get(lane, -1) if bundle else -1
                if element < 0:
                    element = self._add_virtual(layer, back)
                    if bundle:
                        shared_lane[lane] = element
                        if bundle == "out" and not back:
                            self.wrap_lines.append(element)
                chain.append(element)
            chain.append(lower)
            segs: list[int] = []
            for a, b in zip(chain, chain[1:], strict=False):
                # Only the segments on the shared side are shared; the one at the edge's own end
                # (into a loop's own source, into a wrapped option) is its own and carries the
                # label.
                shared = (bundle == "out" and b >= self.n) or (bundle == "in" and a >= self.n)
                seg = shared_seg.get((a, b), -1) if shared else -1
                if seg < 0:
                    seg = len(self.seg_upper)
                    self.seg_upper.append(a)
                    self.seg_lower.append(b)
                    self.seg_edge.append(slot)
                    self.down_segs[a].append(seg)
                    self.up_segs[b].append(seg)
                    if shared:
                        shared_seg[(a, b)] = seg
                segs.append(seg)
            self.chain[slot] = chain
            self.chain_segs[slot] = segs
            # The label sits in the first gap the edge crosses when leaving its source (a wrapped
            # option's, above its step: the gaps it crosses before are the shared line's).
            label_seg = segs[-1] if back or bundle == "out" else segs[0]
            self.label_seg[slot] = label_seg
            size = self.e_label_size[slot]
            if size is not None:
                # A long edge's first lane is widened to its label, so neighbouring lanes leave
                # room for the label band and labels stay above their own edge.
                anchor = (
                    self.seg_upper[label_seg] if self.e_back[slot] else self.seg_lower[label_seg]
                )
                if anchor >= self.n:
                    half = size[0] / 2.0 + opt.label_spacing / 2.0 - opt.edge_spacing / 2.0
                    self.half_left[anchor] = max(self.half_left[anchor], half)
                    self.half_right[anchor] = max(self.half_right[anchor], half)
        self.element_count = len(self.el_layer)

    def _wrap_bundles(self) -> dict[int, str]:
        """Forward edges a wrap made long, by slot: "out" when their source has several (a
        wrapped split's options), else "in" when their target has several (the steps of many
        rows joining one step below them)."""
        long = [
            slot
            for slot in range(len(self.e_src))
            if not self.e_back[slot]
            and not self.e_self[slot]
            and self.wrapped[self.e_tgt[slot]]
            and self.layer_of[self.e_tgt[slot]] > self.layer_of[self.e_src[slot]] + 1
        ]
        out_count: dict[int, int] = {}
        in_count: dict[int, int] = {}
        for slot in long:
            out_count[self.e_src[slot]] = out_count.get(self.e_src[slot], 0) + 1
            in_count[self.e_tgt[slot]] = in_count.get(self.e_tgt[slot], 0) + 1
        wrap: dict[int, str] = {}
        for slot in long:
            if out_count[self.e_src[slot]] > 1:
                wrap[slot] = "out"
            elif in_count[self.e_tgt[slot]] > 1:
                wrap[slot] = "in"
        return wrap

    def _add_virtual(self, layer: int, back: bool) -> int:
        element = len(self.el_layer)
        self.el_layer.append(layer)
        self.el_back_dummy.append(back)
        self.half_left.append(0.0)
        self.half_right.append(0.0)
        self.up_segs.append([])
        self.down_segs.append([])
        return element

    def _entry(self, slot: int) -> int:
        """The back edge whose stub and port a back edge uses to enter its target: with bundling,
        the target's first one, so every loop into a step arrives as one line, through one port
        (loops from the row just below join it under the target, the others up the trunk)."""
        if not self.opt.bundle_back_edges:
            return slot
        return self.first_back_into[self.e_tgt[slot]]

    def reserve_side_lanes(self) -> None:
        """Widen nodes on their right for loop stubs and self-loop labels.

        Back edges and self-loops leave and enter through a node's right side. Reserving that room
        in the node's footprint before positioning guarantees the stubs cross no neighbour.
        """
        opt = self.opt
        self.out_back: list[list[int]] = [[] for _ in range(self.n)]
        self.in_back: list[list[int]] = [[] for _ in range(self.n)]
        self.self_loops: list[list[int]] = [[] for _ in range(self.n)]
        self.first_back_into = [-1] * self.n
        for slot in range(len(self.e_src)):
            if self.e_self[slot]:
                self.self_loops[self.e_src[slot]].append(slot)
            elif self.e_back[slot]:
                self.out_back[self.e_src[slot]].append(slot)
                target = self.e_tgt[slot]
                if self.first_back_into[target] < 0:
                    self.first_back_into[target] = slot
                if self._entry(slot) == slot:  # a bundle enters its target once
                    self.in_back[target].append(slot)
        self.lane_count = [0] * self.n
        self.self_label_w = [0.0] * self.n
        self.self_label_h = [0.0] * self.n
        self.margin = [0.0] * self.n
        for v in range(self.n):
            lanes = max(len(self.out_back[v]), len(self.in_back[v]), len(self.self_loops[v]))
            self.lane_count[v] = lanes
            sizes = [self.e_label_size[s] for s in self.self_loops[v]]
            sizes_present = [size for size in sizes if size is not None]
            margin = lanes * opt.edge_spacing
            if sizes_present:
                self.self_label_w[v] = max(w for w, _ in sizes_present)
                self.self_label_h[v] = sum(h for _, h in sizes_present) + 2.0 * (
                    len(sizes_present) - 1
                )
                margin += opt.edge_spacing / 2.0 + self.self_label_w[v]
            self.margin[v] = margin
            self.half_right[v] += margin

    # ---------------------------------------------------------------- 4. ordering
    def initial_order(self) -> None:
        """Depth-first order from the roots, children in option order.

        For tree-like flows this alone is crossing-free and shows options left to right in the
        order the step defines them; the sweeps only have to fix merges and loops.
        """
        self.layers: list[list[int]] = [[] for _ in range(self.layer_count)]
        seen = [False] * self.element_count
        starts = self.roots + list(range(self.n))
        for start in starts:
            if seen[start]:
                continue
            seen[start] = True
            stack = [start]
            while stack:
                element = stack.pop()
                self.layers[self.el_layer[element]].append(element)
                for seg in reversed(self.down_segs[element]):
                    child = self.seg_lower[seg]
                    if not seen[child]:
                        seen[child] = True
                        stack.append(child)
        self.layers = [self._loops_last(layer) for layer in self.layers]
        self.pos = [0] * self.element_count
        self._renumber()

    def _loops_last(self, layer: list[int]) -> list[int]:
        """Move the lanes of back edges behind every other element of the layer.

        Loops then run up a lane right of the nodes they pass, instead of splitting the forward
        flow in two; the order among the lanes themselves is kept.
        """
        if not self.opt.loops_outside:
            return layer
        lanes = [e for e in layer if self.el_back_dummy[e]]
        if not lanes:
            return layer
        return [e for e in layer if not self.el_back_dummy[e]] + lanes

    def _renumber(self) -> None:
        for layer in self.layers:
            for index, element in enumerate(layer):
                self.pos[element] = index

    def crossings(self) -> int:
        total = 0
        pos, seg_lower, down_segs = self.pos, self.seg_lower, self.down_segs
        for index, layer in enumerate(self.layers[:-1]):
            pairs = [
                (pos[element], pos[seg_lower[seg]])
                for element in layer
                for seg in down_segs[element]
            ]
            if len(pairs) > 1:
                total += _count_inversions(pairs, len(self.layers[index + 1]))
        return total

    def _sweep(self, downward: bool) -> None:
        """Reorder each layer by the barycenter of its neighbours in the previous layer."""
        indices = range(1, self.layer_count) if downward else range(self.layer_count - 2, -1, -1)
        for index in indices:
            layer = self.layers[index]
            bary: dict[int, float] = {}
            pos = self.pos
            neighbours = self.up_nbrs if downward else self.down_nbrs
            for element in layer:
                nbrs = neighbours[element]
                # Most elements are the lanes of long edges, with one neighbour each.
                if len(nbrs) == 1:
                    bary[element] = pos[nbrs[0]]
                elif nbrs:
                    bary[element] = sum(map(pos.__getitem__, nbrs)) / len(nbrs)
            # Elements without neighbours keep their slot; the others are sorted into the rest.
            movable = sorted(bary, key=lambda e: (bary[e], self.pos[e]))
            cursor = iter(movable)
            new_layer = [next(cursor) if element in bary else element for element in layer]
            new_layer = self._loops_last(new_layer)
            self.layers[index] = new_layer
            for position, element in enumerate(new_layer):
                self.pos[element] = position

    def _transpose(self) -> None:
        """Swap neighbours while that strictly reduces crossings (bounded number of passes).

        Barycenter sweeps leave ties and local knots that a swap of two neighbours resolves.
        """
        up_nbrs, down_nbrs = self.up_nbrs, self.down_nbrs
        pos = self.pos
        pinned = self.opt.loops_outside
        for _ in range(4):
            improved = False
            for layer in self.layers:
                for i in range(len(layer) - 1):
                    a, b = layer[i], layer[i + 1]
                    if pinned and self.el_back_dummy[a] != self.el_back_dummy[b]:
                        continue
                    kept = swapped = 0
                    for nbrs in (up_nbrs, down_nbrs):
                        right = [pos[e] for e in nbrs[b]]
                        if not right:
                            continue
                        for e in nbrs[a]:
                            p = pos[e]
                            for q in right:
                                if p > q:
                                    kept += 1
                                elif p < q:
                                    swapped += 1
                    if swapped < kept:
                        layer[i], layer[i + 1] = b, a
                        pos[a], pos[b] = i + 1, i
                        improved = True
            if not improved:
                break

    def reduce_crossings(self) -> None:
        self.up_nbrs = [[self.seg_upper[s] for s in segs] for segs in self.up_segs]
        self.down_nbrs = [[self.seg_lower[s] for s in segs] for segs in self.down_segs]
        best = [list(layer) for layer in self.layers]
        best_count = self.crossings()
        stale = 0
        for sweep in range(self.opt.crossing_sweeps):
            if best_count == 0:
                break
            self._sweep(downward=sweep % 2 == 0)
            if self.element_count <= _TRANSPOSE_LIMIT:
                self._transpose()
            count = self.crossings()
            if count < best_count:
                best_count = count
                best = [list(layer) for layer in self.layers]
                stale = 0
            else:
                stale += 1
                if stale >= 4:
                    break
        self.layers = best
        self._renumber()
        self._center_wrap_lines()

    def _center_wrap_lines(self) -> None:
        """Run the line down to a wrapped split's next rows where it comes from: between the
        options it leaves beside (in their middle) and the steps below the ones left and right
        of it, so the rows below centre under the one above instead of stepping sideways, a
        row's width each time."""
        pos = self.pos
        for element in sorted(self.wrap_lines, key=self.el_layer.__getitem__):
            above = pos[self.up_nbrs[element][0]]
            layer = self.layers[self.el_layer[element]]
            layer.remove(element)
            before = level = 0
            for other in layer:
                nbrs = self.up_nbrs[other]
                if nbrs:
                    bary = sum(pos[e] for e in nbrs) / len(nbrs)
                    before += bary < above
                    level += bary == above
            layer.insert(before + (level + 1) // 2, element)
            for index, other in enumerate(layer):
                pos[other] = index

    # ---------------------------------------------------------------- 5. x coordinates
    def assign_ports(self) -> None:
        """Spread a node's top and bottom attachment points in the order of their other ends.

        Sorting by the neighbour's position (already fixed by the ordering) makes the options
        of a menu leave side by side, left to right, without crossing right under the node.
        """
        seg_count = len(self.seg_upper)
        self.off_upper = [0.0] * seg_count  # attachment offset from the upper element's centre
        self.off_lower = [0.0] * seg_count
        for v in range(self.n):
            width = self.width[v]
            side = width / 2.0 + self.margin[v] / 2.0
            bottom = []
            for seg in self.down_segs[v]:
                if self.e_back[self.seg_edge[seg]]:
                    self.off_upper[seg] = side
                else:
                    bottom.append(seg)
            bottom.sort(key=lambda s: (self.pos[self.seg_lower[s]], self.seg_edge[s]))
            for rank, seg in enumerate(bottom):
                self.off_upper[seg] = width * (rank + 1) / (len(bottom) + 1) - width / 2.0
            top = []
            for seg in self.up_segs[v]:
                if self.e_back[self.seg_edge[seg]]:
                    self.off_lower[seg] = side
                else:
                    top.append(seg)
            top.sort(key=lambda s: (self.pos[self.seg_upper[s]], self.seg_edge[s]))
            for rank, seg in enumerate(top):
                self.off_lower[seg] = width * (rank + 1) / (len(top) + 1) - width / 2.0

    def _separation(self, a: int, b: int) -> float:
        opt = self.opt
        real_a, real_b = a < self.n, b < self.n
        if real_a and real_b:
            spacing = opt.node_spacing
        elif real_a or real_b:
            spacing = opt.node_spacing / 2.0
        else:
            spacing = opt.edge_spacing
        return self.half_right[a] + self.half_left[b] + spacing

    def _type1_conflicts(self) -> set[int]:
        """Segments that cross an inner segment (virtual to virtual), as in Brandes-Koepf.

        Aligning such a segment would bend a long edge; refusing it keeps long edges straight,
        which matters more for readability than keeping a short edge vertical.
        """
        marked: set[int] = set()
        for layer in self.layers[1:]:
            k0 = 0
            scan = 0
            previous_size = len(self.layers[self.el_layer[layer[0]] - 1])
            for i, v in enumerate(layer):
                inner = -1
                if v >= self.n:
                    for seg in self.up_segs[v]:
                        if self.seg_upper[seg] >= self.n:
                            inner = self.pos[self.seg_upper[seg]]
                if inner < 0 and i != len(layer) - 1:
                    continue
                k1 = inner if inner >= 0 else previous_size
                for w in layer[scan : i + 1]:
                    for seg in self.up_segs[w]:
                        upper = self.seg_upper[seg]
                        p = self.pos[upper]
                        if (p < k0 or p > k1) and not (upper >= self.n and w >= self.n):
                            marked.add(seg)
                scan = i + 1
                k0 = k1
        return marked

    def _align_and_compact(
        self, layers: list[list[int]], downward: bool, mirrored: bool, conflicts: set[int]
    ) -> list[float]:
        """One of the four Brandes-Koepf layouts: vertical blocks, then tight horizontal packing.

        ``layers`` is already in processing order (bottom-up when not ``downward``, each layer
        reversed when ``mirrored``). Blocks align ports rather than centres (``inner`` is each
        element's offset from its block root), so a single option leaves exactly vertically.
        """
        count = self.element_count
        pos = [0] * count
        for layer in layers:
            for i, element in enumerate(layer):
                pos[element] = i
        sign = -1.0 if mirrored else 1.0
        root = list(range(count))
        align = list(range(count))
        inner = [0.0] * count
        if downward:
            near_segs, near_end, near_off, own_off = (
                self.up_segs,
                self.seg_upper,
                self.off_upper,
                self.off_lower,
            )
        else:
            near_segs, near_end, near_off, own_off = (
                self.down_segs,
                self.seg_lower,
                self.off_lower,
                self.off_upper,
            )
        for layer in layers:
            r = -1
            for v in layer:
                segs = near_segs[v]
                if not segs:
                    continue
                if len(segs) > 1 and v >= self.n:
                    # A bundled loop's trunk branches towards the loops' sources; it stays
                    # straight by aligning with the trunk's next lane, not a branch.
                    segs = [s for s in segs if near_end[s] >= self.n] or segs
                if len(segs) == 1:
                    ranked = segs
                else:
                    ranked = sorted(segs, key=lambda s: (pos[near_end[s]], sign * near_off[s], s))
                d = len(ranked)
                for m in sorted({(d - 1) // 2, d // 2}):
                    if align[v] != v:
                        break
                    seg = ranked[m]
                    u = near_end[seg]
                    if seg not in conflicts and r < pos[u]:
                        align[u] = v
                        root[v] = root[u]
                        align[v] = root[v]
                        inner[v] = inner[u] + sign * (near_off[seg] - own_off[seg])
                        r = pos[u]
        # Block graph: an edge from the block on the left to the block on the right, weighted
        # by the distance their roots must keep.
        succ: dict[int, dict[int, float]] = {}
        indegree = [0] * count
        for layer in layers:
            for a, b in zip(layer, layer[1:], strict=False):
                sep = self._separation(b, a) if mirrored else self._separation(a, b)
                ra, rb = root[a], root[b]
                weight = sep + inner[a] - inner[b]
                edges = succ.setdefault(ra, {})
                if rb in edges:
                    edges[rb] = max(edges[rb], weight)
                else:
                    edges[rb] = weight
                    indegree[rb] += 1
        blocks = [element for layer in layers for element in layer if root[element] == element]
        queue = [b for b in blocks if indegree[b] == 0]
        head = 0
        while head < len(queue):
            block = queue[head]
            head += 1
            for nxt in succ.get(block, {}):
                indegree[nxt] -= 1
                if indegree[nxt] == 0:
                    queue.append(nxt)
        xs = [0.0] * count
        preds: dict[int, list[tuple[int, float]]] = {}
        for block, edges in succ.items():
            for nxt, weight in edges.items():
                preds.setdefault(nxt, []).append((block, weight))
        for block in queue:
            xs[block] = max((xs[p] + w for p, w in preds.get(block, ())), default=0.0)
        # Pull blocks right towards their right neighbours so that no gap is wider than needed.
        for block in reversed(queue):
            edges = succ.get(block)
            if edges:
                xs[block] = max(xs[block], min(xs[nxt] - w for nxt, w in edges.items()))
        return [sign * (xs[root[e]] + inner[e]) for e in range(count)]

    def assign_x(self) -> None:
        """Brandes-Koepf coordinate assignment, balanced over its four directions.

        Each direction aligns every element with a median neighbour (straight long edges,
        parents over their middle child), then packs blocks tightly; the final position is the
        average of the two middle candidates, which centres a parent over its children. A last
        least-squares pack per layer guarantees spacing, because balancing alone does not.
        """
        conflicts = self._type1_conflicts()
        candidates: list[list[float]] = []
        for downward in (True, False):
            ordered = self.layers if downward else self.layers[::-1]
            for mirrored in (False, True):
                layers = [layer[::-1] for layer in ordered] if mirrored else ordered
                candidates.append(self._align_and_compact(layers, downward, mirrored, conflicts))
        left = [-self.half_left[e] for e in range(self.element_count)]
        right = self.half_right

        def extent(xs: list[float]) -> tuple[float, float]:
            lo = min(x + d for x, d in zip(xs, left, strict=True))
            hi = max(x + r for x, r in zip(xs, right, strict=True))
            return lo, hi

        extents = [extent(xs) for xs in candidates]
        smallest = min(range(4), key=lambda i: (extents[i][1] - extents[i][0], i))
        lo, hi = extents[smallest]
        for i, xs in enumerate(candidates):
            shift = (hi - extents[i][1]) if i % 2 else (lo - extents[i][0])
            candidates[i] = [value + shift for value in xs]
        x = [0.0] * self.element_count
        for e in range(self.element_count):
            values = sorted(xs[e] for xs in candidates)
            x[e] = (values[1] + values[2]) / 2.0
        for layer in self.layers:
            if len(layer) > 1:
                gaps = [self._separation(a, b) for a, b in zip(layer, layer[1:], strict=False)]
                packed = _pack([x[e] for e in layer], [1.0] * len(layer), gaps)
                for element, value in zip(layer, packed, strict=True):
                    x[element] = value
        self.x = x

    # ---------------------------------------------------------------- 6. ports, labels, y
    def place_side_stubs(self) -> None:
        """Choose each loop's lane on the right side of the nodes it leaves and enters.

        Nesting rule: a stub going up from a higher port uses an inner lane, a stub coming from
        below into a lower port uses an inner lane, self-loops nest around the middle. Within a
        group, stubs are sorted by where the edge heads next, so stubs do not cross each other.
        """
        slots = len(self.e_src)
        self.stub_out = [0.0] * slots  # lane offset right of the source, for back edges/loops
        self.stub_in = [0.0] * slots  # lane offset right of the target
        self.port_rank_out = [0] * slots  # rank of the side port, top to bottom
        self.port_rank_in = [0] * slots
        self.side_ports = [0] * self.n
        step = self.opt.edge_spacing
        for v in range(self.n):
            outs = sorted(self.out_back[v], key=lambda s: (self.x[self.chain[s][-2]], s))
            ins = sorted(self.in_back[v], key=lambda s: (self.x[self.chain[s][1]], s))
            loops = self.self_loops[v]
            m, k, n = len(outs), len(ins), len(loops)
            for rank, slot in enumerate(outs):
                self.stub_out[slot] = (rank + 1) * step
                self.port_rank_out[slot] = rank
            for rank, slot in enumerate(loops):
                self.stub_out[slot] = self.stub_in[slot] = (rank + 1) * step
                self.port_rank_in[slot] = m + (n - 1 - rank)
                self.port_rank_out[slot] = m + n + rank
            for rank, slot in enumerate(ins):
                self.stub_in[slot] = (rank + 1) * step
                self.port_rank_in[slot] = m + 2 * n + (k - 1 - rank)
            self.side_ports[v] = m + 2 * n + k
        for slot in range(slots):  # the other edges of a bundle enter where its first does
            if self.e_back[slot] and not self.e_self[slot]:
                entry = self._entry(slot)
                self.stub_in[slot] = self.stub_in[entry]
                self.port_rank_in[slot] = self.port_rank_in[entry]

    def _upper_x(self, seg: int) -> float:
        """Absolute x where a segment leaves its upper element."""
        element = self.seg_upper[seg]
        if element >= self.n:
            return self.x[element]
        slot = self.seg_edge[seg]
        if self.e_back[slot]:
            return self.x[element] + self.width[element] / 2.0 + self.stub_in[slot]
        return self.x[element] + self.off_upper[seg]

    def _lower_x(self, seg: int) -> float:
        """Absolute x where a segment reaches its lower element."""
        element = self.seg_lower[seg]
        if element >= self.n:
            return self.x[element]
        slot = self.seg_edge[seg]
        if self.e_back[slot]:
            return self.x[element] + self.width[element] / 2.0 + self.stub_out[slot]
        return self.x[element] + self.off_lower[seg]

    def place_label_bands(self) -> None:
        """Pack every gap's labels in one band, each over its own edge, none overlapping.

        Every segment crossing a gap that holds labels gets a slot in the band (unlabelled ones a
        zero-width slot), ordered by the midpoint of the segment. Packing the slots with
        least-squares displacement keeps labels near the middle of their edge's first segment,
        and since edges pass vertically through their own slot no edge runs over a label.
        """
        opt = self.opt
        self.band_h = [0.0] * (self.layer_count + 1)
        self.slot_x: dict[int, float] = {}
        self.slot_size: dict[int, tuple[float, float]] = {}
        per_gap: list[list[int]] = [[] for _ in range(self.layer_count + 1)]
        for seg, lower in enumerate(self.seg_lower):
            per_gap[self.el_layer[lower]].append(seg)
        for gap, segs in enumerate(per_gap):
            sizes: dict[int, tuple[float, float]] = {}
            for seg in segs:
                slot = self.seg_edge[seg]
                size = self.e_label_size[slot]
                if size is not None and self.label_seg[slot] == seg:
                    sizes[seg] = size
            if not sizes:
                continue
            self.band_h[gap] = max(h for _, h in sizes.values())
            keyed = []
            wishes: dict[int, float] = {}
            for seg in segs:
                up, low = self._upper_x(seg), self._lower_x(seg)
                keyed.append(((up + low) / 2.0, up, low, self.seg_edge[seg], seg))
                # An unlabelled lane wants to cross the band straight rather than jog to a
                # midpoint; the order stays by midpoint so slots add no crossing.
                if seg in sizes:
                    wishes[seg] = (up + low) / 2.0
                elif self.seg_upper[seg] >= self.n:
                    wishes[seg] = up
                elif self.seg_lower[seg] >= self.n:
                    wishes[seg] = low
                else:
                    wishes[seg] = (up + low) / 2.0
            keyed.sort()
            order = [item[-1] for item in keyed]
            widths = [sizes.get(seg, (0.0, 0.0))[0] for seg in order]
            gaps = []
            for i in range(len(order) - 1):
                labelled = order[i] in sizes or order[i + 1] in sizes
                spacing = opt.label_spacing if labelled else opt.edge_spacing
                gaps.append((widths[i] + widths[i + 1]) / 2.0 + spacing)
            packed = _pack([wishes[seg] for seg in order], [1.0] * len(order), gaps)
            for seg, value in zip(order, packed, strict=True):
                self.slot_x[seg] = value
            self.slot_size.update(sizes)

    def assign_y(self) -> None:
        """Stack rows and gaps; a gap grows to hold its label band plus room for bends."""
        opt = self.opt
        row_h = [0.0] * self.layer_count
        for v in range(self.n):
            layer = self.layer_of[v]
            row_h[layer] = max(row_h[layer], self.height[v], self.self_label_h[v])
        self.row_top = [0.0] * self.layer_count
        self.row_bottom = [0.0] * self.layer_count
        self.band_top = [0.0] * (self.layer_count + 1)
        above, below = self._bend_heights()
        y = 0.0
        for layer in range(self.layer_count + 1):
            band = self.band_h[layer]
            if band:
                gap_h = band + above[layer] + below[layer]
                if 0 < layer < self.layer_count:
                    gap_h = max(opt.layer_spacing, gap_h)
                self.band_top[layer] = (
                    y + above[layer] + (gap_h - band - above[layer] - below[layer]) / 2.0
                )
            else:
                gap_h = (
                    max(opt.layer_spacing, above[layer]) if 0 < layer < self.layer_count else 0.0
                )
                self.band_top[layer] = y + gap_h / 2.0
            y += gap_h
            if layer < self.layer_count:
                self.row_top[layer] = y
                y += row_h[layer]
                self.row_bottom[layer] = y
        self.top = [0.0] * self.n
        for v in range(self.n):
            layer = self.layer_of[v]
            self.top[v] = self.row_top[layer] + (row_h[layer] - self.height[v]) / 2.0

    def _bend_heights(self) -> tuple[list[float], list[float]]:
        """Height of each gap's bends above and below its label band (the whole gap when it has
        no band): enough for its longest sideways run to slope at least ``bend_slope``.

        Edges change lanes in these bends. Squeezed into a fixed clearance, edges fanning out
        far from one step ran nearly flat and on top of one another; a slope keeps each one
        apart from its neighbours, up to ``max_bend_height``.
        """
        opt = self.opt
        gaps = self.layer_count + 1
        run_above = [0.0] * gaps
        run_below = [0.0] * gaps
        for seg, lower in enumerate(self.seg_lower):
            gap = self.el_layer[lower]
            up, low = self._upper_x(seg), self._lower_x(seg)
            slot = self.slot_x.get(seg)
            if slot is None:
                run_above[gap] = max(run_above[gap], abs(low - up))
            else:
                run_above[gap] = max(run_above[gap], abs(slot - up))
                run_below[gap] = max(run_below[gap], abs(low - slot))

        def height(run: float, least: float) -> float:
            return max(least, min(opt.max_bend_height, run * opt.bend_slope))

        above, below = [0.0] * gaps, [0.0] * gaps
        for gap in range(gaps):
            if self.band_h[gap]:
                above[gap] = height(run_above[gap], opt.label_clearance)
                below[gap] = height(run_below[gap], opt.label_clearance)
            else:
                above[gap] = height(run_above[gap], 0.0)
        return above, below

    def _side_port_y(self, v: int, rank: int) -> float:
        return self.top[v] + self.height[v] * (rank + 1) / (self.side_ports[v] + 1)

    # ---------------------------------------------------------------- routing
    def route(self, slot: int) -> tuple[list[Point], Rect | None]:
        """Polyline (source to target) and label rectangle of one edge."""
        if self.e_self[slot]:
            return self._route_self_loop(slot)
        chain = self.chain[slot]
        segs = self.chain_segs[slot]
        back = self.e_back[slot]
        first = chain[0]
        right = self.x[first] + self.width[first] / 2.0
        layer = self.el_layer[first]
        points: list[Point]
        if back:
            lane = right + self.stub_in[slot]
            port_y = self._side_port_y(first, self.port_rank_in[slot])
            points = [(right, port_y), (lane, port_y), (lane, self.row_bottom[layer])]
        else:
            px = self._upper_x(segs[0])
            points = [(px, self.top[first] + self.height[first]), (px, self.row_bottom[layer])]
        for i, seg in enumerate(segs):
            lower = chain[i + 1]
            layer = self.el_layer[lower]
            if seg in self.slot_x:
                band_top = self.band_top[layer]
                bx = self.slot_x[seg]
                points += [(bx, band_top), (bx, band_top + self.band_h[layer])]
            if lower >= self.n:
                lx = self.x[lower]
                points += [(lx, self.row_top[layer]), (lx, self.row_bottom[layer])]
            elif back:
                right = self.x[lower] + self.width[lower] / 2.0
                lane = right + self.stub_out[slot]
                port_y = self._side_port_y(lower, self.port_rank_out[slot])
                points += [(lane, self.row_top[layer]), (lane, port_y), (right, port_y)]
            else:
                px = self._lower_x(seg)
                points += [(px, self.row_top[layer]), (px, self.top[lower])]
        points = _simplify(points)
        if back:
            points.reverse()
        label_rect = None
        label_seg = self.label_seg[slot]
        if label_seg in self.slot_size:
            w, h = self.slot_size[label_seg]
            gap = self.el_layer[self.seg_lower[label_seg]]
            label_rect = Rect(
                self.slot_x[label_seg] - w / 2.0,
                self.band_top[gap] + (self.band_h[gap] - h) / 2.0,
                w,
                h,
            )
        return points, label_rect

    def _route_self_loop(self, slot: int) -> tuple[list[Point], Rect | None]:
        """A loop in the node's right margin; its label stacks in a column beyond the lanes."""
        v = self.e_src[slot]
        right = self.x[v] + self.width[v] / 2.0
        lane = right + self.stub_out[slot]
        y_out = self._side_port_y(v, self.port_rank_out[slot])
        y_in = self._side_port_y(v, self.port_rank_in[slot])
        points = [(right, y_out), (lane, y_out), (lane, y_in), (right, y_in)]
        size = self.e_label_size[slot]
        if size is None:
            return points, None
        column_x = right + self.lane_count[v] * self.opt.edge_spacing + self.opt.edge_spacing / 2.0
        y = self.top[v] + self.height[v] / 2.0 - self.self_label_h[v] / 2.0
        for other in self.self_loops[v]:
            other_size = self.e_label_size[other]
            if other_size is None:
                continue
            if other == slot:
                return points, Rect(column_x, y, size[0], size[1])
            y += other_size[1] + 2.0
        return points, None  # unreachable: the loop is in its own node's list


def _as_node(item: LayoutNode | tuple[str, float, float]) -> LayoutNode:
    if isinstance(item, LayoutNode):
        return item
    node_id, width, height = item
    return LayoutNode(str(node_id), float(width), float(height))


def _as_edge(item: LayoutEdge | tuple[Hashable, ...]) -> LayoutEdge:
    if isinstance(item, LayoutEdge):
        return item
    source, target, *rest = item
    label = str(rest[0]) if rest and rest[0] is not None else ""
    key = rest[1] if len(rest) > 1 else None
    return LayoutEdge(str(source), str(target), label, key)


def compute_layout(
    nodes: Iterable[LayoutNode | tuple[str, float, float]],
    edges: Iterable[LayoutEdge | tuple[Hashable, ...]],
    *,
    roots: Sequence[str] | None = None,
    measure: MeasureFn | None = None,
    options: LayoutOptions | None = None,
) -> GraphLayout:
    """Lay out a step graph top to bottom.

    ``nodes`` come in the flow's step order (a duplicate id keeps its first occurrence);
    ``edges`` as :class:`LayoutEdge` or ``(source, target[, label[, key]])`` tuples. ``roots``
    are the entry steps, the first node when omitted or when none of them exists. ``measure``
    returns the (width, height) of a label's text; the default assumes 7 x 16 px characters.
    Negative sizes count as zero.
    Edges naming an unknown node are returned in ``skipped_edges`` rather than raising, because
    flow definitions routinely point at deleted steps.
    """
    opt = options or LayoutOptions()
    node_list: list[LayoutNode] = []
    index_of: dict[str, int] = {}
    for item in nodes:
        node = _as_node(item)
        if node.id not in index_of:
            index_of[node.id] = len(node_list)
            node_list.append(node)
    edge_list = [_as_edge(item) for item in edges]
    valid: list[tuple[int, int, int]] = []
    skipped: list[LayoutEdge] = []
    for index, edge in enumerate(edge_list):
        src, tgt = index_of.get(edge.source), index_of.get(edge.target)
        if src is None or tgt is None:
            skipped.append(edge)
        else:
            valid.append((index, src, tgt))
    if not node_list:
        return GraphLayout({}, (), Rect(0.0, 0.0, 0.0, 0.0), 0, tuple(skipped))
    root_ids: list[int] = []
    for root in roots or ():
        idx = index_of.get(root)
        if idx is not None and idx not in root_ids:
            root_ids.append(idx)
    if not root_ids:
        root_ids = [0]

    state = _Layout(node_list, edge_list, valid, root_ids, measure or default_measure, opt)
    state.remove_cycles()
    state.assign_layers()
    state.build_chains()
    state.reserve_side_lanes()
    state.initial_order()
    state.reduce_crossings()
    state.assign_ports()
    state.assign_x()
    state.place_side_stubs()
    state.place_label_bands()
    state.assign_y()

    routes: list[tuple[int, list[Point], Rect | None]] = []
    for slot in range(len(valid)):
        points, label_rect = state.route(slot)
        routes.append((slot, points, label_rect))

    # Normalise so the bounding rectangle starts at the origin.
    rects = [
        Rect(state.x[v] - state.width[v] / 2.0, state.top[v], state.width[v], state.height[v])
        for v in range(state.n)
    ]
    xs: list[float] = []
    ys: list[float] = []
    for rect in rects:
        xs += [rect.x, rect.right]
        ys += [rect.y, rect.bottom]
    for _, points, label_rect in routes:
        xs += [p[0] for p in points]
        ys += [p[1] for p in points]
        if label_rect is not None:
            xs += [label_rect.x, label_rect.right]
            ys += [label_rect.y, label_rect.bottom]
    dx, dy = -min(xs), -min(ys)

    def shift(rect: Rect) -> Rect:
        return Rect(rect.x + dx, rect.y + dy, rect.width, rect.height)

    placed: dict[str, PlacedNode] = {}
    real_order: dict[int, int] = {}
    for layer in state.layers:
        rank = 0
        for element in layer:
            if element < state.n:
                real_order[element] = rank
                rank += 1
    for v, node in enumerate(node_list):
        placed[node.id] = PlacedNode(
            id=node.id,
            rect=shift(rects[v]),
            layer=state.layer_of[v],
            order=real_order[v],
            reachable=state.reachable[v],
        )
    routed: list[RoutedEdge] = []
    for slot, points, label_rect in routes:
        index = state.e_index[slot]
        edge = edge_list[index]
        routed.append(
            RoutedEdge(
                index=index,
                source=edge.source,
                target=edge.target,
                label=edge.label,
                key=edge.key,
                points=tuple((px + dx, py + dy) for px, py in points),
                is_back_edge=state.e_back[slot] or state.e_self[slot],
                is_self_loop=state.e_self[slot],
                label_rect=shift(label_rect) if label_rect is not None else None,
            )
        )
    bounds = Rect(0.0, 0.0, max(xs) + dx, max(ys) + dy)
    return GraphLayout(placed, tuple(routed), bounds, state.layer_count, tuple(skipped))
