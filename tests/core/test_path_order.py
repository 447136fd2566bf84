"""The order contacts pass through a graph's steps (export columns)."""

from __future__ import annotations

import random

from flowdesk.core.path_order import path_order


def test_a_chain_reads_from_the_entry_whatever_the_input_order():
    assert path_order(["end", "b", "a", "start"], [("start", "a"), ("a", "b"), ("b", "end")],
                      ["start"]) == ["start", "a", "b", "end"]  # fmt: skip


def test_a_step_comes_after_every_step_that_leads_to_it():
    # The menu leads to "end" directly and through "ask": "end" comes after "ask", not beside it
    # (a breadth-first order alone would put it first).
    edges = [("menu", "end"), ("menu", "ask"), ("ask", "end")]
    assert path_order(["end", "ask", "menu"], edges, ["menu"]) == ["menu", "ask", "end"]


def test_a_loop_back_does_not_move_the_step_it_returns_to():
    edges = [("hi", "ask"), ("ask", "again"), ("again", "ask"), ("ask", "done")]
    assert path_order(["done", "again", "ask", "hi"], edges, ["hi"]) == [
        "hi",
        "ask",
        "again",
        "done",
    ]
    # A loop back to the entry itself, and a self-loop, are ignored too.
    edges = [("menu", "a"), ("a", "menu"), ("a", "a"), ("a", "b")]
    assert path_order(["b", "a", "menu"], edges, ["menu"]) == ["menu", "a", "b"]


def test_steps_at_one_depth_keep_the_exit_order():
    edges = [("menu", "x"), ("menu", "y"), ("menu", "z")]
    assert path_order(["z", "y", "x", "menu"], edges, ["menu"]) == ["menu", "x", "y", "z"]


def test_unreached_steps_come_last_in_input_order():
    edges = [("start", "a"), ("orphan", "a"), ("ghost", "ghost")]
    order = path_order(["orphan", "a", "lonely", "ghost", "start"], edges, ["start"])
    assert order == ["start", "a", "orphan", "lonely", "ghost"]


def test_edges_to_unknown_steps_and_unknown_entries_are_ignored():
    order = path_order(["a", "b"], [("a", "nowhere"), ("a", "b"), ("x", "b")], ["x", "a"])
    assert order == ["a", "b"]


def _reaches(edges: list[tuple[int, int]], start: int) -> set[int]:
    seen, todo = {start}, [start]
    while todo:
        node = todo.pop()
        for source, target in edges:
            if source == node and target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def test_every_step_once_and_an_arrow_only_points_back_when_it_closes_a_loop():
    rnd = random.Random(3)
    for _ in range(300):
        nodes = list(range(rnd.randint(1, 12)))
        edges = [(rnd.choice(nodes), rnd.choice(nodes)) for _ in range(rnd.randint(0, 30))]
        entries = rnd.sample(nodes, rnd.randint(0, min(2, len(nodes))))
        order = path_order(nodes, edges, entries)
        assert sorted(order) == nodes
        assert path_order(nodes, edges, entries) == order  # deterministic
        reached = set().union(*(_reaches(edges, e) for e in entries)) if entries else set()
        position = {node: index for index, node in enumerate(order)}
        assert {order[i] for i in range(len(reached))} == reached  # reached ones first
        for source, target in edges:
            if source in reached and position[target] < position[source]:
                assert source in _reaches(edges, target)  # going back closes a cycle
