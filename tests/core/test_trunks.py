"""Where bundled loops share their line, from their polylines alone."""

from __future__ import annotations

from flowdesk.core.trunks import Stretch, shared_stretches


def test_a_straight_run_simplified_into_one_segment_still_shares_with_a_bent_one():
    # Three loops up one trunk at x=100 into a step entered at (60, 0); A joins lowest, and its
    # run up the trunk is one segment where B and C join it.
    a = [(50.0, 200.0), (100.0, 200.0), (100.0, 0.0), (60.0, 0.0)]
    b = [(50.0, 120.0), (100.0, 120.0), (100.0, 0.0), (60.0, 0.0)]
    c = [(50.0, 120.0), (100.0, 120.0), (100.0, 60.0), (100.0, 0.0), (60.0, 0.0)]
    stretches = shared_stretches({"a": a, "b": b, "c": c})
    assert stretches == [
        Stretch(
            ("a", "b", "c"),
            (
                ((100.0, 120.0), (100.0, 60.0)),
                ((100.0, 60.0), (100.0, 0.0)),
                ((100.0, 0.0), (60.0, 0.0)),
            ),
            True,
        ),
        Stretch(("b", "c"), (((50.0, 120.0), (100.0, 120.0)),), False),
    ]


def test_lines_that_touch_only_at_a_point_share_nothing():
    crossing = {
        1: [(0.0, 0.0), (10.0, 10.0)],
        2: [(10.0, 0.0), (0.0, 10.0)],
    }
    assert shared_stretches(crossing) == []
    assert shared_stretches({1: [(0.0, 0.0), (5.0, 5.0)]}) == []
