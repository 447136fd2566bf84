"""Twilio Studio: flow definitions (``states``/``transitions``) and executions with their steps.

A definition (the JSON of a Flow's ``definition`` or a Revision's, as Studio's export and the
REST API give it) is ``{"description", "initial_state", "states": [{"name", "type",
"transitions": [{"event", "next", "conditions"?}], "properties": {"offset": {"x", "y"}}}]}``. It
names no flow: the flow is named by its ``description``, else by the file's name.

Mapping (docs/rapidpro-twilio.md): each widget → a step of the kind its ``type`` says (unknown
widget types kept, drawn generically); each transition → an exit labelled by its event (a
``match`` of Split Based On by its condition's friendly name); a ``timeout`` is the step's "no
reply" exit. Executions: ``active`` → Ongoing; an ended execution is Completed when its last
step went to ``Ended``, Expired when that step was a ``timeout``, Failed on a failure event, and
Canceled when it ended elsewhere (stopped through the API or the console).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flowdesk.core.formats.catalogue import Catalogue, step_id
from flowdesk.core.formats.common import (
    FileFormatError,
    content_digest,
    expect,
    iso,
    normalize_time,
    stable_id,
)
from flowdesk.core.records import parse_timestamp

KIND = "twilio"
WIDGET_TYPES: dict[str, str] = {
    "send-message": "MESSAGE",
    "say-play": "MESSAGE",
    "send-and-wait-for-reply": "QUESTION",
    "gather-input-on-call": "QUESTION",
    "split-based-on": "CONDITIONAL",
    "make-http-request": "ACTION",
    "run-function": "ACTION",
    "set-variables": "CONTACT_UPDATE",
    "run-subflow": "GO_TO_FLOW",
    "send-to-flex": "TEAM",
    "connect-call-to": "TEAM",
    "enqueue-call": "TEAM",
}
_WAIT_DEFAULTS = {"send-and-wait-for-reply": 3600, "gather-input-on-call": 5}
FAILURE_EVENTS = frozenset(
    {"deliveryFailure", "failed", "fail", "failedToEnqueue", "callFailure", "error"}
)
ENDED = "Ended"


def is_definition(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and isinstance(data.get("states"), list)
        and ("initial_state" in data or "flags" in data)
    )


def _seconds(value: Any) -> int | None:
    try:
        seconds = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return seconds if seconds > 0 else None


def steps_of_definition(data: dict[str, Any], version_id: str, name: str) -> list[dict[str, Any]]:
    states = data.get("states")
    expect(isinstance(states, list), name, "states", "is not a list")
    initial = data.get("initial_state")
    names: set[str] = set()
    for index, state in enumerate(states):
        at = f"states[{index}]"
        expect(isinstance(state, dict), name, at, "is not an object")
        state_name = state.get("name")
        expect(isinstance(state_name, str) and bool(state_name), name, f"{at}.name", "missing")
        expect(state_name not in names, name, f"{at}.name", f"{state_name!r} appears twice")
        expect(isinstance(state.get("type"), str), name, f"{at}.type", "missing")
        names.add(state_name)
    ordered = sorted(range(len(states)), key=lambda i: (states[i]["name"] != initial, i))
    steps: list[dict[str, Any]] = []
    for order, index in enumerate(ordered, start=1):
        state = states[index]
        at = f"states[{index}]"
        widget = state["type"]
        kind = WIDGET_TYPES.get(widget, widget.upper().replace("-", "_"))
        properties = state.get("properties") if isinstance(state.get("properties"), dict) else {}
        transitions = state.get("transitions", [])
        expect(isinstance(transitions, list), name, f"{at}.transitions", "is not a list")
        step: dict[str, Any] = {
            "id": step_id(version_id, state["name"]),
            "node": state["name"],
            "name": state["name"],
            "step_type": kind,
            "twilio_type": widget,
            "ordering_idx": order,
            "next_step_default": "",
            "next_step_alternate": "",
            "next_steps_for_options": [],
            "answer_options": [],
        }
        offset = properties.get("offset")
        if isinstance(offset, dict):
            step["position"] = {"x": offset.get("x"), "y": offset.get("y")}
        for number, transition in enumerate(transitions):
            t_at = f"{at}.transitions[{number}]"
            expect(isinstance(transition, dict), name, t_at, "is not an object")
            event = transition.get("event")
            expect(isinstance(event, str) and bool(event), name, f"{t_at}.event", "missing")
            target = transition.get("next")
            expect(target is None or isinstance(target, str), name, f"{t_at}.next", "not a name")
            target_id = step_id(version_id, target) if target else ""
            label = event
            if event == "match":
                conditions = transition.get("conditions")
                first = conditions[0] if isinstance(conditions, list) and conditions else {}
                if isinstance(first, dict) and first.get("friendly_name"):
                    label = str(first["friendly_name"])
            if event == "timeout":
                step["next_step_alternate"] = target_id
                step["exit_labels"] = {"alternate": event}
            else:
                step["next_steps_for_options"].append(target_id)
                step["answer_options"].append(label)
        if widget in _WAIT_DEFAULTS:
            wait = _seconds(properties.get("timeout")) or _WAIT_DEFAULTS[widget]
            step.update(
                has_max_wait_time=True, max_wait_time_amount=wait, max_wait_time_unit="SECOND"
            )
        steps.append(step)
    return steps


def definition_record(
    data: Any,
    name: str,
    *,
    flow_id: str | None = None,
    flow_name: str | None = None,
    version_name: str | None = None,
    published: datetime | str | None = None,
    revision: int | None = None,
    current: bool = True,
    source: str = "",
) -> dict[str, Any]:
    """A ``definition`` record for one Studio flow definition (file or Revision)."""
    expect(isinstance(data, dict), name, "top level", "is not a Studio flow definition")
    title = flow_name or str(data.get("description") or "").strip() or name.rsplit(".", 1)[0]
    flow = flow_id or stable_id("studio", title)
    tag = f"r{revision}" if revision is not None else content_digest(data.get("states"))
    version_id = f"{flow}@{tag}"
    steps = steps_of_definition(data, version_id, name)
    when = published if isinstance(published, str) else iso(published) if published else None
    if version_name is None:
        version_name = f"Revision {revision}" if revision is not None else "Imported"
    version: dict[str, Any] = {
        "id": version_id,
        "version_name": version_name,
        "version_description": f"Twilio Studio flow{', from ' + source if source else ''}",
        "is_current_version": current,
    }
    if when:
        version["created_on"] = normalize_time(when)
    return {
        "flow": {
            "id": flow,
            "name": title,
            "trigger_type": "",
            **({"current_version": version_id} if current else {}),
        },
        "flow_version": version,
        "steps": steps,
    }


def read_definition(data: Any, name: str, imported_on: datetime) -> list[dict[str, Any]]:
    if not is_definition(data):
        raise FileFormatError(f"{name}: not a Twilio Studio flow definition (no states)")
    label = f"Imported {imported_on.strftime('%Y-%m-%d %H:%M')} UTC"
    return [definition_record(data, name, version_name=label, published=imported_on, source=name)]


# -- executions ----------------------------------------------------------------------------------


def execution_status(execution: dict[str, Any], steps: list[dict[str, Any]]) -> tuple[str, str]:
    """(upstream status, reason) of an execution from its status and its last step."""
    if str(execution.get("status") or "").lower() != "ended":
        return "RUNNING", ""
    if not steps:
        return "CANCELED", "Ended before any step"
    last = steps[-1]
    event = str(last.get("name") or "")
    if last.get("transitioned_to") != ENDED:
        return "CANCELED", "Ended outside the flow (API or console)"
    if event == "timeout":
        return "EXPIRED", ""
    if event in FAILURE_EVENTS:
        return "FAILED", f"{last.get('transitioned_from')}: {event}"
    return "COMPLETED", ""


def execution_problem(execution: Any, steps: Any) -> str | None:
    if not isinstance(execution, dict) or not execution.get("sid"):
        return "execution without sid"
    if normalize_time(execution.get("date_created")) is None:
        return "execution without date_created"
    if not isinstance(steps, list):
        return "steps is not a list"
    for index, step in enumerate(steps):
        if not isinstance(step, dict) or normalize_time(step.get("date_created")) is None:
            return f"steps[{index}] has no date_created"
    return None


def run_record(
    execution: dict[str, Any],
    steps: list[dict[str, Any]],
    catalogue: Catalogue,
    flow_name: str = "",
) -> dict[str, Any]:
    """An upstream-shaped ``run`` record for one execution and its steps (any order)."""
    ordered = sorted(steps, key=lambda s: (parse_timestamp(normalize_time(s["date_created"])),))
    created = normalize_time(execution["date_created"]) or ""
    path: list[tuple[str, str]] = []
    if ordered and ordered[0].get("transitioned_from"):
        path.append((str(ordered[0]["transitioned_from"]), created))
    for step in ordered:
        target = step.get("transitioned_to")
        if target and target != ENDED:
            path.append((str(target), normalize_time(step["date_created"]) or created))
    status, reason = execution_status(execution, ordered)
    flow_id = str(execution.get("flow_sid") or "")
    version = catalogue.resolve(flow_id, [node for node, _ in path], parse_timestamp(created))
    flow = catalogue.flow(flow_id, flow_name)
    last = len(path) - 1
    execution_steps = []
    for index, (node, when) in enumerate(path):
        step_status = "COMPLETED" if index < last else status
        execution_steps.append(
            {
                "step": version.steps[node],
                "status": step_status,
                "status_reason": None,
                "has_error": step_status == "FAILED",
                "created_on": when,
                "expire_on": None,
                "messages": [],
            }
        )
    address = str(execution.get("contact_channel_address") or "")
    return {
        "id": str(execution["sid"]),
        "contact": {
            "id": str(execution.get("contact_sid") or address or execution["sid"]),
            "phone": address.removeprefix("whatsapp:"),
            "first_name": "",
            "last_name": "",
        },
        "status": status,
        "status_reason": reason,
        "created_on": created,
        "status_last_change_on": normalize_time(execution.get("date_updated")),
        "is_test": False,
        "flow_execution": None,
        "flow": flow,
        "flow_version": version.payload,
        "execution_steps": execution_steps,
    }
