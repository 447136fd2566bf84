"""Recount every counter from raw run and path rows, and compare with the maintained ones.

The app never needs this (that is the point of maintained counters); tests and the
``flowdesk check`` command use it to prove the counters exact after any sequence of syncs.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlite_utils

from flowdesk.core import insights
from flowdesk.core.model import METRICS, STORED_COUNTERS


def recount(db: sqlite_utils.Database) -> dict[str, dict[Any, tuple[int, ...]]]:
    """Counters recomputed with plain GROUP BY queries over runs and run_steps."""
    sums = ", ".join(
        ["count(*)"]
        + [f"sum(metric = '{m.value}')" for m in METRICS]
        + ["sum(waited)", "sum(responded)"]
    )
    result: dict[str, dict[Any, tuple[int, ...]]] = {}
    for table, column in (
        ("flows", "flow_id"),
        ("versions", "version_id"),
        ("executions", "execution_id"),
    ):
        result[table] = {
            row[0]: tuple(int(v or 0) for v in row[1:])
            for row in db.execute(
                f"SELECT {column}, {sums} FROM runs WHERE {column} IS NOT NULL GROUP BY {column}"
            )
        }
    steps: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0] * 7)
    transitions: dict[tuple[int, int, str], int] = defaultdict(int)
    metric_index = {m.value: i for i, m in enumerate(METRICS)}
    current: int | None = None
    keys: list[int] = []
    run_info: dict[int, tuple[str, str | None]] = {
        key: (metric, execution)
        for key, metric, execution in db.execute("SELECT key, metric, execution_id FROM runs")
    }

    def flush(run_key: int | None, path: list[int]) -> None:
        if run_key is None or run_key not in run_info:
            return
        metric, execution = run_info[run_key]
        for scope in ("", execution) if execution else ("",):
            for key in set(path):
                steps[(key, scope)][0] += 1
            for key in path:
                steps[(key, scope)][1] += 1
            if path:
                steps[(path[-1], scope)][2 + metric_index[metric]] += 1
            for pair in set(zip(path, path[1:], strict=False)):
                transitions[(*pair, scope)] += 1

    for run_key, step_key in db.execute(
        "SELECT run_key, step_key FROM run_steps ORDER BY run_key, seq"
    ):
        if run_key != current:
            flush(current, keys)
            current, keys = run_key, []
        keys.append(step_key)
    flush(current, keys)
    result["step_stats"] = {key: tuple(values) for key, values in steps.items() if any(values)}
    result["transition_stats"] = {key: (runs,) for key, runs in transitions.items() if runs}
    return result


def stored(db: sqlite_utils.Database) -> dict[str, dict[Any, tuple[int, ...]]]:
    columns = ", ".join(STORED_COUNTERS)
    result: dict[str, dict[Any, tuple[int, ...]]] = {}
    for table in ("flows", "versions", "executions"):
        result[table] = {
            row[0]: tuple(row[1:])
            for row in db.execute(f"SELECT id, {columns} FROM {table}")
            if row[1]
        }
    ended = ", ".join(f"ended_{m.value}" for m in METRICS)
    result["step_stats"] = {
        (row[0], row[1]): tuple(row[2:])
        for row in db.execute(
            f"SELECT step_key, execution_id, reached, visits, {ended} FROM step_stats"
        )
        if any(row[2:])
    }
    result["transition_stats"] = {
        (row[0], row[1], row[2]): (row[3],)
        for row in db.execute(
            "SELECT source_key, target_key, execution_id, runs FROM transition_stats"
        )
        if row[3]
    }
    return result


def mismatches(db: sqlite_utils.Database) -> list[str]:
    """Human-readable differences between maintained and recounted counters (empty = exact)."""
    expected, actual = recount(db), stored(db)
    expected.update(insights.as_tables(insights.recount(db)))
    actual.update(insights.stored(db))
    problems: list[str] = []
    for table in expected:
        for key in sorted(set(expected[table]) | set(actual[table]), key=str):
            want, have = expected[table].get(key), actual[table].get(key)
            if want != have:
                problems.append(f"{table} {key}: stored {have}, recount {want}")
    return problems
