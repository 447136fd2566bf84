"""RapidPro/TextIt exports and run archives, Twilio Studio definitions: read whole, then synced.

The fixtures under tests/fixtures/vendors/ are written to the published specs (RapidPro flow spec
13/14, Twilio Studio's flow definition schema): every router and widget kind, a loop, a subflow,
unknown types, unicode, and runs that completed, expired, were interrupted, failed or still wait.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
from pathlib import Path

import pytest

from flowdesk.core.formats import twilio
from flowdesk.core.formats.catalogue import NO_DEFINITION_NAME, Catalogue
from flowdesk.core.formats.common import FileFormatError
from flowdesk.core.formats.files import detect, read_flows
from flowdesk.core.integrity import mismatches
from flowdesk.core.queries import list_flows, list_versions, version_graph
from flowdesk.core.tasks import import_flow_file
from tests.factories import cache_content

FIXTURES = Path(__file__).parent.parent / "fixtures" / "vendors"
EXPORT = FIXTURES / "rapidpro_export_13.json"
ARCHIVE = FIXTURES / "rapidpro_runs.jsonl.gz"
STUDIO = FIXTURES / "twilio_studio_flow.json"
MAIN_FLOW = "a1b2c3d4-0000-4000-8000-000000009000"
SUB_FLOW = "a1b2c3d4-0000-4000-8000-000000009001"
MARCH_1 = 1772359200  # 2026-03-01 10:00 UTC


def copy(tmp_path: Path, source: Path, name: str | None = None, mtime: int = MARCH_1) -> Path:
    target = tmp_path / (name or source.name)
    shutil.copyfile(source, target)
    os.utime(target, (mtime, mtime))
    return target


def load(db, path: Path):
    report = import_flow_file(db, read_flows(path))
    assert report.outcome == "completed", report.message
    assert not report.problems
    return report


def graph_of(db, flow_id: str):
    flow = next(f for f in list_flows(db) if f.id == flow_id)
    graph = version_graph(db, flow.current_version_id)
    names = {s.key: s for s in graph.steps}
    edges = {(names[e.source_key].name, names[e.target_key].name): e for e in graph.edges}
    return flow, graph, {s.name: s for s in graph.steps}, edges


def test_a_rapidpro_export_becomes_flows_with_typed_steps_and_category_exits(db, tmp_path):
    path = copy(tmp_path, EXPORT)
    assert detect(path) == "rapidpro-export"
    load(db, path)
    flow, graph, steps, edges = graph_of(db, MAIN_FLOW)
    assert flow.name == "Clinic intake — Admisión 🏥"
    kinds = {name: step.step_type for name, step in steps.items()}
    assert kinds == {
        "¡Hola @contact.name! 👋 Welcome to the clinic line": "MESSAGE",
        "Consent": "QUESTION",
        "Please answer yes or no": "MESSAGE",
        "Split by @fields.age": "CONDITIONAL",
        "register": "ACTION",
        "Sorry, something went wrong": "MESSAGE",
        "Start Registro — datos": "GO_TO_FLOW",
        "Split by random": "CONDITIONAL",
        "Split by @contact.groups": "CONDITIONAL",
        "Menu choice": "MENU",
        "Summon owl": "SUMMON_OWL_NODE",  # an editor type nobody knows: kept, drawn generically
        "Gracias, adiós 🙏": "MESSAGE",
    }
    assert steps["Consent"].wait_seconds == 300  # the wait's own timeout
    assert steps["Menu choice"].wait_seconds == 7 * 24 * 3600  # no timeout: the flow's expiry
    assert edges[("Consent", "Split by @fields.age")].labels == ("Yes",)
    assert edges[("Consent", "Gracias, adiós 🙏")].labels == ("No", "No Response")
    assert edges[("Consent", "Gracias, adiós 🙏")].kinds == ("option", "alternate")
    assert edges[("Please answer yes or no", "Consent")].labels == ("Next",)  # the loop
    assert edges[("register", "Sorry, something went wrong")].labels == ("Failure",)
    assert edges[("Start Registro — datos", "Split by random")].labels == ("Complete",)
    assert edges[("Split by random", "Menu choice")].labels == ("Bucket 2",)
    assert edges[("Menu choice", "Menu choice")].labels == ("Other",)
    assert graph.entry_keys == [steps["¡Hola @contact.name! 👋 Welcome to the clinic line"].key]
    versions = list_versions(db, MAIN_FLOW)
    assert [v.name for v in versions] == ["Revision 42"]
    # Spec 14 subflow without a revision: its version is named by the file's date.
    assert [v.name for v in list_versions(db, SUB_FLOW)] == ["Imported 2026-03-01 10:00 UTC"]


def test_revision_zero_of_generated_exports_is_no_revision(db, tmp_path):
    data = json.loads(EXPORT.read_text(encoding="utf-8"))
    data["flows"][0]["revision"] = 0
    path = tmp_path / "generated.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    os.utime(path, (MARCH_1, MARCH_1))
    load(db, path)
    assert [v.name for v in list_versions(db, MAIN_FLOW)] == ["Imported 2026-03-01 10:00 UTC"]
    _, _, sub_steps, _ = graph_of(db, SUB_FLOW)
    assert {s.step_type for s in sub_steps.values()} == {"CONTACT_UPDATE"}
    assert not mismatches(db)


def test_importing_an_export_again_changes_nothing_and_an_edit_adds_a_version(db, tmp_path):
    path = copy(tmp_path, EXPORT)
    load(db, path)
    before = cache_content(db)
    load(db, path)
    assert cache_content(db) == before
    data = json.loads(path.read_text(encoding="utf-8"))
    data["flows"][0]["nodes"][0]["actions"][0]["text"] = "Welcome, version two"
    data["flows"][0]["revision"] = 43
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(data), encoding="utf-8")
    load(db, edited)
    versions = list_versions(db, MAIN_FLOW)
    assert sorted(v.name for v in versions) == ["Revision 42", "Revision 43"]
    flow, _, steps, _ = graph_of(db, MAIN_FLOW)
    assert "Welcome, version two" in steps
    assert [v.name for v in versions if v.id == flow.current_version_id] == ["Revision 43"]


def test_a_run_archive_maps_statuses_and_paths(db, tmp_path):
    load(db, copy(tmp_path, EXPORT))
    archive = copy(tmp_path, ARCHIVE)
    assert detect(archive) == "rapidpro-archive"
    report = load(db, archive)
    assert report.runs_changed == 6
    flow, graph, steps, edges = graph_of(db, MAIN_FLOW)
    counters = flow.counters
    assert (counters.contacts, counters.completed, counters.expired) == (6, 1, 1)
    assert (counters.canceled, counters.failed, counters.ongoing) == (1, 1, 2)
    assert steps["Consent"].reached == 6
    assert steps["Consent"].visits == 8  # one contact looped twice through the retry
    assert edges[("Please answer yes or no", "Consent")].runs == 1
    assert steps["Sorry, something went wrong"].ended["failed"] == 1
    statuses = dict(db.execute("SELECT id, status FROM runs").fetchall())
    assert statuses["a1b2c3d4-0000-4000-8000-000000007003"] == "CANCELED"  # interrupted
    assert statuses["a1b2c3d4-0000-4000-8000-000000007006"] == "RUNNING"  # waiting
    phones = {row[0] for row in db.execute("SELECT phone FROM runs")}
    assert "+250788000001" in phones and "+250788000002" in phones  # whatsapp: and tel: URNs
    assert not mismatches(db)
    # The plain (not gzipped) JSON lines file is the same archive.
    plain = tmp_path / "runs.jsonl"
    plain.write_bytes(gzip.decompress(ARCHIVE.read_bytes()))
    before = cache_content(db)
    load(db, plain)
    after = cache_content(db)
    assert {k: v for k, v in after.items() if k != "meta"} == {
        k: v for k, v in before.items() if k != "meta"
    }


def test_runs_before_their_definition_get_a_version_of_their_nodes(db, tmp_path):
    load(db, copy(tmp_path, ARCHIVE))
    versions = list_versions(db, MAIN_FLOW)
    assert [v.name for v in versions] == [NO_DEFINITION_NAME]
    _, graph, steps, edges = graph_of(db, MAIN_FLOW)
    assert len(graph.steps) == 12  # every node some run went through
    assert all(e.kinds == ("observed",) for e in edges.values())
    assert not mismatches(db)


def test_a_run_belongs_to_the_version_published_before_it_started():
    catalogue = Catalogue()
    for revision, date in ((1, "2026-01-01T00:00:00Z"), (2, "2026-02-01T00:00:00Z")):
        catalogue.add_definition(
            {
                "flow": {"id": "f", "name": "F"},
                "flow_version": {"id": f"f@{revision}", "created_on": date},
                "steps": [{"id": f"f@{revision}/a", "node": "a"}],
            }
        )
    assert catalogue.resolve("f", ["a"], 1768000000).id == "f@1"  # 2026-01-09
    assert catalogue.resolve("f", ["a"], 1771000000).id == "f@2"  # 2026-02-13
    assert catalogue.resolve("f", ["a"], 1000).id == "f@2"  # before both: the newest holding it
    assert catalogue.resolve("f", ["a", "zzz"], 1771000000).steps["zzz"]["step_type"] == "UNKNOWN"


def test_a_catalogue_of_stored_records_takes_the_current_version_from_the_flow():
    """The team server keeps each version as last written: one replaced since may still say
    it is current. The flow's own current_version decides, as a desktop cache's flows row does."""
    versions = [
        ("f", {"id": f"f@{n}", "created_on": date, "is_current_version": True})
        for n, date in ((1, "2026-01-01T00:00:00Z"), (2, "2026-02-01T00:00:00Z"))
    ]
    for current in ("f@1", "f@2"):
        catalogue = Catalogue.from_records(
            [{"id": "f", "name": "F", "current_version": current}],
            versions,
            [("f@1", {"id": "f@1/a", "node": "a"}), ("f@2", {"id": "f@2/b", "node": "b"})],
        )
        known = catalogue.versions["f"]
        assert [v.id for v in known] == ["f@1", "f@2"]  # oldest first, as from a cache
        assert [v.id for v in known if v.payload["is_current_version"]] == [current]
        assert catalogue.resolve("f", ["b"], 1771000000).id == "f@2"
        assert catalogue.resolve("f", ["zzz"], 1000).id == current  # no version holds it


def test_a_studio_definition_becomes_a_flow_named_by_its_description(db, tmp_path):
    path = copy(tmp_path, STUDIO)
    assert detect(path) == "twilio-definition"
    load(db, path)
    flow, graph, steps, edges = graph_of(db, next(f.id for f in list_flows(db)))
    assert flow.name == "Citas — clínica 🏥"
    assert {n: s.step_type for n, s in steps.items()} == {
        "Trigger": "TRIGGER",
        "saludo": "QUESTION",
        "recordatorio": "MESSAGE",
        "split_reply": "CONDITIONAL",
        "set_vars": "CONTACT_UPDATE",
        "http_book": "ACTION",
        "fn_confirm": "ACTION",
        "subflow_survey": "GO_TO_FLOW",
        "handoff": "TEAM",
        "say_hello": "MESSAGE",
        "gather": "QUESTION",
        "connect": "TEAM",
        "log_failure": "QUANTUM_TELEPORT",
    }
    assert graph.entry_keys == [steps["Trigger"].key]
    assert steps["saludo"].wait_seconds == 7200 and steps["gather"].wait_seconds == 5
    assert edges[("Trigger", "saludo")].labels == ("incomingMessage", "incomingRequest")
    assert edges[("saludo", "recordatorio")].kinds == ("alternate",)
    assert edges[("saludo", "recordatorio")].labels == ("timeout",)
    assert edges[("split_reply", "set_vars")].labels == ("Sí / yes",)
    assert edges[("split_reply", "saludo")].labels == ("noMatch",)
    assert edges[("recordatorio", "saludo")].labels == ("sent",)  # a loop


def test_a_studio_definition_without_description_is_named_by_its_file(db, tmp_path):
    data = json.loads(STUDIO.read_text(encoding="utf-8"))
    del data["description"]
    path = tmp_path / "Reminder flow.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    load(db, path)
    assert [f.name for f in list_flows(db)] == ["Reminder flow"]


@pytest.mark.parametrize(
    ("steps", "status", "expected"),
    [
        ([], "active", ("RUNNING", "")),
        ([{"name": "incomingMessage", "transitioned_to": "Ended"}], "ended", ("COMPLETED", "")),
        ([{"name": "timeout", "transitioned_to": "Ended"}], "ended", ("EXPIRED", "")),
        (
            [{"name": "failed", "transitioned_from": "http", "transitioned_to": "Ended"}],
            "ended",
            ("FAILED", "http: failed"),
        ),
        (
            [{"name": "incomingMessage", "transitioned_to": "ask"}],
            "ended",
            ("CANCELED", "Ended outside the flow (API or console)"),
        ),
    ],
)
def test_studio_execution_statuses(steps, status, expected):
    assert twilio.execution_status({"status": status}, steps) == expected


BROKEN_EXPORT = '{"version": "13", "flows": [\n  {"uuid": "x", "nodes": [}\n]}'


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("broken.json", BROKEN_EXPORT, "broken.json: line 2, column 27: invalid JSON"),
        (
            "no_uuid.json",
            json.dumps({"version": "13", "flows": [{"uuid": "f", "nodes": [{"exits": []}]}]}),
            "no_uuid.json: flows[0].nodes[0].uuid: missing",
        ),
        (
            "bad_exit.json",
            json.dumps(
                {
                    "version": "13",
                    "flows": [
                        {"uuid": "f", "nodes": [{"uuid": "n", "actions": [], "exits": []}]},
                        {
                            "uuid": "g",
                            "nodes": [
                                {
                                    "uuid": "m",
                                    "actions": [],
                                    "router": {
                                        "type": "switch",
                                        "categories": [
                                            {"uuid": "c", "name": "A", "exit_uuid": "e"}
                                        ],
                                    },
                                    "exits": [{"uuid": "other"}],
                                }
                            ],
                        },
                    ],
                }
            ),
            "bad_exit.json: flows[1].nodes[0].router.categories[0].exit_uuid: 'e' is not one",
        ),
        (
            "legacy.json",
            json.dumps({"version": 10, "flows": [{"uuid": "f", "action_sets": [], "nodes": []}]}),
            "legacy.json: flows[0]: a legacy RapidPro flow",
        ),
        (  # RapidPro 1.x-10.x exports wrapped each flow's rule sets in "definition"
            "clinic.json",
            json.dumps(
                {
                    "version": 3,
                    "flows": [{"id": 1, "name": "Clinic", "definition": {"action_sets": []}}],
                }
            ),
            "clinic.json: flows[0]: a legacy RapidPro flow",
        ),
        (
            "studio.json",
            json.dumps({"initial_state": "Trigger", "states": [{"name": "Trigger"}]}),
            "studio.json: states[0].type: missing",
        ),
        ("other.json", json.dumps({"hello": "world"}), "other.json: not a RapidPro export"),
    ],
)
def test_a_malformed_file_names_the_problem_and_imports_nothing(
    db, tmp_path, name, content, message
):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(FileFormatError) as caught:
        read_flows(path)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)
    assert db.execute("SELECT count(*) FROM flows").fetchone()[0] == 0


def test_a_bad_archive_line_refuses_the_whole_archive(db, tmp_path):
    lines = gzip.decompress(ARCHIVE.read_bytes()).decode("utf-8").splitlines()
    bad = json.loads(lines[3])
    bad["path"][1]["time"] = "yesterday"
    lines[3] = json.dumps(bad)
    path = tmp_path / "runs.jsonl.gz"
    path.write_bytes(gzip.compress("\n".join(lines).encode("utf-8")))
    with pytest.raises(FileFormatError, match=r"runs.jsonl.gz: line 4: run path\[1\].time"):
        read_flows(path)
    lines[3] = lines[3][:-5]
    path.write_bytes(gzip.compress("\n".join(lines).encode("utf-8")))
    with pytest.raises(FileFormatError, match=r"runs.jsonl.gz: line 4, column \d+: invalid JSON"):
        read_flows(path)


def test_a_csv_is_detected_as_a_results_file(tmp_path):
    path = tmp_path / "results.json"  # the name does not decide: the content does
    path.write_text("Phone,Status\n+1,Completed\n", encoding="utf-8")
    assert detect(path) == "csv"


def test_import_cli_says_what_it_found_and_refuses_bad_files_in_one_line(tmp_path, capsys):
    from flowdesk.cli import main

    cache = tmp_path / "rapidpro.db"
    assert main(["import", "--db", str(cache), str(copy(tmp_path, EXPORT))]) == 0
    err = capsys.readouterr().err
    assert "found: RapidPro/TextIt flow export (spec 13)" in err
    assert "completed: 2 flows, 2 definitions with 14 steps, 0 runs" in err
    assert main(["import", "--db", str(cache), str(copy(tmp_path, ARCHIVE))]) == 0
    err = capsys.readouterr().err
    assert "found: RapidPro run archive" in err and "6 runs (6 changed)" in err
    # A Studio definition does not go into a RapidPro workspace.
    assert main(["import", "--db", str(cache), str(copy(tmp_path, STUDIO))]) == 2
    err = capsys.readouterr().err
    assert err.startswith("flowdesk: ") and err.count("\n") == 1
    assert "holds RapidPro/TextIt files data" in err, err
    broken = tmp_path / "broken.json"
    broken.write_text(BROKEN_EXPORT, encoding="utf-8")
    fresh = tmp_path / "fresh.db"
    assert main(["import", "--db", str(fresh), str(broken)]) == 2
    err = capsys.readouterr().err
    assert err == "flowdesk: broken.json: line 2, column 27: invalid JSON (Expecting value)\n"
    assert not fresh.exists()


def test_import_cli_says_a_csv_is_a_results_file(tmp_path, capsys):
    from flowdesk.cli import main

    path = tmp_path / "results.csv"
    path.write_text("Phone,Status,Welcome\n+1555,Completed,2026-03-01 10:00\n", encoding="utf-8")
    assert main(["import", "--db", str(tmp_path / "c.db"), str(path)]) == 0
    assert "found: ActiveCampaign results CSV" in capsys.readouterr().err


@pytest.mark.parametrize("fixture", [EXPORT, STUDIO])
def test_imported_flows_lay_out_without_overlapping_labels(db, tmp_path, fixture):
    """Category names and Studio events are long and many a step: none may hide another."""
    from flowdesk.core.layout import LayoutEdge, LayoutNode, compute_layout

    load(db, copy(tmp_path, fixture))
    for flow in list_flows(db):
        graph = version_graph(db, flow.current_version_id)
        layout = compute_layout(
            [LayoutNode(str(s.key), 216.0, 76.0) for s in graph.steps],
            [
                LayoutEdge(str(e.source_key), str(e.target_key), "\n".join(e.labels))
                for e in graph.edges
            ],
        )
        labels = [e.label_rect for e in layout.edges if e.label_rect is not None]
        assert len(labels) == sum(1 for e in graph.edges if e.labels)
        boxes = [n.rect for n in layout.nodes.values()]
        for index, label in enumerate(labels):
            assert not any(label.intersects(other) for other in labels[index + 1 :])
            assert not any(label.intersects(box) for box in boxes)


def test_a_studio_flow_resource_keeps_its_sid_name_and_revision(db, tmp_path):
    """What `twilio api:studio:v2:flows:fetch -o json` or the REST API save: the definition
    inside a Flow resource."""
    resource = {
        "sid": "FW" + "1" * 32,
        "friendly_name": "Reminders",
        "revision": 7,
        "status": "published",
        "date_updated": "2026-02-01T09:30:00Z",
        "definition": json.loads(STUDIO.read_text(encoding="utf-8")),
    }
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(resource), encoding="utf-8")
    assert detect(path) == "twilio-definition"
    load(db, path)
    flow = list_flows(db)[0]
    assert (flow.id, flow.name) == ("FW" + "1" * 32, "Reminders")
    assert [v.name for v in list_versions(db, flow.id)] == ["Revision 7"]


def ivr_definition(options: int) -> dict:
    """A Studio IVR written to the definition schema: a gather menu whose every digit plays a
    message (some through an HTTP request first) and returns to the menu."""
    menu_matches = []
    states = [
        {
            "name": "Trigger",
            "type": "trigger",
            "transitions": [{"event": "incomingCall", "next": "main_menu"}],
            "properties": {"offset": {"x": 0, "y": 0}},
        },
        {
            "name": "main_menu",
            "type": "gather-input-on-call",
            "transitions": [
                {"event": "keypress", "next": "route_digit"},
                {"event": "speech"},
                {"event": "timeout", "next": "main_menu"},
            ],
            "properties": {"offset": {"x": 0, "y": 200}, "timeout": 5},
        },
    ]
    for digit in range(options):
        play = f"play_option_{digit}"
        menu_matches.append(
            {
                "event": "match",
                "next": f"lookup_{digit}" if digit % 3 == 0 else play,
                "conditions": [
                    {
                        "friendly_name": f"Pressed {digit} — opción {digit}",
                        "arguments": ["{{widgets.main_menu.Digits}}"],
                        "type": "equal_to",
                        "value": str(digit),
                    }
                ],
            }
        )
        if digit % 3 == 0:
            states.append(
                {
                    "name": f"lookup_{digit}",
                    "type": "make-http-request",
                    "transitions": [
                        {"event": "success", "next": play},
                        {"event": "failed", "next": "main_menu"},
                    ],
                    "properties": {"offset": {"x": digit * 250, "y": 600}},
                }
            )
        states.append(
            {
                "name": play,
                "type": "say-play",
                "transitions": [{"event": "audioComplete", "next": "main_menu"}],
                "properties": {"offset": {"x": digit * 250, "y": 800}},
            }
        )
    states.insert(
        2,
        {
            "name": "route_digit",
            "type": "split-based-on",
            "transitions": [{"event": "noMatch", "next": "main_menu"}, *menu_matches],
            "properties": {"offset": {"x": 0, "y": 400}, "input": "{{widgets.main_menu.Digits}}"},
        },
    )
    return {"description": "IVR menu", "initial_state": "Trigger", "states": states}


def test_an_ivr_whose_options_all_return_draws_one_line_into_its_menu(db, tmp_path):
    """30+ loops back into main_menu: bundled into one entry, labels still apart."""
    from flowdesk.core.layout import LayoutEdge, LayoutNode, compute_layout
    from tests.core.test_layout import assert_valid

    path = tmp_path / "ivr.json"
    path.write_text(json.dumps(ivr_definition(24), ensure_ascii=False), encoding="utf-8")
    load(db, path)
    _flow, graph, steps, _edges = graph_of(db, list_flows(db)[0].id)
    nodes = [LayoutNode(str(s.key), 216.0, 76.0) for s in graph.steps]
    edges = [
        LayoutEdge(str(e.source_key), str(e.target_key), "\n".join(e.labels)) for e in graph.edges
    ]
    layout = compute_layout(nodes, edges)
    assert_valid(layout, nodes, edges)
    menu = str(steps["main_menu"].key)
    loops = [e for e in layout.edges if e.target == menu and e.is_back_edge and not e.is_self_loop]
    assert len(loops) >= 30
    assert len({e.points[-1] for e in loops}) == 1
