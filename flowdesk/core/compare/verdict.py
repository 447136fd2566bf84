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


def signed_points(value: float | None) -> str:
    """A difference with its sign, for tables: "+4.2", "−0.8", "0.0"; "—" when undefined."""
    if value is None:
        return "—"
    text = points(value)
    if text == "0.0":
        return text
    return ("+" if value > 0 else "−") + text


def interval_words(interval: Interval | None) -> str:
    """A difference and its 95 % interval in points: "+4.2 points (95 %: +2.3 to +6.1)"."""
    if interval is None:
        return "—"
    return (
        f"{signed_points(interval.value)} points"
        f" (95 %: {signed_points(interval.low)} to {signed_points(interval.high)})"
    )


def _within_same(interval: Interval) -> bool:
    """Whether the whole 95 % interval lies within ±SAME_WITHIN: "about the same" for sure."""
    return interval.low >= -SAME_WITHIN and interval.high <= SAME_WITHIN


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
    if _within_same(interval):
        return f"{b_name} and {a_name} {verbs[1]} about as often ({plus_minus} points)."
    return (
        f"{NOT_ENOUGH} whether {b_name} {verbs[0]} more or less often than {a_name}"
        f" ({signed_points(interval.value)} points, {plus_minus})."
    )


def reply_sentence(b_name: str, a_name: str, interval: Interval) -> str:
    """The second sentence of a verdict, about replies; shorter, since the first names both."""
    plus_minus = f"±{points(margin(interval))}"
    if interval.excludes_zero():
        direction = "more" if interval.value > 0 else "less"
        return (
            f"{b_name} gets replies {points(interval.value)} points {direction} often"
            f" ({plus_minus})."
        )
    if _within_same(interval):
        return f"Replies: about the same ({plus_minus} points)."
    return f"Replies: {NOT_ENOUGH.lower()} ({signed_points(interval.value)} points, {plus_minus})."


def short_label(name: str) -> str:
    """A version named like "v3 – Day-of check-in" goes by its tag ("v3") in sentences."""
    for dash in (" – ", " — ", " - "):
        head, found, _ = name.partition(dash)
        if found and 0 < len(head.strip()) <= 12:
            return head.strip()
    return name


def missing_contacts(a_name: str, a_count: int, b_name: str, b_count: int, what: str) -> str:
    """Why a rate cannot be compared: which side has nothing to count."""
    if not a_count and not b_count:
        return f"neither version has {what} yet"
    return f"{b_name if not b_count else a_name} has no {what} yet"
