"""Comparing two versions: the step diff, the verdict at its edges, the numbers from a cache."""

from __future__ import annotations

import copy

import pytest

from flowdesk.core.compare import (
    CompareError,
    compare_versions,
    comparison_json,
    default_pair,
    diff_versions,
)
from flowdesk.core.compare.diff import spec_from_definition
from flowdesk.core.compare.report import Side, _verdict
from flowdesk.core.compare.stats import wilson_interval
from flowdesk.core.queries import Counters, VersionInfo, list_versions
from flowdesk.core.sync import SyncEngine
from tests.factories import FLOW, PATH_LOOP_THEN_FAIL, VERSION, ListSource, run, runs_batch, step

# -- the diff ------------------------------------------------------------------------------------


def _specs(*definitions):
    return [spec_from_definition(d) for d in definitions]


OLD = [
    step("a1", "TEMPLATE", "Welcome", default="a2", ordering=1),
    step("a2", "MENU", "Main menu", options=["a3", "a4"], labels=["Order", "Agent"], ordering=2),
    step("a3", "QUESTION", "Ask order number", default="a5", ordering=3),
    step("a4", "TEAM", "Hand to agent", ordering=4),
    step("a5", "END", "Goodbye", ordering=5),
]


def _new():
    """The next version: every step under a new id, as the upstream publishes versions."""
    return [
        step("b1", "TEMPLATE", "Hello there", default="b2", ordering=1),  # renamed entry
        step(
            "b2",
            "MENU",
            "Main menu",
            options=["b3", "b4"],
            labels=["Order", "Agent"],
            alternate="b6",  # a new "No reply" branch
            wait=2,  # waits 2 h instead of the default 24 h
            ordering=2,
        ),
        step("b3", "QUESTION", "Ask order number", default="b5", ordering=3),  # the same
        step("b4", "TEAM", "Hand to agent", ordering=4),
        step("b5", "END", "Goodbye", ordering=5),
        step("b6", "TAG", "Tag: no reply", default="b5", ordering=6),  # added
    ]


def test_diff_matches_by_name_and_type_and_places_a_renamed_step():
    old = copy.deepcopy(OLD)
    old[3] = step("a4", "ACTION", "Open ticket", ordering=4)  # gone in the new version
    new = _new()
    new[3] = step("b4", "TEAM", "Hand to agent", ordering=4)
    diff = diff_versions(_specs(*old), _specs(*new))
    status = {(c.a.id if c.a else None, c.b.id if c.b else None): c.status for c in diff.steps}
    assert status == {
        ("a1", "b1"): "changed",
        ("a2", "b2"): "changed",
        ("a3", "b3"): "same",
        ("a5", "b5"): "same",
        (None, "b4"): "added",
        (None, "b6"): "added",
        ("a4", None): "removed",
    }
    changes = {c.step.id: c.changes for c in diff.changed}
    assert changes["b1"] == ("renamed from “Welcome”",)
    assert changes["b2"] == (
        "wait 24 h → 2 h",
        "new exit Agent → Hand to agent, No reply → Tag: no reply",
        "exit removed Agent → Open ticket",
    )
    transitions = {(t.status, t.source, t.target, t.label) for t in diff.transitions}
    assert transitions == {
        ("added", "Main menu", "Tag: no reply", "No reply"),
        ("added", "Tag: no reply", "Goodbye", "Next"),
        # the Agent option now leads to a step that did not exist before
        ("added", "Main menu", "Hand to agent", "Agent"),
        ("removed", "Main menu", "Open ticket", "Agent"),
    }


def test_diff_matches_by_id_first_and_reports_type_text_and_exits():
    old = copy.deepcopy(OLD)
    old[2]["body"] = "What's your order number?"
    new = copy.deepcopy(OLD)
    new[2] = step("a3", "MENU", "Order number please", options=["a5"], labels=["Skip"])
    new[2]["body"] = "Your order number?"
    diff = diff_versions(_specs(*old), _specs(*new))
    (changed,) = diff.changed
    assert (changed.a.id, changed.b.id) == ("a3", "a3")
    assert changed.changes == (
        "renamed from “Ask order number”",
        "type Question → Menu",
        "new exit Skip → Goodbye",
        "exit removed Answered → Goodbye",
        "changed options, message text",
    )
    assert not diff.added and not diff.removed


def test_identical_versions_have_an_empty_diff_even_under_new_ids():
    renumbered = [
        step("x1", "TEMPLATE", "Welcome", default="x2", ordering=1),
        step("x2", "MENU", "Main menu", options=["x3", "x4"], labels=["Order", "Agent"]),
        step("x3", "QUESTION", "Ask order number", default="x5", ordering=3),
        step("x4", "TEAM", "Hand to agent", ordering=4),
        step("x5", "END", "Goodbye", ordering=5),
    ]
    diff = diff_versions(_specs(*OLD), _specs(*renumbered))
    assert diff.is_empty
    assert [c.status for c in diff.steps] == ["same"] * 5


def test_ambiguous_renames_stay_added_and_removed():
    """Two unmatched steps of the same type in the same place: no guess."""
    old = [step("a1", "MESSAGE", "Start", options=["a2", "a3"], labels=["x", "y"])]
    old += [step("a2", "TAG", "Tag one"), step("a3", "TAG", "Tag two")]
    new = [step("b1", "MESSAGE", "Start", options=["b2", "b3"], labels=["x", "y"])]
    new += [step("b2", "TAG", "Tag uno"), step("b3", "TAG", "Tag dos")]
    diff = diff_versions(_specs(*old), _specs(*new))
    assert {c.status for c in diff.steps if c.step.step_type == "TAG"} == {"added", "removed"}


# -- the verdict ---------------------------------------------------------------------------------


def _side(name: str, contacts: int, completed: int, waited: int = 0, responded: int = 0) -> Side:
    counters = Counters(contacts, 0, 0, 0, contacts - completed, completed, waited, responded)
    version = VersionInfo(name, "f", name, "", "", 0, False, counters, None)
    return Side(
        version, counters, wilson_interval(completed, contacts), wilson_interval(responded, waited)
    )


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (
            _side("v2", 0, 0),
            _side("v3", 0, 0),
            "Not enough contacts yet to tell: neither version has contacts yet.",
        ),
        (
            _side("v2", 500, 250),
            _side("v3", 0, 0),
            "Not enough contacts yet to tell: v3 has no contacts yet.",
        ),
        (
            _side("v2", 0, 0),
            _side("v3", 40, 20),
            "Not enough contacts yet to tell: v2 has no contacts yet.",
        ),
        (
            _side("v2", 10_000, 5_000),
            _side("v3", 10_000, 5_420),
            "v3 completes 4.2 points more often than v2 (±1.4).",
        ),
        (
            _side("v2", 10_000, 5_420),
            _side("v3", 10_000, 5_000),
            "v3 completes 4.2 points less often than v2 (±1.4).",
        ),
        (
            _side("v2", 40, 20),
            _side("v3", 40, 22),
            "Not enough contacts yet to tell whether v3 completes more or less often than v2"
            " (+5.0 points, ±21.2).",
        ),
        (
            _side("v2", 200_000, 100_000),
            _side("v3", 200_000, 100_000),
            "v3 and v2 complete about as often (±0.3 points).",
        ),
    ],
)
def test_verdict_in_words(a, b, expected):
    assert _verdict(a, b, same_version=False) == expected


def test_verdict_adds_replies_when_both_sides_asked_for_them():
    a = _side("v2", 10_000, 5_000, waited=8_000, responded=6_000)
    b = _side("v3", 10_000, 5_420, waited=8_000, responded=6_320)
    assert _verdict(a, b, same_version=False) == (
        "v3 completes 4.2 points more often than v2 (±1.4)."
        " v3 gets replies 4.0 points more often (±1.3)."
    )


def test_verdict_names_versions_by_their_tag():
    a = _side("v2 – Menu and error handling", 10_000, 5_000, waited=100, responded=50)
    b = _side("v3 – AI assistant", 10_000, 5_420, waited=100, responded=52)
    assert _verdict(a, b, same_version=False) == (
        "v3 completes 4.2 points more often than v2 (±1.4)."
        " Replies: not enough contacts yet to tell (+2.0 points, ±13.6)."
    )


def test_verdict_for_a_version_compared_with_itself():
    side = _side("v3", 100, 50)
    assert _verdict(side, side, same_version=True) == (
        "v3 is compared with itself: pick two different versions."
    )


# -- from a synced cache -------------------------------------------------------------------------

V2 = {
    "id": "v2",
    "version_name": "Second",
    "version_description": "shorter",
    "published_by": VERSION["published_by"],
    "created_on": "2026-10-20T09:00:00Z",
    "is_current_version": True,
}
V1 = {**VERSION, "is_current_version": False}
V2_STEPS = {
    "t1": step("t1", "TEMPLATE", "Welcome", default="t2", ordering=1),
    "t2": step("t2", "MENU", "Main menu", options=["t3", "t5"], labels=["Order", "Agent"]),
    "t3": step("t3", "QUESTION", "Ask order number", default="t5", ordering=3),
    "t5": step("t5", "ACTION", "Look up order", default="t6", ordering=5),
    "t6": step("t6", "END", "Goodbye", ordering=6),
}
DONE = "COMPLETED"


def _run(run_id, path, status, *, version=V1, day="2026-11-01", start=0):
    if version is V2:  # the factory knows v1's steps: build with them, then swap in v2's
        path = [("s" + step_id[1:], step_status) for step_id, step_status in path]
    record = run(run_id, path, status, contact=run_id, version=version, start=start)
    record["flow"] = {**FLOW, "current_version": "v2"}
    record["created_on"] = record["created_on"].replace("2026-11-01", day)
    for item in record["execution_steps"]:
        item["created_on"] = item["created_on"].replace("2026-11-01", day)
        if version is V2:
            item["step"] = V2_STEPS["t" + item["step"]["id"][1:]]
    return record


@pytest.fixture
def two_versions(db):
    full = [("t1", DONE), ("t2", DONE), ("t3", DONE), ("t5", DONE), ("t6", DONE)]
    records = [
        # v1, long ago: two completed, one expired at the menu, one failed at the action
        _run(
            "a1", [("s1", DONE), ("s2", DONE), ("s5", DONE), ("s6", DONE)], DONE, day="2026-10-25"
        ),
        _run(
            "a2", [("s1", DONE), ("s2", DONE), ("s5", DONE), ("s6", DONE)], DONE, day="2026-10-25"
        ),
        _run("a3", [("s1", DONE), ("s2", "EXPIRED")], "EXPIRED", day="2026-10-25"),
        _run(
            "a4",
            [("s1", DONE), ("s2", DONE), ("s5", DONE), ("s7", "FAILED")],
            "FAILED",
            day="2026-10-26",
        ),
        _run("a5", PATH_LOOP_THEN_FAIL, "FAILED", day="2026-10-26", start=30),
        # v2: three old and completed, two recent and still waiting at the menu
        *(_run(f"b{i}", full, DONE, version=V2, day="2026-10-28") for i in range(3)),
        _run("b3", [("t1", DONE), ("t2", "RUNNING")], "RUNNING", version=V2, start=5),
        _run("b4", [("t1", DONE), ("t2", "RUNNING")], "RUNNING", version=V2, start=9),
    ]
    report = SyncEngine(db).run(ListSource([runs_batch(*records)]))
    assert report.outcome == "completed"
    return db


def test_default_pair_is_current_against_previous(two_versions):
    versions = list_versions(two_versions, "f1")
    assert default_pair(versions) == ("v1", "v2")
    assert default_pair(versions[:1]) is None


def test_comparison_reads_counters_and_steps(two_versions):
    comparison = compare_versions(two_versions, "f1", "v1", "v2")
    a, b = comparison.a.counters, comparison.b.counters
    assert (a.contacts, a.completed, b.contacts, b.completed, b.ongoing) == (5, 2, 5, 3, 2)
    assert comparison.completion.value == pytest.approx(3 / 5 - 2 / 5)
    assert [c.step.name for c in comparison.diff.removed] == ["Invalid number", "Escalate"]
    assert comparison.diff.added == []
    assert comparison.caveat == (
        "Second has 2 of 5 contacts still in the flow (40 %): its rates will move as they finish."
    )
    menu = next(s for s in comparison.shifts if s.name == "Main menu")
    assert (menu.a_reach, menu.b_reach) == (1.0, 1.0)
    assert (menu.a_loss, menu.b_loss) == (0.2, 0.0)
    action = next(s for s in comparison.shifts if s.name == "Look up order")
    assert (action.a_reach, action.b_reach) == (0.8, 0.6)
    assert comparison.shifts[0].size >= comparison.shifts[-1].size
    escalate = next(s for s in comparison.only_a if s.name == "Escalate")
    assert (escalate.a_reach, escalate.a_loss, escalate.b_reach) == (0.4, 0.4, None)


def test_finished_only_equals_a_recount_of_old_runs(two_versions):
    db = two_versions
    comparison = compare_versions(db, "f1", "v1", "v2", finished_only=True)
    assert comparison.longest_wait == 24 * 3600
    as_of = db.execute("SELECT max(last_activity) FROM runs").fetchone()[0]
    assert comparison.entered_by == as_of - 24 * 3600
    for side in (comparison.a, comparison.b):
        expected = db.execute(
            "SELECT count(*), sum(metric = 'completed'), sum(metric = 'ongoing'), sum(waited),"
            " sum(responded) FROM runs WHERE version_id = ? AND entered_at <= ?",
            [side.version.id, comparison.entered_by],
        ).fetchone()
        c = side.counters
        assert (c.contacts, c.completed, c.ongoing, c.waited, c.responded) == expected
    assert comparison.b.counters.contacts == 3
    assert comparison.caveat == ""
    assert comparison.completion.value == pytest.approx(1.0 - 0.4)
    menu = next(s for s in comparison.shifts if s.name == "Main menu")
    assert menu.b_reach == 1.0


def test_unknown_version_is_refused(two_versions):
    with pytest.raises(CompareError, match="no version 'v9'"):
        compare_versions(two_versions, "f1", "v1", "v9")


def test_json_contract(two_versions):
    data = comparison_json(compare_versions(two_versions, "f1", "v1", "v2"))
    for side, expected in (("a", ("v1", "First", 5, 2)), ("b", ("v2", "Second", 5, 3))):
        item = data[side]
        assert (item["id"], item["name"], item["contacts"], item["completed"]) == expected
        assert item["completion_rate"] == expected[3] / expected[2]
        assert 0 <= item["response_rate"] <= 1
    difference = data["difference"]["completion_rate"]
    assert difference["value"] == pytest.approx(0.2)
    assert difference["low"] < 0.2 < difference["high"]
    assert set(data["difference"]["response_rate"]) == {"value", "low", "high"}
    assert data["verdict"].startswith("Not enough contacts yet to tell whether Second completes")
    assert data["steps"]["removed"] == [
        {"id": "s4", "name": "Invalid number"},
        {"id": "s7", "name": "Escalate"},
    ]
    assert data["steps"]["added"] == []
    assert data["steps"]["changed"] == [
        {"id": "t2", "name": "Main menu", "changes": ["exit removed No reply → Goodbye"]},
        {
            "id": "t3",
            "name": "Ask order number",
            "changes": ["exit removed Answer failed → Invalid number"],
        },
        {"id": "t5", "name": "Look up order", "changes": ["exit removed Error → Escalate"]},
    ]


def test_a_version_compared_with_itself(two_versions):
    comparison = compare_versions(two_versions, "f1", "v2", "v2")
    assert comparison.diff.is_empty
    assert comparison.completion.value == 0.0
    assert comparison.verdict == "Second is compared with itself: pick two different versions."
    assert all(s.reach_change == 0.0 for s in comparison.shifts)
