"""Compare the upstream's own counters with a recount from the synced runs.

ActiveCampaign reports counters on flows, versions and executions (``num_contacts``, ``expired``,
``running``, ``completed``, ``canceled``, ``failed``); the sync engine keeps the latest values it
saw in the ``api_counters`` column. Flowdesk recounts the same numbers from the runs it holds.
Any difference is reported, never smoothed over: it means runs were skipped (a 404 or malformed
detail), the upstream changed after the sync read it, or the upstream counts differently.

Test runs (``is_test``) are counted on both sides, as the upstream does.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import sqlite_utils

# upstream counter → recount column on the runs
API_FIELDS: tuple[tuple[str, str], ...] = (
    ("num_contacts", "contacts"),
    ("running", "ongoing"),
    ("completed", "completed"),
    ("expired", "expired"),
    ("canceled", "canceled"),
    ("failed", "failed"),
)
_SCOPES = (
    ("flow", "flows", "flow_id", "name"),
    ("version", "versions", "version_id", "name"),
    ("execution", "executions", "execution_id", "name"),
)


@dataclass(frozen=True, slots=True)
class CounterMismatch:
    scope: str  # flow | version | execution
    id: str
    name: str
    field: str  # the upstream's counter name
    api: int
    recount: int

    def describe(self) -> str:
        return (
            f"{self.scope} {self.name} ({self.id}): {self.field} is {self.api:,} upstream, "
            f"{self.recount:,} in the synced runs"
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _recount(db: sqlite_utils.Database, column: str) -> dict[str, dict[str, int]]:
    rows = db.execute(
        f"SELECT {column}, count(*), sum(metric = 'ongoing'), sum(metric = 'completed'),"
        " sum(metric = 'expired'), sum(metric = 'canceled'), sum(metric = 'failed')"
        f" FROM runs WHERE {column} IS NOT NULL GROUP BY {column}"
    )
    return {
        row[0]: dict(zip([f for f, _ in API_FIELDS], (int(v or 0) for v in row[1:]), strict=True))
        for row in rows
    }


def compare_api_counters(
    db: sqlite_utils.Database, flow_id: str | None = None
) -> list[CounterMismatch]:
    """Every upstream counter that differs from the recount (empty when they all agree).

    Rows the upstream gave no counters for (a CSV import, a stub) are not compared.
    """
    mismatches: list[CounterMismatch] = []
    for scope, table, column, name_column in _SCOPES:
        recount = _recount(db, column)
        where, params = "WHERE api_counters IS NOT NULL", []
        if flow_id is not None:
            where += " AND " + ("id = ?" if table == "flows" else "flow_id = ?")
            params.append(flow_id)
        for row_id, name, raw in db.execute(
            f"SELECT id, {name_column}, api_counters FROM {table} {where} ORDER BY id", params
        ):
            try:
                api = json.loads(raw)
            except (TypeError, ValueError):
                continue
            if not isinstance(api, dict):
                continue
            ours = recount.get(row_id, {})
            for api_field, _ in API_FIELDS:
                value = api.get(api_field)
                if not isinstance(value, int):
                    continue
                mine = ours.get(api_field, 0)
                if value != mine:
                    mismatches.append(
                        CounterMismatch(scope, row_id, name or row_id, api_field, value, mine)
                    )
    return mismatches
