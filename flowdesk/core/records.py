"""Validate upstream-shaped records and flatten them into the rows the cache stores.

Parsing is strict about what the cache needs (ids, statuses, timestamps) and lenient about
everything else, so a record that would corrupt counters is rejected with a message naming the
field, while unknown extra fields or unknown step types pass through.

Every field the cache stores is checked here, before the engine opens its write transaction:
types (no truthiness: ``"false"`` is not a flag), dates inside the calendar the exports can show
(``EARLIEST_TIMESTAMP``..``LATEST_TIMESTAMP``), text that SQLite can store (no lone UTF-16
surrogates), and the step definitions a path carries. So one bad record is skipped and reported by
its id instead of failing its whole batch, for every source.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flowdesk.core.model import (
    EARLIEST_TIMESTAMP,
    LATEST_TIMESTAMP,
    MAX_WAIT_AMOUNT,
    RunStatus,
    direction_for_trigger,
    execution_method,
)


class MalformedRecord(ValueError):
    """A record the cache cannot take; ``record_id`` names it in the sync report."""

    def __init__(self, record_id: str, message: str) -> None:
        super().__init__(f"{record_id}: {message}")
        self.record_id = record_id
        self.message = message


_RUN_STATUSES = frozenset(status.value for status in RunStatus)
_COUNTER_KEYS = ("num_contacts", "expired", "running", "completed", "canceled", "failed")


def parse_timestamp(value: str) -> int:
    """ISO 8601 → epoch seconds (UTC). Naive timestamps are taken as UTC.

    Raises ValueError for text that is not a date-time and for dates outside the range the cache
    takes (``0001-01-01T00:00:00+14:00`` or ``9999-12-31T23:59:59Z`` would break every export
    of their flow later).
    """
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        stamp = int(parsed.timestamp())
    except (OverflowError, OSError):
        raise ValueError(f"{value!r} is out of range") from None
    if not EARLIEST_TIMESTAMP <= stamp < LATEST_TIMESTAMP:
        raise ValueError(f"{value!r} is out of range")
    return stamp


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
        raise MalformedRecord(record_id, _date_problem(field, value)) from None


def _date_problem(field: str, value: Any) -> str:
    try:
        datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return f"{field} {_shown(value)} is not an ISO 8601 date-time"
    return f"{field} {_shown(value)} is outside 1990-2199"


def _shown(value: Any) -> str:
    """A value for a problem message: short, and printable whatever it holds."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _id(value: Any) -> str | None:
    """An id as the cache keeps it (text); None when absent or not a scalar."""
    if isinstance(value, dict):
        value = value.get("id")
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value if value.isascii() or _storable(value) else None
    if isinstance(value, int):
        return str(value)
    return None


def _storable(text: str) -> bool:
    """False for text SQLite cannot take (lone UTF-16 surrogates from a JSON ``\\ud800``)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _text(value: Any) -> str:
    """Lenient text for display fields: None → "", numbers as written."""
    return "" if value is None else str(value)


def _checked_text(value: Any, field: str, record_id: str) -> str:
    """Text the cache stores: a string, a number or null, and storable."""
    if value is None:
        return ""
    if isinstance(value, str):
        if value.isascii() or _storable(value):
            return value
        raise MalformedRecord(record_id, f"{field} holds invalid text (a lone UTF-16 surrogate)")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise MalformedRecord(record_id, f"{field} is not text ({type(value).__name__})")


def _flag(value: Any, field: str, record_id: str) -> bool:
    """A JSON boolean (null is false). ``"false"`` is not coerced: truthiness would invert it."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise MalformedRecord(record_id, f"{field} is not true/false ({_shown(value)})")


def storable_json(value: Any) -> bool:
    """True when ``value`` serialises to JSON text SQLite can store (see :func:`_storable`)."""
    try:
        json.dumps(value, ensure_ascii=False, default=str).encode("utf-8")
    except (UnicodeEncodeError, ValueError, TypeError, RecursionError):
        return False
    return True


def user_name(user: Any, record_id: str = "?") -> tuple[str, str]:
    """Display name and email of an embedded SimpleUser; ``("System", "")`` when absent."""
    if not isinstance(user, dict):
        return ("System", "")
    first = _checked_text(user.get("first_name"), "user first_name", record_id)
    last = _checked_text(user.get("last_name"), "user last_name", record_id)
    name = " ".join(p for p in (first, last) if p)
    email = _checked_text(user.get("email"), "user email", record_id)
    return (name or email or f"User {_id(user.get('id')) or '?'}", email)


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
    # Known by its id only (a list row): it must not overwrite what a detail said.
    partial: bool = False


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
    # Known by its id only (a list row): it must not overwrite what a detail said.
    partial: bool = False


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
    trigger = _checked_text(data.get("trigger_type"), "flow.trigger_type", record_id)
    name = _checked_text(data.get("name"), "flow.name", record_id)
    return FlowRow(
        id=flow_id,
        name=name or _checked_text(fallback_name, "flow_name", record_id) or f"Flow {flow_id}",
        trigger_type=trigger,
        direction=direction_for_trigger(trigger).value,
        current_version_id=_id(data.get("current_version")),
        created_on=_timestamp(data.get("created_on"), "flow.created_on", record_id, False),
        api_counters=api_counters(data),
        partial=not isinstance(flow, dict),
    )


def parse_version(version: Any, flow_id: str, record_id: str) -> VersionRow:
    version_id = _id(version)
    if version_id is None:
        raise MalformedRecord(record_id, "missing flow_version id")
    data = version if isinstance(version, dict) else {}
    published_by, _ = user_name(data.get("published_by"), record_id)
    return VersionRow(
        id=version_id,
        flow_id=flow_id,
        name=_checked_text(data.get("version_name"), "flow_version.version_name", record_id)
        or f"Version {version_id}",
        description=_checked_text(
            data.get("version_description"), "flow_version.version_description", record_id
        ),
        published_by=published_by,
        published_at=_timestamp(
            data.get("created_on"), "flow_version.created_on", record_id, False
        ),
        is_current=_flag(
            data.get("is_current_version"), "flow_version.is_current_version", record_id
        ),
        api_counters=api_counters(data),
        partial=not isinstance(version, dict),
    )


def _step_error(messages: Any, field: str, record_id: str) -> str:
    if not isinstance(messages, list):
        raise MalformedRecord(record_id, f"{field} is not a list")
    error = ""
    for message in messages:
        inner = message.get("message") if isinstance(message, dict) else None
        if isinstance(inner, dict) and inner.get("provider_error_message"):
            code = _checked_text(inner.get("provider_error_code"), field, record_id)
            text = _checked_text(inner.get("provider_error_message"), field, record_id)
            error = f"(#{code}) {text}" if code else text
    return error


_REF_FIELDS = ("next_step_default", "next_step_alternate", "answer_failed_next_step")


def _is_ref(value: Any) -> bool:
    """A step reference: an id, an object with an id, or empty."""
    if value is None or value == "":
        return True
    if isinstance(value, dict):
        value = value.get("id")
        if value is None or value == "":
            return True
    return _id(value) is not None


def _whole_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, int)


def check_step_definition(definition: dict[str, Any], field: str, record_id: str) -> str:
    """Check the fields of a step definition the graph uses; returns the step's id.

    Everything the engine later reads from a definition (``steps.parse_step``) is checked here,
    so a definition cannot fail its batch inside the write transaction. It runs for every step
    of every run: each check starts with the common, valid shape and only then looks closer.
    """
    get = definition.get
    raw_id = get("id")
    if type(raw_id) is str and raw_id and raw_id.isascii():
        step_id = raw_id
    else:
        step_id = None if isinstance(raw_id, dict) else _id(raw_id)
        if step_id is None:
            raise MalformedRecord(record_id, f"{field} has no valid id ({_shown(raw_id)})")
    for name in _STEP_TEXT_FIELDS:
        value = get(name)
        if value is not None and not (type(value) is str and value.isascii()):
            _checked_text(value, f"{field}.{name}", record_id)
    ordering = get("ordering_idx")
    if (
        ordering is not None
        and not (type(ordering) is int or _whole_number(ordering))
        or abs(ordering or 0) > 10**9
    ):
        raise MalformedRecord(
            record_id, f"{field}.ordering_idx is not a whole number ({_shown(ordering)})"
        )
    amount = get("max_wait_time_amount")
    if amount is not None and not (
        (type(amount) is int or _whole_number(amount)) and 0 <= amount <= MAX_WAIT_AMOUNT
    ):
        raise MalformedRecord(
            record_id,
            f"{field}.max_wait_time_amount is not a whole number from 0 to {MAX_WAIT_AMOUNT:,}"
            f" ({_shown(amount)})",
        )
    flag = get("has_max_wait_time")
    if flag is not None and type(flag) is not bool:
        _flag(flag, f"{field}.has_max_wait_time", record_id)
    for name in _REF_FIELDS:
        value = get(name)
        plain = value is None or (type(value) is str and value.isascii())
        if not plain and not _is_ref(value):
            raise MalformedRecord(record_id, f"{field}.{name} is not a step reference")
    options = get("next_steps_for_options")
    if options is not None:
        if type(options) is not list:
            # A string here would be read letter by letter: phantom steps "a", "b", "c".
            raise MalformedRecord(record_id, f"{field}.next_steps_for_options is not a list")
        for target in options:
            if not (type(target) is str and target.isascii()) and not _is_ref(target):
                raise MalformedRecord(
                    record_id, f"{field}.next_steps_for_options holds a value that is not a step"
                )
    labels = get("answer_options")
    if labels is not None:
        if type(labels) is not list:
            raise MalformedRecord(record_id, f"{field}.answer_options is not a list")
        for label in labels:
            if isinstance(label, str) and not label.isascii() and not _storable(label):
                raise MalformedRecord(record_id, f"{field}.answer_options holds invalid text")
    return step_id


_STEP_TEXT_FIELDS = ("name", "step_type", "max_wait_time_unit")


_PLANNED = frozenset({"WAITING_TO_START", "NOT_EXECUTED"})


def _parse_path(
    steps: Any, record_id: str, checked: dict[Any, Any] | None = None
) -> tuple[list[PathStep], list[dict[str, Any]]]:
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
        # Sources that share one definition object between runs (the demo) check it once per
        # batch; the batch's records keep the object, so its id() is not reused meanwhile.
        step_id = checked.get(id(definition)) if checked is not None else None
        if step_id is None:
            step_id = check_step_definition(definition, f"execution_steps[{index}].step", record_id)
            if checked is not None:
                checked[id(definition)] = step_id
        definitions.append(definition)
        status = item.get("status") or "COMPLETED"
        if type(status) is not str:
            raise MalformedRecord(record_id, f"execution_steps[{index}].status is not text")
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
        has_error = item.get("has_error")
        if type(has_error) is not bool:
            has_error = _flag(has_error, f"execution_steps[{index}].has_error", record_id)
        if reason is not None and not (type(reason) is str and reason.isascii()):
            reason = _checked_text(reason, f"execution_steps[{index}].status_reason", record_id)
        if not status.isascii():
            status = _checked_text(status, f"execution_steps[{index}].status", record_id)
        path.append(
            PathStep(
                step_id,
                status,
                "" if reason is None else reason,
                has_error,
                executed_at,
                _timestamp(expire, f"execution_steps[{index}].expire_on", record_id, False)
                if expire
                else None,
                _step_error(messages, f"execution_steps[{index}].messages", record_id)
                if messages
                else "",
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
    path, definitions = (None, []) if steps is None else _parse_path(steps, record_id, cache)
    execution = data.get("flow_execution")
    execution_id = _id(execution)
    if execution_id is None and execution not in (None, ""):
        raise MalformedRecord(record_id, f"flow_execution is not an id ({_shown(execution)})")
    return RunRecord(
        id=record_id,
        flow=flow,
        version=version,
        contact=ContactRow(
            id=contact_id,
            phone=_checked_text(contact.get("phone"), "contact.phone", record_id),
            first_name=_checked_text(contact.get("first_name"), "contact.first_name", record_id),
            last_name=_checked_text(contact.get("last_name"), "contact.last_name", record_id),
            email=_checked_text(contact.get("email"), "contact.email", record_id),
        ),
        execution_id=execution_id,
        status=status,
        status_reason=_checked_text(data.get("status_reason"), "status_reason", record_id),
        is_test=_flag(data.get("is_test"), "is_test", record_id),
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
    created_by, email = user_name(data.get("created_by"), record_id)
    filters = data.get("contact_filters") or []
    if not isinstance(filters, list):
        raise MalformedRecord(record_id, "contact_filters is not a list")
    if not storable_json(filters):
        raise MalformedRecord(record_id, "contact_filters holds invalid text")
    contact_import = _id(data.get("contact_import"))
    status = data.get("status")
    if isinstance(status, dict):
        status = status.get("status") or status.get("value")
    status = _checked_text(status, "status", record_id)
    return ExecutionRecord(
        id=record_id,
        flow=flow,
        version=version,
        created_by=created_by,
        created_by_email=email,
        created_on=_timestamp(data.get("created_on"), "created_on", record_id, False),
        start_on=_timestamp(data.get("start_on"), "start_on", record_id, False),
        execute_for=_checked_text(data.get("execute_for"), "execute_for", record_id),
        method=execution_method(data.get("execute_for"), contact_import, filters),
        contact_import=contact_import,
        contact_filters=json.dumps(filters, ensure_ascii=False),
        status=status,
        status_reason=_checked_text(data.get("status_reason"), "status_reason", record_id),
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
