"""Flow Viewer and path timeline: what a support agent reads on the diagram and beside it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, Qt
from PySide6.QtGui import QColor, QMouseEvent, QPalette, QWheelEvent
from PySide6.QtTest import QAbstractItemModelTester
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QApplication,
    QGraphicsView,
    QStyle,
)

from flowdesk.core import formatting
from flowdesk.core.queries import (
    FlowGraph,
    GraphEdge,
    GraphStep,
    PathEntry,
    edge_share,
    run_detail,
    step_share,
    version_graph,
)
from flowdesk.core.sync import SyncEngine
from flowdesk.ui.viewer import FlowViewer, PathTimeline, style
from flowdesk.ui.viewer.scene import DIM_OPACITY
from flowdesk.ui.viewer.timeline import StepKeyRole, TimelineModel, wait_text
from tests import factories
from tests.factories import PATH_COMPLETED, PATH_LOOP_THEN_FAIL, ListSource, run, runs_batch, step

DONE = "COMPLETED"

# The offscreen platform warns about every top-level window it shows; that says nothing about us.
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


@pytest.fixture
def synced(db, monkeypatch):
    """The factory flow plus a step whose exit points at a step nobody has executed (s99)."""
    monkeypatch.setitem(
        factories.STEPS, "s8", step("s8", "MESSAGE", "Follow-up survey", default="s99", ordering=8)
    )
    batch = runs_batch(
        run("r1", PATH_COMPLETED, DONE),
        run("r2", [("s1", DONE), ("s2", "RUNNING")], "RUNNING", contact="c2", last=None),
        run(
            "r3",
            PATH_LOOP_THEN_FAIL,
            "FAILED",
            contact="c3",
            reason="External API failed: HTTP 502",
        ),
        run("r4", [("s1", DONE), ("s2", "EXPIRED")], "EXPIRED", contact="c4"),
        run("r5", [("s1", DONE), ("s8", "RUNNING")], "RUNNING", contact="c5"),
        *[
            run(f"x{i}", [("s1", DONE), ("s2", DONE), ("s6", DONE)], DONE, contact=f"x{i}")
            for i in range(6)
        ],
    )
    SyncEngine(db).run(ListSource([batch]))
    return db


def _keys(db) -> dict[str, int]:
    return {step_id: key for key, step_id in db.execute("SELECT key, id FROM steps")}


def _run_key(db, run_id: str) -> int:
    return db.execute("SELECT key FROM runs WHERE id = ?", [run_id]).fetchone()[0]


@pytest.fixture
def viewer(qtbot):
    widget = FlowViewer()
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    return widget


# -- diagram -------------------------------------------------------------------------------------


def test_one_node_per_step_and_one_arrow_per_edge_with_counts_and_shares(synced, viewer):
    graph = version_graph(synced, "v1")
    viewer.set_graph(graph)
    scene = viewer.scene
    assert sorted(scene.nodes) == sorted(s.key for s in graph.steps)
    assert sorted(e.index for e in scene.edges) == list(range(len(graph.edges)))
    for index, edge in enumerate(graph.edges):
        label = scene.labels[index].text
        assert f"{edge.runs:,}" in label
        share = edge_share(graph, edge)
        if share is not None:
            assert formatting.share(share) in label
        for option in edge.labels:
            assert option in label
    for graph_step in graph.steps:
        node = scene.nodes[graph_step.key]
        if graph_step.is_placeholder:
            continue
        assert node.reached_text == f"{graph_step.reached:,} reached"
        share = step_share(graph, graph_step.key, scene.loops)  # arrows looping back left out
        if graph_step.key in graph.entry_keys:
            assert node.share_text == "entry step"
        elif share is not None:
            assert node.share_text == f"{formatting.share(share)} of previous"


def test_step_share_text_matches_a_hand_count(synced, viewer):
    keys = _keys(synced)
    graph = version_graph(synced, "v1")
    viewer.set_graph(graph)
    # Main menu: 11 contacts reached Welcome, 10 went on to the menu (r5 went to s8). Shares
    # read as everywhere else in the app (the Versions table said 90.9% where this said 91%).
    assert viewer.scene.nodes[keys["s2"]].share_text == "90.9% of previous"
    menu_to_goodbye = next(e for e in viewer.scene.labels.values() if "No reply" in e.text)
    assert "6 \u00b7 60%" in menu_to_goodbye.text  # 6 of the 10 who reached the menu


def test_heat_colour_rises_monotonically_with_reach(synced, viewer):
    scale = style.HeatScale([1, 3, 10, 40, 300, 5000])
    positions = [scale.position(n) for n in (1, 2, 3, 10, 40, 300, 5000)]
    assert positions == sorted(positions) and positions[0] == 0.0 and positions[-1] == 1.0
    lum = [style.relative_luminance(scale.color(n)) for n in (1, 2, 3, 10, 40, 300, 5000)]
    assert lum == sorted(lum) and lum[0] < lum[-1]

    graph = version_graph(synced, "v1")
    viewer.set_graph(graph)
    reached = sorted((s.reached, s.key) for s in graph.steps if s.reached > 0)
    fills = [style.relative_luminance(viewer.scene.nodes[k].colors.fill) for _, k in reached]
    assert fills == sorted(fills)
    assert viewer.legend.heat_bar.tick_values()[0] == reached[0][0]
    assert viewer.legend.heat_bar.tick_values()[-1] == reached[-1][0]


def test_text_stays_legible_on_every_heat_colour():
    for i in range(101):
        fill = style.colormap(i / 100)
        assert style.contrast_ratio(style.text_on(fill), fill) >= 4.5


@pytest.mark.parametrize("dark", [False, True])
def test_status_and_path_colours_read_on_light_and_dark_palettes(dark):
    palette = QPalette()
    base = QColor("#1e1e1e") if dark else QColor("#ffffff")
    palette.setColor(QPalette.ColorRole.Window, base)
    palette.setColor(QPalette.ColorRole.Base, base)
    palette.setColor(QPalette.ColorRole.Text, QColor("#e6e6e6") if dark else QColor("#111111"))
    palette.setColor(QPalette.ColorRole.Highlight, QColor("#3d7bd9"))
    for status in ("COMPLETED", "RUNNING", "FAILED", "EXPIRED", "CANCELED"):
        assert style.contrast_ratio(style.status_color(status, palette), base) >= 3.0
    assert style.contrast_ratio(style.path_color(palette), base) >= 3.0
    assert style.contrast_ratio(style.loop_color(palette), base) >= 3.0


def test_a_loop_is_drawn_as_a_back_edge(synced, viewer):
    keys = _keys(synced)
    viewer.set_graph(version_graph(synced, "v1"))
    loops = [e for e in viewer.scene.edges if e.is_back_edge]
    assert [(e.source_key, e.target_key) for e in loops] == [(keys["s4"], keys["s3"])]
    forward = [e for e in viewer.scene.edges if not e.is_back_edge]
    assert all(e.color != loops[0].color for e in forward if e.source_key != e.target_key)


def test_unknown_types_and_placeholders_render(synced, viewer):
    keys = _keys(synced)
    viewer.set_graph(version_graph(synced, "v1"))
    mystery = viewer.scene.nodes[keys["s7"]]
    assert mystery.detail_text == "Mystery step"  # words, not the API's raw name
    assert "MYSTERY_STEP: type not recognised" in mystery.toolTip()
    placeholder = viewer.scene.nodes[keys["s99"]]
    assert placeholder.detail_text == "Not executed yet"
    assert placeholder.colors.dashed
    assert viewer.status_label.text() == "8 steps (+1 not executed yet)"
    image = viewer.grab()  # paints every item, in detailed and in overview drawing
    assert not image.isNull()
    viewer.view.set_zoom(0.3)
    assert not viewer.grab().isNull()


def test_unreached_steps_are_quiet(viewer):
    graph = FlowGraph(
        "v",
        None,
        [
            GraphStep(1, "a", "Start", "TEMPLATE", 86400, 1, False, 10, 10, {}),
            GraphStep(2, "b", "Never", "MESSAGE", None, 2, False, 0, 0, {}),
        ],
        [GraphEdge(1, 2, ("Next",), ("default",), 0)],
        [1],
    )
    viewer.set_graph(graph)
    never = viewer.scene.nodes[2]
    assert never.colors.dashed and "not reached" in never.detail_text
    assert viewer.scene.edges[0].dotted


def _menu_graph(counts: list[int]) -> FlowGraph:
    """A menu (1) whose options (2, 3, …) each lead to an answer that goes back to the menu."""
    steps = [GraphStep(1, "menu", "Main menu", "QUESTION", None, 1, False, 500, 900, {})]
    edges = []
    for n, count in enumerate(counts):
        option, answer = 2 + 2 * n, 3 + 2 * n
        steps += [
            GraphStep(option, f"o{n}", f"Option {n}", "MESSAGE", None, option, False, count, count),
            GraphStep(answer, f"a{n}", f"Answer {n}", "MESSAGE", None, answer, False, count, count),
        ]
        edges += [
            GraphEdge(1, option, (f"Press {n}",), ("default",), count),
            GraphEdge(option, answer, (), ("default",), count),
            GraphEdge(answer, 1, ("Back",), ("default",), count),
        ]
    return FlowGraph("v", None, steps, edges, [1])


def test_the_line_loops_share_names_every_loop_and_is_as_thick_as_all(viewer):
    """Loops back into one step share one line: hovering it showed the topmost loop's tooltip
    only, drawn as thick as the busiest loop. It now lists every loop with its contacts, and
    its thickness counts them all."""
    from PySide6.QtWidgets import QGraphicsItem

    counts = [40, 25, 9, 3]
    viewer.set_graph(_menu_graph(counts))
    scene = viewer.scene
    loops = [e for e in scene.edges if e.is_back_edge]
    assert len(loops) == len(counts)
    # The end every loop shares: just before the arrow into the menu.
    end = loops[0].points[-1]
    before = loops[0].points[-2]
    point = before + (end - before) * 0.5
    hit = [
        item
        for item in scene.items(point, Qt.ItemSelectionMode.IntersectsItemShape)
        if item.toolTip()
    ]
    topmost = max(hit, key=QGraphicsItem.zValue)
    tip = topmost.toolTip()
    assert "4 loops back to Main menu share this line" in tip
    for n, count in enumerate(counts):
        assert f"from Answer {n} (Back): {count}" in tip
    assert tip.index("Answer 0") < tip.index("Answer 1") < tip.index("Answer 3")  # busiest first
    assert "77 contacts took them together" in tip
    assert topmost.width > max(e.width for e in loops)
    # Where a loop leaves its own step it is alone: its own arrow answers there.
    first = loops[-1].points[0]
    alone = [i for i in scene.items(first) if i.toolTip()]
    assert all("share this line" not in i.toolTip() for i in alone)
    # A traced path dims the shared line like every other arrow.
    viewer.highlight_path([_entry("COMPLETED", step_key=1), _entry("COMPLETED", step_key=2)])
    assert scene.trunks and all(t.opacity() == DIM_OPACITY for t in scene.trunks)


def test_a_wrapped_split_draws_its_rows_and_its_shared_line_names_the_options(viewer):
    """A split of 30 categories continues on the rows below; the line down to them names the
    options it carries."""
    steps = [GraphStep(1, "split", "Split by id", "CONDITION", None, 1, False, 300, 300, {})]
    edges = []
    for n in range(30):
        steps.append(GraphStep(2 + n, f"c{n}", f"Tip {n}", "MESSAGE", None, 2 + n, False, 10, 10))
        edges.append(GraphEdge(1, 2 + n, (f"Category {n}",), ("default",), 10))
    viewer.set_graph(FlowGraph("v", None, steps, edges, [1]))
    scene = viewer.scene
    tops = {round(scene.nodes[2 + n].y()) for n in range(30)}
    assert len(tops) == 3  # three rows of options
    assert scene.graph_rect.width() < 13 * (216 + 36)  # a row of 12, not one of 30
    lines = [t for t in scene.trunks if "options of Split by id share this line" in t.toolTip()]
    assert lines
    widest = max(lines, key=lambda t: len(t.members))
    assert len(widest.members) == 18  # the options past the first row
    assert "to Tip 29 (Category 29): 10" in widest.toolTip()


def test_node_tooltip_gives_reach_visits_endings_and_wait(synced, viewer):
    keys = _keys(synced)
    viewer.set_graph(version_graph(synced, "v1"))
    tip = viewer.scene.nodes[keys["s3"]].toolTip()
    assert "Ask order number" in tip and "Question" in tip
    assert "Reached: 2 contacts" in tip
    assert "Visits: 3 (1 repeat visit through loops)" in tip
    tip = viewer.scene.nodes[keys["s2"]].toolTip()
    assert "Ended here: Expired 1, Ongoing 1" in tip
    assert "Waits up to 24 h" in tip


def test_no_graph_shows_an_explanation(viewer, synced):
    viewer.set_graph(None)
    assert viewer.stack.currentWidget() is viewer.empty_label
    assert "No flow version selected" in viewer.empty_label.text()
    assert not viewer.fit_button.isEnabled()
    viewer.set_graph(version_graph(synced, "v1"))
    assert viewer.stack.currentWidget() is viewer.view
    viewer.set_graph(FlowGraph("v", None, [], [], []))
    assert "No steps known" in viewer.empty_label.text()
    assert viewer.scene.nodes == {}


def test_zoom_buttons_keys_and_wheel_change_the_transform(synced, viewer, qtbot):
    viewer.set_graph(version_graph(synced, "v1"))
    viewer.show()
    qtbot.waitExposed(viewer)
    start = viewer.view.transform().m11()
    viewer.zoom_in()
    assert viewer.view.transform().m11() == pytest.approx(start * 1.25)
    viewer.zoom_out()
    viewer.zoom_out()
    assert viewer.view.transform().m11() == pytest.approx(start / 1.25)
    qtbot.keyClick(viewer.view, Qt.Key.Key_Plus)
    assert viewer.view.transform().m11() == pytest.approx(start)
    center = QPointF(viewer.view.viewport().rect().center())
    wheel = QWheelEvent(
        center,
        viewer.view.viewport().mapToGlobal(center),
        QPoint(),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    viewer.view.wheelEvent(wheel)
    assert viewer.view.transform().m11() == pytest.approx(start * 1.25)
    viewer.fit()
    rect = viewer.view.mapFromScene(viewer.scene.graph_rect).boundingRect()
    assert viewer.view.viewport().rect().contains(rect)


def test_double_click_on_a_step_activates_it(synced, viewer, qtbot):
    keys = _keys(synced)
    viewer.set_graph(version_graph(synced, "v1"))
    viewer.show()
    qtbot.waitExposed(viewer)
    node = viewer.scene.nodes[keys["s5"]]
    point = viewer.view.mapFromScene(node.sceneBoundingRect().center())
    with qtbot.waitSignal(viewer.stepActivated) as blocker:
        qtbot.mouseDClick(viewer.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert blocker.args == [keys["s5"]]


def test_click_focuses_a_step_enter_opens_it_and_dragging_a_card_pans(synced, viewer, qtbot):
    keys = _keys(synced)
    viewer.set_graph(version_graph(synced, "v1"))
    viewer.show()
    qtbot.waitExposed(viewer)
    viewer.view.set_zoom(2.0)
    node = viewer.scene.nodes[keys["s3"]]
    viewer.view.centerOn(node)
    point = viewer.view.mapFromScene(node.sceneBoundingRect().center())
    qtbot.mouseClick(viewer.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert node.focused and viewer.view.focused_key == keys["s3"]
    with qtbot.waitSignal(viewer.stepActivated) as blocker:
        qtbot.keyClick(viewer.view, Qt.Key.Key_Return)
    assert blocker.args == [keys["s3"]]

    before = viewer.view.mapToScene(viewer.view.viewport().rect().center())
    viewport = viewer.view.viewport()
    # QTest's mouseMove carries no pressed button, so the drag is sent as plain events.
    left = Qt.MouseButton.LeftButton
    for kind, offset, buttons in [
        (QEvent.Type.MouseButtonPress, 0, left),
        *[(QEvent.Type.MouseMove, -dx, left) for dx in range(20, 140, 20)],
        (QEvent.Type.MouseButtonRelease, -120, Qt.MouseButton.NoButton),
    ]:
        pos = QPointF(point + QPoint(offset, 0))
        event = QMouseEvent(
            kind, pos, viewport.mapToGlobal(pos), left, buttons, Qt.KeyboardModifier.NoModifier
        )
        QApplication.sendEvent(viewport, event)
    after = viewer.view.mapToScene(viewer.view.viewport().rect().center())
    assert after.x() > before.x()  # the canvas followed the hand to the left


def test_palette_change_rebuilds_colours_and_keeps_the_path(synced, viewer):
    keys = _keys(synced)
    viewer.set_graph(version_graph(synced, "v1"))
    viewer.highlight_path(run_detail(synced, _run_key(synced, "r3")).path)
    palette = QPalette(viewer.palette())
    palette.setColor(QPalette.ColorRole.Base, QColor("#1e1e1e"))
    palette.setColor(QPalette.ColorRole.Window, QColor("#2b2b2b"))
    palette.setColor(QPalette.ColorRole.Text, QColor("#e6e6e6"))
    viewer.setPalette(palette)
    assert viewer.scene.backgroundBrush().color() == QColor("#1e1e1e")
    assert viewer.scene.badges[keys["s3"]].text == "3, 5"


def test_highlighted_path_is_numbered_in_order_and_the_rest_dimmed(synced, viewer):
    keys = _keys(synced)
    graph = version_graph(synced, "v1")
    viewer.set_graph(graph)
    detail = run_detail(synced, _run_key(synced, "r3"))
    viewer.highlight_path(detail.path)
    scene = viewer.scene
    badges = {key: badge.text for key, badge in scene.badges.items()}
    assert badges == {
        keys["s1"]: "1",
        keys["s2"]: "2",
        keys["s3"]: "3, 5",
        keys["s4"]: "4",
        keys["s5"]: "6",
        keys["s7"]: "7",
    }
    for key, node in scene.nodes.items():
        assert node.on_path == (key in badges)
        assert node.opacity() == (1.0 if key in badges else DIM_OPACITY)
    times = [formatting.clock(e.executed_at) for e in detail.path if e.step_key == keys["s3"]]
    assert scene.nodes[keys["s3"]].path_text == f"at {times[0]}, {times[1]}"
    assert "Failed" in scene.nodes[keys["s7"]].path_text
    walked = {
        (keys[a], keys[b])
        for a, b in [
            ("s1", "s2"),
            ("s2", "s3"),
            ("s3", "s4"),
            ("s4", "s3"),
            ("s3", "s5"),
            ("s5", "s7"),
        ]
    }
    for edge in scene.edges:
        assert edge.on_path == ((edge.source_key, edge.target_key) in walked)
        assert edge.opacity() == (1.0 if edge.on_path else DIM_OPACITY)
    assert "showing a path of 7 steps" in viewer.status_label.text()

    viewer.highlight_path(None)
    assert scene.badges == {}
    assert all(n.opacity() == 1.0 and not n.on_path for n in scene.nodes.values())
    assert all(e.opacity() == 1.0 and not e.on_path for e in scene.edges)


def test_highlight_brings_the_path_into_view(synced, viewer, qtbot):
    keys = _keys(synced)
    viewer.set_graph(version_graph(synced, "v1"))
    viewer.show()
    qtbot.waitExposed(viewer)
    viewer.view.set_zoom(2.0)
    viewer.view.centerOn(viewer.scene.nodes[keys["s99"]])
    viewer.highlight_path(run_detail(synced, _run_key(synced, "r3")).path)
    visible = viewer.view.mapToScene(viewer.view.viewport().rect()).boundingRect()
    assert visible.intersects(viewer.scene.nodes[keys["s7"]].sceneBoundingRect())


def test_a_path_highlighted_while_hidden_is_brought_into_view_on_show(synced, viewer, qtbot):
    keys = _keys(synced)
    viewer.set_graph(version_graph(synced, "v1"))
    viewer.highlight_path(run_detail(synced, _run_key(synced, "r3")).path)
    viewer.show()
    qtbot.waitExposed(viewer)
    visible = viewer.view.mapToScene(viewer.view.viewport().rect()).boundingRect()
    for key in ("s1", "s7"):
        assert visible.contains(viewer.scene.nodes[keys[key]].sceneBoundingRect())


def test_centering_on_a_step_selects_it(synced, viewer, qtbot):
    keys = _keys(synced)
    viewer.set_graph(version_graph(synced, "v1"))
    viewer.show()
    qtbot.waitExposed(viewer)
    viewer.center_on_step(keys["s7"])
    node = viewer.scene.nodes[keys["s7"]]
    assert node.focused
    visible = viewer.view.mapToScene(viewer.view.viewport().rect()).boundingRect()
    assert visible.contains(node.sceneBoundingRect().center())


def test_interactive_widgets_have_accessible_names(synced, viewer):
    viewer.set_graph(version_graph(synced, "v1"))
    timeline = PathTimeline()
    try:
        for widget in (viewer, timeline):
            interactive = [
                w
                for kind in (QAbstractButton, QGraphicsView, QAbstractItemView)
                for w in widget.findChildren(kind)
            ]
            assert interactive
            assert all(w.accessibleName() for w in interactive), [
                type(w).__name__ for w in interactive if not w.accessibleName()
            ]
    finally:
        timeline.deleteLater()


# -- timeline ------------------------------------------------------------------------------------


@pytest.fixture
def timeline(qtbot):
    widget = PathTimeline()
    qtbot.addWidget(widget)
    return widget


def test_timeline_model_passes_the_model_tester(synced, qtbot):
    model = TimelineModel()
    tester = QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    model.set_path(run_detail(synced, _run_key(synced, "r3")).path)
    model.set_path([])
    model.set_path(run_detail(synced, _run_key(synced, "r1")).path)
    model.set_palette(QPalette())
    assert tester is not None and model.rowCount() == 5


def test_timeline_rows_equal_the_path(synced, timeline):
    detail = run_detail(synced, _run_key(synced, "r3"))
    timeline.set_run(detail)
    model = timeline.model
    assert model.rowCount() == len(detail.path) == 7
    for row, entry in enumerate(detail.path):
        assert model.index(row, TimelineModel.NUMBER).data() == str(row + 1)
        assert model.index(row, TimelineModel.STEP).data().startswith(entry.step_name)
        assert model.index(row, 0).data(StepKeyRole) == entry.step_key
        assert model.index(row, TimelineModel.STATUS).data() == style.status_word(entry.status)
    failed = model.index(6, TimelineModel.STATUS)
    assert failed.data() == "Failed"
    assert failed.data(Qt.ItemDataRole.DecorationRole) is not None  # coloured dot beside the word
    assert "\u26a0" in model.index(6, TimelineModel.STEP).data()  # the step's error
    assert "Mystery step" in model.index(6, TimelineModel.STEP).data()
    assert "waited 1 min" in model.index(1, TimelineModel.WHEN).data()  # menu answered
    assert "reported an error" in timeline.details.text()  # first problem shown in full
    header = timeline.header.text()
    assert "José Núñez" in header and "+5215512345678" in header
    assert "Failed" in header and "External API failed: HTTP 502" in header
    assert "Version First" in header


def test_timeline_without_run_explains_itself(timeline, synced):
    timeline.set_run(run_detail(synced, _run_key(synced, "r1")))
    timeline.set_run(None)
    assert timeline.model.rowCount() == 0
    assert "No contact selected" in timeline.header.text()


def test_selecting_a_timeline_row_centres_the_viewer(synced, timeline, viewer, qtbot):
    keys = _keys(synced)
    viewer.set_graph(version_graph(synced, "v1"))
    timeline.stepSelected.connect(viewer.center_on_step)
    timeline.set_run(run_detail(synced, _run_key(synced, "r3")))
    with qtbot.waitSignal(timeline.stepSelected) as blocker:
        timeline.select_step_number(7)
    assert blocker.args == [keys["s7"]]
    assert viewer.scene.nodes[keys["s7"]].focused


def _entry(status: str, step_type: str = "QUESTION", wait: int | None = 86400, **kw) -> PathEntry:
    values = dict(
        seq=0,
        step_key=1,
        step_id="s",
        step_name="Ask",
        step_type=step_type,
        status=status,
        status_reason="",
        has_error=False,
        executed_at=1_000_000,
        expire_on=None,
        wait_seconds=wait,
        error="",
    )
    values.update(kw)
    return PathEntry(**values)


def test_wait_and_expiry_wording():
    nxt = _entry(DONE, executed_at=1_000_000 + 2 * 3600 + 14 * 60)
    assert wait_text(_entry(DONE), nxt, 2_000_000) == "waited 2 h 14 min"
    assert wait_text(_entry("EXPIRED"), None, 2_000_000) == "expired after 24 h"
    running = _entry("RUNNING", expire_on=1_000_000 + 86400)
    assert wait_text(running, None, 1_000_000 + 3600).startswith("expires ")
    assert "(in 23 h)" in wait_text(running, None, 1_000_000 + 3600)
    assert wait_text(_entry(DONE, step_type="MESSAGE", wait=None), nxt, 0) == ""
    assert formatting.duration(45) == "45 s"
    assert formatting.duration(3 * 86400 + 4 * 3600) == "3 d 4 h"
    assert formatting.share(0.0834) == "8.3%"
    assert formatting.share(None) == "\u2014"


def test_step_names_stay_readable_in_a_narrow_timeline(synced, qtbot):
    """Names wrap instead of shrinking to "…"; a narrow panel shows the status as its dot."""
    timeline = PathTimeline()
    qtbot.addWidget(timeline)
    timeline.resize(290, 700)
    timeline.show()
    timeline.set_run(run_detail(synced, _run_key(synced, "r3")))
    qtbot.wait(20)
    view, model = timeline.view, timeline.model
    metrics = view.fontMetrics()
    # The style's text margin on each side of an item (as QStyledItemDelegate lays text out).
    margin = 2 * (view.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 1)
    for row in range(model.rowCount()):
        index = model.index(row, TimelineModel.STEP)
        rect = view.visualRect(index)
        text = index.data()
        widest_word = max(metrics.horizontalAdvance(word) for word in text.split())
        assert rect.width() - margin >= widest_word, (text, rect.width())
        wrapped = metrics.boundingRect(
            QRect(0, 0, rect.width() - margin, 10_000), int(Qt.TextFlag.TextWordWrap), text
        )
        assert rect.height() >= wrapped.height(), (text, rect.height(), wrapped.height())
    status = model.index(6, TimelineModel.STATUS)
    assert "Failed" in status.data(Qt.ItemDataRole.ToolTipRole)
    assert status.data(Qt.ItemDataRole.DecorationRole) is not None
    timeline.resize(700, 700)
    qtbot.wait(20)
    assert model.index(6, TimelineModel.STATUS).data() == "Failed"  # room for the word again


def test_a_step_in_a_loop_has_one_share_at_any_zoom(synced, viewer):
    """Ask order number (s3) is entered from the menu and again from the retry loop: its own
    "% of previous" is the share of the arrow into it, not a second figure counting the loop."""
    from flowdesk.core.queries import edge_share

    keys = _keys(synced)
    graph = version_graph(synced, "v1")
    viewer.set_graph(graph)
    into = next(e for e in graph.edges if (e.source_key, e.target_key) == (keys["s2"], keys["s3"]))
    assert any(
        (e.source_key, e.target_key) == (keys["s4"], keys["s3"]) for e in graph.edges
    )  # the loop back into it
    node = viewer.scene.nodes[keys["s3"]]
    assert node.share_text == f"{formatting.share(edge_share(graph, into))} of previous"
    # Zoomed out, the card keeps the percentage beside the reach.
    assert (
        node.overview_count() == f"{graph.step(keys['s3']).reached} · {node.share_text.split()[0]}"
    )


def _pixels_of(scene, rect, color: QColor) -> int:
    """How many pixels of ``rect`` (scene coordinates) the scene paints in ``color``."""
    from PySide6.QtGui import QImage, QPainter

    image = QImage(int(rect.width()) * 2, int(rect.height()) * 2, QImage.Format.Format_RGB32)
    image.fill(QColor("#808080"))
    painter = QPainter(image)
    scene.render(painter, image.rect(), rect)
    painter.end()
    want = color.rgb()
    return sum(
        1 for y in range(image.height()) for x in range(image.width()) if image.pixel(x, y) == want
    )


@pytest.mark.parametrize("dark", [False, True])
def test_a_step_where_runs_failed_is_marked_and_a_traced_failure_is_drawn_red(synced, viewer, dark):
    """Escalate (s7) is where r3 failed: its card carries "1 failed" in the theme's Failed
    colour; no other card has a mark. Tracing r3 outlines that card, and numbers it, in the
    Failed colour; the rest of the path keeps the path colour."""
    from flowdesk.ui import theme

    palette = theme.dark_palette() if dark else theme.light_palette()
    viewer.setPalette(palette)
    keys = _keys(synced)
    viewer.set_graph(version_graph(synced, "v1"))
    scene = viewer.scene
    failed = theme.status_color("failed", palette)
    marked = {key: node.failed_mark for key, node in scene.nodes.items() if node.failed_mark}
    assert list(marked) == [keys["s7"]]
    mark = marked[keys["s7"]]
    assert (mark.count, mark.text, mark.color) == (1, "1 failed", failed)
    assert "1 run ended failed" in mark.toolTip()
    # Visible: the mark paints the Failed colour on the card's corner, and stays in the scene.
    area = mark.sceneBoundingRect()
    assert _pixels_of(scene, area, failed) > 40
    assert scene.sceneRect().contains(area)
    clean = scene.nodes[keys["s6"]].sceneBoundingRect()
    assert _pixels_of(scene, clean, failed) == 0

    viewer.highlight_path(run_detail(synced, _run_key(synced, "r3")).path)
    traced = scene.nodes[keys["s7"]]
    assert traced.path_failed and traced.border_color() == failed
    assert scene.badges[keys["s7"]].color == failed
    for step_id in ("s1", "s2", "s3", "s5"):
        node = scene.nodes[keys[step_id]]
        assert not node.path_failed and node.border_color() == node.path_color
        assert scene.badges[keys[step_id]].color == node.path_color
    # A completed run's trace outlines nothing in red.
    viewer.highlight_path(run_detail(synced, _run_key(synced, "r1")).path)
    assert not any(node.path_failed for node in scene.nodes.values())


def test_reach_and_share_never_run_into_each_other_on_a_card(synced, viewer):
    """A busy step read "1,246 reached90.8% of previous": the share drops its words when both
    do not fit side by side; a quiet step keeps them."""
    from PySide6.QtGui import QFontMetricsF

    from flowdesk.ui.viewer.items import NODE_WIDTH

    keys = _keys(synced)
    viewer.set_graph(version_graph(synced, "v1"))
    node = viewer.scene.nodes[keys["s3"]]
    assert node.bottom_line() == (
        node.reached_text,
        node.share_text,
    )  # "9 reached", "… of previous"
    assert node.share_text.endswith("of previous")
    node.reached_text, node.share_text = "1,246,000 reached", "90.8% of previous"
    reached, share = node.bottom_line()
    assert (reached, share) == ("1,246,000 reached", "90.8%")
    count = QFontMetricsF(node.fonts.count).horizontalAdvance(reached)
    small = QFontMetricsF(node.fonts.small).horizontalAdvance(share)
    assert count + 8 + small <= NODE_WIDTH - 20
    node.share_text = "entry step"
    assert node.bottom_line()[1] == "entry step"
