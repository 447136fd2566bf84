"""Read side of the cache: every number and list the app, the CLI and the exports show.

Summaries and graphs read counters maintained by the sync engine, so their cost does not grow
with the number of runs. Contact pages are keyed on indexed columns and fetched a page at a time.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import sqlite_utils

from flowdesk.core.insights import LOST, reason_label_sql
from flowdesk.core.model import COUNTERS, METRICS


@dataclass(frozen=True, slots=True)
class Counters:
    contacts: int = 0
    expired: int = 0
    ongoing: int = 0
    canceled: int = 0
    failed: int = 0
    completed: int = 0
    waited: int = 0
    responded: int = 0

    @property
    def completion_rate(self) -> float | None:
        return self.completed / self.contacts if self.contacts else None

    @property
    def response_rate(self) -> float | None:
        """Of runs that reached a step waiting for a reply, the share that replied at least once."""
        return self.responded / self.waited if self.waited else None

    def share(self, name: str) -> float | None:
        return getattr(self, name) / self.contacts if self.contacts else None

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COUNTERS}


_COUNTER_SQL = "contacts, expired, ongoing, canceled, failed, completed, waited, responded"


def _counters(row: Any, offset: int = 0) -> Counters:
    return Counters(*row[offset : offset + 8])


@dataclass(frozen=True, slots=True)
class FlowSummary:
    id: str
    name: str
    direction: str
    trigger_type: str
    current_version_id: str | None
    counters: Counters
    api_counters: str | None


def list_flows(db: sqlite_utils.Database, search: str = "") -> list[FlowSummary]:
    sql = (
        "SELECT id, name, direction, trigger_type, current_version_id, api_counters, "
        f"{_COUNTER_SQL} FROM flows"
    )
    params: list[Any] = []
    if search:
        sql += " WHERE name LIKE ? ESCAPE '\\'"
        params.append(f"%{_escape_like(search)}%")
    sql += " ORDER BY name COLLATE NOCASE, id"
    return [
        FlowSummary(row[0], row[1], row[2], row[3] or "", row[4], _counters(row, 6), row[5])
        for row in db.execute(sql, params)
    ]


def get_flow(db: sqlite_utils.Database, flow: str) -> FlowSummary | None:
    """Find a flow by id, or else by exact (case-insensitive) name when that name is unique."""
    flows = list_flows(db)
    for candidate in flows:
        if candidate.id == flow:
            return candidate
    matches = [f for f in flows if f.name.casefold() == flow.casefold()]
    return matches[0] if len(matches) == 1 else None


@dataclass(frozen=True, slots=True)
class Scope:
    """What a page is about: a whole flow, one of its versions, or one execution."""

    flow_id: str
    version_id: str | None = None
    execution_id: str | None = None


def summary(db: sqlite_utils.Database, scope: Scope) -> Counters:
    if scope.execution_id:
        table, key = "executions", scope.execution_id
    elif scope.version_id:
        table, key = "versions", scope.version_id
    else:
        table, key = "flows", scope.flow_id
    row = db.execute(f"SELECT {_COUNTER_SQL} FROM {table} WHERE id = ?", [key]).fetchone()
    return Counters() if row is None else _counters(row)


@dataclass(frozen=True, slots=True)
class VersionInfo:
    id: str
    flow_id: str
    name: str
    description: str
    published_by: str
    published_at: int | None
    is_current: bool
    counters: Counters
    api_counters: str | None


def list_versions(db: sqlite_utils.Database, flow_id: str) -> list[VersionInfo]:
    """Versions oldest first, so charts read left to right as the flow's history."""
    rows = db.execute(
        "SELECT id, flow_id, name, description, published_by, published_at, is_current,"
        f" api_counters, {_COUNTER_SQL} FROM versions WHERE flow_id = ?"
        " ORDER BY published_at, id",
        [flow_id],
    )
    return [
        VersionInfo(
            r[0], r[1], r[2] or "", r[3] or "", r[4] or "", r[5], bool(r[6]), _counters(r, 8), r[7]
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class ExecutionInfo:
    id: str
    flow_id: str
    version_id: str | None
    version_name: str
    created_by: str
    created_by_email: str
    created_on: int | None
    start_on: int | None
    method: str
    execute_for: str
    contact_import: str | None
    contact_filters: str
    status: str
    counters: Counters
    api_counters: str | None
    name: str = ""  # the upstream has no execution names; the UI labels them "#n · date"


def list_executions(db: sqlite_utils.Database, flow_id: str) -> list[ExecutionInfo]:
    """Executions newest first: support staff look for the campaign that just went out."""
    rows = db.execute(
        "SELECT e.id, e.flow_id, e.version_id, coalesce(v.name, ''), e.created_by,"
        " e.created_by_email, e.created_on, e.start_on, e.method, e.execute_for,"
        " e.contact_import, e.contact_filters, e.status, e.api_counters,"
        f" {', '.join('e.' + c for c in _COUNTER_SQL.split(', '))}, coalesce(e.name, '')"
        " FROM executions e LEFT JOIN versions v ON v.id = e.version_id"
        " WHERE e.flow_id = ? ORDER BY coalesce(e.start_on, e.created_on) DESC, e.id",
        [flow_id],
    )
    return [
        ExecutionInfo(
            r[0],
            r[1],
            r[2],
            r[3],
            r[4] or "System",
            r[5] or "",
            r[6],
            r[7],
            r[8],
            r[9] or "",
            r[10],
            r[11] or "[]",
            r[12] or "",
            _counters(r, 14),
            r[13],
            r[22],
        )
        for r in rows
    ]


# -- contacts ----------------------------------------------------------------------------------

CONTACT_COLUMNS: dict[str, str] = {
    "phone": "r.phone",
    "first_name": "r.first_name COLLATE NOCASE",
    "last_name": "r.last_name COLLATE NOCASE",
    "status": "r.metric",
    "reason": "r.status_reason",
    "version": "r.version_id",
    "execution": "r.execution_id",
    "entered": "r.entered_at",
    "last_step": "r.last_step_key",
    "last_activity": "r.last_activity",
}


STEP_MODES = ("reached", "ended", "edge")


@dataclass(frozen=True, slots=True)
class StepFilter:
    """Who went through a step: runs whose path holds it (``reached``), whose last executed step
    it is (``ended``), or that moved directly from it to ``target_key`` (``edge``). ``reason``
    (with ``ended``) keeps the runs lost there for that reason, as the Why table words it."""

    step_key: int
    mode: str = "reached"
    target_key: int | None = None
    reason: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in STEP_MODES or (self.mode == "edge") != (self.target_key is not None):
            raise ValueError(f"bad step filter {self.mode!r} → {self.target_key!r}")
        if self.reason is not None and self.mode != "ended":
            raise ValueError(f"a reason filters runs that ended at a step, not {self.mode!r}")

    def clause(self, walk: bool = False) -> tuple[str, list[Any]]:
        """The filter on ``runs r``. By default shaped to be answered from the step indexes
        (few matches: read them by key); ``walk`` checks one run at a time, for walking
        another index in sort order until a page is full (many matches)."""
        if self.mode == "ended":
            if walk:
                sql = "+r.last_step_key = ?"
            else:
                sql = "r.key IN (SELECT key FROM runs WHERE last_step_key = ?)"
            if self.reason is None:
                return sql, [self.step_key]
            lost = ", ".join(f"'{metric}'" for metric in LOST)
            return (
                f"{sql} AND r.metric IN ({lost}) AND {reason_label_sql('r')} = ?",
                [self.step_key, self.reason],
            )
        if self.mode == "reached":
            if walk:
                sql = (
                    "EXISTS (SELECT 1 FROM run_steps p WHERE p.run_key = r.key AND p.step_key = ?)"
                )
            else:
                sql = "r.key IN (SELECT run_key FROM run_steps WHERE step_key = ?)"
            return sql, [self.step_key]
        pair = (
            "SELECT p.run_key FROM run_steps p JOIN run_steps q ON q.run_key = p.run_key"
            " AND q.seq = p.seq + 1 WHERE p.step_key = ? AND q.step_key = ?"
        )
        if walk:
            return f"EXISTS ({pair} AND p.run_key = r.key)", [self.step_key, self.target_key]
        return f"r.key IN ({pair})", [self.step_key, self.target_key]


@dataclass(frozen=True, slots=True)
class ContactQuery:
    scope: Scope
    metric: str | None = None
    search: str = ""
    sort: str = "entered"
    descending: bool = True
    hide_test: bool = False
    step: StepFilter | None = None


@dataclass(frozen=True, slots=True)
class ContactRow:
    run_key: int
    run_id: str
    contact_id: str
    phone: str
    first_name: str
    last_name: str
    status: str
    metric: str
    reason: str
    version_id: str
    version_name: str
    execution_id: str | None
    entered_at: int
    last_step: str
    last_activity: int
    is_test: bool


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _name_terms(text: str) -> list[tuple[str, list[Any]]]:
    """Case-insensitive prefix match on first or last name, as OR-ed terms (SQL, params) shaped
    so SQLite can answer each from the (flow_id, name COLLATE NOCASE) indexes: "ana" finds Ana
    Souza and Mariana Anaya's last name; "ana sou" finds first name "Ana" with a last name
    starting "Sou"."""
    like = "LIKE ? ESCAPE '\\'"
    prefix = f"{_escape_like(text)}%"
    terms: list[tuple[str, list[Any]]] = [
        (f"r.first_name {like}", [prefix]),
        (f"r.last_name {like}", [prefix]),
    ]
    first, _, rest = text.partition(" ")
    if rest.strip():
        terms.append(
            (
                f"(r.first_name = ? COLLATE NOCASE AND r.last_name {like})",
                [first, f"{_escape_like(rest.strip())}%"],
            )
        )
    return terms


@dataclass(frozen=True, slots=True)
class _Search:
    """A search, three ways: a row filter (``clause``), the matching keys of the scope's flow
    read from the search indexes alone (``keys``), and the row filter again with those indexes
    hidden from the planner (``scan``), for walking another index in sort order."""

    clause: str
    params: list[Any]
    keys: str
    keys_params: list[Any]
    scan: str


def _search(query: ContactQuery) -> _Search | None:
    text = query.search.strip()
    if not text:
        return None
    flow_id = query.scope.flow_id
    digits = "".join(ch for ch in text if ch.isdigit())
    if digits and all(ch.isdigit() or ch in "+ -()" for ch in text):
        # Phone search is a prefix match on the stored E.164 number, with or without "+".
        prefix = "+" + digits
        bounds = [prefix, prefix + "\uffff"]
        return _Search(
            "(r.phone >= ? AND r.phone < ?)",
            bounds,
            "SELECT key FROM runs WHERE flow_id = ? AND phone >= ? AND phone < ?",
            [flow_id, *bounds],
            "(+r.phone >= ? AND +r.phone < ?)",
        )
    terms = _name_terms(text)
    params = [value for _, values in terms for value in values]
    keys = " UNION ".join(
        f"SELECT key FROM runs r WHERE r.flow_id = ? AND {sql}" for sql, _ in terms
    )
    keys_params = [value for _, values in terms for value in (flow_id, *values)]
    clause = "(" + " OR ".join(sql for sql, _ in terms) + ")"
    scan = clause.replace("r.first_name", "+r.first_name").replace("r.last_name", "+r.last_name")
    return _Search(clause, params, keys, keys_params, scan)


def _scope_where(query: ContactQuery) -> tuple[list[str], list[Any]]:
    clauses = ["r.flow_id = ?"]
    params: list[Any] = [query.scope.flow_id]
    if query.scope.version_id:
        clauses.append("r.version_id = ?")
        params.append(query.scope.version_id)
    if query.scope.execution_id:
        clauses.append("r.execution_id = ?")
        params.append(query.scope.execution_id)
    if query.metric:
        clauses.append("r.metric = ?")
        params.append(query.metric)
    if query.hide_test:
        clauses.append("r.is_test = 0")
    if query.step is not None:
        sql, values = query.step.clause()
        clauses.append(sql)
        params.extend(values)
    return clauses, params


def _where(query: ContactQuery) -> tuple[str, list[Any]]:
    """The SQL filter (on ``runs r``) and its parameters for a contacts query: the Contacts
    tab, its counts and its exports all select rows through it."""
    clauses, params = _scope_where(query)
    search = _search(query)
    if search is not None:
        clauses.append(search.clause)
        params.extend(search.params)
    return " AND ".join(clauses), params


def _step_count(db: sqlite_utils.Database, query: ContactQuery) -> int | None:
    """The maintained count of a step filter (with the status filter only for "ended")."""
    step, scope = query.step, query.scope.execution_id or ""
    if step is None:
        return None
    if step.mode == "edge":
        row = db.execute(
            "SELECT runs FROM transition_stats WHERE source_key = ? AND target_key = ?"
            " AND execution_id = ?",
            [step.step_key, step.target_key, scope],
        ).fetchone()
        return row[0] if row else 0
    if step.reason is not None:
        metrics = [query.metric] if query.metric else list(LOST)
        row = db.execute(
            "SELECT coalesce(sum(runs), 0) FROM step_reason_stats WHERE step_key = ?"
            f" AND execution_id = ? AND reason = ? AND metric IN ({', '.join('?' * len(metrics))})",
            [step.step_key, scope, step.reason, *metrics],
        ).fetchone()
        return row[0]
    if step.mode == "reached":
        column = "reached"
    elif query.metric:
        column = f"ended_{query.metric}"
    else:
        column = " + ".join(f"ended_{m.value}" for m in METRICS)
    row = db.execute(
        f"SELECT {column} FROM step_stats WHERE step_key = ? AND execution_id = ?",
        [step.step_key, scope],
    ).fetchone()
    return row[0] if row else 0


def count_is_maintained(query: ContactQuery) -> bool:
    """Whether :func:`count_contacts` reads a maintained counter (else it scans)."""
    if query.search.strip() or query.hide_test:
        return False
    return query.step is None or not query.metric or query.step.mode == "ended"


def count_contacts(db: sqlite_utils.Database, query: ContactQuery) -> int:
    """Row count for a contacts query; read from counters when no search or test filter applies.

    A search counts the matching index entries (a range of the phone index, or the union of
    the name indexes' ranges) instead of scanning the flow.
    """
    if count_is_maintained(query):
        if query.step is not None:
            return _step_count(db, query) or 0
        counters = summary(db, query.scope)
        return counters.contacts if not query.metric else getattr(counters, query.metric)
    search = _search(query)
    clauses, params = _scope_where(query)
    if search is None:
        where = " AND ".join(clauses)
        return db.execute(f"SELECT count(*) FROM runs r WHERE {where}", params).fetchone()[0]
    if len(clauses) == 1:  # the whole flow: the index entries alone answer
        return db.execute(f"SELECT count(*) FROM ({search.keys})", search.keys_params).fetchone()[0]
    where = " AND ".join(clauses)
    return db.execute(
        f"SELECT count(*) FROM runs r NOT INDEXED WHERE r.key IN ({search.keys}) AND {where}",
        [*search.keys_params, *params],
    ).fetchone()[0]


_ROW_COLUMNS = (
    "r.key, r.id, r.contact_id, r.phone, r.first_name, r.last_name, r.status,"
    " r.metric, r.status_reason, r.version_id, coalesce(v.name, r.version_id),"
    " r.execution_id, r.entered_at, coalesce(s.name, ''), r.last_activity, r.is_test"
)


def _scope_size(db: sqlite_utils.Database, query: ContactQuery) -> int:
    counters = summary(db, query.scope)
    return getattr(counters, query.metric) if query.metric else counters.contacts


def _sparse_limit(db: sqlite_utils.Database, query: ContactQuery) -> int:
    """Reading m matches by key costs ~m row reads; walking the sort order to fill a page
    costs ~page × n / m: the two meet near m = 6·√n."""
    return max(1000, int(6 * _scope_size(db, query) ** 0.5))


def contacts_page(
    db: sqlite_utils.Database, query: ContactQuery, offset: int, limit: int
) -> list[ContactRow]:
    """One page of a contacts query, in its sort order.

    The page's keys are chosen first — an index walk in sort order, skipping ``offset`` entries
    without reading their rows — and only those ``limit`` runs are then read and joined, so a
    page deep in a million rows costs about what the first one does.

    A search picks its plan by how many runs match (counted from the search index, up to a
    bound): few matches are read by key and sorted; many are found by walking the sort order
    and filtering, which stops as soon as the page is full.
    """
    column = CONTACT_COLUMNS.get(query.sort, "r.entered_at")
    direction = "DESC" if query.descending else "ASC"
    order = f"{column} {direction}, r.key {direction}"
    search = _search(query)
    step_count = _step_count(db, query) if search is None else None
    if step_count is not None and step_count > _sparse_limit(db, query):
        # Many runs went through the step: walk the sort order, checking each run's path.
        clauses, params = _scope_where(replace(query, step=None))
        sql, values = query.step.clause(walk=True)
        where = " AND ".join([*clauses, sql])
        keys = f"SELECT r.key FROM runs r WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?"
        keys_params = [*params, *values, limit, offset]
    elif step_count is not None:
        # Few: read them by key from the step index, then sort.
        where, params = _where(query)
        keys = (
            f"SELECT r.key FROM runs r NOT INDEXED WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?"
        )
        keys_params = [*params, limit, offset]
    elif search is None:
        where, params = _where(query)
        keys = f"SELECT r.key FROM runs r WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?"
        keys_params = [*params, limit, offset]
    else:
        clauses, params = _scope_where(query)
        sparse = _sparse_limit(db, query)
        found = db.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM ({search.keys}) LIMIT ?)",
            [*search.keys_params, sparse + 1],
        ).fetchone()[0]
        where = " AND ".join([*clauses, search.clause])
        if found <= sparse:
            keys = (
                f"SELECT r.key FROM runs r NOT INDEXED WHERE r.key IN ({search.keys})"
                f" AND {where} ORDER BY {order} LIMIT ? OFFSET ?"
            )
            keys_params = [*search.keys_params, *params, *search.params, limit, offset]
        else:
            scan_where = " AND ".join([*clauses, search.scan])
            keys = f"SELECT r.key FROM runs r WHERE {scan_where} ORDER BY {order} LIMIT ? OFFSET ?"
            keys_params = [*params, *search.params, limit, offset]
    rows = db.execute(
        f"SELECT {_ROW_COLUMNS} FROM ({keys}) AS page JOIN runs r ON r.key = page.key"
        " LEFT JOIN versions v ON v.id = r.version_id"
        " LEFT JOIN steps s ON s.key = r.last_step_key"
        f" ORDER BY {order}",
        keys_params,
    )
    return [ContactRow(*row[:15], bool(row[15])) for row in rows]


def row_positions(
    db: sqlite_utils.Database, query: ContactQuery, run_keys: Sequence[int]
) -> dict[int, int]:
    """Where runs now stand in a contacts query's order (0-based), for those still in it.

    After a sync new contacts enter above the rows on screen; the table uses this to keep the
    same contact selected and the same rows in view. Each position is a count of the rows
    sorted before the run (SQLite sorts NULL first, so the comparisons say where NULLs go).
    """
    column = CONTACT_COLUMNS.get(query.sort, "r.entered_at")
    where, params = _where(query)
    before = ">" if query.descending else "<"
    positions: dict[int, int] = {}
    for key in run_keys:
        row = db.execute(
            f"SELECT {column} FROM runs r WHERE r.key = ? AND {where}", [key, *params]
        ).fetchone()
        if row is None:
            continue  # no longer in the query (a filter it left, or gone)
        value = row[0]
        if value is None:
            nulls_first = "" if query.descending else f" AND r.key {before} ?"
            test = (
                f"({column} IS NOT NULL OR r.key {before} ?)"
                if query.descending
                else f"({column} IS NULL{nulls_first})"
            )
            extra = [key]
        else:
            null_side = "" if query.descending else f" OR {column} IS NULL"
            test = f"({column} {before} ?{null_side} OR ({column} = ? AND r.key {before} ?))"
            extra = [value, value, key]
        positions[key] = db.execute(
            f"SELECT count(*) FROM runs r WHERE {where} AND {test}", [*params, *extra]
        ).fetchone()[0]
    return positions


def runs_of_contact(db: sqlite_utils.Database, contact_id: str, flow_id: str) -> list[ContactRow]:
    """Every entry of one contact into one flow, newest first (the run picker)."""
    rows = db.execute(
        "SELECT r.key, r.id, r.contact_id, r.phone, r.first_name, r.last_name, r.status,"
        " r.metric, r.status_reason, r.version_id, coalesce(v.name, r.version_id),"
        " r.execution_id, r.entered_at, coalesce(s.name, ''), r.last_activity, r.is_test"
        " FROM runs r LEFT JOIN versions v ON v.id = r.version_id"
        " LEFT JOIN steps s ON s.key = r.last_step_key"
        " WHERE r.contact_id = ? AND +r.flow_id = ? ORDER BY r.entered_at DESC",
        [contact_id, flow_id],
    )
    return [ContactRow(*row[:15], bool(row[15])) for row in rows]


# -- paths and graphs ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PathEntry:
    seq: int
    step_key: int
    step_id: str
    step_name: str
    step_type: str
    status: str
    status_reason: str
    has_error: bool
    executed_at: int
    expire_on: int | None
    wait_seconds: int | None
    error: str


@dataclass(frozen=True, slots=True)
class RunDetail:
    row: ContactRow
    email: str
    path: list[PathEntry]


def run_detail(db: sqlite_utils.Database, run_key: int) -> RunDetail | None:
    head = db.execute(
        "SELECT r.key, r.id, r.contact_id, r.phone, r.first_name, r.last_name, r.status,"
        " r.metric, r.status_reason, r.version_id, coalesce(v.name, r.version_id),"
        " r.execution_id, r.entered_at, coalesce(s.name, ''), r.last_activity, r.is_test,"
        " coalesce(c.email, '')"
        " FROM runs r LEFT JOIN versions v ON v.id = r.version_id"
        " LEFT JOIN steps s ON s.key = r.last_step_key"
        " LEFT JOIN contacts c ON c.id = r.contact_id WHERE r.key = ?",
        [run_key],
    ).fetchone()
    if head is None:
        return None
    path = [
        PathEntry(*row[:7], bool(row[7]), *row[8:])
        for row in db.execute(
            "SELECT p.seq, p.step_key, s.id, s.name, s.step_type, p.status, p.status_reason,"
            " p.has_error, p.executed_at, p.expire_on, s.wait_seconds, p.error"
            " FROM run_steps p JOIN steps s ON s.key = p.step_key"
            " WHERE p.run_key = ? ORDER BY p.seq",
            [run_key],
        )
    ]
    return RunDetail(ContactRow(*head[:15], bool(head[15])), head[16], path)


@dataclass(frozen=True, slots=True)
class GraphStep:
    key: int
    id: str
    name: str
    step_type: str
    wait_seconds: int | None
    ordering: int
    is_placeholder: bool
    reached: int
    visits: int
    ended: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class GraphEdge:
    source_key: int
    target_key: int
    labels: tuple[str, ...]
    kinds: tuple[str, ...]
    runs: int


@dataclass(frozen=True, slots=True)
class PathCoverage:
    """How many of a scope's runs have their path read.

    An ActiveCampaign sync writes the report from listings first and reads paths after
    (docs/activecampaign.md); until it has, every per-step number (heat, where runs stop, step
    counts) is built from ``with_path`` of the scope's ``runs``, and says so.
    """

    with_path: int
    runs: int

    @property
    def partial(self) -> bool:
        return self.with_path < self.runs

    def as_dict(self) -> dict[str, int]:
        return {"runs": self.runs, "with_path": self.with_path}


COMPLETE = PathCoverage(0, 0)


def paths_waiting(db: Any) -> bool:
    """Whether any run of the cache waits for its path (answered from the pending index). A
    cache from before paths could wait (schema 3, opened read-only) has none."""
    try:
        found = db.execute("SELECT EXISTS (SELECT 1 FROM runs WHERE path_synced = 0)")
    except sqlite3.OperationalError:
        return False
    return bool(found.fetchone()[0])


def path_coverage(
    db: sqlite_utils.Database,
    flow_id: str | None = None,
    version_id: str | None = None,
    execution_id: str | None = None,
    *,
    runs: int = 0,
) -> PathCoverage:
    """The path coverage of the runs matching the ids given (all runs when none is).

    ``runs``: the scope's run count when the caller has it (a counter), returned as complete
    when no run anywhere waits for its path (the usual case, answered from the pending index
    alone). A cache from before paths could wait (schema 3, opened read-only) is complete.
    """
    if not paths_waiting(db):
        return PathCoverage(runs, runs)
    clauses, params = [], []
    for column, value in (
        ("flow_id", flow_id),
        ("version_id", version_id),
        ("execution_id", execution_id),
    ):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    where = " AND ".join(clauses) or "1"
    total, pending = db.execute(
        f"SELECT count(*), coalesce(sum(path_synced = 0), 0) FROM runs WHERE {where}", params
    ).fetchone()
    return PathCoverage(total - pending, total)


@dataclass(frozen=True, slots=True)
class FlowGraph:
    version_id: str
    execution_id: str | None
    steps: list[GraphStep]
    edges: list[GraphEdge]
    entry_keys: list[int]
    # the runs the reach counts are built from (fewer than all while paths are being read)
    coverage: PathCoverage = COMPLETE

    def step(self, key: int) -> GraphStep | None:
        return next((s for s in self.steps if s.key == key), None)


def version_graph(
    db: sqlite_utils.Database, version_id: str, execution_id: str | None = None
) -> FlowGraph:
    """One version's steps and edges with reach counts, for the whole version or one execution.

    Edges between the same two steps (two menu options leading to one step) are merged: a path
    records the steps it went through, not which button was pressed.
    """
    scope = execution_id or ""
    ended_columns = [f"ended_{m.value}" for m in METRICS]
    steps = [
        GraphStep(
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            bool(r[6]),
            r[7] or 0,
            r[8] or 0,
            {m.value: (r[9 + i] or 0) for i, m in enumerate(METRICS)},
        )
        for r in db.execute(
            "SELECT s.key, s.id, s.name, s.step_type, s.wait_seconds, s.ordering,"
            f" s.is_placeholder, t.reached, t.visits, {', '.join('t.' + c for c in ended_columns)}"
            " FROM steps s LEFT JOIN step_stats t ON t.step_key = s.key AND t.execution_id = ?"
            " WHERE s.version_id = ? ORDER BY s.ordering, s.key",
            [scope, version_id],
        )
    ]
    merged: dict[tuple[int, int], tuple[list[str], list[str]]] = {}
    for source, target, kind, label in db.execute(
        "SELECT source_key, target_key, kind, label FROM transitions WHERE version_id = ?"
        " ORDER BY source_key, ordinal, target_key",
        [version_id],
    ):
        labels, kinds = merged.setdefault((source, target), ([], []))
        if label and label not in labels:
            labels.append(label)
        kinds.append(kind)
    counts = {
        (s, t): runs
        for s, t, runs in db.execute(
            "SELECT ts.source_key, ts.target_key, ts.runs FROM transition_stats ts"
            " JOIN steps s ON s.key = ts.source_key"
            " WHERE s.version_id = ? AND ts.execution_id = ?",
            [version_id, scope],
        )
    }
    edges = [
        GraphEdge(s, t, tuple(labels), tuple(kinds), counts.get((s, t), 0))
        for (s, t), (labels, kinds) in merged.items()
    ]
    targets = {edge.target_key for edge in edges}
    entry = [s.key for s in steps if s.key not in targets and not s.is_placeholder]
    if not entry and steps:
        entry = [steps[0].key]
    coverage = path_coverage(db, None, version_id, execution_id)
    return FlowGraph(version_id, execution_id, steps, edges, entry, coverage)


def edge_share(graph: FlowGraph, edge: GraphEdge) -> float | None:
    """% of the previous step: contacts who took this edge / contacts who reached its source."""
    source = graph.step(edge.source_key)
    if source is None or not source.reached:
        return None
    return edge.runs / source.reached


def step_share(graph: FlowGraph, key: int, loops: Collection[tuple[int, int]] = ()) -> float | None:
    """% of the previous step for a node: contacts arriving over its incoming edges divided by
    contacts who reached the steps those edges leave from. With one incoming edge this is that
    edge's share; entry steps have no previous step (None).

    ``loops`` are the (source, target) edges that go back to an earlier step: they are left out,
    so a step in a loop shows the same share as the arrow that leads into it (counting the
    loop's returns made a second, different "% of previous" on the same step)."""
    incoming = [
        e
        for e in graph.edges
        if e.target_key == key and e.source_key != key and (e.source_key, e.target_key) not in loops
    ]
    if not incoming:
        return None
    arrived = sum(e.runs for e in incoming)
    sources = {e.source_key for e in incoming}
    base = sum((graph.step(s).reached if graph.step(s) else 0) for s in sources)
    return arrived / base if base else None


def last_sync(db: sqlite_utils.Database) -> dict[str, Any] | None:
    row = db.execute(
        "SELECT source, started_at, finished_at, outcome, records, runs_changed, problems,"
        " message FROM syncs WHERE outcome != 'running' ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    keys = (
        "source",
        "started_at",
        "finished_at",
        "outcome",
        "records",
        "runs_changed",
        "problems",
        "message",
    )
    return dict(zip(keys, row, strict=True))
