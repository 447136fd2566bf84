"""Contact search and sorting behave as a support agent types and reads."""

from __future__ import annotations

from flowdesk.core.queries import ContactQuery, Scope, contacts_page, count_contacts
from flowdesk.core.sync import SyncEngine
from tests.factories import ListSource, run, runs_batch

DONE = "COMPLETED"


def _cache(db):
    people = [
        ("r1", "c1", "Ana", "Souza", "+5215512345678"),
        ("r2", "c2", "mariana", "Anaya", "+5511987654321"),
        ("r3", "c3", "José", "Núñez", "+34911222333"),
        ("r4", "c4", "Zoë", "", "+447700900123"),
        ("r5", "c5", "=SUM(A1)", "100%_sure", "+5215599999999"),
    ]
    records = [
        run(rid, [("s1", DONE)], DONE, contact=cid, first=first, last=last, phone=phone)
        for rid, cid, first, last, phone in people
    ]
    SyncEngine(db).run(ListSource([runs_batch(*records)]))


def _names(db, search="", sort="entered", descending=False):
    query = ContactQuery(Scope("f1"), search=search, sort=sort, descending=descending)
    rows = contacts_page(db, query, 0, 50)
    assert count_contacts(db, query) == len(rows)
    return [f"{r.first_name} {r.last_name}".strip() for r in rows]


def test_name_search_is_a_case_insensitive_prefix_on_first_or_last_name(db):
    _cache(db)
    assert sorted(_names(db, "ana")) == ["Ana Souza", "mariana Anaya"]
    assert _names(db, "ANA SOU") == ["Ana Souza"]
    assert _names(db, "Núñ") == ["José Núñez"]
    assert _names(db, "zoë") == ["Zoë"]


def test_wildcards_and_formulas_in_search_are_literal(db):
    _cache(db)
    assert _names(db, "100%") == ["=SUM(A1) 100%_sure"]
    assert _names(db, "%") == []
    assert _names(db, "=SUM") == ["=SUM(A1) 100%_sure"]


def test_phone_search_is_a_prefix_with_or_without_plus(db):
    _cache(db)
    assert sorted(_names(db, "+52155")) == ["=SUM(A1) 100%_sure", "Ana Souza"]
    assert _names(db, "34 911") == ["José Núñez"]


def test_name_sort_ignores_case(db):
    _cache(db)
    assert _names(db, sort="first_name") == [
        "=SUM(A1) 100%_sure",
        "Ana Souza",
        "José Núñez",
        "mariana Anaya",
        "Zoë",
    ]


def test_row_positions_agree_with_the_page_order_for_every_sort(db):
    """Where a run stands in a query, as the table shows it, NULLs (no execution) included."""
    from flowdesk.core.queries import CONTACT_COLUMNS, row_positions

    records = [
        run(
            f"r{i}",
            [("s1", "COMPLETED")],
            "COMPLETED" if i % 3 else "EXPIRED",
            contact=f"c{i}",
            first=f"N{i % 4}",
            start=(i * 7) % 11,
            execution="e1" if i % 2 else None,
        )
        for i in range(14)
    ]
    SyncEngine(db).run(ListSource([runs_batch(*records)]))
    for sort in CONTACT_COLUMNS:
        for descending in (True, False):
            for metric in (None, "expired"):
                query = ContactQuery(Scope("f1"), metric=metric, sort=sort, descending=descending)
                order = [row.run_key for row in contacts_page(db, query, 0, 100)]
                positions = row_positions(db, query, [*order, 10_000])
                assert positions == {key: i for i, key in enumerate(order)}, (sort, descending)
