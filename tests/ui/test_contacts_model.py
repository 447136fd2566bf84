"""The contacts model pages through SQL: right rows, right order, any page, bounded memory."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QAbstractItemModelTester

from flowdesk.core.queries import ContactQuery, Scope, contacts_page, count_contacts, list_flows
from flowdesk.ui.models import contacts as contacts_module
from flowdesk.ui.models.contacts import PLACEHOLDER, ROW_ROLE, ContactsModel, load_page
from tests.ui.pools import HeldPool


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(contacts_module, "PAGE_SIZE", 7)
    monkeypatch.setattr(contacts_module, "MAX_PAGES", 3)


def _busiest(db):
    return max(list_flows(db), key=lambda f: f.counters.contacts)


def _load(qtbot, model, query):
    with qtbot.waitSignal(model.queryLoaded, timeout=10000):
        model.set_query(query)


def _row(qtbot, model, row):
    model.data(model.index(row, 0))
    qtbot.waitUntil(lambda: model.is_row_loaded(row), timeout=10000)
    return model.data(model.index(row, 0), ROW_ROLE)


@pytest.mark.parametrize("sort", ["entered", "first_name", "status", "last_activity"])
def test_reverse_read_pages_equal_forward_pages(demo, sort):
    flow = _busiest(demo)
    for descending in (True, False):
        query = ContactQuery(Scope(flow.id), sort=sort, descending=descending)
        count = count_contacts(demo, query)
        everything = contacts_page(demo, query, 0, count)
        pages = (count + contacts_module.PAGE_SIZE - 1) // contacts_module.PAGE_SIZE
        stitched = [row for page in range(pages) for row in load_page(demo, query, page, count)]
        assert [r.run_key for r in stitched] == [r.run_key for r in everything]


def test_pages_arrive_off_thread_and_match_sql(qtbot, demo, tasks, small_pages):
    flow = _busiest(demo)
    model = ContactsModel(tasks)
    query = ContactQuery(Scope(flow.id))
    _load(qtbot, model, query)
    count = count_contacts(demo, query)
    assert model.rowCount() == count
    expected = contacts_page(demo, query, 0, count)
    # An unloaded row shows a placeholder, then the real row after dataChanged.
    last = count - 1
    assert model.data(model.index(last, 0)) == PLACEHOLDER
    with qtbot.waitSignal(model.dataChanged, timeout=10000):
        pass
    assert model.data(model.index(last, 0), ROW_ROLE).run_key == expected[last].run_key
    for row in (0, 8, count // 2, count // 2 + 1, last - 7):
        assert _row(qtbot, model, row).run_key == expected[row].run_key
    assert len(model.cached_pages()) <= contacts_module.MAX_PAGES


def test_sort_and_filters_reissue_sql(qtbot, demo, tasks):
    flow = _busiest(demo)
    model = ContactsModel(tasks)
    _load(qtbot, model, ContactQuery(Scope(flow.id)))
    with qtbot.waitSignal(model.queryLoaded, timeout=10000):
        model.sort(1, Qt.SortOrder.AscendingOrder)
    assert model.query().sort == "first_name" and not model.query().descending
    expected = contacts_page(demo, model.query(), 0, 5)
    assert [model.data(model.index(i, 1)) for i in range(5)] == [r.first_name for r in expected]

    failed = replace(model.query(), metric="failed")
    _load(qtbot, model, failed)
    assert model.rowCount() == flow.counters.failed
    assert all(model.data(model.index(i, 3)) == "Failed" for i in range(model.rowCount()))

    some = contacts_page(demo, ContactQuery(Scope(flow.id)), 0, 1)[0]
    by_phone = ContactQuery(Scope(flow.id), search=some.phone[:8])
    _load(qtbot, model, by_phone)
    assert model.rowCount() == count_contacts(demo, by_phone) >= 1
    by_name = ContactQuery(Scope(flow.id), search=some.first_name)
    _load(qtbot, model, by_name)
    assert model.rowCount() == count_contacts(demo, by_name) >= 1
    nobody = ContactQuery(Scope(flow.id), search="zzzz-nobody")
    _load(qtbot, model, nobody)
    assert model.rowCount() == 0


def test_stale_results_are_dropped(qtbot, demo, tasks):
    flow = _busiest(demo)
    model = ContactsModel(tasks)
    first = ContactQuery(Scope(flow.id), metric="completed")
    second = ContactQuery(Scope(flow.id), metric="failed")
    model.set_query(first)
    with qtbot.waitSignal(model.queryLoaded, timeout=10000):
        model.set_query(second)
    qtbot.waitUntil(lambda: not tasks.busy(), timeout=10000)
    qtbot.wait(20)
    assert model.query() == second
    assert model.rowCount() == flow.counters.failed


def test_status_is_colour_and_word(qtbot, demo, tasks):
    flow = _busiest(demo)
    model = ContactsModel(tasks)
    _load(qtbot, model, ContactQuery(Scope(flow.id), metric="expired"))
    index = model.index(0, 3)
    assert model.data(index) == "Expired"
    assert not model.data(index, Qt.ItemDataRole.DecorationRole).isNull()
    assert model.data(index, Qt.ItemDataRole.ForegroundRole).isValid()


def test_search_shows_first_matches_before_the_count(qtbot, demo, tasks, small_pages):
    flow = _busiest(demo)
    model = ContactsModel(tasks)
    prefix = demo.execute(
        "SELECT substr(phone, 1, 3) p FROM runs WHERE flow_id = ?"
        " GROUP BY p ORDER BY count(*) DESC",
        [flow.id],
    ).fetchone()[0]
    query = ContactQuery(Scope(flow.id), search=prefix)
    assert count_contacts(demo, query) > contacts_module.PAGE_SIZE
    counts = []
    model.countChanged.connect(counts.append)
    _load(qtbot, model, query)
    total = count_contacts(demo, query)
    assert counts == [contacts_module.PAGE_SIZE, total]  # provisional first page, then exact
    assert model.rowCount() == total and model.count_is_exact()
    expected = contacts_page(demo, query, 0, total)
    assert _row(qtbot, model, total - 1).run_key == expected[-1].run_key


@pytest.mark.parametrize("order", [[1, 0], [0, 1]], ids=["older answer last", "older first"])
def test_an_older_query_answering_late_never_replaces_the_newer(
    qtbot, demo, make_tasks, demo_db_path, order
):
    held = HeldPool(running=True)  # both loads are under way; the test picks who answers first
    model = ContactsModel(make_tasks(demo_db_path, interactive=held))
    QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    flow = _busiest(demo)
    first = ContactQuery(Scope(flow.id), metric="completed")
    second = ContactQuery(Scope(flow.id), metric="failed")
    model.set_query(first)
    model.set_query(second)
    held.release_in(order)
    held.release_all()  # pages the view asked for
    assert model.query() == second
    assert model.rowCount() == flow.counters.failed
