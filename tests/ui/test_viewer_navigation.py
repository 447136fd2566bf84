"""Finding one's way in big real-world flows: step search, the overview map, zoom to the path."""

from __future__ import annotations

import json
import shutil

import pytest
from PySide6.QtCore import QPoint, Qt

from flowdesk.core.formats.files import read_flows
from flowdesk.core.queries import list_flows, run_detail, version_graph
from flowdesk.core.step_search import find_steps, fold
from flowdesk.core.tasks import import_flow_file
from flowdesk.ui.viewer import FlowViewer
from flowdesk.ui.viewer.viewer import READABLE_SCALE
from tests.core.test_vendor_files import ARCHIVE, EXPORT, MAIN_FLOW, STUDIO

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


@pytest.fixture
def clinic(db, tmp_path):
    """The RapidPro fixture flow (12 steps, a loop, unicode) with its six runs."""
    for source in (EXPORT, ARCHIVE):
        target = tmp_path / source.name
        shutil.copyfile(source, target)
        assert import_flow_file(db, read_flows(target)).outcome == "completed"
    flow = next(f for f in list_flows(db) if f.id == MAIN_FLOW)
    return version_graph(db, flow.current_version_id)


@pytest.fixture
def viewer(qtbot):
    widget = FlowViewer()
    qtbot.addWidget(widget)
    widget.resize(900, 600)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_search_matches_words_of_names_types_and_ids_ignoring_case_and_accents(clinic):
    names = {s.key: s.name for s in clinic.steps}
    assert fold("Admisión ÅSK") == "admision ask"
    found = find_steps(clinic.steps, "gracias ADIOS")
    assert [names[k] for k in found] == ["Gracias, adiós 🙏"]
    assert len(find_steps(clinic.steps, "split by")) == 3  # expression, random, groups
    assert len(find_steps(clinic.steps, "conditional")) == 3  # the raw type matches too
    found = find_steps(clinic.steps, "condition", type_label=lambda t: "Condition")
    assert len(found) == len(clinic.steps)  # every step's label was "Condition" here
    assert find_steps(clinic.steps, "   ") == []


def test_the_search_box_walks_through_matches_top_to_bottom(clinic, viewer, qtbot):
    viewer.set_graph(clinic)
    matches = viewer.find_step("message")
    assert len(matches) == 4  # send_msg nodes: welcome, retry, failure, goodbye
    tops = [viewer.scene.nodes[k].sceneBoundingRect().top() for k in matches]
    assert tops == sorted(tops)
    assert viewer.view.focused_key == matches[0]
    assert viewer.match_label.text() == "1 of 4"
    assert viewer.view.scale_factor() >= 0.75  # readable on arrival
    qtbot.keyClick(viewer.search_edit, Qt.Key.Key_Return)
    assert viewer.view.focused_key == matches[1] and viewer.match_label.text() == "2 of 4"
    for _ in range(3):
        viewer.next_match()
    assert viewer.view.focused_key == matches[0]  # wraps round
    viewer.find_step("no such step anywhere")
    assert viewer.match_label.text() == "No step"
    qtbot.keyClick(viewer.search_edit, Qt.Key.Key_Escape)
    assert viewer.search_edit.text() == "" and viewer.match_label.text() == ""


def test_the_overview_map_shows_when_the_flow_overflows_and_moves_the_view(clinic, viewer, qtbot):
    viewer.set_graph(clinic)
    viewer.fit()
    assert not viewer.minimap.isVisible()  # all of it in view: no map needed
    viewer.view.set_zoom(1.5)
    viewer.minimap.place()
    assert viewer.minimap.isVisible()
    frame = viewer.minimap.frame_rect()
    assert not frame.isEmpty() and frame.width() < viewer.minimap.width()
    before = viewer.view.mapToScene(viewer.view.viewport().rect().center())
    corner = QPoint(viewer.minimap.width() - 6, viewer.minimap.height() - 6)
    qtbot.mouseClick(viewer.minimap, Qt.MouseButton.LeftButton, pos=corner)
    after = viewer.view.mapToScene(viewer.view.viewport().rect().center())
    assert after.y() > before.y()  # moved towards the bottom of the flow
    assert viewer.minimap.frame_rect() != frame


def test_zoom_to_path_brings_the_trace_back(db, clinic, viewer, qtbot):
    viewer.set_graph(clinic)
    assert not viewer.path_button.isEnabled()
    run_key = db.execute(
        "SELECT key FROM runs WHERE id = 'a1b2c3d4-0000-4000-8000-000000007001'"
    ).fetchone()[0]
    viewer.highlight_path(run_detail(db, run_key).path)
    assert viewer.path_button.isEnabled()
    last = viewer.scene.nodes[viewer._path[-1].step_key]
    viewer.view.centerOn(-5000, -5000)  # the user wandered off
    viewer.view.userNavigated.emit()
    assert (
        not viewer.view.mapToScene(viewer.view.viewport().rect())
        .boundingRect()
        .intersects(last.sceneBoundingRect())
    )
    qtbot.mouseClick(viewer.path_button, Qt.MouseButton.LeftButton)
    shown = viewer.view.mapToScene(viewer.view.viewport().rect()).boundingRect()
    assert shown.intersects(last.sceneBoundingRect())


def test_a_studio_flow_renders_its_unknown_widgets(db, tmp_path, viewer):
    target = tmp_path / STUDIO.name
    shutil.copyfile(STUDIO, target)
    import_flow_file(db, read_flows(target))
    flow = list_flows(db)[0]
    viewer.set_graph(version_graph(db, flow.current_version_id))
    assert len(viewer.scene.nodes) == 13
    assert viewer.find_step("quantum") and viewer.match_label.text() == "1 of 1"


def test_a_flow_too_big_to_fit_legibly_opens_readable_on_its_entry(db, tmp_path, viewer):
    """Real flows of 50-110 steps used to open fitted at 30 %, their names eight pixels high."""
    data = json.loads(EXPORT.read_text(encoding="utf-8"))
    flow = data["flows"][0]
    first = flow["nodes"][0]
    # Forty more messages in a row before the welcome: far too tall to fit at a legible scale.
    chain = []
    for index in range(40):
        uuid = f"c0000000-0000-4000-8000-{index:012d}"
        following = f"c0000000-0000-4000-8000-{index + 1:012d}" if index < 39 else first["uuid"]
        chain.append(
            {
                "uuid": uuid,
                "actions": [{"uuid": uuid, "type": "send_msg", "text": f"Tip {index + 1}"}],
                "exits": [{"uuid": uuid[:-1] + "e", "destination_uuid": following}],
            }
        )
    flow["nodes"] = chain + flow["nodes"]
    path = tmp_path / "long.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    import_flow_file(db, read_flows(path))
    graph = version_graph(
        db, next(f for f in list_flows(db) if f.id == MAIN_FLOW).current_version_id
    )
    viewer.set_graph(graph)
    assert viewer.view.scale_factor() == pytest.approx(READABLE_SCALE)
    entry = viewer.scene.nodes[graph.entry_keys[0]]
    shown = viewer.view.mapToScene(viewer.view.viewport().rect()).boundingRect()
    assert shown.contains(entry.sceneBoundingRect())
    assert viewer.minimap.isVisible()  # the rest of the flow is one click away
