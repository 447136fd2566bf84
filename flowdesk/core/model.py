"""Domain vocabulary shared by the store, the sources, the exports and the UI.

Statuses, step types and directions are plain strings so that values the upstream API adds later
(it does not publish the full list of step types) flow through untouched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class RunStatus(StrEnum):
    """Upstream status of one contact's run (a "flow execution contact")."""

    READY = "READY"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"
    FAILED = "FAILED"


class Metric(StrEnum):
    """The five report buckets; together they partition Contacts."""

    EXPIRED = "expired"
    ONGOING = "ongoing"
    CANCELED = "canceled"
    FAILED = "failed"
    COMPLETED = "completed"


METRICS: tuple[Metric, ...] = (
    Metric.EXPIRED,
    Metric.ONGOING,
    Metric.CANCELED,
    Metric.FAILED,
    Metric.COMPLETED,
)

# The report's six numbers, named once: Contacts, then the five buckets that partition it.
COUNTERS: tuple[str, ...] = ("contacts", *(m.value for m in METRICS))
# Every counter the cache maintains per flow, version and execution: the six, and the two
# behind the response rate (runs asked for a reply, runs that replied).
STORED_COUNTERS: tuple[str, ...] = (*COUNTERS, "waited", "responded")

METRIC_LABELS: dict[str, str] = {
    "contacts": "Contacts",
    Metric.EXPIRED: "Expired",
    Metric.ONGOING: "Ongoing",
    Metric.CANCELED: "Canceled",
    Metric.FAILED: "Failed",
    Metric.COMPLETED: "Completed",
}

METRIC_DEFINITIONS: dict[str, str] = {
    "contacts": "Every contact entry into the flow, over the selected scope. "
    "A contact who entered twice counts twice.",
    Metric.EXPIRED: "The contact stopped replying: a Template, Menu or Question step waited "
    "longer than its wait time (24 h unless the step sets its own).",
    Metric.ONGOING: "Still in the flow: waiting for a reply, or inside a Delay step.",
    Metric.CANCELED: "Stopped by a user, or because the contact had an open Inbox conversation.",
    Metric.FAILED: "A message was not sent, a step raised an error, "
    "or an external API call failed.",
    Metric.COMPLETED: "Reached a final step of the flow.",
}

_STATUS_TO_METRIC: dict[str, Metric] = {
    RunStatus.READY: Metric.ONGOING,
    RunStatus.RUNNING: Metric.ONGOING,
    RunStatus.COMPLETED: Metric.COMPLETED,
    RunStatus.CANCELED: Metric.CANCELED,
    RunStatus.EXPIRED: Metric.EXPIRED,
    RunStatus.FAILED: Metric.FAILED,
}


def metric_for_status(status: str) -> Metric:
    """Map an upstream run status to its report bucket (READY and RUNNING are both Ongoing)."""
    try:
        return _STATUS_TO_METRIC[status]
    except KeyError:
        raise ValueError(f"unknown run status {status!r}") from None


def is_active_status(status: str) -> bool:
    return status in (RunStatus.READY, RunStatus.RUNNING)


class StepStatus(StrEnum):
    WAITING_TO_START = "WAITING_TO_START"
    NOT_EXECUTED = "NOT_EXECUTED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    CANCELED = "CANCELED"
    FAILED = "FAILED"
    EXPIRED = "EXPIRED"


EXECUTED_STEP_STATUSES = frozenset(
    {
        StepStatus.RUNNING,
        StepStatus.COMPLETED,
        StepStatus.CANCELED,
        StepStatus.FAILED,
        StepStatus.EXPIRED,
    }
)

# Step types with their own rendering. Anything else is kept verbatim and drawn generically.
KNOWN_STEP_TYPES: tuple[str, ...] = (
    "TEMPLATE",
    "MESSAGE",
    "MENU",
    "QUESTION",
    "DELAY",
    "CONDITIONAL",
    "ACTION",
    "CONTACT_UPDATE",
    "TAG",
    "TEAM",
    "GO_TO_FLOW",
    "END",
)
WAITING_STEP_TYPES = frozenset({"TEMPLATE", "MENU", "QUESTION"})
DEFAULT_WAIT_SECONDS = 24 * 3600
PLACEHOLDER_STEP_TYPE = "UNKNOWN"

_UNIT_SECONDS = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400}


def wait_seconds(step_type: str, amount: int | None, unit: str | None, enabled: bool) -> int | None:
    """How long a waiting step waits for a reply; None for steps that do not wait."""
    if step_type not in WAITING_STEP_TYPES:
        return None
    if enabled and amount and unit in _UNIT_SECONDS:
        return int(amount) * _UNIT_SECONDS[unit]
    return DEFAULT_WAIT_SECONDS


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    OTHER = "other"


def direction_for_trigger(trigger_type: str | None) -> Direction:
    trigger = (trigger_type or "").upper()
    if trigger.startswith("INBOUND") or trigger == "META_C2WA":
        return Direction.INBOUND
    if trigger.startswith("OUTBOUND"):
        return Direction.OUTBOUND
    return Direction.OTHER


class ExecutionMethod(StrEnum):
    API = "api"
    CSV = "csv"
    FILTER = "filter"


EXECUTION_METHOD_LABELS = {
    ExecutionMethod.API: "API",
    ExecutionMethod.CSV: "CSV file upload",
    ExecutionMethod.FILTER: "Contact filter",
}


def execution_method(execute_for: str | None, contact_import: str | None, filters: list) -> str:
    """How an outbound execution picked its contacts; the API only implies it."""
    if contact_import:
        return ExecutionMethod.CSV
    if (execute_for or "").upper() in ("FILTERS", "ALL") or filters:
        return ExecutionMethod.FILTER
    return ExecutionMethod.API


@dataclass(frozen=True, slots=True)
class Transition:
    """An edge of a version's step graph, derived from a step definition."""

    source: str
    target: str
    kind: str  # default | alternate | option | path | failed | observed
    label: str
    ordinal: int = 0


@dataclass(slots=True)
class StepDef:
    id: str
    version_id: str
    name: str
    step_type: str
    wait_seconds: int | None
    ordering: int
    transitions: list[Transition] = field(default_factory=list)
    is_placeholder: bool = False
