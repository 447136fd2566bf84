"""Read-side figures: what the app asks the cache for, each next to the plain SQL a cache without
pre-aggregation, keyset paging or search indexes would run for the same answer.

Every figure is measured on the flow with the most runs (about a fifth of the workspace), the
way the app asks for it (``flowdesk.ui.models.contacts.load_first`` / ``load_page`` for the
Contacts table), as the median of several calls interleaved with the baseline's calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmarks import insight_figures
from benchmarks.common import Figure, paired_ms, quoted, slowest_figure

PAGE = 200


def _ui_loaders() -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The Contacts table's own loaders when Qt is importable; the same logic otherwise."""
    try:
        from flowdesk.ui.models.contacts import PAGE_SIZE, load_first, load_page

        assert PAGE_SIZE == PAGE
        return load_first, load_page
    except ImportError:  # pragma: no cover - the app's venv has PySide6
        from flowdesk.core.queries import contacts_page, count_contacts

        def first(db, query, limit):  # noqa: ANN001, ANN202
            count = count_contacts(db, query)
            return count, contacts_page(db, query, 0, min(limit, count)), True

        def page(db, query, number, count):  # noqa: ANN001, ANN202
            offset = number * PAGE
            return contacts_page(db, query, offset, max(0, min(PAGE, count - offset)))

        return first, page


def _raw_page(db, where: str, params: list[Any], order: str, offset: int) -> Callable[[], Any]:  # noqa: ANN001
    """count(*) and one LIMIT/OFFSET page through the flow index only: no counters, no sort or
    search indexes, no keyset."""
    sql_count = f"SELECT count(*) FROM runs r INDEXED BY runs_flow_entered WHERE {where}"
    sql_page = (
        "SELECT r.*, v.name, s.name FROM runs r INDEXED BY runs_flow_entered"
        " LEFT JOIN versions v ON v.id = r.version_id LEFT JOIN steps s ON s.key = r.last_step_key"
        f" WHERE {where} ORDER BY {order} LIMIT {PAGE} OFFSET ?"
    )

    def run() -> Any:
        count = db.execute(sql_count, params).fetchone()[0]
        start = count - PAGE if offset < 0 else offset
        return count, db.execute(sql_page, [*params, max(0, start)]).fetchall()

    return run


def _compare_figures(db, flow_id: str, add: Callable[..., None]) -> None:  # noqa: ANN001
    """The Compare tab: counters and step tallies of two versions, with and without the
    old-enough window, against reading the same numbers off their runs and paths."""
    from flowdesk.core import queries as q
    from flowdesk.core.compare import compare_versions, default_pair

    pair = default_pair(q.list_versions(db, flow_id))
    if pair is None:
        return
    a, b = pair
    cutoff = compare_versions(db, flow_id, a, b, finished_only=True).entered_by or 0

    def raw(window: str, params: list[Any]) -> Callable[[], Any]:
        def run() -> Any:
            for version in (a, b):
                db.execute(
                    "SELECT count(*), sum(metric = 'completed'), sum(metric = 'ongoing'),"
                    f" sum(waited), sum(responded) FROM runs WHERE version_id = ? {window}",
                    [version, *params],
                ).fetchone()
                db.execute(
                    "SELECT p.step_key, count(DISTINCT p.run_key) FROM runs JOIN run_steps p"
                    f" ON p.run_key = runs.key WHERE version_id = ? {window} GROUP BY p.step_key",
                    [version, *params],
                ).fetchall()

        return run

    add(
        "compare",
        lambda: compare_versions(db, flow_id, a, b),
        raw("", []),
        "current vs previous version: counters, step_stats and the step diff vs their runs",
    )
    add(
        "compare_finished",
        lambda: compare_versions(db, flow_id, a, b, finished_only=True),
        raw("AND entered_at <= ?", [cutoff]),
        "only runs old enough to have finished: counters minus the recent runs, by index",
    )


def measure(db_path: Path, scale: int, repeat: int = 7) -> list[Figure]:
    from flowdesk.core import queries as q
    from flowdesk.core.db import connect

    db = connect(db_path)
    load_first, load_page = _ui_loaders()
    flows = q.list_flows(db)
    flow = max(flows, key=lambda f: f.counters.contacts)
    flow_id = flow.id
    version_id = flow.current_version_id or q.list_versions(db, flow_id)[-1].id
    outbound = max(
        flows,
        key=lambda f: db.execute(
            "SELECT count(*) FROM executions WHERE flow_id = ?", [f.id]
        ).fetchone()[0],
    )
    base = q.ContactQuery(q.Scope(flow_id))
    figures: list[Figure] = []

    def add(name: str, ours: Callable[[], Any], raw: Callable[[], Any], note: str) -> None:
        value, baseline, samples = paired_ms(ours, raw, repeat)
        figures.append(Figure(name, scale, value, "ms", baseline, note=note, samples=samples))

    sums = (
        "count(*), sum(metric = 'expired'), sum(metric = 'ongoing'), sum(metric = 'canceled'),"
        " sum(metric = 'failed'), sum(metric = 'completed'), sum(waited), sum(responded)"
    )
    add(
        "summary",
        lambda: q.summary(db, q.Scope(flow_id)),
        lambda: db.execute(f"SELECT {sums} FROM runs WHERE flow_id = ?", [flow_id]).fetchone(),
        "maintained counters vs GROUP BY over the flow's runs",
    )
    add(
        "heat",
        lambda: q.version_graph(db, version_id),
        lambda: db.execute(
            "SELECT p.step_key, count(DISTINCT p.run_key), count(*) FROM runs r"
            " JOIN run_steps p ON p.run_key = r.key WHERE r.version_id = ? GROUP BY p.step_key",
            [version_id],
        ).fetchall(),
        "step_stats/transition_stats vs counting the version's path rows",
    )
    add(
        "versions",
        lambda: q.list_versions(db, flow_id),
        lambda: db.execute(
            f"SELECT version_id, {sums} FROM runs WHERE flow_id = ? GROUP BY version_id",
            [flow_id],
        ).fetchall(),
        "versions table vs GROUP BY version over the flow's runs",
    )
    _compare_figures(db, flow_id, add)
    insight_figures.measure_into(db, flow_id, version_id, add, figures, scale, load_first, repeat)
    add(
        "executions",
        lambda: q.list_executions(db, outbound.id),
        lambda: db.execute(
            f"SELECT execution_id, {sums} FROM runs WHERE flow_id = ? GROUP BY execution_id",
            [outbound.id],
        ).fetchall(),
        f"executions table of “{outbound.name}” vs GROUP BY execution over its runs",
    )
    count = q.count_contacts(db, base)
    last_page = (count - 1) // PAGE
    flow_where, flow_params = "r.flow_id = ?", [flow_id]
    add(
        "contacts_first_page",
        lambda: load_first(db, base, PAGE),
        _raw_page(db, flow_where, flow_params, "r.entered_at DESC, r.key DESC", 0),
        "count + first 200 rows by entry time",
    )
    add(
        "contacts_last_page",
        lambda: load_page(db, base, last_page, count),
        _raw_page(db, flow_where, flow_params, "r.entered_at DESC, r.key DESC", -1),
        "last 200 rows (what scrolling to the bottom loads)",
    )
    middle = count // PAGE // 2
    add(
        "contacts_middle_page",
        lambda: load_page(db, base, middle, count),
        _raw_page(db, flow_where, flow_params, "r.entered_at DESC, r.key DESC", middle * PAGE),
        "a page in the middle (a jump with the scroll bar)",
    )
    by_activity = replace(base, sort="last_activity", descending=True)
    add(
        "contacts_sorted",
        lambda: load_first(db, by_activity, PAGE),
        _raw_page(db, flow_where, flow_params, "r.last_activity DESC, r.key DESC", 0),
        "count + first page sorted by last activity",
    )
    metric = max(("expired", "failed", "canceled"), key=lambda m: getattr(flow.counters, m))
    filtered = replace(base, metric=metric)
    add(
        "contacts_filtered",
        lambda: load_first(db, filtered, PAGE),
        _raw_page(
            db,
            "r.flow_id = ? AND r.metric = ?",
            [flow_id, metric],
            "r.entered_at DESC, r.key DESC",
            0,
        ),
        f"count + first page of status “{metric}”",
    )

    # Each search figure is the slowest of a common prefix (many matches: counting costs), a
    # rare one (few matches: finding them in entry order costs) and, for names, "first last".
    def prefixes(column: str, length: int, shape: str) -> tuple[str, str]:
        rows = db.execute(
            f"SELECT substr({column}, 1, {length}) p, count(*) n FROM runs WHERE flow_id = ?"
            f" GROUP BY p HAVING p GLOB '{shape}' ORDER BY n DESC, p",
            [flow_id],
        ).fetchall()
        return rows[0][0], rows[-1][0]

    common_phone, _ = prefixes("phone", 3, "+[0-9]*")
    rare_phone = db.execute(
        "SELECT substr(phone, 1, 10) FROM runs WHERE flow_id = ? ORDER BY key LIMIT 1", [flow_id]
    ).fetchone()[0]
    common_name, rare_name = prefixes("first_name", 3, "[A-Za-z]*")
    first, last = db.execute(
        "SELECT first_name, last_name FROM runs WHERE flow_id = ? AND last_name != ''"
        " ORDER BY key LIMIT 1",
        [flow_id],
    ).fetchone()
    searches = {
        "search_phone": [common_phone, rare_phone],
        "search_name": [common_name, rare_name, f"{first} {last[:3]}"],
    }

    def search_pair(text: str) -> tuple[Callable[[], Any], Callable[[], Any]]:
        query = replace(base, search=text)

        def ours() -> Any:
            # What the user waits for: the first page, then the exact number of matches.
            return load_first(db, query, PAGE), q.count_contacts(db, query)

        raw_where, raw_params = q._where(query)
        raw = _raw_page(
            db,
            raw_where.replace("r.", "+r.").replace("+r.flow_id", "r.flow_id"),
            raw_params,
            "r.entered_at DESC, r.key DESC",
            0,
        )
        return ours, raw

    for figure, texts in searches.items():

        def note(text: str, texts: list[str] = texts) -> str:
            matches = q.count_contacts(db, replace(base, search=text))
            return (
                f"slowest of {quoted(texts)}: “{text}” ({matches:,} matches), first page +"
                " exact count; baseline: the same filter scanning the flow"
            )

        figures.append(slowest_figure(figure, scale, texts, search_pair, note, repeat))
    run_key = db.execute(
        "SELECT key FROM runs WHERE flow_id = ? ORDER BY path_length DESC LIMIT 1", [flow_id]
    ).fetchone()[0]
    add(
        "path",
        lambda: q.run_detail(db, run_key),
        lambda: db.execute("SELECT * FROM run_steps WHERE run_key = ?", [run_key]).fetchall(),
        "one run's head and path vs the bare path rows by primary key",
    )
    db.conn.close()
    return figures
