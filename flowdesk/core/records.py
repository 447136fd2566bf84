"""Validate upstream-shaped records and flatten them into the rows the cache stores.

Parsing is strict about what the cache needs (ids, statuses, timestamps) and lenient about
everything else, so a record that would corrupt counters is rejected with a message naming the
field, while unknown extra fields or unknown step types pass through.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from flowdesk.core.model import RunStatus, direction_for_trigger, execution_method


class MalformedRecord(ValueError):
    """A record the cache cannot take; ``record_id`` names it in the sync report."""

    def __init__(self, record_id: str, message: str) -> None:
        super().__init__(f"{record_id}: {message}")
        self.record_id = record_id
        self.message = message


_RUN_STATUSES = frozenset(status.value for status in RunStatus)
_COUNTER_KEYS = ("num_contacts", "expired", "running", "completed", "canceled", "failed")


@lru_cache(maxsize=65536)
def parse_timestamp(value: str) -> int:
    """ISO 8601 → epoch seconds (UTC). Naive timestamps are taken as UTC."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


def _timestamp(value: Any, field: str, record_id: str, required: bool = True) -> int | None:
    if value is None or value == "":
        if required:
            raise MalformedRecord(record_id, f"missing {field}")
        return None
    if not isinstance(value, str):
        raise MalformedRecord(record_id, f"{field} is not a date-time string")
    try:
        return parse_timestamp(value)
    except ValueError:
        raise MalformedRecord(
            record_id, f"{field} {value!r} is not an ISO 8601 date-time"
        ) from None


def _id(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    if value is None or value == "":
        return None
    return str(value)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def user_name(user: Any) -> tuple[str, str]:
    """Display name and email of an embedded SimpleUser; ``("System", "")`` when absent."""
    if not isinstance(user, dict):
        return ("System", "")
    name = " ".join(p for p in (_text(user.get("first_name")), _text(user.get("last_name"))) if p)
    email = _text(user.get("email"))
    return (name or email or f"User {user.get('id', '?')}", email)


def api_counters(obj: dict[str, Any]) -> str | None:
    """The upstream's own counters, kept only to compare with the recount."""
    counters = {key: obj[key] for key in _COUNTER_KEYS if isinstance(obj.get(key), int)}
    return json.dumps(counters, sort_keys=True) if counters else None


@dataclass(slots=True)
class FlowRow:
    id: str
    name: str
    trigger_type: str
    direction: str
    current_version_id: str | None
    created_on: int | None
    api_counters: str | None


@dataclass(slots=True)
class VersionRow:
    id: str
    flow_id: str
    name: str
    description: str
    published_by: str
    published_at: int | None
    is_current: bool
    api_counters: str | None


@dataclass(slots=True)
class ContactRow:
    id: str
    phone: str
    first_name: str
    last_name: str
    email: str


@dataclass(slots=True)
class PathStep:
    step_id: str
    status: str
    status_reason: str
    has_error: bool
    executed_at: int
    expire_on: int | None
    error: str


@dataclass(slots=True)
class RunRecord:
    id: str
    flow: FlowRow
    version: VersionRow
    contact: ContactRow
    execution_id: str | None
    status: str
    status_reason: str
    is_test: bool
    entered_at: int
    status_changed_at: int | None
    # None: a list-only record, the stored path stays as it is.
    path: list[PathStep] | None
    step_definitions: list[dict[str, Any]]


@dataclass(slots=True)
class ExecutionRecord:
    id: str
    flow: FlowRow
    version: VersionRow | None
    created_by: str
    created_by_email: str
    created_on: int | None
    start_on: int | None
    execute_for: str
    method: str
    contact_import: str | None
    contact_filters: str
    status: str
    status_reason: str
    api_counters: str | None


@dataclass(slots=True)
class DefinitionRecord:
    """A flow version's whole step graph, for sources that publish definitions on their own
    (RapidPro exports, Twilio Studio): its steps exist before anyone runs them."""

    id: str
    flow: FlowRow
    version: VersionRow
    step_definitions: list[dict[str, Any]]


def parse_flow(flow: Any, record_id: str, fallback_name: str = "") -> FlowRow:
    flow_id = _id(flow)
    if flow_id is None:
        raise MalformedRecord(record_id, "missing flow id")
    data = flow if isinstance(flow, dict) else {}
    trigger = _text(data.get("trigger_type"))
    return FlowRow(
        id=flow_id,
        name=_text(data.get("name")) or fallback_name or f"Flow {flow_id}",
        trigger_type=trigger,
        direction=direction_for_trigger(trigger).value,
        current_version_id=_id(data.get("current_version")),
        created_on=_timestamp(data.get("created_on"), "flow.created_on", record_id, False),
        api_counters=api_counters(data),
    )


def parse_version(version: Any, flow_id: str, record_id: str) -> VersionRow:
    version_id = _id(version)
    if version_id is None:
        raise MalformedRecord(record_id, "missing flow_version id")
    data = version if isinstance(version, dict) else {}
    published_by, _ = user_name(data.get("published_by"))
    return VersionRow(
        id=version_id,
        flow_id=flow_id,
        name=_text(data.get("version_name")) or f"Version {version_id}",
        description=_text(data.get("version_description")),
        published_by=published_by,
        published_at=_timestamp(
            data.get("created_on"), "flow_version.created_on", record_id, False
        ),
        is_current=bool(data.get("is_current_version")),
        api_counters=api_counters(data),
    )


def _step_error(messages: Any) -> str:
    error = ""
    for message in messages:
        inner = message.get("message") if isinstance(message, dict) else None
        if isinstance(inner, dict) and inner.get("provider_error_message"):
            code = inner.get("provider_error_code")
            text = _text(inner.get("provider_error_message"))
            error = f"(#{code}) {text}" if code else text
    return error


_PLANNED = frozenset({"WAITING_TO_START", "NOT_EXECUTED"})


def _parse_path(steps: Any, record_id: str) -> tuple[list[PathStep], list[dict[str, Any]]]:
    """The executed steps in order, and the step definitions they carry.

    This runs for every step of every run, millions of times on a big sync: keep it lean.
    """
    if not isinstance(steps, list):
        raise MalformedRecord(record_id, "execution_steps is not a list")
    path: list[PathStep] = []
    definitions: list[dict[str, Any]] = []
    ordered = True
    previous_time = -1
    for index, item in enumerate(steps):
        definition = item.get("step") if isinstance(item, dict) else None
        if not isinstance(definition, dict):
            raise MalformedRecord(record_id, f"execution_steps[{index}] has no step definition")
        step_id = definition.get("id")
        if type(step_id) is not str:
            step_id = _id(step_id)
            if step_id is None:
                raise MalformedRecord(record_id, f"execution_steps[{index}].step has no id")
        definitions.append(definition)
        status = item.get("status") or "COMPLETED"
        if status in _PLANNED:
            continue  # plans, not history: they are not the path
        created = item.get("created_on")
        try:
            executed_at = parse_timestamp(created)
        except (TypeError, ValueError):
            _timestamp(created, f"execution_steps[{index}].created_on", record_id)
            raise MalformedRecord(record_id, f"execution_steps[{index}].created_on") from None
        if executed_at < previous_time:
            ordered = False
        previous_time = executed_at
        expire = item.get("expire_on")
        messages = item.get("messages")
        reason = item.get("status_reason")
        path.append(
            PathStep(
                step_id,
                status,
                "" if reason is None else str(reason),
                bool(item.get("has_error")),
                executed_at,
                _timestamp(expire, "expire_on", record_id, False) if expire else None,
                _step_error(messages) if messages else "",
            )
        )
    if not ordered:
        path.sort(key=lambda p: p.executed_at)  # stable: equal times keep the upstream order
    return path, definitions


def parse_run(data: Any, cache: dict[Any, Any] | None = None) -> RunRecord:
    """Parse one run record. ``cache`` (one per batch) reuses the parsed flow and version of
    records that share the same embedded objects."""
    if not isinstance(data, dict):
        raise MalformedRecord("?", "run record is not an object")
    record_id = _id(data.get("id"))
    if record_id is None:
        raise MalformedRecord("?", "run record without id")
    status = _text(data.get("status")).upper()
    if status not in _RUN_STATUSES:
        raise MalformedRecord(record_id, f"unknown status {data.get('status')!r}")
    raw_flow, raw_version = data.get("flow"), data.get("flow_version")
    cache_key = (id(raw_flow), id(raw_version))
    cached = cache.get(cache_key) if cache is not None else None
    if cached is None:
        flow = parse_flow(raw_flow, record_id, _text(data.get("flow_name")))
        version = parse_version(raw_version, flow.id, record_id)
        if cache is not None:
            # Holding the raw objects keeps their ids from being reused within the batch.
            cache[cache_key] = (flow, version, raw_flow, raw_version)
    else:
        flow, version = cached[0], cached[1]
    contact = data.get("contact")
    contact_id = _id(contact)
    if contact_id is None or not isinstance(contact, dict):
        raise MalformedRecord(record_id, "missing contact")
    steps = data.get("execution_steps")
    path, definitions = (None, []) if steps is None else _parse_path(steps, record_id)
    return RunRecord(
        id=record_id,
        flow=flow,
        version=version,
        contact=ContactRow(
            id=contact_id,
            phone=_text(contact.get("phone")),
            first_name=_text(contact.get("first_name")),
            last_name=_text(contact.get("last_name")),
            email=_text(contact.get("email")),
        ),
        execution_id=_id(data.get("flow_execution")),
        status=status,
        status_reason=_text(data.get("status_reason")),
        is_test=bool(data.get("is_test")),
        entered_at=_timestamp(data.get("created_on"), "created_on", record_id) or 0,
        status_changed_at=_timestamp(
            data.get("status_last_change_on"), "status_last_change_on", record_id, False
        ),
        path=path,
        step_definitions=definitions,
    )


def parse_execution(data: Any) -> ExecutionRecord:
    if not isinstance(data, dict):
        raise MalformedRecord("?", "execution record is not an object")
    record_id = _id(data.get("id"))
    if record_id is None:
        raise MalformedRecord("?", "execution record without id")
    flow = parse_flow(data.get("flow"), record_id)
    raw_version = data.get("flow_version")
    version = parse_version(raw_version, flow.id, record_id) if _id(raw_version) else None
    created_by, email = user_name(data.get("created_by"))
    filters = data.get("contact_filters") or []
    if not isinstance(filters, list):
        raise MalformedRecord(record_id, "contact_filters is not a list")
    contact_import = _id(data.get("contact_import"))
    status = data.get("status")
    if isinstance(status, dict):
        status = status.get("status") or status.get("value")
    return ExecutionRecord(
        id=record_id,
        flow=flow,
        version=version,
        created_by=created_by,
        created_by_email=email,
        created_on=_timestamp(data.get("created_on"), "created_on", record_id, False),
        start_on=_timestamp(data.get("start_on"), "start_on", record_id, False),
        execute_for=_text(data.get("execute_for")),
        method=execution_method(data.get("execute_for"), contact_import, filters),
        contact_import=contact_import,
        contact_filters=json.dumps(filters, ensure_ascii=False),
        status=_text(status),
        status_reason=_text(data.get("status_reason")),
        api_counters=api_counters(data),
    )


def parse_definition(data: Any) -> DefinitionRecord:
    """A ``definition`` record: ``flow``, ``flow_version`` and ``steps`` (step definitions)."""
    if not isinstance(data, dict):
        raise MalformedRecord("?", "definition record is not an object")
    record_id = _id(data.get("flow_version")) or "?"
    flow = parse_flow(data.get("flow"), record_id)
    version = parse_version(data.get("flow_version"), flow.id, record_id)
    steps = data.get("steps")
    if not isinstance(steps, list):
        raise MalformedRecord(record_id, "steps is not a list")
    for index, step in enumerate(steps):
        if not isinstance(step, dict) or _id(step.get("id")) is None:
            raise MalformedRecord(record_id, f"steps[{index}] has no id")
    return DefinitionRecord(record_id, flow, version, steps)
