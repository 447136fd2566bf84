"""Two versions of a flow side by side: what changed in their steps, how each performed, whether
the difference is real, and where in the flow it came from.

Everything is read from maintained counters (versions, step_stats) and the step definitions;
the "old enough to have finished" option reads only the runs that entered after its cut-off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlite_utils

from flowdesk.core.compare.diff import StepChange, StepSpec, VersionDiff, diff_versions
from flowdesk.core.compare.diff import load_version_steps as _load_steps
from flowdesk.core.compare.outcome import Outcome, StepTally, flow_as_of, version_outcome
from flowdesk.core.compare.stats import Interval, newcombe_difference, wilson_interval
from flowdesk.core.compare.verdict import (
    missing_contacts,
    rate_sentence,
    reply_sentence,
    short_label,
)
from flowdesk.core.errors import UserError
from flowdesk.core.queries import Counters, VersionInfo, list_versions


class CompareError(UserError):
    """The versions asked for cannot be compared (unknown, another flow's, only one version)."""


@dataclass(frozen=True, slots=True)
class Side:
    """One version in the comparison, with its numbers in the chosen window."""

    version: VersionInfo
    counters: Counters
    completion: Interval | None
    response: Interval | None

    @property
    def label(self) -> str:
        return self.version.name or self.version.id

    @property
    def ongoing_share(self) -> float | None:
        return self.counters.share("ongoing")


@dataclass(frozen=True, slots=True)
class StepShift:
    """A step's reach share and loss share (of the version's contacts) in each version, and the
    change b − a; a side where the step does not exist is None."""

    name: str
    status: str  # as in the diff: same | changed | added | removed
    a_id: str | None
    b_id: str | None
    a_reach: float | None
    b_reach: float | None
    a_loss: float | None
    b_loss: float | None

    @property
    def reach_change(self) -> float | None:
        return _minus(self.b_reach, self.a_reach)

    @property
    def loss_change(self) -> float | None:
        return _minus(self.b_loss, self.a_loss)

    @property
    def size(self) -> float:
        """How much the step moved: the larger of its two changes."""
        return max(abs(self.reach_change or 0.0), abs(self.loss_change or 0.0))


def _minus(b: float | None, a: float | None) -> float | None:
    return None if a is None or b is None else b - a


@dataclass(frozen=True, slots=True)
class Comparison:
    flow_id: str
    a: Side
    b: Side
    diff: VersionDiff
    verdict: str
    caveat: str
    finished_only: bool
    entered_by: int | None  # the cut-off of "old enough to have finished", when used
    longest_wait: int
    shifts: tuple[StepShift, ...]  # steps in both versions, biggest change first
    only_a: tuple[StepShift, ...]  # removed steps, most reached first
    only_b: tuple[StepShift, ...]  # added steps, most reached first

    @property
    def completion(self) -> Interval | None:
        return newcombe_difference(
            self.a.counters.completed,
            self.a.counters.contacts,
            self.b.counters.completed,
            self.b.counters.contacts,
        )

    @property
    def response(self) -> Interval | None:
        return newcombe_difference(
            self.a.counters.responded,
            self.a.counters.waited,
            self.b.counters.responded,
            self.b.counters.waited,
        )

    @property
    def still_running(self) -> bool:
        return bool(self.a.counters.ongoing or self.b.counters.ongoing)


def default_pair(versions: list[VersionInfo]) -> tuple[str, str] | None:
    """Current vs previous: the current version (else the newest) and the one published before
    it (else the one after it). None when the flow has fewer than two versions."""
    if len(versions) < 2:
        return None
    index = next((i for i, v in enumerate(versions) if v.is_current), len(versions) - 1)
    other = index - 1 if index > 0 else index + 1
    return versions[other].id, versions[index].id


def longest_wait(*versions: list[StepSpec]) -> int:
    """The longest a run can sit at one step of either version: a reply wait or a delay."""
    return max((s.wait_seconds or 0 for steps in versions for s in steps), default=0)


def _side(version: VersionInfo, outcome: Outcome) -> Side:
    c = outcome.counters
    return Side(
        version,
        c,
        wilson_interval(c.completed, c.contacts),
        wilson_interval(c.responded, c.waited),
    )


def _share(count: int, total: int) -> float | None:
    return count / total if total else None


def _shifts(
    diff: VersionDiff, a: Outcome, b: Outcome
) -> tuple[tuple[StepShift, ...], tuple[StepShift, ...], tuple[StepShift, ...]]:
    def tally(outcome: Outcome, spec: StepSpec | None) -> StepTally | None:
        if spec is None:
            return None
        return outcome.steps.get(spec.key, StepTally()) if spec.key is not None else StepTally()

    def shift(change: StepChange) -> StepShift:
        ta, tb = tally(a, change.a), tally(b, change.b)
        na, nb = a.counters.contacts, b.counters.contacts
        return StepShift(
            change.step.name,
            change.status,
            change.a.id if change.a else None,
            change.b.id if change.b else None,
            None if ta is None else _share(ta.reached, na),
            None if tb is None else _share(tb.reached, nb),
            None if ta is None else _share(ta.lost, na),
            None if tb is None else _share(tb.lost, nb),
        )

    both = [shift(c) for c in diff.steps if c.a is not None and c.b is not None]
    both.sort(key=lambda s: (-s.size, s.name.casefold()))
    only_a = [shift(c) for c in diff.removed]
    only_a.sort(key=lambda s: (-(s.a_reach or 0.0), s.name.casefold()))
    only_b = [shift(c) for c in diff.added]
    only_b.sort(key=lambda s: (-(s.b_reach or 0.0), s.name.casefold()))
    return tuple(both), tuple(only_a), tuple(only_b)


def _verdict(a: Side, b: Side, same_version: bool) -> str:
    if same_version:
        return f"{b.label} is compared with itself: pick two different versions."
    a_name, b_name = short_label(a.label), short_label(b.label)
    if a_name == b_name:
        a_name, b_name = a.label, b.label
    completion = newcombe_difference(
        a.counters.completed, a.counters.contacts, b.counters.completed, b.counters.contacts
    )
    text = rate_sentence(
        b_name,
        a_name,
        completion,
        ("completes", "complete"),
        missing_contacts(a_name, a.counters.contacts, b_name, b.counters.contacts, "contacts"),
    )
    response = newcombe_difference(
        a.counters.responded, a.counters.waited, b.counters.responded, b.counters.waited
    )
    if completion is None or response is None:
        return text
    return f"{text} {reply_sentence(b_name, a_name, response)}"


def _caveat(a: Side, b: Side, finished_only: bool) -> str:
    running = [s for s in (b, a) if s.counters.ongoing]
    if not running:
        return ""
    parts = [
        f"{s.label} has {s.counters.ongoing:,} of {s.counters.contacts:,} contacts still in the"
        f" flow ({(s.ongoing_share or 0) * 100:.0f} %)"
        for s in running
    ]
    tail = (
        "even among runs old enough to have finished (a run can wait at several steps in turn)"
        if finished_only
        else "its rates will move as they finish"
        if len(running) == 1
        else "their rates will move as they finish"
    )
    return "; ".join(parts) + f": {tail}."


def compare_versions(
    db: sqlite_utils.Database,
    flow_id: str,
    a_id: str,
    b_id: str,
    *,
    finished_only: bool = False,
) -> Comparison:
    """Compare version ``b`` with version ``a`` of one flow (differences are b − a)."""
    versions = {v.id: v for v in list_versions(db, flow_id)}
    for version_id in (a_id, b_id):
        if version_id not in versions:
            raise CompareError(f"flow {flow_id} has no version {version_id!r}")
    steps_a, steps_b = _load_steps(db, a_id), _load_steps(db, b_id)
    diff = diff_versions(steps_a, steps_b)
    wait = longest_wait(steps_a, steps_b)
    entered_by = None
    if finished_only:
        as_of = flow_as_of(db, flow_id)
        entered_by = None if as_of is None else as_of - wait
    outcome_a = version_outcome(db, a_id, [s.key for s in steps_a if s.key is not None], entered_by)
    outcome_b = version_outcome(db, b_id, [s.key for s in steps_b if s.key is not None], entered_by)
    a, b = _side(versions[a_id], outcome_a), _side(versions[b_id], outcome_b)
    shifts, only_a, only_b = _shifts(diff, outcome_a, outcome_b)
    return Comparison(
        flow_id,
        a,
        b,
        diff,
        _verdict(a, b, a_id == b_id),
        _caveat(a, b, finished_only),
        finished_only,
        entered_by,
        wait,
        shifts,
        only_a,
        only_b,
    )


# -- JSON ----------------------------------------------------------------------------------------


def _interval(interval: Interval | None) -> dict[str, float] | None:
    return None if interval is None else interval.as_dict()


def _side_json(side: Side) -> dict[str, Any]:
    c = side.counters
    return {
        "id": side.version.id,
        "name": side.label,
        "is_current": side.version.is_current,
        "published_at": side.version.published_at,
        **c.as_dict(),
        "waited": c.waited,
        "responded": c.responded,
        "completion_rate": c.completion_rate,
        "completion_interval": _interval(side.completion),
        "response_rate": c.response_rate,
        "response_interval": _interval(side.response),
    }


def _shift_json(shift: StepShift) -> dict[str, Any]:
    return {
        "name": shift.name,
        "status": shift.status,
        "a": None
        if shift.a_id is None
        else {"id": shift.a_id, "reach": shift.a_reach, "loss": shift.a_loss},
        "b": None
        if shift.b_id is None
        else {"id": shift.b_id, "reach": shift.b_reach, "loss": shift.b_loss},
        "difference": {"reach": shift.reach_change, "loss": shift.loss_change},
    }


def comparison_json(comparison: Comparison) -> dict[str, Any]:
    """The comparison as ``flowdesk compare --json`` prints it: rates as fractions, differences
    b − a with their 95 % interval."""
    diff = comparison.diff

    def steps(changes: list[StepChange]) -> list[dict[str, Any]]:
        return [
            {
                "id": c.step.id,
                "name": c.step.name,
                **({"changes": list(c.changes)} if c.changes else {}),
            }
            for c in changes
        ]

    return {
        "flow": comparison.flow_id,
        "a": _side_json(comparison.a),
        "b": _side_json(comparison.b),
        "difference": {
            "completion_rate": _interval(comparison.completion),
            "response_rate": _interval(comparison.response),
        },
        "verdict": comparison.verdict,
        "caveat": comparison.caveat,
        "finished_only": comparison.finished_only,
        "entered_by": comparison.entered_by,
        "longest_wait_seconds": comparison.longest_wait,
        "steps": {
            "added": steps(diff.added),
            "removed": steps(diff.removed),
            "changed": steps(diff.changed),
            "transitions": {
                status: [
                    {"source": t.source, "target": t.target, "label": t.label}
                    for t in diff.transitions
                    if t.status == status
                ]
                for status in ("added", "removed")
            },
        },
        "where": [_shift_json(s) for s in comparison.shifts],
        "only_a": [_shift_json(s) for s in comparison.only_a],
        "only_b": [_shift_json(s) for s in comparison.only_b],
    }
