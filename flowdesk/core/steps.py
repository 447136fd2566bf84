"""Turn upstream step definitions into graph edges with the labels a support agent reads.

The upstream step object carries its exits in several fields whose meaning depends on the step
type. The mapping below is the one documented in docs/data-model.md:

* ``next_steps_for_options[i]``: for CONDITIONAL steps "Path i+1"; for every other type the
  answer option ``answer_options[i]`` (menu button, list option, template button).
* ``next_step_default``: CONDITIONAL → "Otherwise"; ACTION → "Success"; QUESTION → "Answered";
  any other type → "Next".
* ``next_step_alternate``: ACTION → "Error"; waiting steps (TEMPLATE, MENU, QUESTION) → "No reply"
  (taken when the wait time runs out); others → "Alternate".
* ``answer_failed_next_step``: "Answer failed" (validation attempts used up).

Sources whose exits carry their own names (RapidPro categories, Twilio events) give them as
``answer_options`` (also for CONDITIONAL steps, instead of "Path i+1") and may name the single
exits in ``exit_labels`` (``{"default": …, "alternate": …, "failed": …}``).
"""

from __future__ import annotations

from typing import Any

from flowdesk.core.model import WAITING_STEP_TYPES, StepDef, Transition, wait_seconds


def _ref(value: Any) -> str | None:
    """Step references arrive as ids (strings or numbers) or as empty strings/None."""
    if value is None or value == "":
        return None
    if isinstance(value, dict):
        value = value.get("id")
        if value is None or value == "":
            return None
    return str(value)


def _default_label(step_type: str) -> str:
    return {"CONDITIONAL": "Otherwise", "ACTION": "Success", "QUESTION": "Answered"}.get(
        step_type, "Next"
    )


def _alternate_label(step_type: str) -> str:
    if step_type == "ACTION":
        return "Error"
    if step_type in WAITING_STEP_TYPES:
        return "No reply"
    return "Alternate"


def transitions_for_step(step: dict[str, Any]) -> list[Transition]:
    step_id = str(step["id"])
    step_type = str(step.get("step_type") or "").upper()
    edges: list[Transition] = []
    options = step.get("answer_options") or []
    named = step.get("exit_labels")
    names: dict[str, Any] = named if isinstance(named, dict) else {}
    for index, target in enumerate(step.get("next_steps_for_options") or []):
        target_id = _ref(target)
        if target_id is None:
            continue
        if step_type == "CONDITIONAL":
            label = str(options[index]) if index < len(options) else f"Path {index + 1}"
            edges.append(Transition(step_id, target_id, "path", label, index))
        else:
            label = str(options[index]) if index < len(options) else f"Option {index + 1}"
            edges.append(Transition(step_id, target_id, "option", label, index))
    default = _ref(step.get("next_step_default"))
    if default is not None:
        label = str(names.get("default") or _default_label(step_type))
        edges.append(Transition(step_id, default, "default", label, 100))
    alternate = _ref(step.get("next_step_alternate"))
    if alternate is not None:
        label = str(names.get("alternate") or _alternate_label(step_type))
        edges.append(Transition(step_id, alternate, "alternate", label, 101))
    failed = _ref(step.get("answer_failed_next_step"))
    if failed is not None:
        label = str(names.get("failed") or "Answer failed")
        edges.append(Transition(step_id, failed, "failed", label, 102))
    return edges


def waits_for_reply(step: dict[str, Any]) -> bool:
    """Menus and questions always wait; a template waits only when it offers buttons."""
    step_type = str(step.get("step_type") or "").upper()
    if step_type == "TEMPLATE":
        return bool(
            step.get("answer_options")
            or step.get("next_steps_for_options")
            or _ref(step.get("next_step_alternate"))
        )
    return step_type in WAITING_STEP_TYPES


def parse_step(step: dict[str, Any], version_id: str) -> StepDef:
    """Build a StepDef; raises KeyError/ValueError/TypeError on a malformed definition."""
    step_id = _ref(step.get("id"))
    if step_id is None:
        raise ValueError("step without id")
    step_type = str(step.get("step_type") or "").upper() or "UNKNOWN"
    return StepDef(
        id=step_id,
        version_id=version_id,
        name=str(step.get("name") or step_type.title()),
        step_type=step_type,
        wait_seconds=None
        if not waits_for_reply(step)
        else wait_seconds(
            step_type,
            step.get("max_wait_time_amount"),
            step.get("max_wait_time_unit"),
            bool(step.get("has_max_wait_time")),
        ),
        ordering=int(step.get("ordering_idx") or 0),
        transitions=transitions_for_step(step),
    )
