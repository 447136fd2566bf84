"""CSV files that break quietly: unclosed quotes and ambiguous dates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flowdesk.core.importer import parse_date, read_results_csv
from tests.core.test_importer import write

HEADER = "Phone,First name,Status,Entered\n"


def test_an_unclosed_quote_is_reported_with_its_lines_and_the_rest_is_read(tmp_path):
    text = (
        HEADER
        + "+1,Ana,Completed,2026-03-01 10:00\n"
        + '+2,"Bob,Completed,2026-03-01 11:00\n'  # line 3: the quote never closes
        + "+3,Carla,Completed,2026-03-01 12:00\n"
        + "+4,Dan,Expired,2026-03-01 13:00\n"
        + "+5,Eva,Failed,2026-03-01 14:00\n"
    )
    parsed = read_results_csv(write(tmp_path, text), "Flow")
    assert [run["contact"]["phone"] for run in parsed.runs] == ["+1", "+3", "+4", "+5"]
    [(line, message)] = parsed.summary.bad_rows
    assert line == 3
    assert "never closed" in message and "lines 3-6" in message


def test_an_unclosed_quote_that_meets_a_later_quote_is_caught_too(tmp_path):
    text = (
        HEADER
        + '+2,"Bob,Completed,2026-03-01 11:00\n'  # line 2: opens a quote
        + "+3,Carla,Completed,2026-03-01 12:00\n"
        + '+4,"Dan, Jr.",Expired,2026-03-01 13:00\n'  # its quote closes line 2's
        + "+5,Eva,Failed,2026-03-01 14:00\n"
    )
    parsed = read_results_csv(write(tmp_path, text), "Flow")
    phones = [run["contact"]["phone"] for run in parsed.runs]
    assert phones == ["+3", "+4", "+5"]
    assert parsed.summary.bad_rows[0][0] == 2 and "never closed" in parsed.summary.bad_rows[0][1]
    assert [r["contact"]["first_name"] for r in parsed.runs][1] == "Dan, Jr."


def test_a_real_multi_line_cell_is_not_taken_for_an_unclosed_quote(tmp_path):
    text = (
        HEADER + '+1,"Ana\nMaría",Completed,2026-03-01 10:00\n+2,"Bob",Expired,2026-03-01 11:00\n'
    )
    parsed = read_results_csv(write(tmp_path, text), "Flow")
    assert parsed.summary.bad_rows == []
    assert [run["contact"]["first_name"] for run in parsed.runs] == ["Ana\nMaría", "Bob"]


@pytest.mark.parametrize("order", ["mdy", "dmy"])
def test_dotted_dates_are_always_day_first(order):
    assert parse_date("4.3.2026", order) == datetime(2026, 3, 4, tzinfo=UTC)
    assert parse_date("4.3.2026 14:05", order) == datetime(2026, 3, 4, 14, 5, tzinfo=UTC)
    assert parse_date("25.12.2026", order) == datetime(2026, 12, 25, tzinfo=UTC)
    assert parse_date("12.25.2026", order) is None


def test_a_file_of_dotted_dates_reads_day_first(tmp_path):
    text = HEADER + "+1,Ana,Completed,4.3.2026 10:00\n+2,Bob,Completed,03/04/2026 10:00\n"
    parsed = read_results_csv(write(tmp_path, text), "Flow")
    assert parsed.runs[0]["created_on"] == "2026-03-04T10:00:00Z"
    assert parsed.summary.date_order == "mdy"  # dotted dates do not flip the slashed ones
    assert parsed.runs[1]["created_on"] == "2026-03-04T10:00:00Z"


@pytest.mark.parametrize("text", ["12/31/99", "31/12/99", "4.3.26", "1/2/026", "12/31/99 10:00"])
def test_two_digit_years_are_refused(text):
    assert parse_date(text) is None
    assert parse_date(text, "dmy") is None


def test_a_row_with_a_two_digit_year_is_a_reported_bad_row(tmp_path):
    text = HEADER + "+1,Ana,Completed,12/31/99 10:00\n+2,Bob,Completed,12/31/2025 10:00\n"
    parsed = read_results_csv(write(tmp_path, text), "Flow")
    assert [run["contact"]["phone"] for run in parsed.runs] == ["+2"]
    assert parsed.summary.bad_rows == [(2, "entry date '12/31/99 10:00' is not a date")]


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59Z"])
def test_dates_outside_the_calendar_are_refused(text):
    assert parse_date(text) is None
