"""A compact way to write flow versions as upstream step definitions plus simulation knobs.

Flows in the catalogue are written with local step keys ("ask_order") and readable keyword
arguments; :meth:`VersionBuilder.build` turns them into the exact dict shape the API returns
(``FlowStepEdit``), resolving keys to globally unique numeric step ids. The behaviour knobs
(reply rates, branch weights, failure rates) live in a separate :class:`StepSim` per step so they
never leak into the records the app stores.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from flowdesk.core.demo.common import stable_uuid

# A condition as the catalogue writes it: (field, comparison, value).
Cond = tuple[str, str, str]


@dataclass(slots=True)
class StepSim:
    """How contacts behave at one step; used only by the simulator."""

    # Relative weights of the options (MENU/TEMPLATE buttons) or of Path 1..n + Otherwise.
    weights: tuple[float, ...] = ()
    # Probability that a waiting step gets any reply at all (its timing decides if it is in time).
    p_reply: float = 0.85
    # Probability that a QUESTION answer passes validation.
    p_valid: float = 0.9
    # Send failure (TEMPLATE/MESSAGE) or HTTP error (ACTION) probability.
    p_fail: float = 0.0
    # QUESTION: invalid answers allowed before the run fails at this step (0 = unlimited).
    max_attempts: int = 0
    # CONDITIONAL: take Path 1 once the run has had this many invalid answers (0 = off).
    attempt_gate: int = 0
    # DELAY duration in seconds.
    delay: int = 0
    # Seconds the step works before moving on (HTTP latency, an AI agent thinking...).
    busy: int = 1


@dataclass(slots=True)
class VersionSpec:
    id: str
    number: int
    name: str
    description: str
    published_on: int
    published_by: dict[str, Any]
    steps: list[dict[str, Any]]
    sims: dict[str, StepSim]
    start: str


_UNIT_SECONDS = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400}


class IdAllocator:
    """Hands out step ids as numeric strings, unique across every flow and version."""

    def __init__(self, first: int = 10001) -> None:
        self._counter: Iterator[int] = itertools.count(first)
        self._conditions: Iterator[int] = itertools.count(501)

    def step(self) -> str:
        return str(next(self._counter))

    def condition(self) -> int:
        return next(self._conditions)


@dataclass(slots=True)
class _Pending:
    key: str
    data: dict[str, Any]
    sim: StepSim
    refs: dict[str, Any] = field(default_factory=dict)


class VersionBuilder:
    """Collects the steps of one version in drawing order; the first step added is the entry."""

    def __init__(self, ids: IdAllocator, version_id: str) -> None:
        self._ids = ids
        self._version_id = version_id
        self._steps: list[_Pending] = []
        self._keys: set[str] = set()

    # -- generic --------------------------------------------------------------------------

    def add(
        self,
        key: str,
        step_type: str,
        name: str,
        *,
        default: str | None = None,
        alternate: str | None = None,
        options: Sequence[str] = (),
        targets: Sequence[str | None] = (),
        failed: str | None = None,
        wait: tuple[int, str] | None = None,
        sim: StepSim | None = None,
        **extra: Any,
    ) -> None:
        if key in self._keys:
            raise ValueError(f"duplicate step key {key!r}")
        self._keys.add(key)
        data: dict[str, Any] = {
            "id": "",
            "name": name,
            "step_type": step_type,
            "flow_version": self._version_id,
            "next_step_default": "",
            "next_step_alternate": "",
            "next_steps_for_options": [],
            "answer_options": list(options),
            "answer_failed_next_step": None,
            "ordering_idx": len(self._steps),
            "has_max_wait_time": wait is not None,
            "max_wait_time_amount": wait[0] if wait else 24,
            "max_wait_time_unit": wait[1] if wait else "HOUR",
        }
        data.update(extra)
        refs = {
            "next_step_default": default,
            "next_step_alternate": alternate,
            "answer_failed_next_step": failed,
            "next_steps_for_options": list(targets),
        }
        self._steps.append(_Pending(key, data, sim or StepSim(), refs))

    # -- typed helpers ----------------------------------------------------------------------

    def message(
        self, key: str, name: str, body: str, then: str | None = None, *, p_fail: float = 0.008
    ) -> None:
        self.add(
            key,
            "MESSAGE",
            name,
            default=then,
            body=body,
            body_type="text",
            sim=StepSim(p_fail=p_fail),
        )

    def template(
        self,
        key: str,
        name: str,
        template: str,
        body: str,
        *,
        then: str | None = None,
        buttons: Sequence[str] = (),
        to: Sequence[str | None] = (),
        no_reply: str | None = None,
        wait: tuple[int, str] | None = None,
        weights: Sequence[float] = (),
        p_reply: float = 0.75,
        p_fail: float = 0.05,
    ) -> None:
        if len(buttons) != len(to):
            raise ValueError(f"{key}: one branch per button")
        if any(len(b) > 20 for b in buttons) or len(buttons) > 3:
            raise ValueError(f"{key}: WhatsApp allows up to 3 buttons of 20 characters")
        self.add(
            key,
            "TEMPLATE",
            name,
            default=then,
            alternate=no_reply,
            options=buttons,
            targets=to,
            wait=wait,
            body=body,
            body_type="template",
            whatsapp_template=_template_id(template),
            whatsapp_template_name=template,
            next_action="BUTTON_RESPONSE" if buttons else "CONTINUE",
            sim=StepSim(
                weights=tuple(weights) or _even(len(buttons)), p_reply=p_reply, p_fail=p_fail
            ),
        )

    def menu(
        self,
        key: str,
        name: str,
        body: str,
        options: Sequence[str],
        to: Sequence[str | None],
        *,
        as_list: bool = False,
        list_title: str = "See options",
        descriptions: Sequence[str] | None = None,
        no_reply: str | None = None,
        wait: tuple[int, str] | None = None,
        weights: Sequence[float] = (),
        p_reply: float = 0.95,
    ) -> None:
        if len(options) != len(to):
            raise ValueError(f"{key}: one branch per option")
        if as_list:
            if len(options) > 10 or any(len(o) > 24 for o in options):
                raise ValueError(f"{key}: a list has up to 10 options of 24 characters")
        elif len(options) > 3 or any(len(o) > 20 for o in options):
            raise ValueError(f"{key}: up to 3 buttons of 20 characters")
        self.add(
            key,
            "MENU",
            name,
            alternate=no_reply,
            options=options,
            targets=to,
            wait=wait,
            body=body,
            body_type="interactive",
            answer_options_render="LIST" if as_list else "BUTTONS",
            answer_options_render_list_button_title=list_title if as_list else None,
            answer_option_descriptions=list(descriptions) if descriptions else None,
            answer_type="SINGLE_OPTION",
            sim=StepSim(weights=tuple(weights) or _even(len(options)), p_reply=p_reply),
        )

    def question(
        self,
        key: str,
        name: str,
        body: str,
        answer_type: str,
        then: str | None,
        *,
        failed: str | None = None,
        no_reply: str | None = None,
        wait: tuple[int, str] | None = None,
        p_reply: float = 0.94,
        p_valid: float = 0.88,
        max_attempts: int = 3,
        validation_message: str | None = None,
        answer_range: tuple[str, str] | None = None,
        save_as: str | None = None,
    ) -> None:
        self.add(
            key,
            "QUESTION",
            name,
            default=then,
            alternate=no_reply,
            failed=failed,
            wait=wait,
            body=body,
            body_type="text",
            answer_type=answer_type,
            answer_validation_message=validation_message,
            has_max_answer_attempts=max_attempts > 0,
            max_answer_attempts=max_attempts,
            answer_has_range=answer_range is not None,
            answer_range_min=answer_range[0] if answer_range else None,
            answer_range_max=answer_range[1] if answer_range else None,
            answer_allow_decimals=False,
            save_contact_answer=save_as is not None,
            contact_custom_properties=[{"key": save_as, "value": "{{answer}}"}] if save_as else [],
            sim=StepSim(p_reply=p_reply, p_valid=p_valid, max_attempts=max_attempts),
        )

    def delay(self, key: str, name: str, amount: int, unit: str, then: str | None) -> None:
        """A DELAY keeps its duration in max_wait_time_amount/unit with delay_type DURATION."""
        self.add(
            key,
            "DELAY",
            name,
            default=then,
            delay_type="DURATION",
            delay_until=None,
            sim=StepSim(delay=amount * _UNIT_SECONDS[unit]),
        )
        step = self._steps[-1].data
        step["max_wait_time_amount"] = amount
        step["max_wait_time_unit"] = unit

    def conditional(
        self,
        key: str,
        name: str,
        paths: Sequence[tuple[Sequence[Cond], str | None]],
        otherwise: str | None,
        *,
        weights: Sequence[float] = (),
        attempt_gate: int = 0,
    ) -> None:
        built_paths = []
        flat = []
        for conditions, _target in paths:
            conds = [
                {"id": self._ids.condition(), "field": f, "comparison": c, "value": v}
                for f, c, v in conditions
            ]
            flat.extend(conds)
            built_paths.append({"conditions": conds})
        self.add(
            key,
            "CONDITIONAL",
            name,
            default=otherwise,
            targets=[t for _c, t in paths],
            paths=built_paths,
            conditions=flat,
            sim=StepSim(
                weights=tuple(weights) or _even(len(paths) + 1), attempt_gate=attempt_gate, busy=0
            ),
        )

    def action(
        self,
        key: str,
        name: str,
        method: str,
        url: str,
        success: str | None,
        error: str | None = None,
        *,
        body: str | None = None,
        p_fail: float = 0.06,
    ) -> None:
        self.add(
            key,
            "ACTION",
            name,
            default=success,
            alternate=error,
            action_request_method=method,
            action_request_url=url,
            action_request_headers={
                "Content-Type": "application/json",
                "Authorization": "Bearer {{secrets.api_token}}",
            },
            action_request_params={},
            action_request_body=body,
            sim=StepSim(p_fail=p_fail, busy=2),
        )

    def update(self, key: str, name: str, then: str | None, **properties: str) -> None:
        self.add(
            key,
            "CONTACT_UPDATE",
            name,
            default=then,
            contact_first_name=properties.pop("first_name", None),
            contact_last_name=properties.pop("last_name", None),
            contact_email=properties.pop("email", None),
            contact_custom_properties=[{"key": k, "value": v} for k, v in properties.items()],
        )

    def tag(self, key: str, name: str, tags: Sequence[str], then: str | None) -> None:
        self.add(
            key,
            "TAG",
            name,
            default=then,
            contact_tags=list(tags),
            conversation_tags=[],
            append_tags=True,
        )

    def team(self, key: str, name: str, team: str, then: str | None = None) -> None:
        self.add(
            key,
            "TEAM",
            name,
            default=then,
            assign_to_teams=[_team_id(team)],
            assign_to_team_name=team,
            assign_to_users=[],
        )

    def end(self, key: str, name: str = "End") -> None:
        self.add(key, "END", name)

    def custom(
        self, key: str, step_type: str, name: str, then: str | None, *, busy: int = 5, **extra: Any
    ) -> None:
        """A step type the app does not know; it must pass through on next_step_default."""
        self.add(key, step_type, name, default=then, sim=StepSim(busy=busy), **extra)

    # -- resolution -------------------------------------------------------------------------

    def build(self) -> tuple[list[dict[str, Any]], dict[str, StepSim], str]:
        ids = {p.key: self._ids.step() for p in self._steps}

        def resolve(ref: str | None, where: str) -> str | None:
            if ref is None:
                return None
            if ref not in ids:
                raise KeyError(f"{where}: unknown step key {ref!r}")
            return ids[ref]

        steps: list[dict[str, Any]] = []
        sims: dict[str, StepSim] = {}
        for pending in self._steps:
            data = pending.data
            data["id"] = ids[pending.key]
            refs = pending.refs
            data["next_step_default"] = resolve(refs["next_step_default"], pending.key) or ""
            data["next_step_alternate"] = resolve(refs["next_step_alternate"], pending.key) or ""
            data["answer_failed_next_step"] = resolve(refs["answer_failed_next_step"], pending.key)
            data["next_steps_for_options"] = [
                resolve(t, pending.key) or "" for t in refs["next_steps_for_options"]
            ]
            steps.append(data)
            sims[data["id"]] = pending.sim
        return steps, sims, ids[self._steps[0].key]


def _even(n: int) -> tuple[float, ...]:
    return tuple(1.0 for _ in range(n))


def _template_id(name: str) -> str:
    return stable_uuid("template", name)


def _team_id(name: str) -> int:
    """Teams are referenced by integer id upstream; derive a stable one from the name."""
    return 100 + int(stable_uuid("team", name)[:6], 16) % 900
