"""Read side of the per-step counters: where runs stop, why, how long they take, when they came.

Everything is read from counters the sync engine maintains (flowdesk/core/insights.py), so the
cost depends on the number of steps, reasons, buckets or days, never on the number of runs.
The one clock-dependent number, *overdue*, is counted from the ``waiting_runs`` index.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from flowdesk.core.insights import LOST, NO_STEP, percentile
from flowdesk.core.model import METRICS
from flowdesk.core.queries import (
    COMPLETE,
    Counters,
    FlowGraph,
    PathCoverage,
    Scope,
    path_coverage,
    version_graph,
)

OUTCOMES = ("expired", "canceled", "failed", "completed")


def as_of(db: sqlite_utils.Database) -> int | None:
    """The cache's clock: the newest run activity it holds (None when it holds no runs).

    Overdue is measured against this moment rather than the wall clock, so a cache that has not
    been synced for a week does not call every waiting run overdue: it says what the upstream
    still reported as waiting when it was last read.
    """
    row = db.execute(
        "SELECT max((SELECT max(last_activity) FROM runs WHERE flow_id = f.id)) FROM flows f"
    ).fetchone()
    return None if row is None or row[0] is None else int(row[0])


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """One step's arrivals and what became of the runs that stopped there."""

    key: int
    id: str
    name: str
    step_type: str
    wait_seconds: int | None
    version_id: str
    reached: int
    ended: dict[str, int] = field(default_factory=dict)  # the five metrics
    overdue: int = 0
    timed: int = 0  # passes with a time
    time_p50: float | None = None
    time_p90: float | None = None

    @property
    def waiting(self) -> int:
        """Ongoing runs whose last executed step is this one."""
        return self.ended.get("ongoing", 0)

    @property
    def lost(self) -> int:
        """Runs that ended here without completing (expired, canceled or failed)."""
        return sum(self.ended.get(m, 0) for m in LOST)

    @property
    def lost_share(self) -> float | None:
        """Of the runs that reached the step, the share that was lost here."""
        return self.lost / self.reached if self.reached else None

    def as_json(self) -> dict[str, Any]:
        """The ``stats --json`` shape of a step (docs/metrics.md)."""
        return {
            "id": self.id,
            "name": self.name,
            "reached": self.reached,
            "ended": {m: self.ended.get(m, 0) for m in OUTCOMES},
            "waiting": self.waiting,
            "overdue": self.overdue,
            "time_p50_s": None if self.time_p50 is None else round(self.time_p50),
            "time_p90_s": None if self.time_p90 is None else round(self.time_p90),
        }


def _time_buckets(
    db: sqlite_utils.Database, where: str, params: list[Any]
) -> dict[int, dict[int, int]]:
    buckets: dict[int, dict[int, int]] = {}
    for key, bucket, visits in db.execute(
        "SELECT t.step_key, t.bucket, t.visits FROM step_time_stats t"
        f" JOIN steps s ON s.key = t.step_key WHERE {where}",
        params,
    ):
        if visits:
            buckets.setdefault(key, {})[bucket] = visits
    return buckets


def overdue_counts(
    db: sqlite_utils.Database, version_id: str, execution_id: str | None, now: int | None
) -> dict[int, int]:
    """Per waiting step of a version: runs still waiting there longer than its wait time."""
    if now is None:
        return {}
    sql = (
        "SELECT w.step_key, count(*) FROM steps s JOIN waiting_runs w ON w.step_key = s.key"
        " AND w.arrived_at < ? - s.wait_seconds"
        " WHERE s.version_id = ? AND s.wait_seconds IS NOT NULL"
    )
    params: list[Any] = [now, version_id]
    if execution_id:
        sql += " AND w.execution_id = ?"
        params.append(execution_id)
    return dict(db.execute(sql + " GROUP BY w.step_key", params).fetchall())


def step_outcomes(
    db: sqlite_utils.Database,
    version_id: str,
    execution_id: str | None = None,
    now: int | None = None,
) -> list[StepOutcome]:
    """Every step of a version (in the graph's order) with reach, ends, overdue and times, for
    the whole version or one execution. ``now`` defaults to :func:`as_of`."""
    if now is None:
        now = as_of(db)
    scope = execution_id or ""
    ended_columns = ", ".join(f"t.ended_{m.value}" for m in METRICS)
    times = _time_buckets(db, "s.version_id = ? AND t.execution_id = ?", [version_id, scope])
    overdue = overdue_counts(db, version_id, execution_id, now)
    result = []
    for row in db.execute(
        "SELECT s.key, s.id, s.name, s.step_type, s.wait_seconds, s.version_id,"
        f" coalesce(t.reached, 0), {ended_columns}"
        " FROM steps s LEFT JOIN step_stats t ON t.step_key = s.key AND t.execution_id = ?"
        " WHERE s.version_id = ? ORDER BY s.ordering, s.key",
        [scope, version_id],
    ):
        buckets = times.get(row[0], {})
        result.append(
            StepOutcome(
                *row[:7],
                ended={m.value: int(row[7 + i] or 0) for i, m in enumerate(METRICS)},
                overdue=overdue.get(row[0], 0),
                timed=sum(buckets.values()),
                time_p50=percentile(buckets, 0.5),
                time_p90=percentile(buckets, 0.9),
            )
        )
    return result


def ranked_losses(outcomes: list[StepOutcome]) -> list[StepOutcome]:
    """Steps that lost contacts, most lost first (ties: higher share, then graph order)."""
    lossy = [s for s in outcomes if s.lost]
    return sorted(lossy, key=lambda s: (-s.lost, -(s.lost_share or 0)))


def steps_json(db: sqlite_utils.Database, version_id: str, now: int | None = None) -> list[dict]:
    """``stats --json``'s ``steps`` list of a version."""
    return [s.as_json() for s in step_outcomes(db, version_id, None, now)]


# -- why -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StopReason:
    step_key: int  # 0: before the first step
    step_name: str
    version_id: str
    metric: str
    reason: str
    runs: int


def _scope_filter(scope: Scope, alias: str) -> tuple[str, list[Any]]:
    if scope.execution_id:
        return f"{alias}.execution_id = ?", [scope.execution_id]
    if scope.version_id:
        return f"{alias}.version_id = ? AND {alias}.execution_id = ''", [scope.version_id]
    return (
        f"{alias}.version_id IN (SELECT id FROM versions WHERE flow_id = ?)"
        f" AND {alias}.execution_id = ''",
        [scope.flow_id],
    )


def stop_reasons(
    db: sqlite_utils.Database, scope: Scope, step_key: int | None = None
) -> list[StopReason]:
    """Runs that expired, were canceled or failed, by step and reason, most runs first."""
    where, params = _scope_filter(scope, "r")
    if step_key is not None:
        where += " AND r.step_key = ?"
        params.append(step_key)
    rows = db.execute(
        "SELECT r.step_key, coalesce(s.name, ''), r.version_id, r.metric, r.reason, r.runs"
        " FROM step_reason_stats r LEFT JOIN steps s ON s.key = r.step_key"
        f" WHERE {where} AND r.runs != 0 ORDER BY r.runs DESC, r.step_key, r.metric, r.reason",
        params,
    )
    return [
        StopReason(key, name if key != NO_STEP else "Before the first step", *rest)
        for key, name, *rest in rows
    ]


# -- how long ------------------------------------------------------------------------------------


def step_time_histogram(
    db: sqlite_utils.Database, step_key: int, execution_id: str | None = None
) -> dict[int, int]:
    """Bucket → passes timed at one step (see insights.TIME_EDGES)."""
    return {
        bucket: visits
        for bucket, visits in db.execute(
            "SELECT bucket, visits FROM step_time_stats WHERE step_key = ? AND execution_id = ?"
            " AND visits != 0 ORDER BY bucket",
            [step_key, execution_id or ""],
        )
    }


def _day_scope(scope: Scope, alias: str) -> tuple[str, list[Any]]:
    where = f"{alias}.flow_id = ?"
    params: list[Any] = [scope.flow_id]
    if scope.version_id:
        where += f" AND {alias}.version_id = ?"
        params.append(scope.version_id)
    if scope.execution_id:
        where += f" AND {alias}.execution_id = ?"
        params.append(scope.execution_id)
    else:
        where += f" AND {alias}.execution_id = ''"
    return where, params


def completion_time_histogram(db: sqlite_utils.Database, scope: Scope) -> dict[int, int]:
    """Bucket → completed runs, by time from entry to completion."""
    where, params = _day_scope(scope, "c")
    return {
        bucket: runs
        for bucket, runs in db.execute(
            f"SELECT c.bucket, sum(c.runs) FROM completion_time_stats c WHERE {where}"
            " GROUP BY c.bucket HAVING sum(c.runs) != 0 ORDER BY c.bucket",
            params,
        )
    }


# -- over time -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EntryDay:
    day: int  # UTC days since the epoch
    counters: Counters

    @property
    def start(self) -> int:
        return self.day * 86_400


def entry_days(db: sqlite_utils.Database, scope: Scope) -> list[EntryDay]:
    """Runs by UTC day of entry with their outcomes and reply counters, oldest first."""
    where, params = _day_scope(scope, "d")
    rows = db.execute(
        "SELECT d.day, sum(d.contacts), sum(d.expired), sum(d.ongoing), sum(d.canceled),"
        " sum(d.failed), sum(d.completed), sum(d.waited), sum(d.responded)"
        f" FROM entry_day_stats d WHERE {where} GROUP BY d.day HAVING sum(d.contacts) != 0"
        " ORDER BY d.day",
        params,
    )
    return [EntryDay(row[0], Counters(*(int(v) for v in row[1:]))) for row in rows]


# -- one view ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StopsView:
    """Everything the "Where runs stop" mode shows for the graph of one version."""

    version_id: str
    execution_id: str | None
    as_of: int | None
    outcomes: list[StepOutcome]
    reasons: list[StopReason]
    completion: dict[int, int]
    coverage: PathCoverage = COMPLETE  # the runs these numbers are built from

    def outcome(self, step_key: int) -> StepOutcome | None:
        return next((s for s in self.outcomes if s.key == step_key), None)


def stops_view(db: sqlite_utils.Database, scope: Scope, version_id: str) -> StopsView:
    """The per-step view of ``version_id`` (the graph shown) within ``scope``: the scope's
    execution when it has one, else the whole version."""
    now = as_of(db)
    graph_scope = Scope(scope.flow_id, version_id, scope.execution_id)
    return StopsView(
        version_id,
        scope.execution_id,
        now,
        step_outcomes(db, version_id, scope.execution_id, now),
        stop_reasons(db, graph_scope),
        completion_time_histogram(db, graph_scope),
        path_coverage(db, None, version_id, scope.execution_id),
    )


@dataclass(frozen=True, slots=True)
class PathViews:
    """The diagram's counts and, when that mode is shown, "Where runs stop", read together for
    the graph on screen: what changes while a sync reads paths (docs/activecampaign.md)."""

    graph: FlowGraph
    stops: StopsView | None


def path_views(
    db: sqlite_utils.Database,
    scope: Scope,
    version_id: str,
    execution_id: str | None,
    with_stops: bool,
) -> PathViews:
    """One background read for a live refresh of the Flow Viewer tab, so the app knows when
    the refresh is over (it starts no other while one runs)."""
    graph = version_graph(db, version_id, execution_id)
    return PathViews(graph, stops_view(db, scope, version_id) if with_stops else None)
