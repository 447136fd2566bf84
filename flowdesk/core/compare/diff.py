"""What changed between two versions of a flow: steps added, removed and changed, and
transitions added and removed.

Upstream, publishing a version copies its steps under new ids, so ids rarely survive from one
version to the next. Steps are therefore matched in three passes: the same id; else the same
name and type (or the same name alone, when it is unique on both sides); else, for renamed
steps, the same type in the same place — a step whose matched neighbours (the steps leading to
it, or the steps it leads to) correspond, or the entry step of both versions. A placeholder (a
step only referenced, never executed, so its name and type are unknown) may match a step of any
type in the same place.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from flowdesk.core import formatting
from flowdesk.core.steps import parse_step

# Definition fields that are not the step's own configuration: identity, bookkeeping, and the
# exits and wait, which are compared on their own.
_NOT_CONFIG = frozenset(
    {
        "id",
        "name",
        "step_type",
        "flow",
        "flow_version",
        "ordering_idx",
        "next_step_default",
        "next_step_alternate",
        "next_steps_for_options",
        "answer_failed_next_step",
        "has_max_wait_time",
        "max_wait_time_amount",
        "max_wait_time_unit",
        "created_on",
        "updated_on",
        "created_at",
        "updated_at",
    }
)
_UNIT_SECONDS = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400}
# How a changed configuration field is named to a reader; others read as their field name.
CONFIG_WORDS = {
    "body": "message text",
    "text": "message text",
    "answer_options": "options",
    "paths": "conditions",
    "conditions": "conditions",
    "action_request_url": "request URL",
    "action_request_method": "request method",
    "action_request_body": "request body",
    "action_request_headers": "request headers",
    "action_request_params": "request parameters",
    "template_name": "template",
    "template_id": "template",
}


@dataclass(frozen=True, slots=True)
class Exit:
    """One declared way out of a step: its kind (default, option, alternate…), its label as a
    reader sees it ("No reply", "Track my order"), and the id of the step it leads to."""

    kind: str
    label: str
    target: str


@dataclass(frozen=True, slots=True)
class StepSpec:
    """A step as the diff sees it. ``wait_seconds`` is how long a waiting step waits for a reply,
    or how long a Delay holds the contact; ``config`` is the rest of its definition, with ids
    stripped. ``key`` is the step's row in the cache (None for steps built by hand)."""

    id: str
    name: str
    step_type: str
    wait_seconds: int | None = None
    exits: tuple[Exit, ...] = ()
    config: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    ordering: int = 0
    key: int | None = None
    is_placeholder: bool = False


@dataclass(frozen=True, slots=True)
class StepChange:
    """One step of the comparison: ``a`` and/or ``b`` (None where it does not exist) and, for a
    step in both, the list of what differs, in words."""

    status: str  # added | removed | changed | same
    a: StepSpec | None
    b: StepSpec | None
    changes: tuple[str, ...] = ()

    @property
    def step(self) -> StepSpec:
        """The step as it is in the newer side when it exists there."""
        spec = self.b or self.a
        assert spec is not None
        return spec


@dataclass(frozen=True, slots=True)
class TransitionChange:
    status: str  # added | removed
    source: str  # step names, as a reader sees them
    target: str
    label: str
    source_id: str
    target_id: str


@dataclass(frozen=True, slots=True)
class VersionDiff:
    steps: tuple[StepChange, ...]
    transitions: tuple[TransitionChange, ...]

    def of(self, status: str) -> list[StepChange]:
        return [s for s in self.steps if s.status == status]

    @property
    def added(self) -> list[StepChange]:
        return self.of("added")

    @property
    def removed(self) -> list[StepChange]:
        return self.of("removed")

    @property
    def changed(self) -> list[StepChange]:
        return self.of("changed")

    @property
    def is_empty(self) -> bool:
        return not self.transitions and all(s.status == "same" for s in self.steps)


# -- building step specs -------------------------------------------------------------------------


def _strip_ids(value: Any) -> Any:
    """Nested ids (condition ids, option ids) are renumbered in every version: not a change."""
    if isinstance(value, dict):
        return {k: _strip_ids(v) for k, v in value.items() if k != "id"}
    if isinstance(value, list):
        return [_strip_ids(v) for v in value]
    return value


def _delay_seconds(definition: dict[str, Any]) -> int | None:
    amount = definition.get("max_wait_time_amount")
    unit = str(definition.get("max_wait_time_unit") or "").upper()
    if isinstance(amount, int | float) and amount > 0 and unit in _UNIT_SECONDS:
        return int(amount * _UNIT_SECONDS[unit])
    return None


def spec_from_definition(
    definition: dict[str, Any], key: int | None = None, is_placeholder: bool = False
) -> StepSpec:
    """A StepSpec from an upstream step definition (the shape the API embeds in run paths)."""
    parsed = parse_step(definition, str(definition.get("flow_version") or ""))
    wait = parsed.wait_seconds
    if parsed.step_type == "DELAY":
        wait = _delay_seconds(definition)
    exits = tuple(Exit(t.kind, t.label, t.target) for t in parsed.transitions)
    config = {k: _strip_ids(v) for k, v in definition.items() if k not in _NOT_CONFIG}
    return StepSpec(
        parsed.id,
        parsed.name,
        parsed.step_type,
        wait,
        exits,
        config,
        parsed.ordering,
        key,
        is_placeholder,
    )


def load_version_steps(db: sqlite_utils.Database, version_id: str) -> list[StepSpec]:
    """A version's steps from the cache: its stored definitions (a few dozen rows, by index).
    A placeholder (a step only referenced, never executed) has no definition: name and type
    are all that is known of it."""
    specs: list[StepSpec] = []
    for key, step_id, name, step_type, wait, ordering, placeholder, definition in db.execute(
        "SELECT key, id, name, step_type, wait_seconds, ordering, is_placeholder, definition"
        " FROM steps WHERE version_id = ? ORDER BY ordering, key",
        [version_id],
    ):
        parsed: dict[str, Any] | None = None
        if definition:
            try:
                parsed = json.loads(definition)
            except ValueError:
                parsed = None
        if isinstance(parsed, dict):
            try:
                specs.append(spec_from_definition(parsed, key, bool(placeholder)))
                continue
            except (KeyError, TypeError, ValueError):
                pass
        specs.append(
            StepSpec(step_id, name, step_type, wait, (), {}, ordering, key, bool(placeholder))
        )
    return specs


# -- matching ------------------------------------------------------------------------------------


def _targets(steps: Iterable[StepSpec]) -> set[str]:
    return {e.target for s in steps for e in s.exits}


def _neighbours(steps: Sequence[StepSpec]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    before: dict[str, set[str]] = defaultdict(set)
    after: dict[str, set[str]] = defaultdict(set)
    for step in steps:
        for exit_ in step.exits:
            after[step.id].add(exit_.target)
            before[exit_.target].add(step.id)
    return before, after


def match_steps(a: Sequence[StepSpec], b: Sequence[StepSpec]) -> dict[str, str]:
    """Pairs of step ids (a → b) that are the same step in both versions."""
    matches: dict[str, str] = {}
    b_ids = {s.id for s in b}
    for step in a:
        if step.id in b_ids:
            matches[step.id] = step.id

    def left() -> tuple[list[StepSpec], list[StepSpec]]:
        taken = set(matches.values())
        return [s for s in a if s.id not in matches], [s for s in b if s.id not in taken]

    # Same name and type, in drawing order when a name repeats.
    rest_a, rest_b = left()
    by_name_type: dict[tuple[str, str], list[StepSpec]] = defaultdict(list)
    for step in rest_b:
        by_name_type[(step.name.strip().casefold(), step.step_type)].append(step)
    for step in rest_a:
        candidates = by_name_type.get((step.name.strip().casefold(), step.step_type))
        if candidates:
            matches[step.id] = candidates.pop(0).id

    # Same name, another type: only when the name is unambiguous on both sides.
    rest_a, rest_b = left()
    names_a = defaultdict(list)
    names_b = defaultdict(list)
    for step in rest_a:
        names_a[step.name.strip().casefold()].append(step)
    for step in rest_b:
        names_b[step.name.strip().casefold()].append(step)
    for name, steps in names_a.items():
        if len(steps) == 1 and len(names_b.get(name, ())) == 1:
            matches[steps[0].id] = names_b[name][0].id

    # Renamed: same type in the same place, until nothing more can be placed.
    before_a, after_a = _neighbours(a)
    before_b, after_b = _neighbours(b)
    entries_a = {s.id for s in a if not s.is_placeholder} - _targets(a)
    entries_b = {s.id for s in b if not s.is_placeholder} - _targets(b)
    while True:
        rest_a, rest_b = left()
        found = False
        for step in rest_a:
            scored = []
            for other in rest_b:
                # A placeholder's type is unknown: it may be any step in the same place.
                known = not (step.is_placeholder or other.is_placeholder)
                if known and other.step_type != step.step_type:
                    continue
                score = len({matches.get(x) for x in before_a[step.id]} & before_b[other.id])
                score += len({matches.get(x) for x in after_a[step.id]} & after_b[other.id])
                if step.id in entries_a and other.id in entries_b:
                    score += 1
                if score:
                    scored.append((score, other))
            if not scored:
                continue
            scored.sort(key=lambda item: -item[0])
            if len(scored) == 1 or scored[0][0] > scored[1][0]:
                matches[step.id] = scored[0][1].id
                found = True
                break
        if not found:
            return matches


# -- describing changes --------------------------------------------------------------------------


def _wait_words(seconds: int | None) -> str:
    return formatting.duration(seconds) if seconds else "none"


def _type_words(step_type: str) -> str:
    return step_type.replace("_", " ").title()


def _exit_words(exit_: Exit, names: dict[str, str]) -> str:
    return f"{exit_.label or exit_.kind} → {names.get(exit_.target, exit_.target)}"


def _describe(
    a: StepSpec,
    b: StepSpec,
    to_b: dict[str, str],
    names_b: dict[str, str],
    names_a: dict[str, str],
) -> tuple[str, ...]:
    changes: list[str] = []
    # A placeholder's name is made up from its id ("Step 10316"): not a rename.
    if a.name != b.name and not (a.is_placeholder or b.is_placeholder):
        changes.append(f"renamed from “{a.name}”")
    if a.step_type != b.step_type and not (a.is_placeholder or b.is_placeholder):
        changes.append(f"type {_type_words(a.step_type)} → {_type_words(b.step_type)}")
    if a.wait_seconds != b.wait_seconds:
        what = "delay" if "DELAY" in (a.step_type, b.step_type) else "wait"
        changes.append(f"{what} {_wait_words(a.wait_seconds)} → {_wait_words(b.wait_seconds)}")
    # Exits compared in b's terms: a's targets mapped through the matching.
    mapped = {Exit(e.kind, e.label, to_b.get(e.target, "\x00" + e.target)): e for e in a.exits}
    own = set(b.exits)
    gained = [e for e in b.exits if e not in mapped]
    lost = [original for e, original in mapped.items() if e not in own]
    if gained:
        changes.append("new exit " + ", ".join(_exit_words(e, names_b) for e in gained))
    if lost:
        changes.append("exit removed " + ", ".join(_exit_words(e, names_a) for e in lost))
    if not (a.is_placeholder or b.is_placeholder):
        fields = sorted(
            {k for k in a.config.keys() | b.config.keys() if a.config.get(k) != b.config.get(k)}
        )
        words = list(dict.fromkeys(CONFIG_WORDS.get(k, k.replace("_", " ")) for k in fields))
        if words:
            changes.append("changed " + ", ".join(words))
    return tuple(changes)


def diff_versions(a: Sequence[StepSpec], b: Sequence[StepSpec]) -> VersionDiff:
    """Steps of ``b`` against ``a`` (the older version, usually): matched pairs in b's drawing
    order, then a's steps that are gone."""
    matches = match_steps(a, b)
    to_a = {b_id: a_id for a_id, b_id in matches.items()}
    a_by_id = {s.id: s for s in a}
    names_a = {s.id: s.name for s in a}
    names_b = {s.id: s.name for s in b}
    changes: list[StepChange] = []
    for step in b:
        original = a_by_id.get(to_a.get(step.id, "\x00"))
        if original is None:
            changes.append(StepChange("added", None, step))
            continue
        described = _describe(original, step, matches, names_b, names_a)
        changes.append(StepChange("changed" if described else "same", original, step, described))
    changes += [StepChange("removed", s, None) for s in a if s.id not in matches]

    def edges(steps: Sequence[StepSpec], mapping: dict[str, str]) -> dict[tuple, tuple]:
        found = {}
        for step in steps:
            for e in step.exits:
                source = mapping.get(step.id, "a:" + step.id)
                target = mapping.get(e.target, "a:" + e.target)
                found[(source, target, e.label)] = (step.id, e.target)
        return found

    identity = {s.id: s.id for s in b} | {e.target: e.target for s in b for e in s.exits}
    old = edges(a, matches)
    new = edges(b, identity)
    transitions = [
        TransitionChange("removed", names_a.get(sid, sid), names_a.get(tid, tid), key[2], sid, tid)
        for key, (sid, tid) in old.items()
        if key not in new
    ] + [
        TransitionChange("added", names_b.get(sid, sid), names_b.get(tid, tid), key[2], sid, tid)
        for key, (sid, tid) in new.items()
        if key not in old
    ]
    return VersionDiff(tuple(changes), tuple(transitions))
