"""The columns of a results file: fixed contact columns, then one column per step of the flow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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


@dataclass(frozen=True, slots=True)
class StepColumn:
    """One step column: its header and the step keys (one per version at most) it gathers."""

    header: str
    keys: tuple[int, ...]
    versions: tuple[str, ...]


def step_columns(conn: Any, flow_id: str) -> list[StepColumn]:
    """One column per step name over all versions of a flow, in a stable flow order.

    Order: the steps of the newest version in their flow order, then the steps that only older
    versions have, newest version first. Steps of different versions with the same name share a
    column (a flow edited over time keeps its columns). Two steps with the same name inside one
    version get separate columns, "Name" and "Name (2)". A header never repeats another header
    or one of the fixed columns ("Phone", "Status", ...): it gets the next free " (n)" suffix.
    Steps only known by reference (placeholders: nobody executed them) have no column.
    """
    rows = conn.execute(
        "SELECT s.key, s.name, s.version_id, s.id FROM steps s"
        " LEFT JOIN versions v ON v.id = s.version_id"
        " WHERE s.flow_id = ? AND s.is_placeholder = 0"
        " ORDER BY v.published_at IS NULL, v.published_at DESC, s.version_id,"
        " s.ordering, s.key",
        [flow_id],
    ).fetchall()
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


def headers(columns: list[StepColumn]) -> list[str]:
    return [*FIXED_HEADERS, *(column.header for column in columns)]
