"""Intervals for a proportion and for the difference of two proportions.

Rates compared between versions are proportions of independent runs (Completed ÷ Contacts,
Responded ÷ Waited). The Wilson score interval stays inside [0, 1] and behaves at 0 % and
100 %, where the textbook ±1.96·√(p(1−p)/n) collapses to a width of zero. For a difference,
Newcombe's hybrid score interval (method 10 in Newcombe, *Statistics in Medicine* 17, 1998,
873–890) combines the two Wilson intervals; it keeps good coverage at the small counts a
version has in its first days, and needs no iteration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# The 97.5th percentile of the standard normal distribution: a two-sided 95 % interval.
Z_95 = 1.959963984540054


@dataclass(frozen=True, slots=True)
class Interval:
    """An estimate with its 95 % interval, all as fractions (0.042 = 4.2 %)."""

    value: float
    low: float
    high: float

    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    def as_dict(self) -> dict[str, float]:
        return {"value": self.value, "low": self.low, "high": self.high}


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> Interval | None:
    """The Wilson score interval of ``successes`` out of ``trials``; None without trials."""
    if trials <= 0:
        return None
    if not 0 <= successes <= trials:
        raise ValueError(f"{successes} successes out of {trials} trials")
    p = successes / trials
    z2 = z * z
    centre = p + z2 / (2 * trials)
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    denominator = 1 + z2 / trials
    low = (centre - half) / denominator
    high = (centre + half) / denominator
    # Exact 0 and 1 at the edges (the formula leaves rounding dust there).
    return Interval(p, 0.0 if successes == 0 else low, 1.0 if successes == trials else high)


def newcombe_difference(
    successes_a: int, trials_a: int, successes_b: int, trials_b: int, z: float = Z_95
) -> Interval | None:
    """The difference p_b − p_a with Newcombe's hybrid score interval; None when either side
    has no trials (there is nothing to compare)."""
    a = wilson_interval(successes_a, trials_a, z)
    b = wilson_interval(successes_b, trials_b, z)
    if a is None or b is None:
        return None
    difference = b.value - a.value
    low = difference - math.sqrt((b.value - b.low) ** 2 + (a.high - a.value) ** 2)
    high = difference + math.sqrt((b.high - b.value) ** 2 + (a.value - a.low) ** 2)
    return Interval(difference, max(low, -1.0), min(high, 1.0))
