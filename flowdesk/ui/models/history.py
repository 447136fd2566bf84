"""Versions (change history) and outbound executions, each with the six counters."""

from __future__ import annotations

import json

from flowdesk.core import formatting
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


def execution_numbers(executions: list[ExecutionInfo]) -> dict[str, int]:
    """Executions numbered 1, 2, 3… in the order they started, per flow."""
    ordered = sorted(executions, key=lambda e: (e.start_on or e.created_on or 0, e.id))
    return {e.id: n for n, e in enumerate(ordered, start=1)}


def execution_label(execution: ExecutionInfo, number: int | None = None) -> str:
    """A short readable name. The API gives executions no name of their own, so an execution
    is "#n · start time" unless the source provides a real one."""
    name = getattr(execution, "name", "") or ""
    if name and name != f"Execution {execution.id}":
        return name
    when = formatting.timestamp(execution.start_on or execution.created_on)
    if number is not None:
        return f"#{number} · {when}" if when else f"#{number}"
    return when or execution.id


def execution_labels(executions: list[ExecutionInfo]) -> dict[str, str]:
    numbers = execution_numbers(executions)
    return {e.id: execution_label(e, numbers[e.id]) for e in executions}


def execution_how(execution: ExecutionInfo) -> str:
    return EXECUTION_METHOD_LABELS.get(execution.method, execution.method or "—")


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
        return f"Contacts matching a filter: {json.dumps(filters, ensure_ascii=False)[:300]}"
    return "Contacts listed in an API call"


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

    def set_records(self, records: list[ExecutionInfo]) -> None:
        self.numbers = execution_numbers(records)
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
    Column("State", lambda e: e.status.title() if e.status else "—"),
    *_counter_columns(lambda e: e.counters),
    _rate_columns(lambda e: e.counters)[0],
]
