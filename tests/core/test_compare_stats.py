"""Wilson and Newcombe intervals against published worked examples."""

from __future__ import annotations

import pytest

from flowdesk.core.compare.stats import newcombe_difference, wilson_interval


# Newcombe (1998a), "Two-sided confidence intervals for the single proportion", Stat Med 17:857,
# Table I, method 3 (Wilson score without continuity correction).
@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_matches_newcombe_1998_table(successes, trials, low, high):
    interval = wilson_interval(successes, trials)
    assert interval is not None
    assert interval.value == pytest.approx(successes / trials)
    assert interval.low == pytest.approx(low, abs=5e-5)
    assert interval.high == pytest.approx(high, abs=5e-5)


# Newcombe (1998b), "Interval estimation for the difference between independent proportions:
# comparison of eleven methods", Stat Med 17:873, Table II, method 10 (hybrid score, no
# continuity correction). Each row is m/n − x/y; our difference is b − a, so b = m/n.
@pytest.mark.parametrize(
    ("m", "n", "x", "y", "low", "high"),
    [
        (56, 70, 48, 80, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.1705, 0.8090),
        (5, 56, 0, 29, -0.0381, 0.1926),
        (0, 10, 0, 20, -0.1611, 0.2775),
        (0, 10, 0, 10, -0.2775, 0.2775),
        (10, 10, 0, 20, 0.6791, 1.0000),
        (10, 10, 0, 10, 0.6075, 1.0000),
    ],
)
def test_newcombe_difference_matches_newcombe_1998_table(m, n, x, y, low, high):
    interval = newcombe_difference(x, y, m, n)
    assert interval is not None
    assert interval.value == pytest.approx(m / n - x / y)
    assert interval.low == pytest.approx(low, abs=5e-5)
    assert interval.high == pytest.approx(high, abs=5e-5)


def test_difference_is_b_minus_a_and_mirrors_when_swapped():
    forward = newcombe_difference(48, 80, 56, 70)
    backward = newcombe_difference(56, 70, 48, 80)
    assert forward.value == pytest.approx(0.2)
    assert backward.value == pytest.approx(-0.2)
    assert backward.low == pytest.approx(-forward.high)
    assert backward.high == pytest.approx(-forward.low)


def test_no_trials_gives_no_interval():
    assert wilson_interval(0, 0) is None
    assert newcombe_difference(0, 0, 5, 10) is None
    assert newcombe_difference(5, 10, 0, 0) is None


def test_impossible_counts_are_refused():
    with pytest.raises(ValueError):
        wilson_interval(11, 10)
