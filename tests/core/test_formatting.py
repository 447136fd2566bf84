"""One rule per kind of number, shared by the app and the command line."""

from __future__ import annotations

import pytest

from flowdesk.core import formatting


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "—"),
        (0.0, "0%"),
        (0.0001, "<0.1%"),
        (0.0834, "8.3%"),
        (0.4, "40%"),
        (0.4567, "45.7%"),
        (0.909, "90.9%"),
        (0.99999, ">99.9%"),
        (1.0, "100%"),
    ],
)
def test_a_share_has_at_most_one_decimal_and_never_rounds_to_none_or_all(value, text):
    assert formatting.share(value) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, ""), (45, "45 s"), (720, "12 min"), (8040, "2 h 14 min"), (86400, "24 h"),
     (36 * 3600, "36 h"), (3 * 86400 + 4 * 3600, "3 d 4 h")],
)  # fmt: skip
def test_a_wait_reads_in_hours_up_to_two_days(seconds, text):
    assert formatting.duration(seconds) == text


def test_counts_sizes_and_elapsed_times():
    assert formatting.count(1234567) == "1,234,567" and formatting.count(None) == "—"
    assert formatting.size(812) == "812 bytes" and formatting.size(3_400_000) == "3.4 MB"
    assert formatting.elapsed(0.05) == "under 0.1 s" and formatting.elapsed(185) == "3 min 05 s"
    assert formatting.ago(1000, now=1000 + 7200) == "2 h ago" and formatting.ago(None) == "never"


@pytest.mark.parametrize(
    ("number", "noun", "text"),
    [
        (1, "run", "1 run"),
        (0, "run", "0 runs"),
        (1234, "contact run", "1,234 contact runs"),
        (2, "retry", "2 retries"),
        (3, "day", "3 days"),
    ],
)
def test_counted_says_the_noun_in_the_plural_unless_one(number, noun, text):
    assert formatting.counted(number, noun) == text
