"""Versions (change history) and outbound executions, each with the six counters."""

from __future__ import annotations

import json
import re

from flowdesk.core import formatting
from flowdesk.core.execution_names import (  # noqa: F401 - the UI imports them from here too
    execution_label,
    execution_labels,
    execution_numbers,
)
from flowdesk.core.model import (
    COUNTERS,
    EXECUTION_METHOD_LABELS,
    METRIC_DEFINITIONS,
    METRIC_LABELS,
)
from flowdesk.core.queries import Counters, ExecutionInfo, VersionInfo
from flowdesk.ui.models.records import Column, RecordTableModel


def _counter_columns(get) -> list[Column]:
    columns = []
    for name in COUNTERS:

        def display(record, name=name):
            return formatting.count(getattr(get(record), name))

        def tooltip(record, name=name):
            counters: Counters = get(record)
            if name == "contacts":
                return f"{formatting.count(counters.contacts)} contact entries"
            return (
                f"{formatting.count(getattr(counters, name))} of "
                f"{formatting.count(counters.contacts)} contacts "
                f"({formatting.share(counters.share(name))})"
            )

        columns.append(
            Column(
                METRIC_LABELS[name],
                display,
                tooltip,
                sort_key=lambda r, name=name: getattr(get(r), name),
                numeric=True,
                header_tip=METRIC_DEFINITIONS[name],
            )
        )
    return columns


def _rate_columns(get) -> list[Column]:
    return [
        Column(
            "Completion",
            lambda r: formatting.share(get(r).completion_rate),
            lambda r: "Completed ÷ Contacts",
            sort_key=lambda r: get(r).completion_rate,
            numeric=True,
            header_tip="Share of contacts who reached a final step.",
        ),
        Column(
            "Response",
            lambda r: formatting.share(get(r).response_rate),
            lambda r: (
                f"{formatting.count(get(r).responded)} of {formatting.count(get(r).waited)}"
                " contacts asked for a reply answered at least once"
            ),
            sort_key=lambda r: get(r).response_rate,
            numeric=True,
            header_tip="Of contacts who reached a step waiting for a reply, the share who "
            "replied at least once.",
        ),
    ]


def version_label(version: VersionInfo) -> str:
    return version.name or version.id


class VersionsModel(RecordTableModel[VersionInfo]):
    columns = [
        Column(
            "Version",
            lambda v: version_label(v) + ("  ● current" if v.is_current else ""),
            lambda v: (
                f"Open version “{version_label(v)}”: its own graph and heat"
                + ("\nThe current version: new contacts enter it." if v.is_current else "")
            ),
            sort_key=lambda v: (v.published_at or 0, v.id),
            link=True,
            bold=lambda v: v.is_current,
        ),
        Column("Description", lambda v: v.description, lambda v: v.description or None),
        Column("Published by", lambda v: v.published_by or "—"),
        Column(
            "Published",
            lambda v: formatting.timestamp(v.published_at),
            sort_key=lambda v: v.published_at,
        ),
        *_counter_columns(lambda v: v.counters),
        *_rate_columns(lambda v: v.counters),
    ]


def execution_how(execution: ExecutionInfo) -> str:
    return EXECUTION_METHOD_LABELS.get(execution.method, execution.method or "—")


# The API's comparisons (ComparisonEnum), in words; dates read "on or after", numbers "at least".
_COMPARISONS = {
    "exact": ("is", "is"),
    "!exact": ("is not", "is not"),
    "gte": ("is at least", "is on or after"),
    "gt": ("is more than", "is after"),
    "lte": ("is at most", "is on or before"),
    "lt": ("is less than", "is before"),
    "icontains": ("contains", "contains"),
    "!icontains": ("does not contain", "does not contain"),
}
_RELATIVE_DAY = re.compile(r"^\{\{\s*today\s*(?:([+-])\s*(\d+)\s*d)?\s*\}\}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _filter_value(value: str) -> tuple[str, bool]:
    """(the value in words, whether it is a date)."""
    relative = _RELATIVE_DAY.match(value.strip())
    if relative is not None:
        sign, days = relative.groups()
        if not days or int(days) == 0:
            return "today", True
        unit = "day" if int(days) == 1 else "days"
        return (f"{days} {unit} ago" if sign == "-" else f"{days} {unit} from now"), True
    if _DATE.match(value.strip()):
        return value.strip(), True
    if value.strip().lower() in ("true", "false"):
        return ("yes" if value.strip().lower() == "true" else "no"), False
    return f"“{value}”", False


def describe_filter(condition: object) -> str:
    """One contact filter condition in words: "last order date is on or after 30 days ago"."""
    if not isinstance(condition, dict):
        return str(condition)
    field = str(condition.get("field", "?")).replace("_", " ")
    comparison = str(condition.get("comparison", ""))
    if comparison == "isnull":
        return f"{field} is empty"
    if comparison == "!isnull":
        return f"{field} is set"
    value, is_date = _filter_value(str(condition.get("value", "")))
    words = _COMPARISONS.get(comparison)
    verb = words[1 if is_date else 0] if words else comparison
    return f"{field} {verb} {value}"


def describe_filters(filters: object) -> str:
    """An execution's contact filters in words, joined by "and" (every condition applies)."""
    if isinstance(filters, dict):
        filters = [filters]
    if not isinstance(filters, list):
        return str(filters)
    return " and ".join(describe_filter(condition) for condition in filters)


def execution_how_detail(execution: ExecutionInfo) -> str:
    if execution.method == "csv":
        return f"Contacts from CSV file upload {execution.contact_import or ''}".strip()
    if execution.method == "filter":
        try:
            filters = json.loads(execution.contact_filters or "[]")
        except ValueError:
            filters = execution.contact_filters
        if execution.execute_for.upper() == "ALL":
            return "All contacts"
        if not filters:
            return "Contacts matching a filter (its conditions were not recorded)"
        return f"Contacts where {describe_filters(filters)}"
    return "Contacts listed in an API call"


def execution_state(execution: ExecutionInfo) -> str:
    """The upstream state is the sending's: "Completed" once every message went out, while
    the contacts' runs may go on. Say both, so an agent does not read it as the runs'."""
    state = (execution.status or "").replace("_", " ").lower()
    if not state:
        return ""
    ongoing = execution.counters.ongoing
    if ongoing and state in ("completed", "finished", "done"):
        return f"Sending {state}; {formatting.counted(ongoing, 'contact')} still ongoing"
    return state[:1].upper() + state[1:]


def execution_who(execution: ExecutionInfo) -> str:
    return execution.created_by or "System"


class ExecutionsModel(RecordTableModel[ExecutionInfo]):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.numbers: dict[str, int] = {}
        self.columns = [
            Column(
                "Execution",
                lambda e: f"Execution #{self.numbers.get(e.id, '?')}",
                lambda e: f"Open execution {e.id}: its metrics, contacts and heat",
                sort_key=lambda e: (e.start_on or e.created_on or 0, e.id),
                link=True,
            ),
            *_EXECUTION_COLUMNS,
        ]

    def set_records(
        self, records: list[ExecutionInfo], numbered_among: list[ExecutionInfo] | None = None
    ) -> None:
        """``numbered_among``: all the flow's executions, when ``records`` are some of them."""
        self.numbers = execution_numbers(numbered_among if numbered_among is not None else records)
        super().set_records(records)


_EXECUTION_COLUMNS: list[Column] = [
    Column("Version", lambda e: e.version_name or (e.version_id or "—")),
    Column(
        "Triggered by",
        execution_who,
        lambda e: (
            f"{execution_who(e)} <{e.created_by_email}>"
            if e.created_by_email
            else ("Started by the system" if execution_who(e) == "System" else None)
        ),
    ),
    Column(
        "When",
        lambda e: formatting.timestamp(e.start_on or e.created_on),
        lambda e: (
            f"Created {formatting.timestamp(e.created_on, True)}"
            + (f"\nStarted {formatting.timestamp(e.start_on, True)}" if e.start_on else "")
        ),
        sort_key=lambda e: e.start_on or e.created_on,
    ),
    Column("How", execution_how, execution_how_detail),
    Column(
        "State",
        lambda e: execution_state(e) or "—",
        lambda e: (
            f"Upstream state {e.status}: the sending, not the contacts' runs" if e.status else None
        ),
    ),
    *_counter_columns(lambda e: e.counters),
    _rate_columns(lambda e: e.counters)[0],
]
