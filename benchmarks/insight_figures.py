"""Figures of the per-step views (issue 15): "Where runs stop" with Why and How long, a step's
time histogram, Over time, and "who went through" a step — each as the app asks for it, next to
the plain SQL over the runs and path rows that would give the same answer without the counters
the sync engine maintains."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from benchmarks.common import Figure, paired_ms

PAGE = 200


def measure_into(
    db: Any,
    flow_id: str,
    version_id: str,
    add: Callable[[str, Callable[[], Any], Callable[[], Any], str], None],
    figures: list[Figure],
    scale: int,
    load_first: Callable[..., Any],
    repeat: int = 7,
) -> None:
    from flowdesk.core import queries as q
    from flowdesk.core import step_report as r

    scope = q.Scope(flow_id)
    add(
        "stops",
        lambda: r.stops_view(db, scope, version_id),
        lambda: (
            db.execute(
                "SELECT last_step_key, metric, status_reason, count(*) FROM runs"
                " WHERE version_id = ? GROUP BY 1, 2, 3",
                [version_id],
            ).fetchall(),
            db.execute(
                "SELECT p.step_key, count(DISTINCT p.run_key) FROM runs x JOIN run_steps p"
                " ON p.run_key = x.key WHERE x.version_id = ? GROUP BY p.step_key",
                [version_id],
            ).fetchall(),
        ),
        "Where runs stop + Why + How long of the current version vs grouping its runs and paths",
    )
    busiest = db.execute(
        "SELECT t.step_key FROM step_time_stats t JOIN steps s ON s.key = t.step_key"
        " WHERE s.version_id = ? AND t.execution_id = '' GROUP BY t.step_key"
        " ORDER BY sum(t.visits) DESC LIMIT 1",
        [version_id],
    ).fetchone()
    if busiest is not None:
        key = busiest[0]
        add(
            "step_times",
            lambda: r.step_time_histogram(db, key),
            lambda: db.execute(
                "SELECT q.executed_at - p.executed_at FROM run_steps p JOIN run_steps q"
                " ON q.run_key = p.run_key AND q.seq = p.seq + 1 WHERE p.step_key = ?",
                [key],
            ).fetchall(),
            "one step's time histogram (the busiest) vs its passes' times from the path rows",
        )
    add(
        "over_time",
        lambda: r.entry_days(db, scope),
        lambda: db.execute(
            "SELECT entered_at / 86400, metric, count(*), sum(waited), sum(responded) FROM runs"
            " WHERE flow_id = ? GROUP BY 1, 2",
            [flow_id],
        ).fetchall(),
        "runs entered per day by outcome, whole flow, vs GROUP BY over its runs",
    )

    # Who went through: the slowest of a crowded step (walks the sort order), a rare one (read
    # by key), "ended here" at the step losing most, an arrow, "reached" + a status, and the
    # biggest row of the Why table (a step, an outcome and a reason).
    steps = r.step_outcomes(db, version_id)
    reached = sorted((s for s in steps if s.reached), key=lambda s: s.reached)
    if not reached:
        return
    lossy = max(steps, key=lambda s: s.lost)
    edge = db.execute(
        "SELECT ts.source_key, ts.target_key FROM transition_stats ts"
        " JOIN steps s ON s.key = ts.source_key WHERE s.version_id = ? AND ts.execution_id = ''"
        " ORDER BY ts.runs DESC LIMIT 1",
        [version_id],
    ).fetchone()
    cases = [
        (f"reached “{reached[-1].name}”", q.StepFilter(reached[-1].key), None),
        (f"reached “{reached[0].name}”", q.StepFilter(reached[0].key), None),
        (f"ended at “{lossy.name}”", q.StepFilter(lossy.key, "ended"), None),
        (f"reached “{reached[-1].name}”, completed", q.StepFilter(reached[-1].key), "completed"),
    ]
    if edge is not None:
        cases.append(("busiest arrow", q.StepFilter(edge[0], "edge", edge[1]), None))
    why = next((row for row in r.stop_reasons(db, scope) if row.step_key), None)
    if why is not None:  # the Why table's click-through: a step, an outcome and a reason
        cases.append(
            (
                f"ended at “{why.step_name}”, {why.metric}: {why.reason}",
                q.StepFilter(why.step_key, "ended", reason=why.reason),
                why.metric,
            )
        )
    worst: tuple[float, float, list[float], str] | None = None
    for words, step, metric in cases:
        query = q.ContactQuery(scope, metric=metric, step=step)
        where = "r.flow_id = ? AND r.key IN (SELECT run_key FROM run_steps WHERE step_key = ?)" + (
            " AND r.metric = ?" if metric else ""
        )
        params = [flow_id, step.step_key, *([metric] if metric else [])]

        def raw(where: str = where, params: list[Any] = params) -> Any:
            count = db.execute(
                f"SELECT count(*) FROM runs r NOT INDEXED WHERE {where}", params
            ).fetchone()[0]
            return count, db.execute(
                f"SELECT r.* FROM runs r NOT INDEXED WHERE {where}"
                f" ORDER BY r.entered_at DESC, r.key DESC LIMIT {PAGE}",
                params,
            ).fetchall()

        value, baseline, samples = paired_ms(
            lambda query=query: load_first(db, query, PAGE), raw, repeat
        )
        if worst is None or value > worst[0]:
            worst = (value, baseline, samples, words)
    assert worst is not None
    value, baseline, samples, words = worst
    figures.append(
        Figure(
            "who_went_through",
            scale,
            value,
            "ms",
            baseline,
            note=(
                f"first page (and count when maintained) of the Contacts tab filtered by a step;"
                f" slowest of {len(cases)} filters: {words}; baseline: the filter from the step"
                " index without counters or plan choice"
            ),
            samples=samples,
        )
    )
