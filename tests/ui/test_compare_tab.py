"""The Compare versions tab: what it shows is what ``flowdesk compare --json`` says."""

from __future__ import annotations

import html
import re

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QAbstractItemModelTester

from flowdesk.core.compare import compare_versions, comparison_json, default_pair
from flowdesk.core.compare.graph import diff_graph
from flowdesk.core.compare.verdict import interval_words, short_label, signed_points
from flowdesk.core.formatting import share as fmt_share
from flowdesk.core.queries import list_flows, list_versions, version_graph
from flowdesk.ui.models.compare import StepChangesModel, StepShiftsModel
from flowdesk.ui.theme import diff_color
from flowdesk.ui.viewer.viewer import OVERVIEW_MIN_SCALE
from flowdesk.ui.widgets.compare_graph import GHOST_OPACITY
from flowdesk.ui.widgets.flow_page import TAB_COMPARE, TAB_VERSIONS
from tests.ui.conftest import wait_idle
from tests.ui.test_models import FAIL, _touch_all


def _plain(label) -> str:  # noqa: ANN001
    return html.unescape(re.sub(r"<[^>]+>", " ", label.text()))


def _flow_with_removed_steps(db):
    """A demo flow whose current version both added and removed steps against the previous."""
    for flow in list_flows(db):
        pair = default_pair(list_versions(db, flow.id))
        if pair is None:
            continue
        comparison = compare_versions(db, flow.id, *pair)
        if comparison.diff.added and comparison.diff.removed:
            return flow, pair
    raise AssertionError("the demo has no such flow")


@pytest.fixture
def compare_page(qtbot, make_window, demo, demo_db_path):
    window = make_window(demo_db_path)
    flow, pair = _flow_with_removed_steps(demo)
    window.open_flow(flow.id)
    page = window.page
    page.tabs.setCurrentIndex(TAB_COMPARE)
    wait_idle(qtbot, window)
    return window, page.compare_tab, flow, pair


def test_models_pass_the_model_tester(qtbot, qtmodeltester, demo):
    flow, pair = _flow_with_removed_steps(demo)
    comparison = compare_versions(demo, flow.id, *pair)
    changes = StepChangesModel()
    shifts = StepShiftsModel()
    QAbstractItemModelTester(changes, FAIL)
    QAbstractItemModelTester(shifts, FAIL)
    changes.set_changes(list(comparison.diff.steps), "A", "B")
    shifts.set_shifts(list(comparison.shifts), "v2", "v3")
    assert changes.rowCount() == len(comparison.diff.steps) - len(comparison.diff.of("same"))
    assert shifts.headerData(1, Qt.Orientation.Horizontal) == "Reached · v2"
    _touch_all(changes)
    _touch_all(shifts)
    for column in range(shifts.columnCount()):
        shifts.sort(column, Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(changes, force_py=True)
    qtmodeltester.check(shifts, force_py=True)
    changes.set_changes([], "A", "B")
    assert changes.rowCount() == 0


def test_page_shows_what_the_json_says(qtbot, compare_page, demo):
    window, tab, flow, (a, b) = compare_page
    assert tab.pair() == (a, b)  # current vs previous by default
    data = comparison_json(compare_versions(demo, flow.id, a, b))
    assert tab.verdict.text() == data["verdict"]
    assert data["caveat"] in _plain(tab.caveat)
    card_b, card_a, card_diff = _plain(tab.card_b), _plain(tab.card_a), _plain(tab.card_diff)
    for card, side in ((card_a, data["a"]), (card_b, data["b"])):
        assert side["name"] in card
        assert f"{side['contacts']:,} contacts" in card
        assert f"{fmt_share(side['completion_rate'])} · {side['completed']:,} of" in card
        low, high = side["completion_interval"]["low"], side["completion_interval"]["high"]
        assert f"95 %: {fmt_share(low)}–{fmt_share(high)}" in card
        assert fmt_share(side["response_rate"]) in card
    comparison = tab.loaded.comparison
    assert interval_words(comparison.completion) in card_diff
    assert interval_words(comparison.response) in card_diff
    difference = data["difference"]["completion_rate"]
    assert comparison.completion.as_dict() == difference
    shown = {
        status: [
            {"id": record.step.id, "name": record.step.name}
            for record in tab.changes_model.records()
            if record.status == status
        ]
        for status in ("added", "removed", "changed")
    }
    assert shown == {
        status: [{"id": c["id"], "name": c["name"]} for c in data["steps"][status]]
        for status in ("added", "removed", "changed")
    }
    only = [tab.only_model.data(tab.only_model.index(r, 0)) for r in range(len(data["only_b"]))]
    assert only == [f"{item['name']} (added)" for item in data["only_b"]]
    header = tab.shifts_model.headerData(1, Qt.Orientation.Horizontal)
    assert header == f"Reached · {short_label(data['a']['name'])}"  # "v2", not "v2 – Menu…"
    tip = tab.transitions_label.toolTip()
    assert tip.count("<br>") == sum(map(len, data["steps"]["transitions"].values())) - 1
    rows = tab.shifts_model.rowCount()
    assert rows == len(data["where"])
    for row, item in enumerate(data["where"]):
        index = tab.shifts_model.index(row, 3)
        assert tab.shifts_model.data(tab.shifts_model.index(row, 0)) == item["name"]
        assert tab.shifts_model.data(index) == signed_points(item["difference"]["reach"])


def test_old_enough_option_recomputes(qtbot, compare_page, demo):
    window, tab, flow, (a, b) = compare_page
    tab.finished_only.setChecked(True)
    wait_idle(qtbot, window)
    data = comparison_json(compare_versions(demo, flow.id, a, b, finished_only=True))
    assert tab.verdict.text() == data["verdict"]
    assert tab.loaded.comparison.finished_only
    assert "entered more than" in tab.finished_only.toolTip()


def test_picking_other_versions_reloads(qtbot, compare_page, demo):
    window, tab, flow, (a, b) = compare_page
    tab.select(b, a)
    wait_idle(qtbot, window)
    assert tab.verdict.text() == comparison_json(compare_versions(demo, flow.id, b, a))["verdict"]


def test_diff_graph_colours_and_ghosts(qtbot, compare_page):
    window, tab, flow, pair = compare_page
    scene = tab.diff_view.scene
    status = tab.loaded.graph.status
    removed = [k for k, s in status.items() if s == "removed"]
    added = [k for k, s in status.items() if s == "added"]
    assert removed and added
    for key in removed:
        assert scene.nodes[key].opacity() == pytest.approx(GHOST_OPACITY)
        assert scene.nodes[key].colors.dashed
    for key in added:
        assert scene.nodes[key].opacity() == 1.0
        assert scene.nodes[key].colors.border == diff_color("added", tab.palette())
        assert scene.nodes[key].detail_text.startswith("Added · ")
    # a large flow opens legible, on its changes, rather than fitted whole
    assert tab.diff_view.view.scale_factor() >= OVERVIEW_MIN_SCALE - 1e-6
    # a row of the list rings its step on the graph, removed ones included
    for row, change in enumerate(tab.changes_model.records()):
        if change.status == "removed":
            tab.changes_table.clicked.emit(tab.changes_model.index(row, 1))
            assert scene.nodes[change.a.key].focused
            assert tab.diff_view.view.focused_key == change.a.key
            break


def test_a_flow_with_one_version_says_so(qtbot, make_window, factory_db_path):
    window = make_window(factory_db_path)
    window.open_flow("f1")
    page = window.page
    page.tabs.setCurrentIndex(TAB_COMPARE)
    wait_idle(qtbot, window)
    assert page.compare_tab.empty.isVisibleTo(window)
    page.tabs.setCurrentIndex(TAB_VERSIONS)
    assert not page.versions_tab.compare.isEnabled()


def test_versions_button_opens_the_comparison(qtbot, make_window, demo, demo_db_path):
    window = make_window(demo_db_path)
    flow, pair = _flow_with_removed_steps(demo)
    window.open_flow(flow.id)
    page = window.page
    page.tabs.setCurrentIndex(TAB_VERSIONS)
    page.versions_tab.compare.click()
    wait_idle(qtbot, window)
    assert page.tabs.currentIndex() == TAB_COMPARE
    assert page.compare_tab.loaded is not None


def test_versions_chart_marks_running_versions_and_carries_intervals(qtbot, compare_page, demo):
    window, tab, flow, pair = compare_page
    page = window.page
    page.tabs.setCurrentIndex(TAB_VERSIONS)
    chart = page.versions_tab.chart
    versions = list_versions(demo, flow.id)
    assert chart.running == [bool(v.counters.ongoing) for v in versions]
    for index, version in enumerate(versions):
        low, high = chart.intervals["completion"][index]
        assert low <= chart.series["completion"][index] <= high
        if version.counters.ongoing:
            assert "still running" in chart.describe(index)


def test_merged_graph_keeps_removed_steps_and_edges(demo):
    flow, (a, b) = _flow_with_removed_steps(demo)
    comparison = compare_versions(demo, flow.id, a, b)
    merged = diff_graph(version_graph(demo, a), version_graph(demo, b), comparison.diff)
    keys = {s.key for s in merged.graph.steps}
    removed_ids = {c.a.id for c in comparison.diff.removed}
    assert {s.id for s in merged.graph.steps if merged.status[s.key] == "removed"} == removed_ids
    assert all(source in keys and target in keys for source, target in merged.removed_edges)
    assert len(merged.graph.steps) == len(version_graph(demo, b).steps) + len(removed_ids)
