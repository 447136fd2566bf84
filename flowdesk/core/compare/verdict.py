"""The comparison in plain words: which version does better, by how much, and how sure.

Differences are read in percentage points (b − a). The "±" is the larger side of the 95 %
interval around the difference (Newcombe's interval is not symmetric), so it never understates
the uncertainty. A difference whose interval includes zero is only called "about the same" when
the whole interval lies within ±1 point; otherwise there are not enough contacts yet to tell.
"""

from __future__ import annotations

from flowdesk.core.compare.stats import Interval

# An interval inside ±1 point around zero: the versions perform alike, as far as anyone cares.
SAME_WITHIN = 0.01
NOT_ENOUGH = "Not enough contacts yet to tell"


def points(value: float) -> str:
    """A difference of fractions as percentage points with one decimal: 0.0423 → "4.2"."""
    return f"{abs(value) * 100:.1f}"


def margin(interval: Interval) -> float:
    return max(interval.value - interval.low, interval.high - interval.value)


def rate_sentence(
    b_name: str,
    a_name: str,
    interval: Interval | None,
    verbs: tuple[str, str],
    missing: str,
) -> str:
    """One sentence about one rate. ``verbs`` = (the verb with b as subject, the plural verb for
    "both"), e.g. ("completes", "complete"); ``missing`` says why there is no interval."""
    if interval is None:
        return f"{NOT_ENOUGH}: {missing}."
    plus_minus = f"±{points(margin(interval))}"
    if interval.excludes_zero():
        direction = "more" if interval.value > 0 else "less"
        return (
            f"{b_name} {verbs[0]} {points(interval.value)} points {direction} often than {a_name}"
            f" ({plus_minus})."
        )
    if interval.low >= -SAME_WITHIN and interval.high <= SAME_WITHIN:
        return f"{b_name} and {a_name} {verbs[1]} about as often ({plus_minus} points)."
    sign = "+" if interval.value >= 0 else "−"
    return (
        f"{NOT_ENOUGH} whether {b_name} {verbs[0]} more or less often than {a_name}"
        f" ({sign}{points(interval.value)} points, {plus_minus})."
    )


def missing_contacts(a_name: str, a_count: int, b_name: str, b_count: int, what: str) -> str:
    """Why a rate cannot be compared: which side has nothing to count."""
    if not a_count and not b_count:
        return f"neither version has {what} yet"
    return f"{b_name if not b_count else a_name} has no {what} yet"
