"""The demo source: a deterministic simulation that walks contacts through real flow graphs."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from typing import Any

import pytest

from flowdesk.core.demo import DEFAULT_ANCHOR, DemoSource
from flowdesk.core.demo import source as demo_source
from flowdesk.core.demo.catalogue import build_catalogue
from flowdesk.core.demo.common import to_epoch
from flowdesk.core.model import KNOWN_STEP_TYPES, execution_method
from flowdesk.core.sources.base import Batch
from flowdesk.core.steps import transitions_for_step

CONTACTS = 1500
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
_ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


class FakeState:
    """Plays the cache: remembers the cursor and each run's latest status."""

    def __init__(self) -> None:
        self._cursor: dict[str, Any] = {}
        self.runs: dict[str, dict[str, Any]] = {}
        self.executions: dict[str, dict[str, Any]] = {}

    @property
    def cursor(self) -> dict[str, Any]:
        return self._cursor

    def known_run_status(self, run_id: str) -> str | None:
        run = self.runs.get(run_id)
        return None if run is None else run["status"]

    def active_run_ids(self) -> list[str]:
        return [i for i, r in self.runs.items() if r["status"] in ("READY", "RUNNING")]

    def commit(self, batch: Batch) -> None:
        for record in batch.records:
            target = self.runs if record.kind == "run" else self.executions
            target[record.data["id"]] = record.data
        self._cursor = dict(batch.cursor)


def sync(source: DemoSource, state: FakeState, stop_after: int | None = None) -> list[Batch]:
    """One sync: commit each batch like the engine does; optionally die after a few batches."""
    out = []
    for batch in source.batches(state, lambda: False):
        state.commit(batch)
        out.append(batch)
        if stop_after is not None and len(out) >= stop_after:
            break
    return out


def records(batches: list[Batch], kind: str) -> list[dict[str, Any]]:
    return [r.data for b in batches for r in b.records if r.kind == kind]


@pytest.fixture(scope="module")
def tick0() -> tuple[DemoSource, FakeState, list[Batch]]:
    source = DemoSource(seed=3, contacts=CONTACTS)
    state = FakeState()
    return source, state, sync(source, state)


@pytest.fixture(scope="module")
def runs(tick0) -> list[dict[str, Any]]:
    return records(tick0[2], "run")


@pytest.fixture(scope="module")
def executions(tick0) -> list[dict[str, Any]]:
    return records(tick0[2], "execution")


# -- catalogue ----------------------------------------------------------------------------------


def test_catalogue_has_varied_flows_and_versions():
    catalogue = build_catalogue(to_epoch(DEFAULT_ANCHOR))
    assert len(catalogue.flows) >= 7
    triggers = {f.trigger_type for f in catalogue.flows}
    assert {"INBOUND_ANY_MESSAGE", "INBOUND_SPECIFIC_MESSAGE"} <= triggers
    outbound = {"OUTBOUND_CAMPAIGN_API", "OUTBOUND_CAMPAIGN_CSV", "OUTBOUND_CAMPAIGN_SEGMENT"}
    assert outbound <= triggers
    step_ids: list[str] = []
    sizes = []
    for flow in catalogue.flows:
        assert 2 <= len(flow.versions) <= 4
        shapes = {tuple(s["step_type"] for s in v.steps) for v in flow.versions}
        assert len(shapes) == len(flow.versions), f"{flow.name}: versions must differ"
        assert len({v.published_by["id"] for v in flow.versions}) >= 1
        for version in flow.versions:
            sizes.append(len(version.steps))
            for step in version.steps:
                step_ids.append(step["id"])
                for key in (
                    "id",
                    "name",
                    "step_type",
                    "flow_version",
                    "next_step_default",
                    "next_step_alternate",
                    "next_steps_for_options",
                    "answer_options",
                    "answer_failed_next_step",
                    "ordering_idx",
                    "has_max_wait_time",
                    "max_wait_time_amount",
                    "max_wait_time_unit",
                ):
                    assert key in step, (flow.name, step["name"], key)
                assert step["flow_version"] == version.id
                if step["step_type"] == "MENU":
                    options = step["answer_options"]
                    assert len(options) == len(step["next_steps_for_options"])
                    if step["answer_options_render"] == "BUTTONS":
                        assert len(options) <= 3 and all(len(o) <= 20 for o in options)
                    else:
                        assert len(options) <= 10
    assert len(step_ids) == len(set(step_ids)), "step ids are unique across versions"
    assert any(40 <= n <= 60 for n in sizes)
    publishers = {v.published_by["id"] for f in catalogue.flows for v in f.versions}
    assert len(publishers) >= 4


# -- tick 0 -------------------------------------------------------------------------------------


def test_source_identity():
    source = DemoSource()
    assert (source.kind, source.name) == ("demo", "Demo workspace")
    assert (source.seed, source.contacts, source.anchor) == (1, 5000, DEFAULT_ANCHOR)


def test_tick0_size_is_about_contacts(runs):
    assert 0.85 * CONTACTS <= len(runs) <= 1.15 * CONTACTS
    distinct = len({r["contact"]["id"] for r in runs})
    assert 0.65 <= distinct / len(runs) <= 0.85


def test_same_seed_same_records_and_other_seed_differs():
    first = records(sync(DemoSource(seed=11, contacts=400), FakeState()), "run")
    again = records(sync(DemoSource(seed=11, contacts=400), FakeState()), "run")
    other = records(sync(DemoSource(seed=12, contacts=400), FakeState()), "run")
    assert first == again
    assert [r["id"] for r in first] != [r["id"] for r in other]
    assert [r["status"] for r in first] != [r["status"] for r in other]


def test_every_path_follows_its_version_graph(runs):
    checked = 0
    for run in runs:
        steps = run["execution_steps"]
        versions = {s["step"]["flow_version"] for s in steps}
        assert versions <= {run["flow_version"]["id"]}
        if steps:
            assert steps[0]["step"]["ordering_idx"] == 0, "runs enter at the first step"
        for previous, current in zip(steps, steps[1:], strict=False):
            targets = {t.target for t in transitions_for_step(previous["step"])}
            assert current["step"]["id"] in targets, (run["id"], previous["step"]["name"])
            assert previous["created_on"] <= current["created_on"]
            checked += 1
    assert checked > len(runs)


def test_statuses_and_reasons(runs):
    statuses = Counter(r["status"] for r in runs)
    assert set(statuses) == {"READY", "RUNNING", "COMPLETED", "CANCELED", "EXPIRED", "FAILED"}
    assert statuses["COMPLETED"] > len(runs) * 0.4
    reasons = [r["status_reason"] or "" for r in runs]
    for prefix in (
        "Contact had an open Inbox conversation",
        "Canceled manually by ",
        "Message not sent: (#",
        "External API failed: HTTP",
        "No reply from the",
    ):
        assert any(reason.startswith(prefix) for reason in reasons), prefix
    for run in runs:
        steps = run["execution_steps"]
        if run["status"] == "READY":
            assert steps == []
        elif run["status"] == "RUNNING":
            assert steps and steps[-1]["status"] in ("RUNNING", "COMPLETED")
        elif run["status"] in ("EXPIRED", "FAILED") and steps:
            assert steps[-1]["status"] == run["status"]
        elif run["status"] == "COMPLETED":
            assert steps[-1]["status"] == "COMPLETED"
        if run["status"] in ("CANCELED", "FAILED", "EXPIRED"):
            assert run["status_reason"]
    failed_sends = [s for r in runs for s in r["execution_steps"] if s["messages"]]
    assert failed_sends
    assert all(m["message"]["provider_error_code"] for s in failed_sends for m in s["messages"])


def test_waiting_steps_carry_expiry_and_running_ones_are_last(runs):
    waiting = [s for r in runs for s in r["execution_steps"] if s["status"] == "RUNNING"]
    assert waiting
    for run in runs:
        for step in run["execution_steps"][:-1]:
            assert step["status"] != "RUNNING"
    assert any(s["expire_on"] for s in waiting)
    delays = [s for s in waiting if s["step"]["step_type"] == "DELAY"]
    assert delays, "some runs are ongoing inside a Delay"


def test_loops_unknown_types_and_repeat_entries(runs):
    looped = [
        r
        for r in runs
        if len({s["step"]["id"] for s in r["execution_steps"]}) < len(r["execution_steps"])
    ]
    assert looped
    assert any(s["validation_failed_attempts"] for r in looped for s in r["execution_steps"])
    unknown = {s["step"]["step_type"] for r in runs for s in r["execution_steps"]} - set(
        KNOWN_STEP_TYPES
    )
    assert "AI_AGENT" in unknown
    entries = Counter((r["contact"]["id"], r["flow"]["id"]) for r in runs)
    assert any(n > 1 for n in entries.values())
    assert any(r["is_test"] for r in runs) or len(runs) < 1000


def test_branches_are_exercised(runs):
    """Most edges of the busiest versions are taken by someone."""
    by_version: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        by_version.setdefault(run["flow_version"]["id"], []).append(run)
    taken_labels = set()
    for version_runs in by_version.values():
        for run in version_runs:
            steps = run["execution_steps"]
            for previous, current in zip(steps, steps[1:], strict=False):
                for t in transitions_for_step(previous["step"]):
                    if t.target == current["step"]["id"]:
                        taken_labels.add(t.kind)
    assert {"default", "alternate", "option", "path", "failed"} <= taken_labels


def test_outbound_runs_reference_executions(runs, executions):
    ids = {e["id"] for e in executions}
    for run in runs:
        outbound = run["flow"]["trigger_type"].startswith("OUTBOUND")
        if outbound:
            assert run["flow_execution"] in ids
        else:
            assert run["flow_execution"] is None
    methods = {
        execution_method(e["execute_for"], e["contact_import"], e["contact_filters"])
        for e in executions
    }
    assert methods == {"api", "csv", "filter"}
    creators = {None if e["created_by"] is None else e["created_by"]["id"] for e in executions}
    assert None in creators and len(creators) >= 3
    for e in executions + [r["flow_version"] for r in runs] + [r["flow"] for r in runs]:
        assert not {"num_contacts", "expired", "running", "completed", "canceled", "failed"} & set(
            e
        )
    statuses = {e["status"] for e in executions}
    assert {"READY", "RUNNING", "COMPLETED"} <= statuses


def test_executions_come_before_their_runs(tick0):
    seen: set[str] = set()
    for batch in tick0[2]:
        for record in batch.records:
            if record.kind == "execution":
                seen.add(record.data["id"])
            elif record.data["flow_execution"] is not None:
                assert record.data["flow_execution"] in seen


def test_record_shapes_and_shared_definitions(runs):
    definitions: dict[str, int] = {}
    flows: dict[str, int] = {}
    for run in runs:
        assert _ISO.match(run["created_on"]) and _ISO.match(run["status_last_change_on"])
        contact = run["contact"]
        assert _E164.match(contact["phone"]), contact["phone"]
        for key in (
            "id",
            "first_name",
            "last_name",
            "email",
            "created_on",
            "last_updated_on",
            "source",
        ):
            assert key in contact
        assert id(run["flow"]) == flows.setdefault(run["flow"]["id"], id(run["flow"]))
        for step in run["execution_steps"]:
            assert _ISO.match(step["created_on"])
            assert id(step["step"]) == definitions.setdefault(step["step"]["id"], id(step["step"]))
        current = run["flow"]["current_version"]
        assert run["flow_version"]["is_current_version"] == (run["flow_version"]["id"] == current)
    assert len({r["id"] for r in runs}) == len(runs)
    step_ids = [s["id"] for r in runs for s in r["execution_steps"]]
    assert len(set(step_ids)) == len(step_ids)


def test_contacts_are_diverse_and_awkward(runs):
    contacts = {r["contact"]["id"]: r["contact"] for r in runs}.values()
    codes = {c["phone"][:3] for c in contacts}
    assert len(codes) >= 8
    names = [c["first_name"] or "" for c in contacts] + [c["last_name"] or "" for c in contacts]
    assert any(not n.isascii() for n in names)
    assert any(c["last_name"] is None for c in contacts)
    assert any(c["last_name"] == "" for c in contacts)
    assert any(c["email"] is None for c in contacts)
    assert any(n[:1] in ("=", "+", "@", "-") for n in names)
    assert len({c["phone"] for c in contacts}) == len(contacts)


def test_single_run_can_be_resimulated(tick0, runs):
    source = tick0[0]
    fresh = DemoSource(seed=3, contacts=CONTACTS)
    for run in runs[:: max(1, len(runs) // 50)]:
        assert fresh.run_record(run["id"], 0) == run
    assert source.run_record("not-a-demo-id") is None


# -- incremental syncs ----------------------------------------------------------------------------


def test_incremental_sync_adds_runs_and_finishes_active_ones():
    source = DemoSource(seed=5, contacts=CONTACTS)
    state = FakeState()
    sync(source, state)
    assert state.cursor == {"tick": 0, "phase": "done"}
    before = {i: dict(r) for i, r in state.runs.items()}
    active = set(state.active_run_ids())
    assert active

    batches = sync(source, state)
    assert state.cursor == {"tick": 1, "phase": "done"}
    emitted = records(batches, "run")
    new = [r for r in emitted if r["id"] not in before]
    seen_again = [r for r in emitted if r["id"] in before]
    assert new, "new runs started in the last six hours"
    anchor = source.tick_time(0)
    assert all(source.world.iso(anchor) < r["created_on"] for r in new)
    assert seen_again, "some active runs moved on"
    assert {r["id"] for r in seen_again} <= active, "finished runs are never re-emitted"
    changed_status = [r for r in seen_again if r["status"] != before[r["id"]]["status"]]
    assert any(r["status"] not in ("READY", "RUNNING") for r in changed_status)
    for run in seen_again:
        old_steps = before[run["id"]]["execution_steps"]
        new_steps = run["execution_steps"]
        assert len(new_steps) >= len(old_steps)
        for old, cur in zip(old_steps[:-1], new_steps, strict=False):
            assert old == cur, "history never changes"
        assert run != before[run["id"]]
    assert 0.002 * CONTACTS <= len(new) <= 0.03 * CONTACTS

    # A day later Black Friday v3 is published and the weekend execution runs on it.
    later = [r for _ in range(6) for r in records(sync(source, state), "run")]
    assert state.cursor["tick"] == 7
    v3 = [r for r in later if r["flow_version"]["version_name"].startswith("v3 – Personal")]
    assert v3 and all(r["flow_version"]["is_current_version"] for r in v3)
    assert all(r["flow"]["current_version"] == r["flow_version"]["id"] for r in v3)
    assert {r["flow_execution"] for r in v3} <= set(state.executions)


def _resume_equivalence(tick_before: int, stop_after: int, batch: int, monkeypatch) -> None:
    monkeypatch.setattr(demo_source, "BATCH_RUNS", batch)
    whole_state, cut_state = FakeState(), FakeState()
    source = DemoSource(seed=9, contacts=CONTACTS)
    for _ in range(tick_before):
        sync(source, whole_state)
        sync(DemoSource(seed=9, contacts=CONTACTS), cut_state)
    whole = sync(source, whole_state)
    first = sync(DemoSource(seed=9, contacts=CONTACTS), cut_state, stop_after=stop_after)
    assert len(whole) > stop_after + 1
    rest = sync(DemoSource(seed=9, contacts=CONTACTS), cut_state)
    assert cut_state.cursor == whole_state.cursor
    assert cut_state.runs == whole_state.runs
    assert cut_state.executions == whole_state.executions
    ids_whole = Counter(r.data["id"] for b in whole for r in b.records)
    ids_cut = Counter(r.data["id"] for b in first + rest for r in b.records)
    assert ids_whole == ids_cut


def test_resume_after_interrupted_first_sync(monkeypatch):
    _resume_equivalence(0, 3, 150, monkeypatch)


def test_resume_after_interrupted_incremental_sync(monkeypatch):
    # Cut inside the phase that re-observes active runs.
    _resume_equivalence(1, 2, 20, monkeypatch)


def test_cancel_stops_between_batches(monkeypatch):
    monkeypatch.setattr(demo_source, "BATCH_RUNS", 100)
    source = DemoSource(seed=2, contacts=600)
    calls = {"n": 0}

    def cancelled() -> bool:
        calls["n"] += 1
        return calls["n"] > 2

    batches = list(source.batches(FakeState(), cancelled))
    assert 1 <= len(batches) <= 2


def test_progress_is_reported(tick0):
    batches = tick0[2]
    assert all(b.total and 0 < b.done <= b.total for b in batches)
    assert batches[-1].done == batches[-1].total
    assert all(b.note for b in batches)


def test_custom_anchor_moves_the_world():
    anchor = datetime.fromisoformat("2025-03-01T08:30:00+00:00")
    runs = records(sync(DemoSource(seed=1, contacts=300, anchor=anchor), FakeState()), "run")
    assert runs
    assert max(r["created_on"] for r in runs) <= "2025-03-01T08:30:00Z"
    assert min(r["created_on"] for r in runs) >= "2024-12-31T08:30:00Z"
