"""Small builders of upstream-shaped records, for tests that need exact control over the data."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from flowdesk.core.db import connect
from flowdesk.core.sources.base import Batch, Record

USER = {"id": 7, "first_name": "Ana", "last_name": "Souza", "email": "ana@example.com"}


def step(step_id: str, step_type: str, name: str | None = None, **exits: Any) -> dict[str, Any]:
    return {
        "id": step_id,
        "name": name or f"{step_type.title()} {step_id}",
        "step_type": step_type,
        "flow_version": "v1",
        "next_step_default": exits.get("default", ""),
        "next_step_alternate": exits.get("alternate", ""),
        "next_steps_for_options": exits.get("options", []),
        "answer_options": exits.get("labels", []),
        "answer_failed_next_step": exits.get("failed"),
        "ordering_idx": exits.get("ordering", 0),
        "has_max_wait_time": "wait" in exits,
        "max_wait_time_amount": exits.get("wait", 0),
        "max_wait_time_unit": "HOUR",
    }


# A small inbound flow: menu → (question ⟲ retry) | http action → end
STEPS = {
    "s1": step("s1", "TEMPLATE", "Welcome", default="s2", ordering=1),
    "s2": step(
        "s2",
        "MENU",
        "Main menu",
        options=["s3", "s5"],
        labels=["Order", "Agent"],
        alternate="s6",
        ordering=2,
    ),
    "s3": step("s3", "QUESTION", "Ask order number", default="s5", failed="s4", ordering=3),
    "s4": step("s4", "MESSAGE", "Invalid number", default="s3", ordering=4),
    "s5": step("s5", "ACTION", "Look up order", default="s6", alternate="s7", ordering=5),
    "s6": step("s6", "END", "Goodbye", ordering=6),
    "s7": step("s7", "MYSTERY_STEP", "Escalate", ordering=7),
}

DONE = "COMPLETED"
# Paths through STEPS used across tests: straight to the end, and a retry loop ending in failure.
PATH_COMPLETED = [("s1", DONE), ("s2", DONE), ("s3", DONE), ("s5", DONE), ("s6", DONE)]
PATH_LOOP_THEN_FAIL = [
    ("s1", DONE),
    ("s2", DONE),
    ("s3", DONE),
    ("s4", DONE),
    ("s3", DONE),
    ("s5", DONE),
    ("s7", "FAILED"),
]

FLOW = {
    "id": "f1",
    "name": "Order helper",
    "trigger_type": "INBOUND_ANY_MESSAGE",
    "current_version": "v1",
}
VERSION = {
    "id": "v1",
    "version_name": "First",
    "version_description": "launch",
    "published_by": USER,
    "created_on": "2026-10-01T09:00:00Z",
    "is_current_version": True,
}


def run(
    run_id: str,
    path: list[tuple[str, str]],
    status: str,
    *,
    contact: str = "c1",
    first: str = "José",
    last: str | None = "Núñez",
    phone: str = "+5215512345678",
    reason: str | None = None,
    execution: str | None = None,
    flow: dict[str, Any] | None = None,
    version: dict[str, Any] | None = None,
    start: int = 0,
) -> dict[str, Any]:
    """A run record; ``path`` is [(step id, step status)], one minute apart from ``start``."""
    steps = []
    for index, (step_id, step_status) in enumerate(path):
        minute = start + index
        steps.append(
            {
                "id": f"{run_id}-{index}",
                "step": STEPS[step_id],
                "status": step_status,
                "status_reason": None,
                "has_error": step_status == "FAILED",
                "created_on": f"2026-11-01T{10 + minute // 60:02d}:{minute % 60:02d}:00Z",
                "expire_on": None,
                "messages": [],
            }
        )
    return {
        "id": run_id,
        "contact": {
            "id": contact,
            "phone": phone,
            "first_name": first,
            "last_name": last,
            "email": f"{contact}@example.com",
        },
        "status": status,
        "status_reason": reason,
        "created_on": f"2026-11-01T{10 + start // 60:02d}:{start % 60:02d}:00Z",
        "is_test": False,
        "flow_execution": execution,
        "flow": flow or FLOW,
        "flow_version": version or VERSION,
        "execution_steps": steps,
    }


class ListSource:
    """A source replaying prepared batches of records; the cursor is the batch index."""

    kind = "test"
    name = "Test source"

    def __init__(self, batches: list[list[Record]], fail_after: int | None = None) -> None:
        self._batches = batches
        self._fail_after = fail_after

    def batches(self, state: Any, is_cancelled: Callable[[], bool]) -> Iterator[Batch]:
        start = int(state.cursor.get("next", 0))
        for index in range(start, len(self._batches)):
            if self._fail_after is not None and index >= self._fail_after:
                raise ConnectionError("network lost")
            yield Batch(
                self._batches[index], {"next": index + 1}, done=index + 1, total=len(self._batches)
            )


def runs_batch(*records: dict[str, Any]) -> list[Record]:
    return [Record("run", r) for r in records]


# Every table a sync writes (the syncs log, its problems and the jobs list are not sync results).
SYNCED_TABLES = (
    "flows",
    "versions",
    "executions",
    "steps",
    "transitions",
    "step_stats",
    "transition_stats",
    "step_time_stats",
    "step_reason_stats",
    "entry_day_stats",
    "completion_time_stats",
    "waiting_runs",
    "contacts",
    "runs",
    "run_steps",
    "contact_terms",
)


def cache_content(db: Any) -> dict[str, list]:
    """Everything a sync writes, in a canonical order, for "same cache as" comparisons
    (``last_sync_at``, a wall-clock time, excluded)."""
    content = {}
    for table in SYNCED_TABLES:
        columns = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
        order = ", ".join(str(i + 1) for i in range(len(columns)))
        content[table] = db.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()
    content["meta"] = db.execute(
        "SELECT key, value FROM meta WHERE key NOT IN ('last_sync_at') ORDER BY key"
    ).fetchall()
    return content


def cache_content_at(path: Path) -> dict[str, list]:
    """:func:`cache_content` of the cache file at ``path`` (opened and closed here)."""
    db = connect(path)
    try:
        return cache_content(db)
    finally:
        db.conn.close()
