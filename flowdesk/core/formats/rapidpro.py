"""RapidPro / TextIt: flow export files (spec 13.x and 14.x), runs (API and archives).

An export is ``{"version": "13", "flows": [...]}``; each flow has ``nodes``, each node
``actions``, an optional ``router`` (``switch`` or ``random``: ``categories`` each naming an
``exit_uuid``, ``cases`` pointing at categories, an optional ``wait`` with a ``timeout`` category)
and ``exits`` with a ``destination_uuid``; ``_ui.nodes[uuid]`` holds the editor's type and position.

Mapping (docs/rapidpro-twilio.md):

* each flow → a Flowdesk flow (id = the flow uuid); each distinct node list → a version, named
  "Revision N" when the export gives the revision, else "Imported <file date>";
* each node → a step of the kind its editor type (``_ui``) or its router and actions say; types
  Flowdesk does not know are kept (``SPLIT_BY_SOMETHING``) and drawn generically;
* each category → an exit labelled with the category's name; a wait's timeout category is the
  step's "no reply" exit; a node without a router has one "Next" exit.

Runs (``/api/v2/runs.json`` rows and archive lines): ``path`` ``[{node, time}]``; status from
``exit_type`` (or ``status``): active/waiting → Ongoing, completed, expired, interrupted →
Canceled, failed.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flowdesk.core.formats.catalogue import Catalogue, step_id
from flowdesk.core.formats.common import (
    FileFormatError,
    content_digest,
    expect,
    iso,
    load_json,
    normalize_time,
)
from flowdesk.core.records import parse_timestamp

KIND = "rapidpro"
NAME_LENGTH = 60

# Editor node types (``_ui.nodes[uuid].type``) → Flowdesk step kinds.
UI_TYPES: dict[str, str] = {
    "wait_for_response": "QUESTION",
    "wait_for_menu": "MENU",
    "wait_for_digits": "QUESTION",
    "wait_for_audio": "QUESTION",
    "wait_for_video": "QUESTION",
    "wait_for_image": "QUESTION",
    "wait_for_location": "QUESTION",
    "wait_for_dial": "QUESTION",
    "split_by_expression": "CONDITIONAL",
    "split_by_contact_field": "CONDITIONAL",
    "split_by_run_result": "CONDITIONAL",
    "split_by_run_result_delimited": "CONDITIONAL",
    "split_by_random": "CONDITIONAL",
    "split_by_groups": "CONDITIONAL",
    "split_by_scheme": "CONDITIONAL",
    "split_by_intent": "ACTION",
    "split_by_webhook": "ACTION",
    "split_by_resthook": "ACTION",
    "split_by_airtime": "ACTION",
    "split_by_llm": "ACTION",
    "split_by_llm_categorize": "ACTION",
    "split_by_subflow": "GO_TO_FLOW",
    "split_by_ticket": "TEAM",
}
# Action types → kinds, for nodes without an editor type, or whose type is "execute_actions".
ACTION_TYPES: dict[str, str] = {
    "send_msg": "MESSAGE",
    "send_broadcast": "MESSAGE",
    "say_msg": "MESSAGE",
    "play_audio": "MESSAGE",
    "request_optin": "MESSAGE",
    "send_email": "ACTION",
    "call_webhook": "ACTION",
    "call_resthook": "ACTION",
    "call_classifier": "ACTION",
    "call_llm": "ACTION",
    "transfer_airtime": "ACTION",
    "set_contact_field": "CONTACT_UPDATE",
    "set_contact_name": "CONTACT_UPDATE",
    "set_contact_language": "CONTACT_UPDATE",
    "set_contact_channel": "CONTACT_UPDATE",
    "set_contact_status": "CONTACT_UPDATE",
    "set_contact_timezone": "CONTACT_UPDATE",
    "add_contact_urn": "CONTACT_UPDATE",
    "set_run_result": "CONTACT_UPDATE",
    "add_contact_groups": "TAG",
    "remove_contact_groups": "TAG",
    "add_input_labels": "TAG",
    "enter_flow": "GO_TO_FLOW",
    "start_session": "GO_TO_FLOW",
    "open_ticket": "TEAM",
}
_ROUTER_ACTIONS = (
    "call_webhook",
    "call_resthook",
    "call_classifier",
    "call_llm",
    "transfer_airtime",
)
RUN_STATUSES: dict[str, str] = {
    "active": "RUNNING",
    "waiting": "RUNNING",
    "completed": "COMPLETED",
    "expired": "EXPIRED",
    "interrupted": "CANCELED",
    "failed": "FAILED",
}
_LAST_STEP = {"RUNNING": "RUNNING"}


def is_export(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and isinstance(data.get("flows"), list)
        and ("version" in data or any(isinstance(f, dict) and "nodes" in f for f in data["flows"]))
    )


def _short(text: Any) -> str:
    line = " ".join(str(text or "").split())
    return line if len(line) <= NAME_LENGTH else line[: NAME_LENGTH - 1] + "…"


def _action_summary(action: dict[str, Any]) -> str:
    kind = str(action.get("type") or "")
    if kind in ("send_msg", "send_broadcast", "say_msg"):
        return _short(action.get("text")) or "Send message"
    if kind == "enter_flow":
        flow = action.get("flow") if isinstance(action.get("flow"), dict) else {}
        return _short(f"Start {flow.get('name') or 'flow'}")
    if kind in ("call_webhook", "call_resthook"):
        target = action.get("url") or action.get("resthook") or ""
        return _short(f"{action.get('method') or 'Call'} {target}".strip())
    if kind == "set_contact_field":
        field = action.get("field") if isinstance(action.get("field"), dict) else {}
        return _short(f"Update {field.get('name') or field.get('key') or 'field'}")
    if kind == "set_run_result":
        return _short(f"Save {action.get('name') or 'result'}")
    if kind in ("add_contact_groups", "remove_contact_groups"):
        groups = [g.get("name", "") for g in action.get("groups") or [] if isinstance(g, dict)]
        verb = "Add to" if kind == "add_contact_groups" else "Remove from"
        return _short(f"{verb} {', '.join(groups) or 'groups'}")
    return kind.replace("_", " ").capitalize()


def _node_kind(node: dict[str, Any], ui_type: str) -> str:
    if ui_type in UI_TYPES:
        return UI_TYPES[ui_type]
    actions = [str(a.get("type") or "") for a in node.get("actions") or []]
    router = node.get("router")
    if isinstance(router, dict):
        if router.get("wait"):
            return "QUESTION"
        for kind in actions:
            if kind in _ROUTER_ACTIONS:
                return "ACTION"
            if kind in ("enter_flow", "open_ticket"):
                return ACTION_TYPES[kind]
        if ui_type and ui_type != "execute_actions":
            return ui_type.upper()
        return "CONDITIONAL"
    if ui_type and ui_type != "execute_actions":
        return ui_type.upper()
    if actions:
        return ACTION_TYPES.get(actions[0], actions[0].upper() or "UNKNOWN")
    return "UNKNOWN"


def _node_name(node: dict[str, Any], kind: str, ui_type: str) -> str:
    router = node.get("router") if isinstance(node.get("router"), dict) else {}
    actions = [a for a in node.get("actions") or [] if isinstance(a, dict)]
    if router.get("result_name") and (kind != "MESSAGE" or not actions):
        return _short(router["result_name"])
    if actions:
        return _action_summary(actions[0])
    if router.get("operand"):
        return _short(f"Split by {router['operand']}")
    return (ui_type or kind).replace("_", " ").capitalize()


def _steps_of_flow(
    flow: dict[str, Any], version_id: str, where: str, name: str
) -> list[dict[str, Any]]:
    nodes = flow.get("nodes")
    expect(isinstance(nodes, list), name, f"{where}.nodes", "is not a list")
    ui = flow.get("_ui") if isinstance(flow.get("_ui"), dict) else {}
    ui_nodes = ui.get("nodes") if isinstance(ui.get("nodes"), dict) else {}
    expire = flow.get("expire_after_minutes")
    flow_wait = int(expire) * 60 if isinstance(expire, int) and expire > 0 else None
    seen: set[str] = set()
    steps: list[dict[str, Any]] = []
    for index, node in enumerate(nodes):
        at = f"{where}.nodes[{index}]"
        expect(isinstance(node, dict), name, at, "is not an object")
        uuid = node.get("uuid")
        expect(isinstance(uuid, str) and bool(uuid), name, f"{at}.uuid", "missing")
        expect(uuid not in seen, name, f"{at}.uuid", f"{uuid} appears twice")
        seen.add(uuid)
        actions = node.get("actions", [])
        expect(isinstance(actions, list), name, f"{at}.actions", "is not a list")
        for number, action in enumerate(actions):
            expect(
                isinstance(action, dict) and isinstance(action.get("type"), str),
                name,
                f"{at}.actions[{number}]",
                "is not an action with a type",
            )
        exits = node.get("exits")
        expect(isinstance(exits, list), name, f"{at}.exits", "is not a list")
        destinations: dict[str, str] = {}
        for number, exit_ in enumerate(exits):
            expect(isinstance(exit_, dict), name, f"{at}.exits[{number}]", "is not an object")
            exit_uuid = exit_.get("uuid")
            expect(isinstance(exit_uuid, str), name, f"{at}.exits[{number}].uuid", "missing")
            target = exit_.get("destination_uuid")
            expect(
                target is None or isinstance(target, str),
                name,
                f"{at}.exits[{number}].destination_uuid",
                "is not a node uuid",
            )
            destinations[exit_uuid] = step_id(version_id, target) if target else ""
        ui_node = ui_nodes.get(uuid) if isinstance(ui_nodes.get(uuid), dict) else {}
        ui_type = str(ui_node.get("type") or "")
        kind = _node_kind(node, ui_type)
        step: dict[str, Any] = {
            "id": step_id(version_id, uuid),
            "node": uuid,
            "name": _node_name(node, kind, ui_type),
            "step_type": kind,
            "rapidpro_type": ui_type or None,
            "actions": [a["type"] for a in actions],
            "ordering_idx": index + 1,
            "next_step_default": "",
            "next_step_alternate": "",
            "next_steps_for_options": [],
            "answer_options": [],
        }
        position = ui_node.get("position")
        if isinstance(position, dict):
            step["position"] = {"x": position.get("left"), "y": position.get("top")}
        router = node.get("router")
        if router is None:
            expect(len(exits) <= 1, name, f"{at}.exits", "a node without a router has one exit")
            step["next_step_default"] = next(iter(destinations.values()), "")
        else:
            expect(isinstance(router, dict), name, f"{at}.router", "is not an object")
            categories = router.get("categories")
            expect(isinstance(categories, list), name, f"{at}.router.categories", "not a list")
            wait = router.get("wait") if isinstance(router.get("wait"), dict) else None
            timeout = wait.get("timeout") if wait and isinstance(wait.get("timeout"), dict) else {}
            timeout_category = timeout.get("category_uuid")
            for number, category in enumerate(categories):
                cat_at = f"{at}.router.categories[{number}]"
                expect(isinstance(category, dict), name, cat_at, "is not an object")
                exit_uuid = category.get("exit_uuid")
                expect(
                    exit_uuid in destinations,
                    name,
                    f"{cat_at}.exit_uuid",
                    f"{exit_uuid!r} is not one of the node's exits",
                )
                label = str(category.get("name") or f"Category {number + 1}")
                if category.get("uuid") == timeout_category:
                    step["next_step_alternate"] = destinations[exit_uuid]
                    step["exit_labels"] = {"alternate": label}
                else:
                    step["next_steps_for_options"].append(destinations[exit_uuid])
                    step["answer_options"].append(label)
            if wait is not None and kind in ("QUESTION", "MENU"):
                seconds = timeout.get("seconds")
                wait_for = int(seconds) if isinstance(seconds, int) and seconds > 0 else flow_wait
                if wait_for:
                    step.update(
                        has_max_wait_time=True,
                        max_wait_time_amount=wait_for,
                        max_wait_time_unit="SECOND",
                    )
            elif wait is None and kind in ("QUESTION", "MENU"):
                step["step_type"] = "CONDITIONAL"  # an editor type without a wait: a split
        steps.append(step)
    return steps


def definitions_from_export(
    data: Any, name: str, imported_on: datetime, *, source: str = "file"
) -> list[dict[str, Any]]:
    """``definition`` records (flow, flow_version, steps) for every flow of an export.

    Raises :class:`FileFormatError` naming the first problem's position; nothing is returned
    partially.
    """
    expect(isinstance(data, dict), name, "top level", "is not a RapidPro export object")
    flows = data.get("flows")
    expect(isinstance(flows, list), name, "flows", "is not a list")
    records: list[dict[str, Any]] = []
    for index, flow in enumerate(flows):
        where = f"flows[{index}]"
        expect(isinstance(flow, dict), name, where, "is not an object")
        inner = flow.get("definition") if isinstance(flow.get("definition"), dict) else {}
        if any(key in holder for holder in (flow, inner) for key in ("action_sets", "rule_sets")):
            raise FileFormatError(
                f"{name}: {where}: a legacy RapidPro flow (before spec 11); export it again "
                "from a current RapidPro or TextIt"
            )
        uuid = flow.get("uuid")
        expect(isinstance(uuid, str) and bool(uuid), name, f"{where}.uuid", "missing")
        digest = content_digest(flow.get("nodes"))
        version_id = f"{uuid}@{digest}"
        steps = _steps_of_flow(flow, version_id, where, name)
        revision = flow.get("revision")
        spec = flow.get("spec_version") or data.get("version") or "?"
        date = iso(imported_on)
        # Generated exports (ParentText's toolkit) write revision 0 for every flow: no revision.
        label = f"Revision {revision}" if isinstance(revision, int) and revision > 0 else None
        label = label or f"Imported {imported_on.strftime('%Y-%m-%d %H:%M')} UTC"
        records.append(
            {
                "flow": {
                    "id": uuid,
                    "name": str(flow.get("name") or uuid),
                    "trigger_type": "",
                    "current_version": version_id,
                },
                "flow_version": {
                    "id": version_id,
                    "version_name": label,
                    "version_description": f"RapidPro flow spec {spec}, from {source}",
                    "created_on": date,
                    "is_current_version": True,
                },
                "steps": steps,
            }
        )
    return records


def read_export(text: str, name: str, imported_on: datetime) -> list[dict[str, Any]]:
    return definitions_from_export(load_json(text, name), name, imported_on, source=name)


# -- runs ----------------------------------------------------------------------------------------


def _phone(contact: dict[str, Any]) -> str:
    urn = contact.get("urn")
    if not isinstance(urn, str) or not urn:
        urns = contact.get("urns")
        urn = urns[0] if isinstance(urns, list) and urns and isinstance(urns[0], str) else ""
    scheme, _, path = urn.partition(":")
    if not path:
        return urn
    path = path.split("?", 1)[0]
    if scheme == "whatsapp" and path.isdigit():
        return "+" + path
    return path


def run_problem(raw: Any) -> str | None:
    """Why a run row cannot be read, or None. Archives are refused whole on the first one."""
    if not isinstance(raw, dict):
        return "is not a JSON object"
    if raw.get("uuid") in (None, "") and raw.get("id") in (None, ""):
        return "has no uuid or id"
    flow = raw.get("flow")
    if not isinstance(flow, dict) or not isinstance(flow.get("uuid"), str):
        return "has no flow uuid"
    contact = raw.get("contact")
    if not isinstance(contact, dict) or not (contact.get("uuid") or contact.get("id")):
        return "has no contact uuid"
    if normalize_time(raw.get("created_on")) is None:
        return f"created_on {raw.get('created_on')!r} is not a date-time"
    path = raw.get("path")
    if not isinstance(path, list):
        return "path is not a list"
    for index, item in enumerate(path):
        if not isinstance(item, dict) or not isinstance(item.get("node"), str):
            return f"path[{index}] has no node"
        if normalize_time(item.get("time")) is None:
            return f"path[{index}].time {item.get('time')!r} is not a date-time"
    word = _status_word(raw)
    if word not in RUN_STATUSES:
        return f"unknown status {word!r}"
    return None


def _status_word(raw: dict[str, Any]) -> str:
    word = raw.get("exit_type") or raw.get("status")
    if not word:
        word = "completed" if raw.get("exited_on") else "active"
    return str(word).lower()


def run_record(raw: dict[str, Any], catalogue: Catalogue) -> dict[str, Any]:
    """An upstream-shaped ``run`` record for one RapidPro run (checked by :func:`run_problem`)."""
    flow_raw = raw["flow"]
    contact = raw["contact"]
    created = normalize_time(raw["created_on"]) or ""
    status = RUN_STATUSES[_status_word(raw)]
    nodes = [item["node"] for item in raw["path"]]
    version = catalogue.resolve(flow_raw["uuid"], nodes, parse_timestamp(created))
    flow = catalogue.flow(flow_raw["uuid"], str(flow_raw.get("name") or ""))
    steps = []
    last = len(nodes) - 1
    for index, item in enumerate(raw["path"]):
        step_status = "COMPLETED" if index < last else _LAST_STEP.get(status, status)
        steps.append(
            {
                "step": version.steps[item["node"]],
                "status": step_status,
                "status_reason": None,
                "has_error": step_status == "FAILED",
                "created_on": normalize_time(item["time"]),
                "expire_on": None,
                "messages": [],
            }
        )
    exited = normalize_time(raw.get("exited_on")) or normalize_time(raw.get("modified_on"))
    reason = {"CANCELED": "Interrupted", "FAILED": "Failed"}.get(status, "")
    return {
        "id": str(raw.get("uuid") or raw.get("id")),
        "contact": {
            "id": str(contact.get("uuid") or contact.get("id")),
            "phone": _phone(contact),
            "first_name": str(contact.get("name") or ""),
            "last_name": "",
        },
        "status": status,
        "status_reason": reason,
        "created_on": created,
        "status_last_change_on": exited,
        "is_test": False,
        "flow_execution": None,
        "flow": flow,
        "flow_version": version.payload,
        "execution_steps": steps,
    }


def read_archive(text: str, name: str) -> list[dict[str, Any]]:
    """The runs of a run archive (one JSON object a line); refuses the file on the first bad
    line, naming it."""
    runs: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise FileFormatError(
                f"{name}: line {number}, column {exc.colno}: invalid JSON ({exc.msg})"
            ) from None
        problem = run_problem(raw)
        if problem:
            raise FileFormatError(f"{name}: line {number}: run {problem}")
        runs.append(raw)
    if not runs:
        raise FileFormatError(f"{name}: no runs in the archive")
    return runs
