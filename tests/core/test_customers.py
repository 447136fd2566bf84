"""Find a customer anywhere: the search index the engine keeps, and the ways people type."""

from __future__ import annotations

import copy
import sqlite3

import pytest

from flowdesk.core import search_terms
from flowdesk.core.customers import find_customers, get_customer
from flowdesk.core.db import connect
from flowdesk.core.schema import MIGRATION_1
from flowdesk.core.sync import SyncEngine, _TermsBeside
from tests.factories import FLOW, PATH_COMPLETED, VERSION, ListSource, run, runs_batch

DONE = "COMPLETED"
FLOW_2 = {**FLOW, "id": "f2", "name": "Delivery updates", "current_version": "v2"}
VERSION_2 = {**VERSION, "id": "v2", "version_name": "Second flow v1"}


def _in_flow_2(record: dict) -> dict:
    """The same run shape in another flow (its steps get ids of their own)."""
    record = copy.deepcopy(record)
    record["flow"], record["flow_version"] = FLOW_2, VERSION_2
    for entry in record["execution_steps"]:
        step = entry["step"]
        step["id"] = "t" + step["id"]
        for key in ("next_step_default", "next_step_alternate", "answer_failed_next_step"):
            if step.get(key):
                step[key] = "t" + step[key]
        step["next_steps_for_options"] = ["t" + s for s in step["next_steps_for_options"]]
    return record


PEOPLE = {
    "c1": {"first": "José", "last": "Núñez", "phone": "+5215512345678"},
    "c2": {"first": "Oliver", "last": "Jones", "phone": "+447911123456"},
    "c3": {"first": "Oliverio", "last": "Santos", "phone": "+5511987654321"},
    "c4": {"first": "Ærø", "last": "Østergård", "phone": "+4520304050"},
}


def _sync(db, *records, after: int = 0) -> None:
    """Sync one batch; ``after`` earlier batches were synced (the source's cursor skips them)."""
    report = SyncEngine(db).run(ListSource([[]] * after + [runs_batch(*records)]))
    assert report.outcome == "completed", report.message


def people_records() -> list[dict]:
    """One run each, ten minutes apart, and José's second run in another flow, last."""
    records = [
        run(f"r-{cid}", PATH_COMPLETED, DONE, contact=cid, start=i * 10, **p)
        for i, (cid, p) in enumerate(PEOPLE.items())
    ]
    records.append(
        _in_flow_2(run("r-c1-b", PATH_COMPLETED, DONE, contact="c1", start=100, **PEOPLE["c1"]))
    )
    return records


@pytest.fixture
def people(db):
    _sync(db, *people_records())
    return db


def _ids(db, text: str) -> list[str]:
    return [c.contact_id for c in find_customers(db, text, limit=None)]


@pytest.mark.parametrize(
    "typed",
    [
        "+5215512345678",
        "5215512345678",
        "+52 1 55 1234 5678",
        "+52-1-55-1234-5678",
        "0052 1 55 1234 5678",
        "55 1234 5678",  # the national number without the mobile 1
        "5678",  # the last four digits
        "012345678"[1:],  # the last eight digits
        "+52 1 55",  # typing, international
    ],
)
def test_a_phone_is_found_however_it_is_typed(people, typed):
    assert _ids(people, typed)[0] == "c1"


@pytest.mark.parametrize("typed", ["07911 123456", "7911 123456", "07911", "+44 7911 123456"])
def test_a_national_number_with_its_trunk_zero_is_found(people, typed):
    assert _ids(people, typed)[0] == "c2"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("jose", "c1"),
        ("JOSÉ", "c1"),
        ("nunez", "c1"),
        ("Núñez José", "c1"),
        ("Jones Oliver", "c2"),
        ("oliver jon", "c2"),
        ("aero ostergard", "c4"),
        ("c3@example.com", "c3"),
        ("C3@EXAMPLE", "c3"),
    ],
)
def test_names_and_emails_ignore_accents_case_and_word_order(people, typed, expected):
    assert _ids(people, typed) == [expected]


def test_a_whole_word_ranks_before_a_longer_name_it_starts(people):
    assert _ids(people, "oliver") == ["c2", "c3"]
    assert _ids(people, "olive") == ["c3", "c2"]  # equals: the most recent activity first
    assert _ids(people, "nobody") == []
    assert _ids(people, "   ") == []


def test_a_customer_lists_every_run_across_flows_newest_first(people):
    customer = get_customer(people, "c1")
    assert customer is not None
    assert (customer.first_name, customer.last_name, customer.email) == (
        "José",
        "Núñez",
        "c1@example.com",
    )
    assert [(r.run_id, r.flow, r.version) for r in customer.runs] == [
        ("r-c1-b", "Delivery updates", "Second flow v1"),
        ("r-c1", "Order helper", "First"),
    ]
    assert customer.runs[0].entered_at > customer.runs[1].entered_at
    assert customer.runs[0].last_step == "Goodbye"
    [found] = find_customers(people, "jose")
    assert found == customer


def test_the_engine_keeps_the_index_exact_when_a_contact_changes(people):
    assert search_terms.mismatches(people.conn) == []
    changed = {"first": "Joseph", "last": "Nunes", "phone": "+34600111222"}
    _sync(people, run("r-c1", PATH_COMPLETED, DONE, contact="c1", **changed), after=1)
    assert _ids(people, "5512345678") == []
    assert _ids(people, "Núñez") == []
    assert _ids(people, "600 111 222") == ["c1"]
    assert _ids(people, "joseph nunes") == ["c1"]
    assert search_terms.mismatches(people.conn) == []


def test_a_first_sync_builds_the_index_once_at_its_end(db):
    """Terms inserted batch by batch land all over the index's B-tree (the costliest part of a
    1M-run build); a first sync leaves them to one sorted build when its batches are done."""
    records = people_records()
    during: list[tuple[int, bool]] = []

    def progress(_report) -> None:
        terms = db.execute("SELECT count(*) FROM contact_terms").fetchone()[0]
        during.append((terms, search_terms.is_pending(db.conn)))

    report = SyncEngine(db).run(ListSource([runs_batch(r) for r in records]), progress=progress)
    assert report.outcome == "completed", report.message
    assert len(during) > len(records) - 1
    assert set(during) == {(0, True)}
    assert not search_terms.is_pending(db.conn)
    assert search_terms.mismatches(db.conn) == []
    assert _ids(db, "jose") == ["c1"]


def test_a_first_sync_killed_before_its_end_leaves_the_index_to_the_next_sync(people):
    # What a build killed between two batches leaves: contacts committed, no terms, the mark.
    with people.conn:
        people.conn.execute("DELETE FROM contact_terms")
        search_terms.defer(people.conn)
    assert search_terms.mismatches(people.conn) == [
        "the contact search index is not built yet (a first sync stopped before its end):"
        " sync again to build it"
    ]
    _sync(people, run("r-c9", PATH_COMPLETED, DONE, contact="c9", first="Zoë"), after=1)
    assert search_terms.mismatches(people.conn) == []
    assert _ids(people, "jose") == ["c1"]
    assert _ids(people, "zoe") == ["c9"]


def test_mismatches_report_a_stale_or_missing_term(people):
    people.conn.execute("DELETE FROM contact_terms WHERE term = 'wjose'")
    people.conn.execute("INSERT INTO contact_terms VALUES ('wghost', 'c2')")
    assert search_terms.mismatches(people.conn) == [
        "contact c1: search term 'wjose' missing",
        "contact c2: stale search term 'wghost'",
    ]


def test_a_cache_from_before_the_index_gets_it_on_upgrade(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    for statement in MIGRATION_1:
        conn.execute(statement)
    conn.execute(
        "INSERT INTO contacts VALUES ('c9', '+447911123456', 'Zoë', 'Smith', 'zoe@example.com')"
    )
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    db = connect(path)
    assert _ids(db, "zoe smith") == ["c9"]
    assert _ids(db, "07911 123456") == ["c9"]
    assert search_terms.mismatches(db.conn) == []


@pytest.mark.parametrize(
    "phone", ["+52 1 55 1234 5678", "(555) 010-9999 ext. 7", "+52 1²3", "٣٤٥ 67", "", None]
)
def test_the_digits_of_a_phone_are_every_digit_it_holds(phone):
    assert search_terms.digits_of(phone) == "".join(ch for ch in phone or "" if ch.isdigit())


def test_the_sorted_build_keeps_names_and_emails_with_quotes_and_control_characters(db):
    """The build hands SQLite each contact's terms as one JSON array: text that JSON must
    escape (quotes, backslashes, control characters) still gives exactly the engine's terms."""
    odd = {
        "d1": ('O"Brien', "Smith\\Jones", '"quoted"@example.com'),
        "d2": ("Tab\tName", "Bell\x07", "back\\slash@example.com"),
        "d3": ("زهرا", "", "line\u2028sep@example.com"),
        "d4": ("", "", ""),
    }
    with db.conn:
        db.conn.executemany(
            "INSERT INTO contacts (id, phone, first_name, last_name, email) VALUES (?, ?, ?, ?, ?)",
            [(cid, "+4420123", first, last, email) for cid, (first, last, email) in odd.items()],
        )
        search_terms.rebuild(db.conn)
    assert search_terms.mismatches(db.conn) == []
    stored = {t for (t,) in db.execute("SELECT term FROM contact_terms WHERE contact_id = 'd1'")}
    assert {"wo", "wbrien", "wsmith", "wjones", 'e"quoted"@example.com'} <= stored


def test_terms_read_beside_the_index_builds_are_what_the_cache_holds(people):
    beside = _TermsBeside(people)
    beside.wait()
    people.conn.execute("BEGIN IMMEDIATE")
    try:
        assert beside.result(people.conn) == search_terms.stage(people.conn)
    finally:
        people.conn.execute("ROLLBACK")


def test_terms_read_beside_are_dropped_when_another_connection_renamed_a_contact(people, tmp_path):
    """An on-demand path read may rename a contact while the first sync's index builds run:
    the terms read before it must not be the ones stored."""
    with people.conn:
        search_terms.defer(people.conn)
    beside = _TermsBeside(people)
    beside.wait()  # read: José is still José
    other = connect(tmp_path / "cache.db")
    with other.conn:
        other.conn.execute("UPDATE contacts SET first_name = 'Zoë' WHERE id = 'c1'")
    other.conn.close()
    people.conn.execute("BEGIN IMMEDIATE")
    try:
        staged = beside.result(people.conn)
        assert staged is None
        search_terms.rebuild(people.conn, staged)
        people.conn.execute("COMMIT")
    except BaseException:
        people.conn.execute("ROLLBACK")
        raise
    assert search_terms.mismatches(people.conn) == []
    assert _ids(people, "zoe") == ["c1"]
    assert _ids(people, "jose") == []
