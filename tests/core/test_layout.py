"""Geometry guarantees of the flow layout: the Flow Viewer draws the output as is."""

from __future__ import annotations

import random
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowdesk.core.layout import (
    GraphLayout,
    LayoutEdge,
    LayoutNode,
    LayoutOptions,
    Rect,
    RoutedEdge,
    compute_layout,
    default_measure,
)

EPS = 1e-6


# -- helpers ------------------------------------------------------------------------------------


def make_flow(step_count: int, branch_count: int, seed: int = 7) -> tuple[list, list]:
    """A flow shaped like real ones: menus whose options end or merge, conditionals that merge
    back, questions retrying through an error message, "Main menu" loops, "No reply" self-loops,
    one placeholder step nobody reaches and one transition to a deleted step."""
    rng = random.Random(seed)
    nodes: list[LayoutNode] = []
    edges: list[LayoutEdge] = []

    def step() -> str:
        node_id = f"s{len(nodes)}"
        width = rng.choice([160.0, 180.0, 200.0, 220.0])
        nodes.append(LayoutNode(node_id, width, rng.choice([48.0, 56.0, 64.0])))
        return node_id

    def link(source: str, target: str, label: str) -> None:
        edges.append(LayoutEdge(source, target, label, len(edges)))

    per_branch = max(3, (step_count - 2) // branch_count)
    current = step()
    menus: list[str] = []
    for branch in range(branch_count):
        limit = 1 + (branch + 1) * per_branch
        head = step()
        link(current, head, "Next")
        merge = step()
        is_menu = branch % 2 == 0
        options = rng.randint(2, 4)
        for option in range(options):
            label = f"Option {chr(65 + option)}" if is_menu else f"Path {option + 1}"
            if not is_menu and option == options - 1:
                label = "Otherwise"
            previous = head
            for _ in range(rng.randint(0, 2)):
                if len(nodes) >= limit - 2:
                    break
                nxt = step()
                link(previous, nxt, label)
                previous, label = nxt, "Next"
            if is_menu and option == options - 1 and menus:
                link(previous, rng.choice(menus), "Main menu")
            elif is_menu and option == 1 and len(nodes) < limit - 2:
                link(previous, step(), label)  # an option that ends the flow
            else:
                link(previous, merge, label)
        if is_menu:
            menus.append(head)
            link(head, head, "No reply")
            current = merge
        else:
            question = step()
            link(merge, question, "Next")
            error = step()
            link(question, error, "Answer failed")
            link(error, question, "Retry")
            current = question
    while len(nodes) < step_count - 1:
        nxt = step()
        link(current, nxt, "Next")
        current = nxt
    step()  # placeholder: no transition reaches it
    link(current, "deleted-step", "Next")
    return nodes, edges


def segments(points: tuple[tuple[float, float], ...]):
    return list(zip(points, points[1:], strict=False))


def crosses_interior(p, q, rect: Rect, inset: float = 0.5) -> bool:
    """Whether segment p-q enters the rectangle shrunk by ``inset`` (Liang-Barsky clipping)."""
    x0, y0, x1, y1 = rect.x + inset, rect.y + inset, rect.right - inset, rect.bottom - inset
    if x0 >= x1 or y0 >= y1:
        return False
    dx, dy = q[0] - p[0], q[1] - p[1]
    lo, hi = 0.0, 1.0
    for edge_p, edge_q in ((-dx, p[0] - x0), (dx, x1 - p[0]), (-dy, p[1] - y0), (dy, y1 - p[1])):
        if abs(edge_p) < EPS:
            if edge_q < 0:
                return False
            continue
        t = edge_q / edge_p
        if edge_p < 0:
            lo = max(lo, t)
        else:
            hi = min(hi, t)
        if lo > hi:
            return False
    return True


def on_polyline(point, points) -> bool:
    px, py = point
    for (ax, ay), (bx, by) in segments(points):
        cross = (bx - ax) * (py - ay) - (by - ay) * (px - ax)
        inside = min(ax, bx) - EPS <= px <= max(ax, bx) + EPS
        if abs(cross) < 1e-6 and inside and min(ay, by) - EPS <= py <= max(ay, by) + EPS:
            return True
    return False


def assert_valid(
    layout: GraphLayout,
    nodes: list[LayoutNode],
    edges: list[LayoutEdge],
    options: LayoutOptions | None = None,
) -> None:
    """Every promise the viewer relies on, checked on one layout."""
    opt = options or LayoutOptions()
    unique = {node.id: node for node in reversed(nodes)}
    assert set(layout.nodes) == set(unique)
    placed = list(layout.nodes.values())
    for node in placed:
        assert node.rect.width == unique[node.id].width
        assert node.rect.height == unique[node.id].height
    # Nodes keep their spacing: node_spacing within a layer, layer_spacing between layers.
    clearance = min(opt.node_spacing, opt.layer_spacing) - 1e-6
    for i, a in enumerate(placed):
        for b in placed[i + 1 :]:
            assert not a.rect.intersects(b.rect, clearance), (a, b)
    labels = [(edge, edge.label_rect) for edge in layout.edges if edge.label_rect is not None]
    for i, (edge_a, a) in enumerate(labels):
        for edge_b, b in labels[i + 1 :]:
            assert not a.intersects(b), (edge_a, edge_b)
        for node in placed:
            assert not a.intersects(node.rect), (edge_a, node)
    layer = {node.id: node.layer for node in placed}
    rects = {node.id: node.rect for node in placed}
    known = set(unique)
    drawn = [e for e in edges if e.source in known and e.target in known]
    assert len(layout.edges) == len(drawn)
    assert len(layout.skipped_edges) == len(edges) - len(drawn)
    for routed in layout.edges:
        assert routed.label == edges[routed.index].label
        assert len(routed.points) >= 2
        source, target = rects[routed.source], rects[routed.target]
        (sx, sy), (tx, ty) = routed.points[0], routed.points[-1]
        if routed.is_self_loop:
            assert routed.is_back_edge and routed.source == routed.target
        if routed.is_back_edge:
            # Loops leave and enter through the right side.
            assert abs(sx - source.right) < EPS and source.y <= sy <= source.bottom
            assert abs(tx - target.right) < EPS and target.y <= ty <= target.bottom
            if not routed.is_self_loop:
                assert layer[routed.target] < layer[routed.source]
        else:
            assert layer[routed.target] > layer[routed.source]
            assert abs(sy - source.bottom) < EPS and source.x <= sx <= source.right
            assert abs(ty - target.y) < EPS and target.x <= tx <= target.right
            assert all(q[1] >= p[1] - EPS for p, q in segments(routed.points)), routed
        for p, q in segments(routed.points):
            for node in placed:
                assert not crosses_interior(p, q, node.rect), (routed, node.id)
            for other, rect in labels:
                if other.index != routed.index:
                    assert not crosses_interior(p, q, rect), (routed, other)
        if routed.label:
            assert routed.label_rect is not None
            if not routed.is_self_loop:
                assert on_polyline(routed.label_rect.center, routed.points), routed
        else:
            assert routed.label_rect is None
    # The bounds hold everything and start at the origin.
    b = layout.bounds
    assert (b.x, b.y) == (0.0, 0.0)
    boxes = [node.rect for node in placed] + [rect for _, rect in labels]
    for rect in boxes:
        assert rect.x >= -EPS and rect.right <= b.right + EPS
        assert rect.y >= -EPS and rect.bottom <= b.bottom + EPS
    for routed in layout.edges:
        for x, y in routed.points:
            assert -EPS <= x <= b.right + EPS and -EPS <= y <= b.bottom + EPS


def edge_for(layout: GraphLayout, source: str, target: str) -> RoutedEdge:
    return next(e for e in layout.edges if e.source == source and e.target == target)


def box(node_id: str, width: float = 160.0, height: float = 50.0) -> LayoutNode:
    return LayoutNode(node_id, width, height)


# -- basic shapes -------------------------------------------------------------------------------


def test_empty_graph():
    layout = compute_layout([], [LayoutEdge("a", "b")])
    assert layout.nodes == {}
    assert layout.edges == ()
    assert layout.bounds == Rect(0.0, 0.0, 0.0, 0.0)
    assert layout.skipped_edges == (LayoutEdge("a", "b"),)


def test_single_node():
    layout = compute_layout([box("a")], [])
    assert layout.nodes["a"].rect == Rect(0.0, 0.0, 160.0, 50.0)
    assert layout.bounds == Rect(0.0, 0.0, 160.0, 50.0)
    assert layout.layer_count == 1


def test_chain_is_straight_and_goes_down():
    nodes = [box("a"), box("b", 220.0), box("c", 120.0)]
    edges = [LayoutEdge("a", "b", "Next"), LayoutEdge("b", "c")]
    layout = compute_layout(nodes, edges)
    assert_valid(layout, nodes, edges)
    assert [layout.nodes[n].layer for n in "abc"] == [0, 1, 2]
    centers = {layout.nodes[n].rect.center[0] for n in "abc"}
    assert max(centers) - min(centers) < EPS
    for routed in layout.edges:
        assert len({x for x, _ in routed.points}) == 1  # a straight vertical line


def test_tuples_are_accepted():
    layout = compute_layout([("a", 100, 40), ("b", 100, 40)], [("a", "b", "Go", "k")])
    routed = layout.edges[0]
    assert (routed.label, routed.key) == ("Go", "k")
    assert layout.nodes["b"].layer == 1


def test_menu_options_leave_side_by_side_in_option_order():
    nodes = [box("menu", 240.0), box("a"), box("b"), box("c")]
    edges = [
        LayoutEdge("menu", "a", "Sales"),
        LayoutEdge("menu", "b", "Support"),
        LayoutEdge("menu", "c", "Talk to a human"),
    ]
    layout = compute_layout(nodes, edges)
    assert_valid(layout, nodes, edges)
    xs = [layout.nodes[n].rect.x for n in "abc"]
    assert xs == sorted(xs)
    assert {layout.nodes[n].rect.y for n in "abc"} == {layout.nodes["a"].rect.y}
    ports = [edge_for(layout, "menu", n).points[0][0] for n in "abc"]
    assert ports[0] < ports[1] < ports[2]
    labels = [edge_for(layout, "menu", n).label_rect for n in "abc"]
    assert labels[0].x < labels[1].x < labels[2].x
    # The parent sits centred over its middle child.
    assert abs(layout.nodes["menu"].rect.center[0] - layout.nodes["b"].rect.center[0]) < 1.0


def test_conditional_branches_merge_back_below():
    nodes = [box("cond"), box("p1"), box("p2"), box("other"), box("merge")]
    edges = [
        LayoutEdge("cond", "p1", "Path 1"),
        LayoutEdge("cond", "p2", "Path 2"),
        LayoutEdge("cond", "other", "Otherwise"),
        LayoutEdge("p1", "merge", "Next"),
        LayoutEdge("p2", "merge", "Next"),
        LayoutEdge("other", "merge", "Next"),
    ]
    layout = compute_layout(nodes, edges)
    assert_valid(layout, nodes, edges)
    assert layout.nodes["merge"].layer == 2
    assert {layout.nodes[n].layer for n in ("p1", "p2", "other")} == {1}


def test_long_edge_routes_around_nodes():
    nodes = [box("a"), box("b"), box("c"), box("d"), box("e")]
    edges = [
        LayoutEdge("a", "b", "Next"),
        LayoutEdge("b", "c", "Next"),
        LayoutEdge("c", "d", "Next"),
        LayoutEdge("a", "d", "Skip ahead"),
        LayoutEdge("d", "e", "Next"),
    ]
    layout = compute_layout(nodes, edges)
    assert_valid(layout, nodes, edges)  # includes: no segment crosses a node
    assert layout.nodes["d"].layer == 3


# -- cycles, loops, odd input -------------------------------------------------------------------


def test_question_retry_loop_is_a_back_edge():
    nodes = [box("start"), box("question"), box("error"), box("done")]
    edges = [
        LayoutEdge("start", "question", "Next"),
        LayoutEdge("question", "done", "Answered"),
        LayoutEdge("question", "error", "Answer failed"),
        LayoutEdge("error", "question", "Retry"),
    ]
    layout = compute_layout(nodes, edges)
    assert_valid(layout, nodes, edges)
    retry = edge_for(layout, "error", "question")
    assert retry.is_back_edge and not retry.is_self_loop
    assert not any(e.is_back_edge for e in layout.edges if e is not retry)
    assert layout.nodes["error"].layer > layout.nodes["question"].layer


def test_self_loops_and_two_node_cycle():
    nodes = [box("a"), box("b")]
    edges = [
        LayoutEdge("a", "a", "No reply"),
        LayoutEdge("a", "a", "Answer failed"),
        LayoutEdge("a", "b", "Next"),
        LayoutEdge("b", "a", "Back"),
        LayoutEdge("b", "b"),
    ]
    layout = compute_layout(nodes, edges)
    assert_valid(layout, nodes, edges)
    loops = [e for e in layout.edges if e.is_self_loop]
    assert len(loops) == 3 and all(e.is_back_edge for e in loops)
    assert edge_for(layout, "b", "a").is_back_edge
    assert not edge_for(layout, "a", "b").is_back_edge


def test_cycle_through_the_entry_step():
    nodes = [box("menu"), box("x"), box("y")]
    edges = [LayoutEdge("menu", "x"), LayoutEdge("x", "y"), LayoutEdge("y", "menu", "Main menu")]
    layout = compute_layout(nodes, edges)
    assert_valid(layout, nodes, edges)
    assert layout.nodes["menu"].layer == 0
    assert [e.is_back_edge for e in layout.edges] == [False, False, True]


def test_parallel_edges_get_their_own_route_and_label():
    nodes = [box("menu"), box("next")]
    edges = [
        LayoutEdge("menu", "next", "Yes", key=1),
        LayoutEdge("menu", "next", "Sure", key=2),
        LayoutEdge("menu", "next", "OK", key=3),
    ]
    layout = compute_layout(nodes, edges)
    assert_valid(layout, nodes, edges)
    assert [e.key for e in layout.edges] == [1, 2, 3]
    assert len({e.points for e in layout.edges}) == 3


def test_unreachable_and_isolated_nodes_are_placed():
    nodes = [box("entry"), box("a"), box("orphan"), box("ghost")]
    edges = [LayoutEdge("entry", "a"), LayoutEdge("orphan", "a", "Next")]
    layout = compute_layout(nodes, edges)
    assert_valid(layout, nodes, edges)
    assert layout.nodes["entry"].reachable and layout.nodes["a"].reachable
    assert not layout.nodes["orphan"].reachable and not layout.nodes["ghost"].reachable
    # The orphan sits just above the step it leads to; the isolated step gets a row below.
    assert layout.nodes["orphan"].layer == layout.nodes["a"].layer - 1
    assert layout.nodes["ghost"].layer == layout.layer_count - 1 > layout.nodes["a"].layer


def test_edges_to_unknown_nodes_are_skipped_not_fatal():
    nodes = [box("a"), box("b")]
    edges = [LayoutEdge("a", "b"), LayoutEdge("a", "gone", "Next"), LayoutEdge("gone", "b")]
    layout = compute_layout(nodes, edges)
    assert_valid(layout, nodes, edges)
    assert [e.index for e in layout.edges] == [0]
    assert layout.skipped_edges == (edges[1], edges[2])


def test_duplicate_node_ids_keep_the_first():
    nodes = [box("a", 100.0), box("b"), box("a", 300.0)]
    layout = compute_layout(nodes, [LayoutEdge("a", "b")])
    assert list(layout.nodes) == ["a", "b"]
    assert layout.nodes["a"].rect.width == 100.0


def test_roots_choose_the_top():
    nodes = [box("a"), box("b"), box("c")]
    edges = [LayoutEdge("a", "b"), LayoutEdge("b", "c"), LayoutEdge("c", "a")]
    layout = compute_layout(nodes, edges, roots=["missing", "b"])
    assert_valid(layout, nodes, edges)
    assert layout.nodes["b"].layer == 0
    assert edge_for(layout, "a", "b").is_back_edge


def test_zero_sized_nodes_and_empty_labels():
    nodes = [LayoutNode("a", 0.0, 0.0), LayoutNode("b", 0.0, 0.0), LayoutNode("c", 10.0, 0.0)]
    edges = [LayoutEdge("a", "b"), LayoutEdge("a", "c"), LayoutEdge("c", "a")]
    layout = compute_layout(nodes, edges)
    assert all(e.label_rect is None for e in layout.edges)
    assert len(layout.edges) == 3


# -- labels -------------------------------------------------------------------------------------


def test_measure_sets_label_size_and_gap_grows_for_tall_labels():
    opt = LayoutOptions()
    nodes = [box("a"), box("b")]
    edges = [LayoutEdge("a", "b", "two\nlines")]
    layout = compute_layout(nodes, edges, measure=lambda text: (50.0, 60.0), options=opt)
    assert_valid(layout, nodes, edges, opt)
    rect = layout.edges[0].label_rect
    assert rect.width == 50.0 + 2 * opt.label_padding_x
    assert rect.height == 60.0 + 2 * opt.label_padding_y
    gap = layout.nodes["b"].rect.y - layout.nodes["a"].rect.bottom
    assert gap >= rect.height + 2 * opt.label_clearance - EPS


def test_default_measure():
    assert default_measure("Next") == (28.0, 16.0)
    assert default_measure("ab\nabcd") == (28.0, 32.0)


def test_crowded_labels_are_pushed_apart_not_stacked():
    nodes = [box("menu", 120.0)] + [box(f"o{i}", 60.0) for i in range(6)]
    edges = [LayoutEdge("menu", f"o{i}", f"A rather long option label {i}") for i in range(6)]
    layout = compute_layout(nodes, edges)
    assert_valid(layout, nodes, edges)
    rects = sorted((e.label_rect for e in layout.edges), key=lambda r: r.x)
    assert len({r.y for r in rects}) == 1
    assert all(a.right <= b.x for a, b in zip(rects, rects[1:], strict=False))


# -- realistic and large graphs -----------------------------------------------------------------


def test_sixty_step_flow_with_ten_branches():
    nodes, edges = make_flow(60, 10)
    assert len(nodes) == 60
    compute_layout(nodes, edges)  # warm-up, so the timing below is the steady state
    start = time.perf_counter()
    layout = compute_layout(nodes, edges)
    elapsed = time.perf_counter() - start
    print(f"\n60-step flow, {len(edges)} edges: {elapsed * 1000:.1f} ms")
    assert_valid(layout, nodes, edges)
    assert any(e.is_back_edge and not e.is_self_loop for e in layout.edges)
    assert any(e.is_self_loop for e in layout.edges)
    assert len(layout.skipped_edges) == 1
    assert not layout.nodes[nodes[-1].id].reachable


def test_layout_is_deterministic():
    nodes, edges = make_flow(60, 10, seed=3)
    first = compute_layout(nodes, edges)
    second = compute_layout(list(nodes), list(edges))
    assert first == second


def test_two_hundred_step_flow_terminates_quickly():
    nodes, edges = make_flow(200, 30, seed=11)
    start = time.perf_counter()
    layout = compute_layout(nodes, edges)
    print(f"\n200-step flow, {len(edges)} edges: {(time.perf_counter() - start) * 1000:.1f} ms")
    assert_valid(layout, nodes, edges)


def test_two_hundred_random_nodes_terminate():
    rng = random.Random(5)
    nodes = [box(f"n{i}", rng.uniform(60, 240), rng.uniform(30, 80)) for i in range(200)]
    edges = [
        LayoutEdge(f"n{rng.randrange(200)}", f"n{rng.randrange(200)}", rng.choice(["", "Yes"]))
        for _ in range(260)
    ]
    start = time.perf_counter()
    layout = compute_layout(nodes, edges)
    print(f"\n200 random nodes, 260 edges: {(time.perf_counter() - start) * 1000:.1f} ms")
    assert len(layout.nodes) == 200 and len(layout.edges) == 260


@st.composite
def graphs(draw):
    count = draw(st.integers(min_value=1, max_value=14))
    ids = [f"n{i}" for i in range(count)]
    nodes = [
        LayoutNode(
            node_id,
            draw(st.sampled_from([0.0, 30.0, 120.0, 260.0])),
            draw(st.sampled_from([0.0, 20.0, 60.0])),
        )
        for node_id in ids
    ]
    endpoint = st.sampled_from([*ids, "missing"])
    label = st.sampled_from(["", "Next", "No reply", "A long answer option", "two\nlines"])
    edges = draw(st.lists(st.builds(LayoutEdge, endpoint, endpoint, label), max_size=3 * count + 2))
    roots = draw(st.lists(st.sampled_from(ids), max_size=2))
    return nodes, edges, roots


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_random_graphs_keep_every_guarantee(graph):
    nodes, edges, roots = graph
    layout = compute_layout(nodes, edges, roots=roots or None)
    assert_valid(layout, nodes, edges)
    assert layout == compute_layout(nodes, edges, roots=roots or None)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs(), st.integers(min_value=1, max_value=3))
def test_random_graphs_wrapped_into_narrow_rows_keep_every_guarantee(graph, row_steps):
    nodes, edges, roots = graph
    options = LayoutOptions(max_row_steps=row_steps)
    layout = compute_layout(nodes, edges, roots=roots or None, options=options)
    assert_valid(layout, nodes, edges, options)
    assert layout == compute_layout(nodes, edges, roots=roots or None, options=options)


# -- very wide splits ---------------------------------------------------------------------------


def wide_split(categories: int, merge: bool = True) -> tuple[list, list]:
    """A RapidPro split by a contact field with a category per value (ParentText's splits by id
    have 25-38; a hundred is possible), each category one message, all joining one step."""
    nodes = [box("ask"), box("split")]
    edges = [LayoutEdge("ask", "split", "Next")]
    for category in range(categories):
        nodes.append(box(f"c{category}"))
        edges.append(LayoutEdge("split", f"c{category}", f"Category {category + 1}\n12 · 8%"))
        if merge:
            edges.append(LayoutEdge(f"c{category}", "thanks", "Next"))
    nodes.append(box("thanks"))
    edges.append(LayoutEdge("thanks", "ask", "Again"))
    return nodes, edges


@pytest.mark.parametrize("merge", [True, False])
def test_a_split_of_a_hundred_categories_wraps_into_rows(merge):
    """A 100-category split drew as one row 25,600 px wide: its categories now continue on the
    rows below, 12 a row in option order, reached through one line down from the split."""
    nodes, edges = wide_split(100, merge)
    layout = compute_layout(nodes, edges)
    assert_valid(layout, nodes, edges)
    steps = 12  # LayoutOptions.max_row_steps
    row_width = steps * (box("x").width + LayoutOptions().node_spacing)
    assert layout.bounds.width <= 1.4 * row_width, layout.bounds.width
    rows: dict[int, list] = {}
    for node in layout.nodes.values():
        rows.setdefault(node.layer, []).append(node)
    assert max(len(row) for row in rows.values()) <= steps
    # Read left to right, then row by row: the categories in their order.
    placed = sorted((layout.nodes[f"c{c}"] for c in range(100)), key=lambda n: (n.layer, n.rect.x))
    assert [n.id for n in placed] == [f"c{c}" for c in range(100)]
    split = layout.nodes["split"].layer
    assert {n.layer for n in placed} == set(range(split + 1, split + 1 + -(-100 // steps)))
    # The options past the first row share the split's line: one port for all of them.
    down = [e for e in layout.edges if e.source == "split"]
    starts = {e.points[0] for e in down if layout.nodes[e.target].layer > split + 1}
    assert len(starts) == 1


def test_rows_within_the_limit_are_laid_out_as_before():
    nodes, edges = wide_split(12)
    assert compute_layout(nodes, edges) == compute_layout(
        nodes, edges, options=LayoutOptions(max_row_steps=0)
    )


# -- many loops into one step -------------------------------------------------------------------


def menu_with_returns(options: int = 22, seed: int = 4) -> tuple[list, list]:
    """A Studio-IVR shape: a main menu whose every option runs one to three steps and returns
    to the menu ("Main menu"), so 20+ back edges enter one step."""
    rng = random.Random(seed)
    nodes = [box("start"), box("menu", 200.0, 60.0)]
    edges = [LayoutEdge("start", "menu", "Next")]
    for option in range(options):
        previous, label = "menu", f"Option {option + 1}"
        for depth in range(rng.randint(1, 3)):
            node_id = f"o{option}-{depth}"
            nodes.append(box(node_id, rng.choice([150.0, 180.0])))
            edges.append(LayoutEdge(previous, node_id, label))
            previous, label = node_id, "Next"
        edges.append(LayoutEdge(previous, "menu", "Main menu"))
    return nodes, edges


def lane_into(edge: RoutedEdge) -> tuple[float, float]:
    """The loop's last corner: where its lane turns into the target's side port."""
    return edge.points[-2]


def test_back_edges_into_one_step_merge_into_one_trunk():
    nodes, edges = menu_with_returns()
    layout = compute_layout(nodes, edges)
    assert_valid(layout, nodes, edges)
    loops = [e for e in layout.edges if e.target == "menu" and e.is_back_edge]
    assert len(loops) == 22
    # One port and one lane into the menu, not 22 parallel ones.
    assert len({lane_into(e) for e in loops}) == 1
    assert len({e.points[-1] for e in loops}) == 1
    # Each loop still leaves its own source, and shares the trunk's last segments.
    assert len({e.points[0] for e in loops}) == 22
    trunk = set(segments(loops[0].points)[-2:])
    assert all(trunk <= set(segments(e.points)) for e in loops)
    # Far narrower than a fan of lanes.
    fan = compute_layout(nodes, edges, options=LayoutOptions(bundle_back_edges=False))
    assert_valid(fan, nodes, edges)
    fanned = [e for e in fan.edges if e.target == "menu" and e.is_back_edge]
    assert len({lane_into(e) for e in fanned}) == 22
    assert layout.bounds.width < fan.bounds.width


def test_bundled_loops_from_one_row_keep_their_labels_apart():
    nodes = [box("menu"), box("a"), box("b"), box("c"), box("d")]
    edges = [LayoutEdge("menu", x, f"Option {x}") for x in "abcd"]
    edges += [LayoutEdge(x, "menu", "Back to the main menu") for x in "abcd"]
    layout = compute_layout(nodes, edges)
    assert_valid(layout, nodes, edges)
    assert len({lane_into(e) for e in layout.edges if e.is_back_edge}) == 1


def test_a_bundled_trunk_runs_straight_past_the_loops_joining_it():
    """Loops from every other step of a long chain back to its top: the trunk they share keeps
    one lane (it may only step aside for a label band), rather than zigzagging towards each
    branch that joins it."""
    nodes, edges = [box("menu", 200.0, 60.0)], []
    previous = "menu"
    for i in range(10):
        nodes.append(box(f"a{i}"))
        edges.append(LayoutEdge(previous, f"a{i}", "Next"))
        previous = f"a{i}"
        if i % 2:
            nodes.append(box(f"b{i}"))
            edges += [LayoutEdge(f"a{i}", f"b{i}", "Other"), LayoutEdge(f"b{i}", "menu", "Menu")]
    edges.append(LayoutEdge(previous, "menu", "Main menu"))
    layout = compute_layout(nodes, edges)
    assert_valid(layout, nodes, edges)
    deepest = edge_for(layout, "b9", "menu")
    long_verticals = {
        round(p[0], 6)
        for p, q in segments(deepest.points)
        if abs(p[0] - q[0]) < EPS and abs(p[1] - q[1]) > 40.0
    }
    assert len(long_verticals) == 1, deepest.points


def test_edges_fanning_out_far_keep_a_visible_slope():
    """A split whose fourteen options spread over a wide row: in the fixed clearance the far
    ones ran almost flat, on top of one another. Every sloped segment now rises at least
    ``bend_slope`` of its sideways run (or ``max_bend_height``)."""
    nodes = [box("start"), box("split", 200.0, 60.0)]
    edges = [LayoutEdge("start", "split", "Next")]
    for option in range(14):
        nodes += [box(f"opt{option}"), box(f"end{option}")]
        edges += [
            LayoutEdge("split", f"opt{option}", f"Category {option + 1}"),
            LayoutEdge(f"opt{option}", f"end{option}", ""),
            LayoutEdge(f"end{option}", "done", "Next" if option % 2 else ""),
        ]
    nodes.append(box("done"))
    opt = LayoutOptions()
    layout = compute_layout(nodes, edges)
    assert_valid(layout, nodes, edges)
    sloped = 0
    for routed in layout.edges:
        for (ax, ay), (bx, by) in segments(routed.points):
            dx, dy = abs(bx - ax), abs(by - ay)
            if dx > EPS and dy > EPS:
                sloped += 1
                assert dy >= min(opt.max_bend_height, opt.bend_slope * dx) - EPS, routed
    assert sloped > 14
