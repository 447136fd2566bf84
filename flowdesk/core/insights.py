"""Where runs stop, why, how long they take, and when they entered: counters kept by the engine.

Every counter here follows the rule of the others (docs/metrics.md): a run's contribution is a
pure function of its stored row and path (:func:`contribution`), the sync engine subtracts a
changed run's stored contribution before adding its new one, and ``flowdesk check`` recomputes
them all from the raw rows with the same function and compares. The tables:

* ``step_time_stats``: time spent at a step per pass, in fixed logarithmic buckets
  (:data:`TIME_EDGES`), for the whole version (execution ``''``) and per execution;
* ``step_reason_stats``: runs that ended at a step (step 0: before the first step) by outcome
  and reason;
* ``entry_day_stats``: runs by UTC day of entry, with their outcome and reply counters;
* ``completion_time_stats``: entry to completion of completed runs, in the same buckets;
* ``waiting_runs``: one row per ongoing run at its last step with its arrival time, the index
  the "overdue" count reads (overdue depends on a clock, so it is counted when asked).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlite_utils

from flowdesk.core.model import METRICS

DAY_SECONDS = 86_400
# Bucket b holds durations in [TIME_EDGES[b-1], TIME_EDGES[b]) seconds; bucket 0 holds 0 s and
# the last bucket everything from 2^24 s (194 days) up. Edges grow by √2, so a duration read
# back from its bucket (the geometric middle) is within a factor 2^¼ (±19%) of the truth.
TIME_EDGES: tuple[float, ...] = tuple(2 ** (b / 2) for b in range(49))
LAST_BUCKET = len(TIME_EDGES)
NO_STEP = 0  # the step key of runs that stopped before executing any step
NO_REASON = "No reason given"
# The outcomes counted as lost at a step (and given a reason).
LOST = ("expired", "canceled", "failed")
_DAY_WIDTH = 3 + len(METRICS)  # contacts, the five metrics, waited, responded
_METRIC_SLOT = {m.value: 1 + i for i, m in enumerate(METRICS)}


def time_bucket(seconds: int) -> int:
    """The bucket of a duration (negative durations, from clock skew, count as 0 s)."""
    return bisect_right(TIME_EDGES, seconds) if seconds > 0 else 0


def bucket_bounds(bucket: int) -> tuple[float, float]:
    """[low, high) seconds of a bucket; the last one is open (high = inf)."""
    if bucket <= 0:
        return (0.0, 1.0)
    high = TIME_EDGES[bucket] if bucket < LAST_BUCKET else math.inf
    return (TIME_EDGES[bucket - 1], high)


def bucket_value(bucket: int) -> float:
    """The value a bucket stands for: its geometric middle (0 for the 0 s bucket)."""
    low, high = bucket_bounds(bucket)
    if bucket <= 0:
        return 0.0
    return low if math.isinf(high) else math.sqrt(low * high)


def percentile(counts: Mapping[int, int], q: float) -> float | None:
    """The q-quantile (0 < q ≤ 1) of a bucketed distribution, approximate to the bucket width."""
    total = sum(counts.values())
    if total <= 0:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for bucket in sorted(counts):
        seen += counts[bucket]
        if seen >= rank:
            return bucket_value(bucket)
    return bucket_value(max(counts))


def reason_label(run_reason: str, last_error: str, last_reason: str) -> str:
    """Why a run stopped: the run's own reason, else its last step's provider error (with its
    code) or reason."""
    return run_reason or last_error or last_reason or NO_REASON


def reason_label_sql(run: str = "r") -> str:
    """:func:`reason_label` of a stored run, as SQL over ``runs {run}`` (its last path row read
    by key), so the contacts behind one reason row can be listed."""
    return (
        f"coalesce(nullif({run}.status_reason, ''), (SELECT coalesce(nullif(p.error, ''),"
        f" nullif(p.status_reason, '')) FROM run_steps p WHERE p.run_key = {run}.key"
        f" AND p.seq = {run}.path_length - 1), '{NO_REASON}')"
    )


# A run as the counters see it: its ``runs`` row (key, flow, version, execution, metric,
# waited, responded, entered_at, last_activity, status_reason) and its path as ``run_steps``
# rows (run_key, seq, step_key, status, status_reason, has_error, executed_at, expire_on,
# error) in order — the very tuples the engine writes, so it hands them over without copying.
RunHead = tuple
PathRow = tuple


class InsightDeltas:
    """The changes one batch makes to these counters, applied with a few executemany calls.

    The engine reports each changed run (:meth:`add_run`), then, before it overwrites any row,
    calls :meth:`settle`: the stored contributions of the replaced runs are subtracted and the
    new ones added. A list-only record (no path) keeps its stored path, read at that point.
    """

    def __init__(self) -> None:
        self.times: dict[tuple[int, str, int], int] = defaultdict(int)
        self.reasons: dict[tuple[str, str, int, str, str], int] = defaultdict(int)
        self.days: dict[tuple[str, str, str, int], list[int]] = defaultdict(
            lambda: [0] * _DAY_WIDTH
        )
        self.completion: dict[tuple[str, str, str, int], int] = defaultdict(int)
        self.waiting: dict[tuple[int, int, int, str], int] = defaultdict(int)
        self._pending: list[tuple[RunHead, list[PathRow] | None, bool]] = []

    def add_run(self, head: RunHead, path: list[PathRow] | None, replaces_stored: bool) -> None:
        """A run whose new row is ``head``; ``path`` None keeps the stored path."""
        self._pending.append((head, path, replaces_stored))

    def settle(
        self,
        conn: Any,
        waits: Mapping[int, bool],
        edges: Mapping[tuple[int, int], set[str]],
    ) -> None:
        pending, self._pending = self._pending, []
        replaced = [head[0] for head, _, replaces in pending if replaces]
        stored_paths: dict[int, list[PathRow]] = {}
        if replaced:
            for old_head, old_path in load_runs(conn, replaced):
                stored_paths[old_head[0]] = old_path
                contribution(self, -1, old_head, old_path, waits, edges)
        for head, path, _ in pending:
            if path is None:
                path = stored_paths.get(head[0], [])
            contribution(self, +1, head, path, waits, edges)

    def apply(self, conn: Any) -> None:
        conn.executemany(
            "INSERT INTO step_time_stats (step_key, execution_id, bucket, visits)"
            " VALUES (?, ?, ?, ?) ON CONFLICT(step_key, execution_id, bucket)"
            " DO UPDATE SET visits = visits + excluded.visits",
            [(*key, n) for key, n in self.times.items() if n],
        )
        conn.executemany(
            "INSERT INTO step_reason_stats (version_id, execution_id, step_key, metric, reason,"
            " runs) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(version_id, execution_id, step_key, metric, reason)"
            " DO UPDATE SET runs = runs + excluded.runs",
            [(*key, n) for key, n in self.reasons.items() if n],
        )
        columns = ("contacts", *(m.value for m in METRICS), "waited", "responded")
        conn.executemany(
            f"INSERT INTO entry_day_stats (flow_id, version_id, execution_id, day,"
            f" {', '.join(columns)}) VALUES (?, ?, ?, ?, {', '.join('?' * len(columns))})"
            " ON CONFLICT(flow_id, version_id, execution_id, day) DO UPDATE SET "
            + ", ".join(f"{c} = {c} + excluded.{c}" for c in columns),
            [(*key, *values) for key, values in self.days.items() if any(values)],
        )
        conn.executemany(
            "INSERT INTO completion_time_stats (flow_id, version_id, execution_id, bucket, runs)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT(flow_id, version_id, execution_id, bucket)"
            " DO UPDATE SET runs = runs + excluded.runs",
            [(*key, n) for key, n in self.completion.items() if n],
        )
        conn.executemany(
            "DELETE FROM waiting_runs WHERE step_key = ? AND arrived_at = ? AND run_key = ?",
            [key[:3] for key, n in self.waiting.items() if n < 0],
        )
        conn.executemany(
            "INSERT INTO waiting_runs (step_key, arrived_at, run_key, execution_id)"
            " VALUES (?, ?, ?, ?)",
            [key for key, n in self.waiting.items() if n > 0],
        )


def contribution(
    into: InsightDeltas,
    sign: int,
    head: RunHead,
    path: Sequence[PathRow],
    waits: Mapping[int, bool],
    edges: Mapping[tuple[int, int], set[str]],
) -> None:
    """Add (sign +1) or remove (-1) one run's share of every counter of this module.

    Definitions (docs/metrics.md): a pass through a step is timed from its arrival to the next
    step's arrival, or for the run's last step to the run's last activity once the run has
    ended; for a step that waits for a reply only passes the contact replied to are timed
    (step COMPLETED and not left over its "No reply" branch), so its time is the reply time.
    """
    run_key, flow, version, execution, metric, waited, responded, entered, last_activity, why = head
    scopes = ("", execution) if execution else ("",)
    times = into.times
    last = len(path) - 1
    for index, row in enumerate(path):
        key = row[2]
        if index < last:
            following = path[index + 1][2]
            left = path[index + 1][6]
        elif metric != "ongoing":
            following = None
            left = last_activity
        else:
            break  # still at this step
        if waits.get(key) and (
            row[3] != "COMPLETED"
            or (following is not None and edges.get((key, following)) == {"alternate"})
        ):
            continue  # no reply: not a reply time
        arrived = row[6]
        bucket = bisect_right(TIME_EDGES, left - arrived) if left > arrived else 0
        for scope in scopes:
            times[(key, scope, bucket)] += sign
    if metric in LOST:
        if path:
            final = path[-1]
            step, step_reason, step_error = final[2], final[4], final[8]
        else:
            step, step_reason, step_error = NO_STEP, "", ""
        label = reason_label(why, step_error, step_reason)
        for scope in scopes:
            into.reasons[(version, scope, step, metric, label)] += sign
    day = entered // DAY_SECONDS
    slot = _METRIC_SLOT[metric]
    for scope in scopes:
        counters = into.days[(flow, version, scope, day)]
        counters[0] += sign
        counters[slot] += sign
        if waited:
            counters[6] += sign
        if responded:
            counters[7] += sign
    if metric == "completed":
        bucket = time_bucket(last_activity - entered)
        for scope in scopes:
            into.completion[(flow, version, scope, bucket)] += sign
    elif metric == "ongoing" and path:
        final = path[-1]
        into.waiting[(final[2], final[6], run_key, execution or "")] += sign


_HEAD_SQL = (
    "SELECT key, flow_id, version_id, execution_id, metric, waited, responded, entered_at,"
    " last_activity, status_reason FROM runs"
)
_PATH_SQL = (
    "SELECT run_key, seq, step_key, status, status_reason, has_error, executed_at, expire_on,"
    " error FROM run_steps"
)


def load_runs(conn: Any, run_keys: Sequence[int]) -> list[tuple[RunHead, list[PathRow]]]:
    """Stored rows and paths of some runs, as :func:`contribution` takes them."""
    heads: dict[int, RunHead] = {}
    paths: dict[int, list[PathRow]] = defaultdict(list)
    for start in range(0, len(run_keys), 900):
        chunk = list(run_keys[start : start + 900])
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(f"{_HEAD_SQL} WHERE key IN ({marks})", chunk):
            heads[row[0]] = row
        for row in conn.execute(
            f"{_PATH_SQL} WHERE run_key IN ({marks}) ORDER BY run_key, seq", chunk
        ):
            paths[row[0]].append(row)
    return [(head, paths.get(key, [])) for key, head in heads.items()]


def graph_facts(conn: Any) -> tuple[dict[int, bool], dict[tuple[int, int], set[str]]]:
    """Which steps wait for a reply, and the kinds of each edge, as the engine's graph has them."""
    waits = {
        key: wait is not None for key, wait in conn.execute("SELECT key, wait_seconds FROM steps")
    }
    edges: dict[tuple[int, int], set[str]] = defaultdict(set)
    for source, target, kind in conn.execute(
        "SELECT source_key, target_key, kind FROM transitions"
    ):
        edges[(source, target)].add(kind)
    return waits, edges


def _all_runs(conn: Any) -> Iterable[tuple[RunHead, list[PathRow]]]:
    """Every run with its path, streamed in key order (two ordered scans, merged)."""
    paths = conn.cursor().execute(f"{_PATH_SQL} ORDER BY run_key, seq")
    pending = next(paths, None)
    for head in conn.cursor().execute(f"{_HEAD_SQL} ORDER BY key"):
        key = head[0]
        path: list[PathRow] = []
        while pending is not None and pending[0] < key:
            pending = next(paths, None)  # path rows of a run that no longer exists
        while pending is not None and pending[0] == key:
            path.append(pending)
            pending = next(paths, None)
        yield head, path


def recount(db: sqlite_utils.Database) -> InsightDeltas:
    """Every counter of this module computed afresh from the runs and their paths."""
    waits, edges = graph_facts(db.conn)
    totals = InsightDeltas()
    for head, path in _all_runs(db.conn):
        contribution(totals, +1, head, path, waits, edges)
    return totals


def as_tables(deltas: InsightDeltas) -> dict[str, dict[Any, tuple[int, ...]]]:
    """Counters keyed like :func:`stored` returns them, zero rows left out."""
    return {
        "step_time_stats": {k: (n,) for k, n in deltas.times.items() if n},
        "step_reason_stats": {k: (n,) for k, n in deltas.reasons.items() if n},
        "entry_day_stats": {k: tuple(v) for k, v in deltas.days.items() if any(v)},
        "completion_time_stats": {k: (n,) for k, n in deltas.completion.items() if n},
        "waiting_runs": {k: (n,) for k, n in deltas.waiting.items() if n},
    }


def stored(db: sqlite_utils.Database) -> dict[str, dict[Any, tuple[int, ...]]]:
    """The maintained counters, zero rows left out."""
    columns = ", ".join(("contacts", *(m.value for m in METRICS), "waited", "responded"))

    def table(sql: str, width: int) -> dict[Any, tuple[int, ...]]:
        return {
            tuple(row[:width]): tuple(row[width:]) for row in db.execute(sql) if any(row[width:])
        }

    return {
        "step_time_stats": table(
            "SELECT step_key, execution_id, bucket, visits FROM step_time_stats", 3
        ),
        "step_reason_stats": table(
            "SELECT version_id, execution_id, step_key, metric, reason, runs"
            " FROM step_reason_stats",
            5,
        ),
        "entry_day_stats": table(
            f"SELECT flow_id, version_id, execution_id, day, {columns} FROM entry_day_stats", 4
        ),
        "completion_time_stats": table(
            "SELECT flow_id, version_id, execution_id, bucket, runs FROM completion_time_stats",
            4,
        ),
        "waiting_runs": table(
            "SELECT step_key, arrived_at, run_key, execution_id, 1 FROM waiting_runs", 4
        ),
    }


def rebuild(db: sqlite_utils.Database) -> None:
    """Fill the tables from the raw rows (a cache created before they existed); one
    transaction, the caller's."""
    conn = db.conn
    for table in (
        "step_time_stats",
        "step_reason_stats",
        "entry_day_stats",
        "completion_time_stats",
        "waiting_runs",
    ):
        conn.execute(f"DELETE FROM {table}")
    recount(db).apply(conn)
