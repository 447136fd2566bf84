"""Where runs stop, why, how long, who went through, over time: the views on a known cache."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QPalette

from flowdesk.core.db import connect
from flowdesk.core.queries import Scope
from flowdesk.core.step_report import StopsView, ranked_losses, stops_view
from flowdesk.core.sync import SyncEngine
from flowdesk.ui.models.contacts import ROW_ROLE
from flowdesk.ui.models.insights import LOSS_COLUMNS, REASON_COLUMNS, TIME_COLUMNS, time_rows
from flowdesk.ui.models.records import RecordTableModel
from flowdesk.ui.viewer.legend import LOSS_CAPTION, REACH_CAPTION
from flowdesk.ui.widgets.flow_page import TAB_CONTACTS, TAB_OVER_TIME, TAB_VIEWER
from flowdesk.ui.widgets.over_time import periods
from flowdesk.ui.widgets.viewer_tab import COLOUR_STOPS, COLOUR_TRAFFIC, MODE_STOPS, MODE_TRAFFIC
from tests.factories import PATH_LOOP_THEN_FAIL, ListSource, run, runs_batch
from tests.ui.conftest import wait_idle


def _view(path) -> StopsView:
    db = connect(path)
    try:
        return stops_view(db, Scope("f1"), "v1")
    finally:
        db.conn.close()


def test_the_panel_models_pass_the_model_tester(qapp, qtmodeltester, factory_db_path):
    view = _view(factory_db_path)
    for columns, rows in (
        (LOSS_COLUMNS, ranked_losses(view.outcomes)),
        (REASON_COLUMNS, view.reasons),
        (TIME_COLUMNS, time_rows(view.outcomes, None)),
    ):
        model = RecordTableModel(columns=columns)
        model.set_records(rows)
        assert model.rowCount() == len(rows) > 0
        qtmodeltester.check(model)
    # The reasons' Outcome cell carries the status colour's dot beside its word.
    reasons = RecordTableModel(columns=REASON_COLUMNS)
    reasons.set_records(view.reasons)
    assert reasons.data(reasons.index(0, 1), Qt.ItemDataRole.DecorationRole) is not None


def _viewer_tab(qtbot, make_window, path):
    window = make_window(path)
    page = window.page
    page.tabs.setCurrentIndex(TAB_VIEWER)
    wait_idle(qtbot, window)
    return window, page, page.viewer_tab


def _stops_mode(qtbot, make_window, path):
    window, page, tab = _viewer_tab(qtbot, make_window, path)
    tab.set_mode(MODE_STOPS)
    qtbot.waitUntil(lambda: tab.stops_view is not None)
    wait_idle(qtbot, window)
    return window, page, tab


def test_where_runs_stop_mode_recolours_the_steps_and_ranks_losses(
    qtbot, make_window, factory_db_path
):
    window, page, tab = _stops_mode(qtbot, make_window, factory_db_path)
    scene = tab.viewer.scene
    keys = {s.id: s.key for s in tab.graph.steps}
    menu = scene.nodes[keys["s2"]]
    # s2 (the menu): reached by r1..r5, r4 expired there, r2 still waits there.
    assert menu.reached_text == "1 lost · 20%"
    assert menu.detail_text == "expired 1"
    assert menu.share_text == "1 waiting"
    assert tab.viewer.legend.caption.text() == LOSS_CAPTION
    assert tab.stops_panel.isVisible()
    ranked = [row.id for row in tab.stops_panel.losses.records()]
    assert ranked == ["s7", "s2"]  # one each; s7 lost its only arrival
    assert COLOUR_STOPS in tab.note.text()
    # Back to traffic: the reach heat again, panel gone.
    tab.set_mode(MODE_TRAFFIC)
    assert menu.reached_text == "5 reached"
    assert tab.viewer.legend.caption.text() == REACH_CAPTION
    assert not tab.stops_panel.isVisible()
    assert COLOUR_TRAFFIC in tab.note.text()


def test_the_overview_map_shows_the_colours_of_the_mode(qtbot, make_window, demo_db_path):
    window, _page, tab = _viewer_tab(qtbot, make_window, demo_db_path)
    viewer = tab.viewer
    overview = viewer.minimap
    window.grab()  # the cards on screen are drawn (and cached) in traffic colours
    traffic_map = overview.grab().toImage()
    tab.set_mode(MODE_STOPS)
    qtbot.waitUntil(lambda: tab.stops_view is not None)
    wait_idle(qtbot, window)
    assert overview.grab().toImage() != traffic_map
    viewport = viewer.view.viewport()
    shown = viewport.grab().toImage()
    # What a full repaint draws: drawing the map left no card in the other mode's colours.
    for item in viewer.scene.items():
        item.update()
    wait_idle(qtbot, window)
    assert viewport.grab().toImage() == shown


def test_why_and_how_long_tables(qtbot, make_window, factory_db_path):
    window, page, tab = _stops_mode(qtbot, make_window, factory_db_path)
    panel = tab.stops_panel
    reasons = {(r.step_name, r.metric, r.reason) for r in panel.reasons.records()}
    assert ("Escalate", "failed", "External API failed: HTTP 502") in reasons
    times = {row.label: row for row in panel.times.records()}
    assert times["Welcome"].passes == 5
    assert times["Entry → completion (whole flow)"].passes == 2
    row = next(i for i, r in enumerate(panel.times.records()) if r.label == "Ask order number")
    panel.tabs.setCurrentIndex(2)
    panel.time_table.selectRow(row)
    qtbot.waitUntil(lambda: panel.histogram.counts and sum(panel.histogram.counts.values()) == 3)
    assert "3 passes" in panel.histogram.readout.text()
    table, histogram = panel.time_splitter.sizes()
    assert histogram >= 0.42 * (table + histogram)  # room enough to read the bars


def _why_tab(qtbot, make_window, path, reason: str):
    """The Why table after a second run failed at "Escalate", for ``reason``."""
    db = connect(path)
    other = run("r9", PATH_LOOP_THEN_FAIL, "FAILED", contact="c9", reason=reason, start=90)
    report = SyncEngine(db).run(ListSource([[], runs_batch(other)]))
    assert report.outcome == "completed", report.message
    db.conn.close()
    window, _page, tab = _stops_mode(qtbot, make_window, path)
    panel = tab.stops_panel
    panel.tabs.setCurrentIndex(1)
    wait_idle(qtbot, window)
    return window, panel


def test_why_reasons_are_shown_whole(qtbot, make_window, factory_db_path):
    long = "Message not sent: (#131026) Message undeliverable, the number is not on WhatsApp"
    window, panel = _why_tab(qtbot, make_window, factory_db_path, long)
    table = panel.reason_table
    metrics = table.fontMetrics()
    width = table.columnWidth(2) - 8  # the cell's text margins
    for row, reason in enumerate(panel.reasons.records()):
        needed = metrics.boundingRect(
            QRect(0, 0, width, 10_000), Qt.TextFlag.TextWordWrap, reason.reason
        )
        assert needed.height() <= table.rowHeight(row), reason.reason
        assert width >= 0.35 * table.viewport().width()


def test_who_went_through_opens_the_contacts_of_a_step_and_combines(
    qtbot, make_window, factory_db_path
):
    window, page, tab = _stops_mode(qtbot, make_window, factory_db_path)
    keys = {s.id: s.key for s in tab.graph.steps}
    # Right-click menu of the menu step → "ended at".
    actions = tab.viewer.step_menu(keys["s2"]).actions()
    assert [a.text() for a in actions] == [
        "Contacts who reached “Main menu”",
        "Contacts who ended at “Main menu”",
    ]
    actions[1].trigger()
    wait_idle(qtbot, window)
    contacts = page.contacts_tab
    assert page.tabs.currentIndex() == TAB_CONTACTS
    model = contacts.model
    ids = {model.data(model.index(r, 0), ROW_ROLE).run_id for r in range(model.rowCount())}
    assert ids == {"r2", "r4"}
    assert contacts.step_chip.isVisible() and "ended at" in contacts.step_chip.text()
    # Combined with the status filter.
    contacts.set_metric("expired")
    wait_idle(qtbot, window)
    assert model.rowCount() == 1
    # An arrow: s4 → s3 is r3's retry loop.
    index = next(
        i
        for i, e in enumerate(tab.graph.edges)
        if (e.source_key, e.target_key) == (keys["s4"], keys["s3"])
    )
    contacts.set_metric(None)
    tab.viewer.edge_menu(index).actions()[0].trigger()
    wait_idle(qtbot, window)
    ids = {model.data(model.index(r, 0), ROW_ROLE).run_id for r in range(model.rowCount())}
    assert ids == {"r3"}
    # The chip drops the filter.
    contacts.step_chip.click()
    wait_idle(qtbot, window)
    assert model.rowCount() == 5 and not contacts.step_chip.isVisible()


def test_double_clicking_a_reason_lists_the_contacts_of_that_reason_only(
    qtbot, make_window, factory_db_path
):
    window, panel = _why_tab(qtbot, make_window, factory_db_path, "Timed out")
    page = window.page
    rows = panel.reasons.records()
    row = next(i for i, r in enumerate(rows) if r.reason == "External API failed: HTTP 502")
    assert sum(r.step_name == "Escalate" and r.metric == "failed" for r in rows) == 2
    table = panel.reason_table
    table.scrollTo(panel.reasons.index(row, 0))
    cell = table.visualRect(panel.reasons.index(row, 2)).center()
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=cell)
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=cell)
    wait_idle(qtbot, window)
    contacts = page.contacts_tab
    assert page.tabs.currentIndex() == TAB_CONTACTS
    model = contacts.model
    ids = {model.data(model.index(r, 0), ROW_ROLE).run_id for r in range(model.rowCount())}
    assert ids == {"r3"}  # not r9, which failed at the same step for another reason
    assert "External API failed: HTTP 502" in contacts.step_chip.text()


def test_over_time_chart_counts_entries_per_day(qtbot, make_window, demo_db_path, demo):
    window = make_window(demo_db_path)
    page = window.page
    page.tabs.setCurrentIndex(TAB_OVER_TIME)
    wait_idle(qtbot, window)
    chart = page.over_time_tab
    qtbot.waitUntil(lambda: bool(chart.days))
    assert sum(d.counters.contacts for d in chart.days) == page.flow.counters.contacts
    chart.grouping.setCurrentIndex(1)
    chart.grouping.activated.emit(1)
    weeks = periods(chart.days, weekly=True)
    assert chart.shown == weeks
    assert sum(w.counters.contacts for w in weeks) == page.flow.counters.contacts
    assert all((w.start // 86_400 + 3) % 7 == 0 for w in weeks)  # Mondays
    assert chart.period_at(weeks[0].start + 3600) == weeks[0]
    # Axis titles read like the tick labels, not like disabled text.
    _, _, counts, rates = chart._plots
    text = chart.palette().color(QPalette.ColorRole.Text).name()
    for plot in (counts, rates):
        axis = plot.getAxis("left")
        assert axis.labelText and axis.labelStyle["color"] == text
