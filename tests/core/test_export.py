"""Results exports: files re-read and compared row by row with an independent query."""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from flowdesk.cli import main
from flowdesk.core import export as export_pkg
from flowdesk.core.db import connect
from flowdesk.core.errors import Canceled
from flowdesk.core.execution_names import flow_execution_labels
from flowdesk.core.export import (
    ExportError,
    ExportSpec,
    csv_writer,
    file_name,
    run_export,
    step_columns,
    unique_path,
    xlsx_writer,
)
from flowdesk.core.export import jobs_store as store
from flowdesk.core.export.atomic import leftovers
from flowdesk.core.export.safety import neutralise, xlsx_text
from flowdesk.core.queries import ContactQuery, Scope, contacts_page
from flowdesk.core.sources.base import Record
from flowdesk.core.sync import SyncEngine
from tests.factories import ListSource, run, runs_batch, step

DONE = "COMPLETED"

# A second version of the flow: "Welcome" and "Main menu" keep their names (shared columns),
# "Main menu" appears twice, one step is called "Phone" like a fixed column.
V2 = {
    "id": "v2",
    "version_name": "Second",
    "version_description": "menu rework",
    "published_by": None,
    "created_on": "2026-10-15T09:00:00Z",
    "is_current_version": True,
}
V2_STEPS = {
    "t1": {**step("t1", "TEMPLATE", "Welcome", default="t2", ordering=1), "flow_version": "v2"},
    "t2": {**step("t2", "MENU", "Main menu", default="t3", ordering=2), "flow_version": "v2"},
    "t3": {**step("t3", "MENU", "Main menu", default="t4", ordering=3), "flow_version": "v2"},
    "t4": {**step("t4", "QUESTION", "Phone", default="t5", ordering=4), "flow_version": "v2"},
    "t5": {**step("t5", "END", "See you", ordering=5), "flow_version": "v2"},
}

# Independent of the exporter: the header of every step id, written out by hand.
HEADER_OF_STEP = {
    "t1": "Welcome",
    "s1": "Welcome",
    "t2": "Main menu",
    "s2": "Main menu",
    "t3": "Main menu (2)",
    "t4": "Phone (2)",
    "t5": "See you",
    "s3": "Ask order number",
    "s4": "Invalid number",
    "s5": "Look up order",
    "s6": "Goodbye",
    "s7": "Escalate",
}
FIXED = ["Phone", "First name", "Last name", "Status", "Reason", "Version", "Execution", "Entered"]
# The order contacts pass through each version, worked out by hand from the graphs:
V2_PATH = ["Welcome", "Main menu", "Main menu (2)", "Phone (2)", "See you"]
# v1: Welcome → Main menu → {Ask order number, Look up order, Goodbye}; Ask order number →
# {Look up order, Invalid number ⟲ Ask order number}; Look up order → {Goodbye, Escalate}.
# "Look up order" and "Invalid number" are both one step past "Ask order number" (found in that
# order from the entry); "Goodbye", reached directly from the menu too, comes after "Look up
# order", which also leads to it; the loop back does not move "Ask order number".
V1_PATH = ["Welcome", "Main menu", "Ask order number", "Look up order", "Invalid number",
           "Goodbye", "Escalate"]  # fmt: skip
EXPECTED_HEADER = [
    *FIXED,
    # newest version (v2) in path order, then the steps only v1 has, in v1's path order
    *V2_PATH,
    *(h for h in V1_PATH if h not in V2_PATH),
]
STATUS_WORD = {
    "READY": "Ongoing",
    "RUNNING": "Ongoing",
    "COMPLETED": "Completed",
    "EXPIRED": "Expired",
    "CANCELED": "Canceled",
    "FAILED": "Failed",
}


def v2_run(run_id: str, path: list[tuple[str, str]], status: str, **kwargs) -> dict:
    record = run(run_id, [("s1", st) for _, st in path], status, version=V2, **kwargs)
    for item, (step_id, _) in zip(record["execution_steps"], path, strict=True):
        item["step"] = V2_STEPS[step_id]
    return record


def _records():
    return [
        run("r1", [("s1", DONE), ("s2", DONE), ("s3", DONE), ("s5", DONE), ("s6", DONE)], DONE),
        run("r2", [("s1", DONE), ("s2", "RUNNING")], "RUNNING", contact="c2", last=None,
            first="Zoë 李", phone="+4915100000002"),
        run(
            "r3",
            [("s1", DONE), ("s2", DONE), ("s3", DONE), ("s4", DONE), ("s3", DONE), ("s5", DONE),
             ("s7", "FAILED")],
            "FAILED", contact="c3", first="=SUM(A1)", last="@HYPERLINK(\"x\")",
            reason="External API failed: HTTP 502", start=10,
        ),
        run("r4", [("s1", DONE), ("s2", "EXPIRED")], "EXPIRED", contact="c4",
            first="+cmd|' /C calc'!A0", last="-2+3", reason="should not show", start=20),
        run("r5", [("s1", DONE)], "CANCELED", contact="c5", first="\tTabbed",
            last="O'Brien, \"Jr\"\nII", reason="Open Inbox conversation", execution="e1",
            start=30),
        v2_run("r6", [("t1", DONE), ("t2", DONE), ("t3", DONE), ("t4", DONE), ("t5", DONE)], DONE,
               contact="c6", first="Ana", last="", phone="+34600000006", start=40),
        v2_run("r7", [("t1", DONE), ("t2", DONE), ("t1", DONE), ("t2", "RUNNING")], "READY",
               contact="c7", first="Łukasz", last="Nowak", phone="+48600000007", start=50,
               execution="e2"),
        run("r8", [], "READY", contact="c8", first="Mei", last="Ng", phone="+8613800000008",
            start=60),
    ]  # fmt: skip


@pytest.fixture
def cache(tmp_path) -> Path:
    path = tmp_path / "cache.db"
    db = connect(path)
    report = SyncEngine(db).run(ListSource([runs_batch(*_records())]))
    assert report.outcome == "completed", report.message
    assert not report.problems, report.problems
    db.conn.close()
    return path


@pytest.fixture
def out(tmp_path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def naive(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


def expected_rows(path: Path, where: str = "1", params: tuple = ()) -> list[dict]:
    """One dict per run, from plain per-run queries: the reference the files are checked on."""
    db = connect(path)
    try:
        runs = db.execute(
            "SELECT key, phone, first_name, last_name, status, status_reason, version_id,"
            f" execution_id, entered_at FROM runs WHERE {where} ORDER BY entered_at, key",
            params,
        ).fetchall()
        versions = dict(db.execute("SELECT id, name FROM versions").fetchall())
        executions: dict[str, str] = {}  # named as the app names them: "#1 · 2026-11-01 10:00"
        for (flow_id,) in db.execute("SELECT id FROM flows").fetchall():
            executions.update(flow_execution_labels(db, flow_id))
        result = []
        for key, phone, first, last, status, reason, version, execution, entered in runs:
            times: dict[str, int] = {}
            for step_id, first_time in db.execute(
                "SELECT s.id, min(p.executed_at) FROM run_steps p JOIN steps s ON s.key ="
                " p.step_key WHERE p.run_key = ? GROUP BY s.id",
                [key],
            ):
                header = HEADER_OF_STEP[step_id]
                times[header] = min(first_time, times.get(header, first_time))
            result.append(
                {
                    "Phone": phone,
                    "First name": first,
                    "Last name": last,
                    "Status": STATUS_WORD[status],
                    "Reason": reason if status in ("FAILED", "CANCELED") else "",
                    "Version": versions[version],
                    "Execution": executions[execution] if execution else "",
                    "Entered": entered,
                    "times": times,
                }
            )
        return result
    finally:
        db.conn.close()


def spreadsheet_text(value: str) -> str:
    """What the file must hold for a text cell: formula triggers quoted, unless the text is
    number-shaped (a sign, then only digits and phone punctuation)."""
    number_shaped = re.fullmatch(r"[+-]?[\d ().-]+", value) and any(c.isdigit() for c in value)
    if value[:1] in ("=", "+", "-", "@", "\t", "\r") and not number_shaped:
        return "'" + value
    return value


def read_csv(path: Path, encoding: str = "utf-8") -> list[list[str]]:
    with open(path, encoding=encoding, newline="") as handle:
        return list(csv.reader(handle))


def expected_line(want: dict, header: list[str], text, when, empty) -> list:  # noqa: ANN001
    """A reference row as a file must hold it under ``header``: ``text`` writes a text cell,
    ``when`` a time, ``empty`` is an empty cell ("" in CSV, None in XLSX)."""
    fixed_names = [h for h in header if h in FIXED]
    fixed = {
        "Phone": text(want["Phone"]),
        "First name": text(want["First name"]),
        "Last name": text(want["Last name"]),
        "Status": want["Status"],
        "Reason": text(want["Reason"]),
        "Version": want["Version"],
        "Execution": want["Execution"] or empty,
        "Entered": when(want["Entered"]),
    }
    times = [
        when(want["times"][h]) if h in want["times"] else empty for h in header[len(fixed_names) :]
    ]
    return [fixed[h] for h in fixed_names] + times


def check_csv_rows(rows: list[list[str]], expected: list[dict], stamp=None, header=None) -> None:  # noqa: ANN001
    """The file's rows against the reference; ``stamp`` formats times (default: ISO UTC);
    ``header`` is the file's expected header (default: the whole flow's)."""
    stamp = stamp or iso
    header = header or EXPECTED_HEADER
    fixed_names = [h for h in header if h in FIXED]
    assert header[: len(fixed_names)] == fixed_names
    assert rows[0] == header
    assert len(rows) - 1 == len(expected)
    for line, want in zip(rows[1:], expected, strict=True):
        assert line == expected_line(want, header, spreadsheet_text, stamp, "")
        # Every time the run has lands in a column of this file.
        assert set(want["times"]) <= set(header)


# -- CSV ------------------------------------------------------------------------------------------


def test_csv_matches_an_independent_query_row_by_row(cache, out):
    target = out / "all.csv"
    seen = []
    result = run_export(cache, ExportSpec("f1"), target, lambda d, t: seen.append((d, t)))
    assert result.rows == 8 and result.size_bytes == target.stat().st_size
    check_csv_rows(read_csv(target), expected_rows(cache))
    raw = target.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert raw.count(b"\r\n") >= 9  # RFC 4180 line ends; one field holds a bare "\n"
    assert b'"O\'Brien, ""Jr""\nII"' in raw  # quoted, inner quotes doubled
    assert seen[0] == (0, 8) and seen[-1] == (8, 8)
    assert os.listdir(out) == ["all.csv"]


def test_excel_friendly_csv_starts_with_a_bom_and_reads_the_same(cache, out):
    target = out / "bom.csv"
    run_export(cache, ExportSpec("f1", excel_bom=True), target)
    assert target.read_bytes().startswith(b"\xef\xbb\xbfPhone,")
    check_csv_rows(read_csv(target, "utf-8-sig"), expected_rows(cache))


def test_unicode_empty_last_names_and_loops(cache, out):
    target = out / "x.csv"
    run_export(cache, ExportSpec("f1"), target)
    rows = {r[1]: dict(zip(EXPECTED_HEADER, r, strict=True)) for r in read_csv(target)[1:]}
    assert rows["Zoë 李"]["Last name"] == ""  # no last name upstream
    assert rows["Ana"]["Last name"] == ""
    assert rows["Łukasz"]["Last name"] == "Nowak"
    # r3 asked "Ask order number" at 10:12 and again at 10:14: the cell holds the first visit.
    assert rows["'=SUM(A1)"]["Ask order number"] == "2026-11-01T10:12:00Z"
    # r7 looped Welcome -> Main menu -> Welcome: first visits again.
    assert rows["Łukasz"]["Welcome"] == "2026-11-01T10:50:00Z"
    assert rows["Łukasz"]["Main menu"] == "2026-11-01T10:51:00Z"
    assert rows["Mei"]["Welcome"] == ""  # a run without a path has empty step cells
    # Expired runs carry no reason; failed and canceled ones do.
    assert rows["'+cmd|' /C calc'!A0"]["Reason"] == ""
    assert rows["'\tTabbed"]["Reason"] == "Open Inbox conversation"
    assert rows["'\tTabbed"]["Execution"] == "#1"  # named as the app names it
    assert rows["José"]["Execution"] == ""


def test_formula_injection_is_neutralised_but_phone_numbers_stay_readable(cache, out):
    target = out / "x.csv"
    run_export(cache, ExportSpec("f1"), target)
    rows = read_csv(target)[1:]
    firsts = {r[1] for r in rows}
    assert {"'=SUM(A1)", "'+cmd|' /C calc'!A0", "'\tTabbed"} <= firsts
    lasts = {r[2] for r in rows}
    assert '\'@HYPERLINK("x")' in lasts
    assert "'-2+3" in lasts  # an operator: not number-shaped, so quoted
    phones = [r[0] for r in rows]
    assert "+5215512345678" in phones and all(not p.startswith("'") for p in phones)


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-1+cmd|' /C calc'!A0", "'-1+cmd|' /C calc'!A0"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("-", "'-"),
        ("+5215512345678", "+5215512345678"),
        ("+52 1 55 1234-5678", "+52 1 55 1234-5678"),
        ("+1 (555) 010-9999", "+1 (555) 010-9999"),
        ("-12.5", "-12.5"),
        ("+1e5", "'+1e5"),
        ("José", "José"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_neutralise(value, safe):
    assert neutralise(value) == safe
    assert xlsx_text(value) == safe


def test_xlsx_text_drops_control_characters_and_caps_length():
    assert xlsx_text("a\x00b\x07c") == "abc"
    assert len(xlsx_text("x" * 40_000)) == 32_767


# -- XLSX -----------------------------------------------------------------------------------------


def _xlsx_rows(path: Path, width: int = len(EXPECTED_HEADER)) -> dict[str, list[list]]:
    workbook = load_workbook(path, read_only=True)
    try:
        sheets = {}
        for sheet in workbook.worksheets:
            rows = []
            for row in sheet.iter_rows(values_only=True):
                values = list(row) + [None] * (width - len(row))
                rows.append(values)
            sheets[sheet.title] = rows
        return sheets
    finally:
        workbook.close()


def _expected_xlsx(want: dict, header: list[str] | None = None) -> list:
    def text(value: str):
        return spreadsheet_text(value) or None

    return expected_line(want, header or EXPECTED_HEADER, text, naive, None)


def test_xlsx_matches_an_independent_query_row_by_row(cache, out):
    target = out / "all.xlsx"
    result = run_export(cache, ExportSpec("f1", format="xlsx"), target)
    assert (result.rows, result.sheets) == (8, 1)
    sheets = _xlsx_rows(target)
    assert list(sheets) == ["Results"]
    rows = sheets["Results"]
    assert rows[0] == EXPECTED_HEADER
    expected = expected_rows(cache)
    assert len(rows) - 1 == len(expected)
    for got, want in zip(rows[1:], expected, strict=True):
        assert got == _expected_xlsx(want)
    assert os.listdir(out) == ["all.xlsx"]


def test_xlsx_layout_bold_frozen_header_autofilter_dates_widths(cache, out):
    target = out / "all.xlsx"
    run_export(cache, ExportSpec("f1", format="xlsx"), target)
    sheet = load_workbook(target)["Results"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:R9"
    assert all(cell.font.b for cell in sheet[1])
    entered = sheet["H2"]
    assert entered.is_date and isinstance(entered.value, datetime)
    assert "yy" in entered.number_format and "h" in entered.number_format
    assert sheet["A2"].data_type == "s" and sheet["A2"].value == "+5215512345678"
    assert sheet.column_dimensions["A"].width >= 15
    assert sheet.column_dimensions["E"].width >= 30  # Reason
    assert sheet.column_dimensions["I"].width >= 19  # a date-time fits
    # No cell of the file is a formula.
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_xlsx_continues_on_a_new_sheet_past_the_row_limit(cache, out, monkeypatch):
    monkeypatch.setattr(xlsx_writer, "EXCEL_MAX_ROWS", 4)  # header + 3 rows per sheet
    monkeypatch.setattr(export_pkg, "BATCH_SIZE", 2)
    target = out / "split.xlsx"
    result = run_export(cache, ExportSpec("f1", format="xlsx"), target)
    assert (result.rows, result.sheets) == (8, 3)
    sheets = _xlsx_rows(target)
    assert list(sheets) == ["Results", "Results 2", "Results 3"]
    assert [len(rows) for rows in sheets.values()] == [4, 4, 3]
    data = []
    for rows in sheets.values():
        assert rows[0] == EXPECTED_HEADER
        data.extend(rows[1:])
    assert data == [_expected_xlsx(w) for w in expected_rows(cache)]
    layout = load_workbook(target)
    assert layout["Results 2"].auto_filter.ref == "A1:R4"
    assert layout["Results 3"].auto_filter.ref == "A1:R3"
    assert layout["Results 3"].freeze_panes == "A2"


# -- scopes, stats, filters --------------------------------------------------------------------


def _stats(path: Path, capsys) -> list[dict]:
    assert main(["stats", "--db", str(path), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _status_counts(rows: list[list]) -> dict[str, int]:
    counts = dict.fromkeys(("completed", "expired", "ongoing", "canceled", "failed"), 0)
    for row in rows:
        counts[row[3].lower()] += 1
    return counts


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_status_counts_in_the_file_equal_flowdesk_stats(cache, out, capsys, fmt):
    [flow] = _stats(cache, capsys)
    scopes = [([], flow)]
    scopes += [(["--version", v["id"]], v) for v in flow["versions"]]
    scopes += [(["--execution", e["id"]], e) for e in flow["executions"]]
    assert len(scopes) == 5
    for index, (extra, counters) in enumerate(scopes):
        target = out / f"scope{index}.{fmt}"
        code = main(["export", "--db", str(cache), "--flow", "Order helper", *extra,
                     "--format", fmt, "--output", str(target)])  # fmt: skip
        assert code == 0
        assert capsys.readouterr().out.strip() == str(target)
        rows = read_csv(target)[1:] if fmt == "csv" else _xlsx_rows(target)["Results"][1:]
        assert len(rows) == counters["contacts"]
        assert _status_counts(rows) == {k: counters[k] for k in _status_counts([])}


def test_version_and_execution_scopes_hold_only_their_runs(cache, out):
    run_export(cache, ExportSpec("f1", version_id="v2"), out / "v2.csv")
    check_v2 = expected_rows(cache, "version_id = ?", ("v2",))
    rows = read_csv(out / "v2.csv")
    assert rows[0] == FIXED + V2_PATH  # the version's own steps only
    assert [r[1] for r in rows[1:]] == [w["First name"] for w in check_v2] == ["Ana", "Łukasz"]
    run_export(cache, ExportSpec("f1", execution_id="e2"), out / "e2.csv")
    assert [r[1] for r in read_csv(out / "e2.csv")[1:]] == ["Łukasz"]


def test_contacts_filter_export_has_exactly_the_tabs_rows(cache, out):
    db = connect(cache)
    for query in (
        ContactQuery(Scope("f1"), metric="ongoing"),
        ContactQuery(Scope("f1"), search="Zo"),
        ContactQuery(Scope("f1"), search="+49"),
        ContactQuery(Scope("f1", version_id="v1"), metric="failed"),
    ):
        target = out / "contacts.csv"
        run_export(cache, ExportSpec.for_contacts(query), target)
        rows = read_csv(target)[1:]
        tab = contacts_page(db, query, 0, 100)
        assert sorted(r[0] + r[2] for r in rows) == sorted(
            spreadsheet_text(c.phone) + spreadsheet_text(c.last_name) for c in tab
        )
        assert len(rows) == len(tab) > 0
        target.unlink()
    db.conn.close()


def test_step_columns_union_over_versions_in_a_stable_order(cache):
    db = connect(cache)
    columns = step_columns(db.conn, "f1")
    assert [c.header for c in columns] == EXPECTED_HEADER[8:]
    shared = {c.header: c.versions for c in columns}
    assert shared["Welcome"] == ("v2", "v1") and shared["Main menu (2)"] == ("v2",)
    assert step_columns(db.conn, "f1") == columns
    db.conn.close()


# -- which columns, in which order (defect 11) -------------------------------------------------

# An inbound flow without executions whose API order is nothing like the way contacts go:
# Hello → Ask size (⟲ Size again) → Place order → Done, or Place order → Sorry → Done.
# "Unused promo" (published, leads to Done, nobody ever reached it) and "Old note" (no exit at
# all) come from the flow's definition only.
SHOP = {"id": "f2", "name": "Shop", "trigger_type": "INBOUND_ANY_MESSAGE", "current_version": "w1"}
SHOP_V = {**V2, "id": "w1", "version_name": "Shop v1", "is_current_version": True}
SHOP_STEPS = {
    "q1": step("q1", "TEMPLATE", "Hello", default="q2", ordering=5),
    "q2": step("q2", "QUESTION", "Ask size", default="q4", failed="q3", ordering=1),
    "q3": step("q3", "MESSAGE", "Size again", default="q2", ordering=4),
    "q4": step("q4", "ACTION", "Place order", default="q5", alternate="q6", ordering=2),
    "q5": step("q5", "END", "Done", ordering=0),
    "q6": step("q6", "MESSAGE", "Sorry", default="q5", ordering=3),
    "q7": step("q7", "MESSAGE", "Unused promo", default="q5", ordering=-1),
    "q8": step("q8", "MESSAGE", "Old note", ordering=6),
}
for _definition in SHOP_STEPS.values():
    _definition["flow_version"] = "w1"
SHOP_PATH = ["Hello", "Ask size", "Place order", "Size again", "Sorry", "Done",
             "Unused promo", "Old note"]  # fmt: skip
SHOP_API_ORDER = ["Unused promo", "Done", "Ask size", "Place order", "Sorry", "Size again",
                  "Hello", "Old note"]  # fmt: skip


def shop_run(run_id: str, path: list[str], status: str, **kwargs) -> dict:
    record = run(run_id, [("s1", DONE)] * len(path), status, flow=SHOP, version=SHOP_V, **kwargs)
    for item, step_id in zip(record["execution_steps"], path, strict=True):
        item["step"] = SHOP_STEPS[step_id]
    return record


@pytest.fixture
def shop(tmp_path) -> Path:
    path = tmp_path / "shop.db"
    db = connect(path)
    definition = {"flow": SHOP, "flow_version": SHOP_V, "steps": list(SHOP_STEPS.values())}
    records = [
        Record("definition", definition),
        *runs_batch(
            shop_run("a1", ["q1", "q2", "q3", "q2", "q4", "q5"], DONE, contact="k1"),
            shop_run("a2", ["q1", "q2", "q4", "q6", "q5"], DONE, contact="k2", start=10),
            shop_run("a3", ["q1", "q2", "q3"], "RUNNING", contact="k3", start=20),
        ),
    ]
    report = SyncEngine(db).run(ListSource([records]))
    assert report.outcome == "completed", report.message
    assert not report.problems, report.problems
    db.conn.close()
    return path


HEADER_OF_SHOP_STEP = {s["id"]: s["name"] for s in SHOP_STEPS.values()}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_step_columns_follow_the_path_contacts_take_not_the_api_order(shop, out, fmt):
    db = connect(shop)
    api_order = [n for (n,) in db.execute("SELECT name FROM steps ORDER BY ordering, key")]
    db.conn.close()
    assert api_order == SHOP_API_ORDER  # what the columns followed before
    target = out / f"shop.{fmt}"
    run_export(shop, ExportSpec("f2", format=fmt), target)
    header = [h for h in FIXED if h != "Execution"] + SHOP_PATH
    if fmt == "csv":
        rows = read_csv(target)
        assert rows[0] == header
        # a2 went Hello, Ask size, Place order, Sorry, Done: its times grow left to right.
        a2 = dict(zip(header, rows[2], strict=True))
        times = [a2[h] for h in SHOP_PATH if a2[h]]
        assert times == sorted(times) and len(times) == 5
    else:
        rows = _xlsx_rows(target, len(header))["Results"]
        assert rows[0] == header
        a2 = dict(zip(header, rows[2], strict=True))
        times = [a2[h] for h in SHOP_PATH if a2[h] is not None]
        assert times == sorted(times) and len(times) == 5
    # a1 looped through "Size again" once: it holds that visit, between Ask size and Place order.
    a1 = dict(zip(header, rows[1], strict=True))
    assert a1["Ask size"] < a1["Size again"] < a1["Place order"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_flow_without_executions_has_no_execution_column(shop, cache, out, fmt):
    target = out / f"shop.{fmt}"
    run_export(shop, ExportSpec("f2", format=fmt), target)
    rows = read_csv(target) if fmt == "csv" else _xlsx_rows(target)["Results"]
    assert "Execution" not in rows[0]
    assert rows[0][:7] == ["Phone", "First name", "Last name", "Status", "Reason", "Version",
                           "Entered"]  # fmt: skip
    assert all(row[5] == "Shop v1" for row in rows[1:])
    assert all(row[6] for row in rows[1:])  # Entered moved left, never empty
    if fmt == "xlsx":  # widths follow the columns: Entered is a date-time wide, not 22
        sheet = load_workbook(target)["Results"]
        assert sheet.column_dimensions["G"].width == 19
        assert sheet.auto_filter.ref == "A1:O4"  # 7 fixed + 8 step columns, 3 runs
    # A flow with executions keeps the column, on its versions' files too.
    for spec in (ExportSpec("f1"), ExportSpec("f1", version_id="v1")):
        run_export(cache, spec.with_format(fmt), out / f"f1.{fmt}")
        made = out / f"f1.{fmt}"
        first = read_csv(made)[0] if fmt == "csv" else _xlsx_rows(made)["Results"][0]
        assert first[6] == "Execution"
        made.unlink()


SCOPES = [
    (ExportSpec("f1", version_id="v1"), "version_id = 'v1'", V1_PATH),
    (ExportSpec("f1", version_id="v2"), "version_id = 'v2'", V2_PATH),
    (ExportSpec("f1", execution_id="e1"), "execution_id = 'e1'", V1_PATH),  # e1 ran v1
    (ExportSpec("f1", execution_id="e2"), "execution_id = 'e2'", V2_PATH),  # e2 ran v2
    (
        ExportSpec.for_contacts(ContactQuery(Scope("f1", version_id="v1"), metric="failed")),
        "version_id = 'v1' AND status = 'FAILED'",
        V1_PATH,
    ),
]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_version_or_execution_file_has_only_its_versions_steps(cache, out, fmt):
    for spec, where, path in SCOPES:
        header = FIXED + path
        target = out / f"scope.{fmt}"
        run_export(cache, spec.with_format(fmt), target)
        expected = expected_rows(cache, where)
        assert expected
        if fmt == "csv":
            check_csv_rows(read_csv(target), expected, header=header)
        else:
            rows = _xlsx_rows(target, len(header))["Results"]
            assert rows[0] == header
            assert rows[1:] == [_expected_xlsx(want, header) for want in expected]
        target.unlink()


def test_the_file_is_one_snapshot_while_a_sync_writes(cache, out, monkeypatch):
    monkeypatch.setattr(export_pkg, "BATCH_SIZE", 2)
    writer = connect(cache)

    def progress(done: int, total: int) -> None:
        if done == 2:  # mid-export, another connection changes the cache
            with writer.conn:
                writer.conn.execute("DELETE FROM runs WHERE id = 'r8'")
                writer.conn.execute("UPDATE runs SET first_name = 'Changed' WHERE id = 'r7'")

    before = expected_rows(cache)
    run_export(cache, ExportSpec("f1"), out / "snap.csv", progress)
    check_csv_rows(read_csv(out / "snap.csv"), before)
    assert len(expected_rows(cache)) == 7  # the change did land, after the snapshot
    writer.conn.close()


# -- cancel and failures leave no file -------------------------------------------------------


def test_cancel_midway_leaves_no_file(cache, out, monkeypatch):
    monkeypatch.setattr(export_pkg, "BATCH_SIZE", 2)
    partial_seen = []

    def progress(done: int, total: int) -> None:
        partial_seen.append([p for p in os.listdir(out) if p.endswith(".part")])

    def is_cancelled() -> bool:
        return len(partial_seen) >= 3  # after two batches were written

    for fmt in ("csv", "xlsx"):
        partial_seen.clear()
        with pytest.raises(Canceled):
            run_export(cache, ExportSpec("f1", format=fmt), out / f"c.{fmt}", progress,
                       is_cancelled)  # fmt: skip
        assert partial_seen[-1], "the export was writing a temporary file when canceled"
        assert os.listdir(out) == []


def _temp_files() -> set[str]:
    from openpyxl.worksheet import _writer

    return set(_writer.ALL_TEMP_FILES)


class _FullDisk(io.StringIO):
    """A text file that accepts a little, then fails like a full disk."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.real = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def write(self, text: str) -> int:
        if self.tell() > 200:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.real.write(text)
        return super().write(text)

    def close(self) -> None:
        self.real.close()
        super().close()


def test_disk_full_while_writing_csv_fails_clearly_and_leaves_no_file(cache, out, monkeypatch):
    monkeypatch.setattr(export_pkg, "BATCH_SIZE", 2)
    monkeypatch.setattr(csv_writer, "open_output", lambda path, encoding: _FullDisk(path))
    with pytest.raises(ExportError, match="Not enough disk space to write full.csv in"):
        run_export(cache, ExportSpec("f1"), out / "full.csv")
    assert os.listdir(out) == []


def test_disk_full_while_saving_xlsx_fails_clearly_and_leaves_no_file(cache, out, monkeypatch):
    before = _temp_files()

    def save(workbook, path, is_cancelled):
        Path(path).write_bytes(b"PK partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(xlsx_writer, "save_workbook", save)
    with pytest.raises(ExportError, match="Not enough disk space"):
        run_export(cache, ExportSpec("f1", format="xlsx"), out / "full.xlsx")
    assert os.listdir(out) == []
    assert _temp_files() == before  # openpyxl's per-sheet temporary files are gone too


def test_missing_or_unwritable_folder_and_locked_file(cache, tmp_path, out, monkeypatch):
    with pytest.raises(ExportError, match="does not exist"):
        run_export(cache, ExportSpec("f1"), tmp_path / "nowhere" / "x.csv")
    (tmp_path / "a_file").write_text("")
    with pytest.raises(ExportError, match="is not a folder"):
        run_export(cache, ExportSpec("f1"), tmp_path / "a_file" / "x.csv")

    import tempfile

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    with monkeypatch.context() as patch:
        patch.setattr(tempfile, "mkstemp", denied)
        with pytest.raises(ExportError, match="permission denied"):
            run_export(cache, ExportSpec("f1"), out / "x.csv")
    with monkeypatch.context() as patch:  # the target is open in another program (Windows)
        patch.setattr(os, "replace", denied)
        with pytest.raises(ExportError, match="open in another program"):
            run_export(cache, ExportSpec("f1"), out / "x.csv")
    assert os.listdir(out) == []


def test_a_bug_in_a_writer_is_reported_and_cleans_up(cache, out, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(csv_writer.csv, "writer", broken)
    with pytest.raises(ExportError, match="Unexpected error .*boom"):
        run_export(cache, ExportSpec("f1"), out / "x.csv")
    assert os.listdir(out) == []


# -- names, CLI, jobs table ---------------------------------------------------------------------


def test_file_names_say_flow_scope_and_time(cache, out):
    db = connect(cache)
    when = datetime(2026, 11, 20, 14, 30, 5).timestamp()
    assert (
        file_name(db, ExportSpec("f1"), when)
        == "Order helper - All versions - 2026-11-20 143005.csv"
    )
    assert file_name(db, ExportSpec("f1", version_id="v2", format="xlsx"), when) == (
        "Order helper - Version Second - 2026-11-20 143005.xlsx"
    )
    query = ContactQuery(Scope("f1"), metric="failed", search='a/b:"c"')
    assert file_name(db, ExportSpec.for_contacts(query), when) == (
        "Order helper - Contacts Failed, a b c - 2026-11-20 143005.csv"
    )
    (out / "n.csv").write_text("")
    assert unique_path(out, "n.csv").name == "n (2).csv"
    db.conn.close()


def test_cli_errors_are_one_line_and_non_zero(cache, out, capsys):
    cases = [
        (["--flow", "nope", "--format", "csv", "--output", str(out / "a.csv")], "no flow"),
        (["--flow", "f1", "--version", "zz", "--format", "csv", "--output", str(out / "a.csv")],
         "has no version"),
        (["--flow", "f1", "--format", "xlsx", "--output", str(out / "a.csv")], "ends in .csv"),
        (["--flow", "f1", "--output", str(out / "a.txt")], "--format csv"),
        (["--flow", "f1", "--format", "csv", "--output", str(out / "no" / "a.csv")],
         "does not exist"),
    ]  # fmt: skip
    for args, message in cases:
        assert main(["export", "--db", str(cache), *args]) != 0
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith("flowdesk: ") and message in err[-1]
    assert main(["export", "--db", str(out / "missing.db"), "--flow", "f1", "--format", "csv",
                 "--output", str(out / "a.csv")]) != 0  # fmt: skip
    assert os.listdir(out) == []


def test_cli_writes_into_a_folder_with_a_default_name(cache, out, capsys):
    assert main(["export", "--db", str(cache), "--flow", "f1", "--format", "xlsx",
                 "--output", str(out)]) == 0  # fmt: skip
    captured = capsys.readouterr()
    written = Path(captured.out.strip())
    assert written.parent == out and written.name.startswith("Order helper - All versions - ")
    assert "exported 8 rows" in captured.err


def test_cli_local_time_flag(cache, out, capsys, zone):
    zone("CST6")
    target = out / "local.csv"
    assert main(["export", "--db", str(cache), "--flow", "f1", "--local-time",
                 "--output", str(target)]) == 0  # fmt: skip
    entered = read_csv(target)[1][7]
    assert entered.endswith("-06:00") and entered == local_iso_reference(
        int(datetime.fromisoformat(entered).timestamp())
    )


def test_jobs_store_lifecycle_and_recovery(cache, out):
    db = connect(cache)
    spec = ExportSpec("f1")
    job = store.create_export_job(db, spec, out, "Order helper · All versions · CSV")
    assert (job.state, job.spec, job.folder) == (store.QUEUED, spec, out)
    target = out / "done.csv"
    store.mark_running(db, job, target, 1.0)
    target.write_text("x")
    store.mark_finished(db, job, path=target, rows=8, size_bytes=1, seconds=0.5)
    done = store.get_job(db, job.id)
    assert (done.state, done.rows_done, done.seconds, done.seen) == (store.FINISHED, 8, 0.5, False)
    assert store.unseen_count(db) == 1
    store.mark_seen(db)
    assert store.unseen_count(db) == 0
    target.unlink()
    assert store.get_job(db, job.id).missing

    # A session that died mid-export: one left its temporary file, one had renamed already.
    crashed = store.create_export_job(db, spec, out, "t")
    store.mark_running(db, crashed, out / "crashed.csv", 1.0)
    (out / ".crashed.csv.abc123.part").write_text("half")
    renamed = store.create_export_job(db, spec, out, "t")
    store.mark_running(db, renamed, out / "renamed.csv", 1.0)
    store.set_rows_total(db, renamed.id, 8)
    (out / "renamed.csv").write_text("all")
    assert leftovers(out / "crashed.csv")
    assert sorted(store.recover_interrupted(db)) == sorted([crashed.id, renamed.id])
    assert store.get_job(db, crashed.id).state == store.FAILED
    assert store.get_job(db, crashed.id).error == store.INTERRUPTED_MESSAGE
    assert not leftovers(out / "crashed.csv")
    assert (store.get_job(db, renamed.id).state, store.get_job(db, renamed.id).rows_done) == (
        store.FINISHED, 8)  # fmt: skip
    assert [j.id for j in store.list_jobs(db)] == [renamed.id, crashed.id, job.id]
    db.conn.close()


def test_cancel_while_the_xlsx_is_being_compressed_leaves_no_file(cache, out, monkeypatch):
    monkeypatch.setattr(xlsx_writer._CancellableZip, "CHUNK", 64)
    calls = []

    def is_cancelled() -> bool:
        calls.append(1)
        return len(calls) > 5  # batch, final and save checks pass; a sheet chunk does not

    before = _temp_files()
    with pytest.raises(Canceled):
        run_export(cache, ExportSpec("f1", format="xlsx"), out / "c.xlsx", None, is_cancelled)
    assert len(calls) == 6
    assert os.listdir(out) == []
    assert _temp_files() == before


@pytest.mark.skipif(os.name != "posix", reason="checks processes with signal 0")
def test_recovery_leaves_jobs_of_another_running_flowdesk_alone(cache, out):
    import subprocess
    import sys

    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        db = connect(cache)
        job = store.create_export_job(db, ExportSpec("f1"), out, "t")
        store.mark_running(db, job, out / "theirs.csv", 1.0)
        db.conn.execute(
            "UPDATE jobs SET params = json_set(params, '$.pid', ?) WHERE id = ?",
            [other.pid, job.id],
        )
        db.conn.commit()
        assert store.recover_interrupted(db) == []
        assert store.get_job(db, job.id).state == store.RUNNING
    finally:
        other.kill()
        other.wait()
    assert store.recover_interrupted(db) == [job.id]
    assert store.get_job(db, job.id).state == store.FAILED
    db.conn.close()


# -- local time -----------------------------------------------------------------------------------

MADRID = "CET-1CEST,M3.5.0,M10.5.0/3"  # a POSIX rule: no zone database needed


@pytest.fixture
def zone():
    """Switch this process's local zone (``TZ``) for one test, then put it back."""
    import time as time_module

    saved = os.environ.get("TZ")

    def use(rule: str) -> None:
        os.environ["TZ"] = rule
        time_module.tzset()

    yield use
    if saved is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = saved
    time_module.tzset()


def local_iso_reference(seconds: int) -> str:
    """Independent of the exporter: the standard library's own local conversion."""
    return datetime.fromtimestamp(seconds, UTC).astimezone().isoformat(timespec="seconds")


@pytest.mark.parametrize(
    ("rule", "utc", "local"),
    [
        (MADRID, "2026-03-29T00:59:59Z", "2026-03-29T01:59:59+01:00"),  # last second of winter
        (MADRID, "2026-03-29T01:00:00Z", "2026-03-29T03:00:00+02:00"),  # clocks jump forward
        (MADRID, "2026-10-25T00:59:59Z", "2026-10-25T02:59:59+02:00"),  # last second of summer
        (MADRID, "2026-10-25T01:00:00Z", "2026-10-25T02:00:00+01:00"),  # the hour repeats
        ("CST6", "2026-11-01T10:00:00Z", "2026-11-01T04:00:00-06:00"),  # Mexico City
        ("NPT-5:45", "2026-11-01T10:00:00Z", "2026-11-01T15:45:00+05:45"),  # Kathmandu
        ("UTC0", "2026-11-01T10:00:00Z", "2026-11-01T10:00:00+00:00"),
    ],
)
def test_local_times_carry_the_offset_of_their_own_instant(zone, rule, utc, local):
    from flowdesk.core.export.csv_writer import local_iso

    zone(rule)
    seconds = int(datetime.fromisoformat(utc.replace("Z", "+00:00")).timestamp())
    assert local_iso()(seconds) == local
    assert local_iso_reference(seconds) == local


def test_csv_in_local_time_matches_the_standard_library(cache, out, zone):
    zone(MADRID)
    target = out / "local.csv"
    run_export(cache, ExportSpec("f1", local_time=True), target)
    rows = read_csv(target)
    from flowdesk.core.importer import parse_date

    expected = expected_rows(cache)
    check_csv_rows(rows, expected, stamp=local_iso_reference)  # values carry their offsets
    for line, want in zip(rows[1:], expected, strict=True):
        assert parse_date(line[7]).timestamp() == want["Entered"]  # `flowdesk import` reads it


def test_xlsx_in_local_time_names_the_zone_and_holds_local_date_times(cache, out, zone):
    zone("CST6")
    target = out / "local.xlsx"
    run_export(cache, ExportSpec("f1", format="xlsx", local_time=True), target)
    rows = _xlsx_rows(target)["Results"]
    assert rows[0][7] == "Entered (local time, UTC-06:00 (CST))"
    assert rows[0][8:] == EXPECTED_HEADER[8:]
    for got, want in zip(rows[1:], expected_rows(cache), strict=True):
        local = datetime.fromtimestamp(want["Entered"], UTC).astimezone().replace(tzinfo=None)
        assert got[7] == local
        assert got[7] == naive(want["Entered"]) - timedelta(hours=6)


def test_an_old_job_without_the_local_time_field_reads_as_utc():
    spec = ExportSpec.from_dict({"flow_id": "f1", "format": "csv"})
    assert spec.local_time is False
    assert ExportSpec.from_dict(ExportSpec("f1", local_time=True).to_dict()).local_time


def test_an_exported_file_gets_the_permissions_of_any_new_file(tmp_path):
    """mkstemp made exports private (0600): a colleague could not open a shared file."""
    from flowdesk.core.export.atomic import atomic_output

    target = tmp_path / "results.csv"
    with atomic_output(target) as temp:
        temp.write_text("a,b\n", encoding="utf-8")
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask


def test_executions_are_named_as_the_app_names_them_not_by_id(cache, out):
    """The Execution column, the Downloads title and the file name say "#2 · …", not "e2"."""
    from flowdesk.core.export.naming import export_title, file_name

    spec = ExportSpec("f1", execution_id="e2")
    run_export(cache, spec, out / "e2.csv")
    rows = read_csv(out / "e2.csv")
    column = rows[0].index("Execution")
    db = connect(cache)
    try:
        label = flow_execution_labels(db, "f1")["e2"]
        assert label.startswith("#") and "e2" not in label
        assert {row[column] for row in rows[1:]} == {label}
        assert f"Execution {label}" in export_title(db.conn, spec)
        name = file_name(db.conn, spec)
        assert "Execution #" in name and " e2 " not in name
    finally:
        db.conn.close()
