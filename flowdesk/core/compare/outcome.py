"""One version's numbers for a comparison: its counters and, per step, how many runs reached it
and how many were lost there — read from the counters the sync engine maintains.

"Only runs old enough to have finished" is the version's counters minus the runs that entered
after the cut-off. Those recent runs are the few the ``runs_version_entered`` index holds past
the cut-off (a day or so of a flow's traffic), so the cost follows the recent traffic, not the
version's size.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlite_utils

from flowdesk.core.model import METRICS, STORED_COUNTERS, Metric
from flowdesk.core.queries import Counters

_COUNTER_SQL = "contacts, expired, ongoing, canceled, failed, completed, waited, responded"
# A run that ended at a step with one of these statuses was lost there.
LOST = (Metric.EXPIRED, Metric.FAILED, Metric.CANCELED)


@dataclass(frozen=True, slots=True)
class StepTally:
    """Runs that reached a step (each run once, however often it looped there), and runs whose
    path ended there expired, failed or canceled (lost) or still in progress (ongoing)."""

    reached: int = 0
    lost: int = 0
    ongoing: int = 0


@dataclass(frozen=True, slots=True)
class Outcome:
    counters: Counters
    steps: dict[int, StepTally] = field(default_factory=dict)


def flow_as_of(db: sqlite_utils.Database, flow_id: str) -> int | None:
    """The latest activity the cache holds for a flow: "now" as far as its data goes (a sync's
    wall-clock time would misjudge a demo, whose clock runs on its own)."""
    row = db.execute("SELECT max(last_activity) FROM runs WHERE flow_id = ?", [flow_id]).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def _stored(db: sqlite_utils.Database, version_id: str, keys: list[int]) -> Outcome:
    row = db.execute(f"SELECT {_COUNTER_SQL} FROM versions WHERE id = ?", [version_id]).fetchone()
    counters = Counters() if row is None else Counters(*row)
    lost = " + ".join(f"ended_{m.value}" for m in LOST)
    steps: dict[int, StepTally] = {}
    marks = ",".join("?" * len(keys))
    if keys:
        for key, reached, lost_runs, ongoing in db.execute(
            f"SELECT step_key, reached, {lost}, ended_ongoing FROM step_stats"
            f" WHERE execution_id = '' AND step_key IN ({marks})",
            keys,
        ):
            steps[key] = StepTally(reached, lost_runs, ongoing)
    return Outcome(counters, steps)


def _entered_after(db: sqlite_utils.Database, version_id: str, since: int) -> Outcome:
    """The contribution of the runs that entered after ``since``, read through the
    (version_id, entered_at) index and the paths' primary key."""
    sums = ", ".join(
        ["count(*)"]
        + [f"coalesce(sum(metric = '{m.value}'), 0)" for m in METRICS]
        + ["coalesce(sum(waited), 0)", "coalesce(sum(responded), 0)"]
    )
    recent = "FROM runs r WHERE r.version_id = ? AND r.entered_at > ?"
    counters = Counters(*db.execute(f"SELECT {sums} {recent}", [version_id, since]).fetchone())
    tallies: dict[int, list[int]] = {}
    for key, reached in db.execute(
        "SELECT p.step_key, count(DISTINCT p.run_key) FROM runs r JOIN run_steps p"
        " ON p.run_key = r.key WHERE r.version_id = ? AND r.entered_at > ? GROUP BY p.step_key",
        [version_id, since],
    ):
        tallies[key] = [reached, 0, 0]
    lost = tuple(m.value for m in LOST)
    for key, metric, runs in db.execute(
        f"SELECT r.last_step_key, r.metric, count(*) {recent}"
        " AND r.last_step_key IS NOT NULL GROUP BY r.last_step_key, r.metric",
        [version_id, since],
    ):
        tally = tallies.setdefault(key, [0, 0, 0])
        if metric in lost:
            tally[1] += runs
        elif metric == Metric.ONGOING:
            tally[2] += runs
    return Outcome(counters, {key: StepTally(*values) for key, values in tallies.items()})


def _minus(total: Outcome, part: Outcome) -> Outcome:
    counters = Counters(
        *(getattr(total.counters, n) - getattr(part.counters, n) for n in STORED_COUNTERS)
    )
    steps = {}
    for key, tally in total.steps.items():
        gone = part.steps.get(key, StepTally())
        steps[key] = StepTally(
            tally.reached - gone.reached, tally.lost - gone.lost, tally.ongoing - gone.ongoing
        )
    return Outcome(counters, steps)


def version_outcome(
    db: sqlite_utils.Database,
    version_id: str,
    step_keys: Iterable[int],
    entered_by: int | None = None,
) -> Outcome:
    """A version's counters and step tallies; with ``entered_by``, only the runs that entered
    at or before that time."""
    keys = sorted(set(step_keys))
    stored = _stored(db, version_id, keys)
    if entered_by is None:
        return stored
    return _minus(stored, _entered_after(db, version_id, entered_by))
