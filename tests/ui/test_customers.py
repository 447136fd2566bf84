"""Find a customer anywhere from the window: results as you type, the customer page, a trace."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QAbstractItemModelTester

from flowdesk.core.db import connect
from flowdesk.ui.reflow import fit_widths
from flowdesk.ui.widgets.customers import (
    CONTACT_ROLE,
    RUN_ROLE,
    load_customer,
    search_customers,
)
from tests.ui.conftest import wait_idle
from tests.ui.test_models import FAIL, _touch_all


def _type(qtbot, window, text: str) -> None:
    window.focus_customer_search()
    window.customer_box.clear()
    qtbot.keyClicks(window.customer_box, text)
    window.customers.search_now()  # no need to wait for the typing pause
    wait_idle(qtbot, window)


def test_results_as_you_type_are_grouped_by_contact(qtbot, make_window, factory_db_path):
    window = make_window(factory_db_path)
    model = window.customers.results.model
    QAbstractItemModelTester(model, FAIL)
    _type(qtbot, window, "bruno COSTA")
    assert window.stack.currentWidget() is window.customers
    assert model.rowCount() == 1
    contact = model.index(0, 0)
    assert contact.data() == "Bruno Costa"
    assert contact.data(CONTACT_ROLE).contact_id == "c3"
    assert "2 runs in 1 flow" in model.index(0, 1).data()
    count = model.rowCount(contact)
    runs = [model.index(i, 0, contact).data(RUN_ROLE).run_id for i in range(count)]
    assert runs == ["r5", "r3"]  # newest first
    failed = model.index(1, 1, contact).data()
    assert failed.startswith("Failed · entered ") and "External API failed: HTTP 502" in failed
    _touch_all(model)
    _type(qtbot, window, "5100000003")  # the last digits of Bruno's number
    assert model.index(0, 0).data(CONTACT_ROLE).contact_id == "c3"
    _type(qtbot, window, "nobody at all")
    assert model.rowCount() == 0
    assert window.customers.results.heading.text() == "No customer matches “nobody at all”."


def test_enter_opens_the_customer_page_and_one_click_traces_a_run(
    qtbot, make_window, factory_db_path
):
    window = make_window(factory_db_path)
    page = window.customers.customer_page
    QAbstractItemModelTester(page.model, FAIL)
    _type(qtbot, window, "+49 151 0000 0003")
    qtbot.keyClick(window.customer_box, Qt.Key.Key_Return)
    wait_idle(qtbot, window)
    assert window.customers.pages.currentWidget() is page
    assert page.name.text() == "Bruno Costa"
    assert "Phone +4915100000003" in page.details.text()
    assert "c3@example.com" in page.details.text()
    headers = [page.model.headerData(c, Qt.Orientation.Horizontal) for c in range(8)]
    assert headers == [
        "Entered",
        "Flow",
        "Status",
        "Reason",
        "Version",
        "Execution",
        "Last activity",
        "Last step",
    ]
    assert [page.model.index(r, 1).data() for r in range(2)] == ["Order helper"] * 2
    assert page.model.index(1, 2).data() == "Failed"
    assert page.model.index(1, 3).data() == "External API failed: HTTP 502"
    _touch_all(page.model)

    rect = page.table.visualRect(page.model.index(1, 3))  # anywhere on the row
    qtbot.mouseClick(page.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    wait_idle(qtbot, window)
    assert window.stack.currentWidget() is window.page
    assert window.page.tabs.currentWidget() is window.page.viewer_tab
    assert window.page.viewer_tab.traced.row.run_id == "r3"


def test_escape_gives_the_page_back_and_ctrl_k_finds_again(qtbot, make_window, factory_db_path):
    window = make_window(factory_db_path)
    assert window.stack.currentWidget() is window.page
    _type(qtbot, window, "ana")
    assert window.stack.currentWidget() is window.customers
    qtbot.keyClick(window.customer_box, Qt.Key.Key_Escape)
    assert window.stack.currentWidget() is window.page
    window.page.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert window.customer_box.hasFocus()
    assert window.stack.currentWidget() is window.customers
    window.customer_box.clear()
    window.customers.search_now()
    assert window.stack.currentWidget() is window.page


def test_execution_names_match_the_rest_of_the_app(demo_db_path):
    db = connect(demo_db_path)
    contact_id = db.execute(
        "SELECT contact_id FROM runs WHERE execution_id IS NOT NULL LIMIT 1"
    ).fetchone()[0]
    found = load_customer(db, contact_id)
    run = next(r for r in found.customers[0].runs if r.execution_id)
    assert found.executions[run.execution_id].startswith("#")
    assert search_customers(db, found.customers[0].phone).customers[0].contact_id == contact_id
    assert load_customer(db, "no such contact") is None


@pytest.mark.parametrize(
    ("available", "expected"),
    [
        (2000, [124, 180, 90, 220, 150, 160, 124, 120]),  # room for all: preferred widths
        # Five columns need at least 124+130+90+130+150 = 624: the reason narrows to its least
        # and the flow by the rest, so the version column is whole; the others scroll.
        (655, [124, 161, 90, 130, 150, 160, 124, 120]),
        # A little wider: only the reason narrows, and ends the fifth column at the edge.
        (720, [124, 180, 90, 176, 150, 160, 124, 120]),
    ],
)
def test_customer_columns_in_view_are_whole(available, expected):
    preferred = [124, 180, 90, 220, 150, 160, 124, 120]
    least = [124, 130, 90, 130, 150, 160, 124, 120]
    widths = fit_widths(preferred, least, available)
    assert widths == expected
    if available < sum(preferred):  # the last column in view ends at the edge exactly
        assert available in [sum(widths[: i + 1]) for i in range(len(widths))]


def test_fit_widths_shrinks_in_the_order_given_and_grows_the_column_named():
    preferred, least = [100, 80, 120, 60], [100, 40, 60, 60]
    # Everything fits: the room left goes to the column named, so the last ends at the edge.
    assert fit_widths(preferred, least, 400, grow=2) == [100, 80, 160, 60]
    # 40 px too narrow: the column named first gives them, then the next.
    assert fit_widths(preferred, least, 320, shrink_first=[2, 1]) == [100, 80, 80, 60]
    assert fit_widths(preferred, least, 280, shrink_first=[2, 1]) == [100, 60, 60, 60]
    # A hidden column (0 wide) takes no room.
    assert fit_widths([100, 0, 120, 60], [100, 0, 60, 60], 250, grow=2) == [100, 0, 90, 60]


def test_the_customer_page_shows_no_column_cut_in_half(qtbot, make_window, demo, demo_db_path):
    """At 1024×700 the runs table showed "Vers" cut at its right edge."""
    window = make_window(demo_db_path)
    window.resize(1024, 700)
    contact_id = demo.execute(
        "SELECT contact_id FROM runs GROUP BY contact_id ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()[0]
    window.customers.open_customer(contact_id)
    wait_idle(qtbot, window)
    qtbot.wait(20)
    page = window.customers.customer_page
    assert window.customers.pages.currentWidget() is page
    header = page.table.horizontalHeader()
    visible = page.table.viewport().width()
    assert visible < 1000  # narrow: not every column fits
    for column in range(page.model.columnCount()):
        left = header.sectionViewportPosition(column)
        right = left + header.sectionSize(column)
        assert right <= visible or left >= visible, (column, left, right, visible)
    assert header.sectionViewportPosition(4) + header.sectionSize(4) <= visible  # version whole
