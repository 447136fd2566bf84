"""The columns of a results file: fixed contact columns, then one column per step of the scope.

A column that could only ever be empty is left out: a version's file has that version's steps, an
execution's file the steps of the version(s) it ran, and a flow without executions (inbound) has no
Execution column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flowdesk.core.path_order import path_order
from flowdesk.core.queries import Scope

FIXED_HEADERS: tuple[str, ...] = (
    "Phone",
    "First name",
    "Last name",
    "Status",
    "Reason",
    "Version",
    "Execution",
    "Entered",
)
FIXED_COUNT = len(FIXED_HEADERS)
EXECUTION_COLUMN = FIXED_HEADERS.index("Execution")


def fixed_headers(with_execution: bool = True) -> tuple[str, ...]:
    """The fixed columns, without "Execution" for a scope that has no executions."""
    if with_execution:
        return FIXED_HEADERS
    return FIXED_HEADERS[:EXECUTION_COLUMN] + FIXED_HEADERS[EXECUTION_COLUMN + 1 :]


def scope_versions(conn: Any, scope: Scope) -> list[str] | None:
    """The versions whose steps get columns: None for every version of the flow; the version of
    a version scope; for an execution, the versions its runs ran (and its own, if it names one).
    """
    if scope.execution_id is not None:
        found = conn.execute(
            "SELECT DISTINCT version_id FROM runs WHERE execution_id = ?"
            " UNION SELECT version_id FROM executions WHERE id = ? AND version_id IS NOT NULL",
            [scope.execution_id, scope.execution_id],
        ).fetchall()
        return [version_id for (version_id,) in found]
    if scope.version_id is not None:
        return [scope.version_id]
    return None


def scope_has_executions(conn: Any, scope: Scope) -> bool:
    """Whether the Execution column can hold anything: an execution's file always; a flow's or
    a version's when the flow has executions (of that version, or of no known version). Every run
    sent by an execution has that execution's row (the engine keeps a stub until its record
    arrives), so an inbound flow, which has none, gets no always-empty column."""
    if scope.execution_id is not None:
        return True
    if scope.version_id is None:
        sql, params = "flow_id = ?", [scope.flow_id]
    else:
        sql = "flow_id = ? AND (version_id = ? OR version_id IS NULL)"
        params = [scope.flow_id, scope.version_id]
    found = conn.execute(f"SELECT 1 FROM executions WHERE {sql} LIMIT 1", params).fetchone()
    return found is not None


@dataclass(frozen=True, slots=True)
class StepColumn:
    """One step column: its header and the step keys (one per version at most) it gathers."""

    header: str
    keys: tuple[int, ...]
    versions: tuple[str, ...]


def step_columns(
    conn: Any, flow_id: str, version_ids: Sequence[str] | None = None
) -> list[StepColumn]:
    """One column per step name over the given versions of a flow (all of them by default), in
    the order contacts pass through the steps.

    Order: the newest version's steps in path order (:func:`flowdesk.core.path_order.path_order`:
    from the entry along the exits, a loop back to an earlier step does not move it, steps no exit
    reaches last), then the steps only older versions have, newest version first, each in its
    version's path order. Steps of different versions with the same name share a column (a flow
    edited over time keeps its columns). Two steps with the same name inside one version get
    separate columns, "Name" and "Name (2)", numbered in path order. A header never repeats
    another header or one of the fixed columns ("Phone", "Status", ...): it gets the next free
    " (n)" suffix. Steps only known by reference (placeholders: nobody executed them) have no
    column.
    """
    versions = [
        version_id
        for (version_id,) in conn.execute(
            "SELECT s.version_id FROM steps s LEFT JOIN versions v ON v.id = s.version_id"
            " WHERE s.flow_id = ? GROUP BY s.version_id"
            " ORDER BY max(v.published_at) IS NULL, max(v.published_at) DESC, s.version_id",
            [flow_id],
        )
    ]
    if version_ids is not None:
        wanted = set(version_ids)
        versions = [version_id for version_id in versions if version_id in wanted]
    rows = [row for version_id in versions for row in _version_steps(conn, version_id)]
    # Name each step: its name, with (n) for the n-th step of that name within its version.
    seen_in_version: dict[tuple[str, str], int] = {}
    named: list[tuple[str, int, str]] = []
    for key, name, version_id, step_id in rows:
        base = " ".join(str(name or "").split()) or f"Step {step_id}"
        occurrence = seen_in_version.get((version_id, base.casefold()), 0) + 1
        seen_in_version[(version_id, base.casefold())] = occurrence
        label = base if occurrence == 1 else f"{base} ({occurrence})"
        named.append((label, key, version_id))

    taken = {header.casefold() for header in FIXED_HEADERS}
    by_label: dict[str, int] = {}  # casefolded step label -> column index
    headers: list[str] = []
    keys: list[list[int]] = []
    versions: list[list[str]] = []
    for label, key, version_id in named:
        folded = label.casefold()
        index = by_label.get(folded)
        if index is not None and version_id in versions[index]:
            index = None  # cannot happen with the numbering above; kept as a guard
        if index is None:
            header = label
            suffix = 1
            while header.casefold() in taken:
                suffix += 1
                header = f"{label} ({suffix})"
            taken.add(header.casefold())
            index = len(headers)
            by_label[folded] = index
            headers.append(header)
            keys.append([])
            versions.append([])
        keys[index].append(key)
        versions[index].append(version_id)
    return [
        StepColumn(header, tuple(k), tuple(v))
        for header, k, v in zip(headers, keys, versions, strict=True)
    ]


def _version_steps(conn: Any, version_id: str) -> list[tuple[int, str, str, str]]:
    """(key, name, version, step id) of a version's executed steps, in path order.

    Entry steps: those no other step leads to and where contacts did start (in a version nobody
    ran yet: those that lead somewhere). A step nothing leads to that nobody reached (a detached
    step of a published definition) is unreached, so it comes last instead of first.
    """
    steps = conn.execute(
        "SELECT s.key, s.name, s.version_id, s.id, s.is_placeholder, coalesce(t.reached, 0)"
        " FROM steps s LEFT JOIN step_stats t ON t.step_key = s.key AND t.execution_id = ''"
        " WHERE s.version_id = ? ORDER BY s.ordering, s.key",
        [version_id],
    ).fetchall()
    edges = conn.execute(
        "SELECT source_key, target_key FROM transitions WHERE version_id = ?"
        " ORDER BY source_key, ordinal, target_key",
        [version_id],
    ).fetchall()
    targets = {target for source, target in edges if source != target}
    sources = {source for source, target in edges if source != target}
    starts = [row for row in steps if row[0] not in targets and not row[4]]
    entries = (
        [row[0] for row in starts if row[5]]
        or [row[0] for row in starts if row[0] in sources]
        or [row[0] for row in steps[:1]]
    )
    by_key = {row[0]: row for row in steps}
    order = path_order(list(by_key), edges, entries)
    return [by_key[key][:4] for key in order if not by_key[key][4]]


def headers(columns: list[StepColumn], with_execution: bool = True) -> list[str]:
    return [*fixed_headers(with_execution), *(column.header for column in columns)]
