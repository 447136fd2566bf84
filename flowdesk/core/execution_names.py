"""How an execution is named wherever a person reads it: "#60 · 2026-11-03 10:00".

The API gives executions no name of their own (sources that do, keep theirs). The window, the
customer page, the trace header, the export's Execution column, its title in the Downloads panel
and its file name all use these, so one execution reads the same everywhere.
"""

from __future__ import annotations

from typing import Any

from flowdesk.core import formatting
from flowdesk.core.queries import ExecutionInfo, list_executions


def execution_numbers(executions: list[ExecutionInfo]) -> dict[str, int]:
    """Executions numbered 1, 2, 3… in the order they started, per flow."""
    ordered = sorted(executions, key=lambda e: (e.start_on or e.created_on or 0, e.id))
    return {e.id: n for n, e in enumerate(ordered, start=1)}


def execution_label(execution: ExecutionInfo, number: int | None = None) -> str:
    """A short readable name: "#n · start time", unless the source provides a real one."""
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


def flow_execution_labels(db: Any, flow_id: str) -> dict[str, str]:  # noqa: ANN401 - a connection
    """Every execution of a flow, by id, as people read it."""
    return execution_labels(list_executions(db, flow_id))
