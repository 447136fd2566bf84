"""The one sync engine: every source's batches are written here, idempotently, in transactions.

Each batch is one transaction holding its records, the counter deltas they cause, and the
source's cursor. So a sync killed at any point leaves the cache as it was after the last whole
batch, and the next sync resumes from that batch's cursor.

Counters (flow, version, execution, step, transition) are kept exact by subtracting a changed
run's previous contribution before adding its new one; a replayed, unchanged run is recognised by
its fingerprint and costs nothing.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from flowdesk.core import search_terms, workspace
from flowdesk.core.db import (
    SyncRunning,
    bulk_checkpoints,
    failure_message,
    file_of,
    get_meta,
    set_meta,
    sync_lock,
    write_transaction,
)
from flowdesk.core.errors import Outcome
from flowdesk.core.formats.catalogue import Catalogue
from flowdesk.core.insights import InsightDeltas
from flowdesk.core.model import (
    METRICS,
    PLACEHOLDER_STEP_TYPE,
    STORED_COUNTERS,
    metric_for_status,
)
from flowdesk.core.records import (
    DefinitionRecord,
    ExecutionRecord,
    FlowRow,
    MalformedRecord,
    PathStep,
    RunRecord,
    VersionRow,
    parse_definition,
    parse_execution,
    parse_run,
    storable_json,
)
from flowdesk.core.schema import DEFERRED_INDEXES, SYNC_INDEXES
from flowdesk.core.sources.base import Batch, Record, Source
from flowdesk.core.steps import parse_step

_EXECUTED = frozenset({"RUNNING", "COMPLETED", "CANCELED", "FAILED", "EXPIRED"})
# contacts, expired, ongoing, canceled, failed, completed, waited, responded
_METRIC_INDEX = {m.value: i for i, m in enumerate(METRICS)}
_CHUNK = 900


@dataclass(slots=True)
class SyncProgress:
    batches: int
    records: int
    runs_changed: int
    done: int
    total: int | None
    note: str
    report_done: bool = False  # see Batch.report_done


@dataclass(slots=True)
class SyncReport:
    source: str
    outcome: str = "running"  # completed | canceled | failed
    message: str = ""
    batches: int = 0
    records: int = 0
    runs_changed: int = 0
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # kind, id, message
    stats: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def progress(
        self, done: int, total: int | None, note: str, report_done: bool = False
    ) -> SyncProgress:
        """Where the sync stands now, for a progress report."""
        return SyncProgress(
            self.batches, self.records, self.runs_changed, done, total, note, report_done
        )


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _State:
    """Read-only view of the cache offered to sources (``SyncState``)."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        cursor: dict[str, Any],
        notify: Callable[[str], None] | None = None,
    ) -> None:
        self._db = db
        self._cursor = cursor
        self._notify = notify
        self._notify_lock = threading.Lock()

    @property
    def cursor(self) -> dict[str, Any]:
        return self._cursor

    def known_run_status(self, run_id: str) -> str | None:
        row = self._db.execute("SELECT status FROM runs WHERE id = ?", [run_id]).fetchone()
        return None if row is None else row[0]

    def known_runs(self, run_ids: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        found: dict[str, tuple[str, str | None]] = {}
        for chunk in _chunks(list(run_ids)):
            marks = ",".join("?" * len(chunk))
            for run_id, status, execution_id in self._db.execute(
                f"SELECT id, status, execution_id FROM runs WHERE id IN ({marks})", list(chunk)
            ):
                found[run_id] = (status, execution_id)
        return found

    def execution_flows(self) -> set[str]:
        return {row[0] for row in self._db.execute("SELECT DISTINCT flow_id FROM executions")}

    def runs_without_path(self) -> list[str]:
        rows = self._db.execute(
            "SELECT id FROM runs WHERE path_synced = 0 ORDER BY entered_at DESC, key DESC"
        )
        return [row[0] for row in rows]

    def active_run_ids(self) -> list[str]:
        rows = self._db.execute(
            "SELECT id FROM runs WHERE metric = 'ongoing' AND path_synced ORDER BY key"
        )
        return [row[0] for row in rows]

    def notify(self, note: str) -> None:
        if self._notify is not None:
            with self._notify_lock:  # progress sinks (a pipe, a terminal) are not thread-safe
                self._notify(note)

    def catalogue(self) -> Catalogue:
        return Catalogue.from_db(self._db)


class _TermsBeside:
    """Every contact's search terms, read on a second connection by a thread of their own."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        path = file_of(db)
        self._version = _data_version(db.conn)
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="flowdesk-terms")
        self._future = None if path is None else self._pool.submit(self._read, path)

    @staticmethod
    def _read(path: str) -> search_terms.StagedTerms:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        try:
            return search_terms.stage(conn)
        finally:
            conn.close()

    def wait(self) -> None:
        self._pool.shutdown(wait=True)

    def result(self, conn: sqlite3.Connection) -> search_terms.StagedTerms | None:
        """The terms read, inside the caller's write transaction; None when they could not be
        read or may be out of date (another connection committed since they were)."""
        if self._future is None or self._future.exception() is not None:
            return None
        if _data_version(conn) != self._version:
            return None
        return self._future.result()


def _data_version(conn: sqlite3.Connection) -> int:
    """Changes when another connection commits (https://sqlite.org/pragma.html#pragma_data_version)."""
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


class _Graph:
    """In-memory index of the step graph, rebuilt from the cache at the start of each sync."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.keys: dict[str, int] = {}
        self.waits: dict[int, bool] = {}
        self.placeholders: set[int] = set()
        self.edges: dict[tuple[int, int], set[str]] = defaultdict(set)
        rows = db.execute("SELECT key, id, wait_seconds, is_placeholder FROM steps")
        for key, step_id, wait, placeholder in rows:
            self.keys[step_id] = key
            self.waits[key] = wait is not None
            if placeholder:
                self.placeholders.add(key)
        for source, target, kind in db.execute(
            "SELECT source_key, target_key, kind FROM transitions"
        ):
            self.edges[(source, target)].add(kind)
        self.next_step_key = (db.execute("SELECT max(key) FROM steps").fetchone()[0] or 0) + 1
        self.next_run_key = (db.execute("SELECT max(key) FROM runs").fetchone()[0] or 0) + 1


class _Deltas:
    """Counter changes accumulated over one batch, applied with a few executemany calls.

    Runs are tallied by what they contribute — (flow, version, execution, metric, waited,
    responded, path) — and expanded into counter rows once per distinct contribution when the
    batch is applied: a batch of 2,000 runs holds a few hundred distinct ones, since most
    contacts take one of a flow's common routes.
    """

    def __init__(self) -> None:
        self.runs: dict[tuple, int] = defaultdict(int)
        self.insights = InsightDeltas()  # where runs stop, why, how long: per run, not per route

    def add_run(
        self,
        sign: int,
        flow_id: str,
        version_id: str,
        execution_id: str | None,
        metric: str,
        waited: bool,
        responded: bool,
        step_keys: Sequence[int],
    ) -> None:
        key = (
            flow_id,
            version_id,
            execution_id,
            metric,
            bool(waited),
            bool(responded),
            tuple(step_keys),
        )
        self.runs[key] += sign

    def _expand(self) -> tuple[dict, dict, dict, dict, dict]:
        width = len(STORED_COUNTERS)
        flows: dict[str, list[int]] = defaultdict(lambda: [0] * width)
        versions: dict[str, list[int]] = defaultdict(lambda: [0] * width)
        executions: dict[str, list[int]] = defaultdict(lambda: [0] * width)
        # (step_key, execution_id or ''): reached, visits, ended by metric (5)
        steps: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0] * 7)
        transitions: dict[tuple[int, int, str], int] = defaultdict(int)
        for key, sign in self.runs.items():
            if not sign:
                continue
            flow_id, version_id, execution_id, metric, waited, responded, step_keys = key
            metric_index = _METRIC_INDEX[metric]
            scopes = ("",) if not execution_id else ("", execution_id)
            for counters in (
                flows[flow_id],
                versions[version_id],
                *((executions[execution_id],) if execution_id else ()),
            ):
                counters[0] += sign
                counters[1 + metric_index] += sign
                if waited:
                    counters[6] += sign
                if responded:
                    counters[7] += sign
            visits: dict[int, int] = {}
            for step in step_keys:
                visits[step] = visits.get(step, 0) + 1
            pairs = {(step_keys[i], step_keys[i + 1]) for i in range(len(step_keys) - 1)}
            for scope in scopes:
                for step, count in visits.items():
                    stats = steps[(step, scope)]
                    stats[0] += sign
                    stats[1] += sign * count
                if step_keys:
                    steps[(step_keys[-1], scope)][2 + metric_index] += sign
                for source, target in pairs:
                    transitions[(source, target, scope)] += sign
        return flows, versions, executions, steps, transitions

    def apply(self, conn: Any) -> None:
        flows, versions, executions, steps, transitions = self._expand()
        assignments = ", ".join(f"{c} = {c} + ?" for c in STORED_COUNTERS)
        for table, deltas in (
            ("flows", flows),
            ("versions", versions),
            ("executions", executions),
        ):
            conn.executemany(
                f"UPDATE {table} SET {assignments} WHERE id = ?",
                [(*values, key) for key, values in deltas.items() if any(values)],
            )
        ended = [f"ended_{m.value}" for m in METRICS]
        columns = ["reached", "visits", *ended]
        conn.executemany(
            f"INSERT INTO step_stats (step_key, execution_id, {', '.join(columns)}) "
            f"VALUES (?, ?, {', '.join('?' * len(columns))}) "
            "ON CONFLICT(step_key, execution_id) DO UPDATE SET "
            + ", ".join(f"{c} = {c} + excluded.{c}" for c in columns),
            [(*key, *values) for key, values in steps.items() if any(values)],
        )
        conn.executemany(
            "INSERT INTO transition_stats (source_key, target_key, execution_id, runs) "
            "VALUES (?, ?, ?, ?) ON CONFLICT(source_key, target_key, execution_id) "
            "DO UPDATE SET runs = runs + excluded.runs",
            [(*key, runs) for key, runs in transitions.items() if runs],
        )
        self.insights.apply(conn)


def _path_summary(path: Sequence[PathStep]) -> str:
    if not path:
        return "0"
    last = path[-1]
    return f"{len(path)}:{last.step_id}:{last.status}:{last.executed_at}:{last.error}"


def _fingerprint(text: str) -> int:
    """A 64-bit digest of what a run looks like: enough to spot an unchanged replay, and eight
    bytes a row instead of the whole text (a million runs carry it)."""
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _run_head(run: RunRecord) -> str:
    contact = run.contact
    return "\x1f".join(
        (
            run.status,
            run.status_reason,
            run.version.id,
            run.execution_id or "",
            "1" if run.is_test else "0",
            contact.phone,
            contact.first_name,
            contact.last_name,
            str(run.status_changed_at or 0),
        )
    )


class SyncEngine:
    """Writes a source's batches into one cache. Not thread-safe: one engine per thread."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.conn = db.conn
        self._terms_pending = False  # contact search terms left to the end of a bulk build

    # -- public -------------------------------------------------------------------------------

    def run(
        self,
        source: Source,
        *,
        progress: Callable[[SyncProgress], None] | None = None,
        is_cancelled: Callable[[], bool] = lambda: False,
    ) -> SyncReport:
        """Write ``source``'s batches; one sync per cache at a time (a second one raises a
        CacheError saying another sync is running)."""
        with sync_lock(self.db):
            return self._run(source, progress, is_cancelled or (lambda: False))

    def write_records(
        self, source: Source, records: list[Record], *, beside_a_sync: bool = False
    ) -> SyncReport:
        """Write a few of ``source``'s records outside a sync, as one batch with the cursor as
        it stands (a run's path read on demand, ahead of the second phase): the next sync goes
        on where the last one stopped, and no sync is recorded.

        Under the sync lock (a SyncRunning error when a sync holds it), unless
        ``beside_a_sync``: then only records that need no new step or run row are written (a
        running sync's engine hands out those keys from memory), else SyncRunning is raised.
        Counters stay exact either way: each batch reads the rows it replaces from the cache.
        """
        if beside_a_sync:
            graph = _Graph(self.db)
            self._refuse_new_keys(records, graph)
            return self._write_now(source, records, graph)
        with sync_lock(self.db):
            return self._write_now(source, records, _Graph(self.db))

    def _write_now(self, source: Source, records: list[Record], graph: _Graph) -> SyncReport:
        report = SyncReport(source=source.kind)
        cursor_key = workspace.cursor_key(source.kind)
        cursor = get_meta(self.db, cursor_key, {}) or {}
        self._write_batch(Batch(records, cursor), graph, report, cursor_key, None)
        report.outcome = Outcome.COMPLETED
        return report

    def _refuse_new_keys(self, records: list[Record], graph: _Graph) -> None:
        for record in records:
            if record.kind != "run":
                raise SyncRunning("a sync is running: it writes this record in its turn")
            try:
                run = parse_run(record.data)
            except MalformedRecord:
                continue  # the batch reports it, and writes nothing for it
            known = self.conn.execute("SELECT 1 FROM runs WHERE id = ?", [run.id]).fetchone()
            steps = [parse_step(d, run.version.id) for d in run.step_definitions]
            wanted = {step.id for step in steps}
            wanted.update(edge.target for step in steps for edge in step.transitions)
            if not known or not wanted <= graph.keys.keys():
                raise SyncRunning("a sync is running: it reads this path in its turn")

    def _run(
        self,
        source: Source,
        progress: Callable[[SyncProgress], None] | None,
        is_cancelled: Callable[[], bool],
    ) -> SyncReport:
        started = time.monotonic()
        report = SyncReport(source=source.kind)
        cursor_key = workspace.cursor_key(source.kind)
        cursor = get_meta(self.db, cursor_key, {}) or {}
        with self.conn:
            workspace.claim(self.db, source)  # refuses to mix two sources in one cache
            sync_id = self.conn.execute(
                "INSERT INTO syncs (source, started_at) VALUES (?, ?)",
                [source.kind, int(time.time())],
            ).lastrowid
        self._ensure_indexes()  # a bulk build killed half-way left them dropped
        bulk = self._begin_bulk_build()
        graph = _Graph(self.db)
        # A batch allocates millions of small objects that live until it commits; the cyclic
        # collector would rescan them over and over (measured: 3-5x slower ingest). Nothing
        # here builds reference cycles, so collection waits until the sync ends.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        last: list[Any] = [0, None]  # done, total of the last batch, for notes in between

        def notify(note: str) -> None:
            if progress is not None:
                progress(report.progress(last[0], last[1], note))

        with bulk_checkpoints(self.conn) if bulk else contextlib.nullcontext():
            try:
                for batch in source.batches(_State(self.db, cursor, notify), is_cancelled):
                    try:
                        self._write_batch(batch, graph, report, cursor_key, sync_id)
                    except Exception:
                        graph = _Graph(self.db)  # the rolled-back batch left nothing behind
                        raise
                    last[:] = [batch.done, batch.total]
                    if progress is not None:
                        progress(
                            report.progress(batch.done, batch.total, batch.note, batch.report_done)
                        )
                    if is_cancelled():
                        report.outcome = Outcome.CANCELED
                        report.message = (
                            "Sync canceled; the next sync resumes where this one stopped."
                        )
                        break
                else:
                    report.outcome = Outcome.COMPLETED
            except Exception as exc:  # the source failed: keep what committed, say why
                report.outcome = Outcome.FAILED
                report.message = failure_message(exc, self.db)
            finally:
                if gc_was_enabled:
                    gc.enable()
                if bulk:
                    if progress is not None:
                        progress(report.progress(0, None, "Indexing…"))
                    self._ensure_indexes()
        report.seconds = time.monotonic() - started
        with self.conn:
            self.conn.execute(
                "UPDATE syncs SET finished_at = ?, outcome = ?, records = ?, runs_changed = ?, "
                "problems = ?, stats = ?, message = ? WHERE id = ?",
                [
                    int(time.time()),
                    report.outcome,
                    report.records,
                    report.runs_changed,
                    len(report.problems),
                    json.dumps(report.stats),
                    report.message,
                    sync_id,
                ],
            )
            if report.outcome == Outcome.COMPLETED:
                workspace.record_completed_sync(self.db, int(time.time()))
        return report

    def _begin_bulk_build(self) -> bool:
        """On an empty cache, drop the runs table's query indexes and leave the contact search
        index until the sync ends: building them once afterwards is several times cheaper than
        maintaining them row by row."""
        if self.conn.execute("SELECT EXISTS (SELECT 1 FROM runs)").fetchone()[0]:
            return False
        with self.conn:
            for name, _ in DEFERRED_INDEXES:
                if name not in SYNC_INDEXES:
                    self.conn.execute(f"DROP INDEX IF EXISTS {name}")
            search_terms.defer(self.conn)
        self._terms_pending = True
        return True

    def _ensure_indexes(self) -> None:
        """Build what a bulk build deferred (also one killed half-way, on the next sync).

        The contact search terms are Python work and the runs indexes SQLite's, which lets go
        of the interpreter lock while it builds them: the terms are worked out beside them, on
        a second connection and thread, so on two cores the index builds hide most of it.
        """
        conn = self.conn
        beside = _TermsBeside(self.db) if search_terms.is_pending(conn) else None
        try:
            with conn:
                for _, statement in DEFERRED_INDEXES:
                    conn.execute(statement.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))
        finally:
            if beside is not None:
                beside.wait()
        if beside is not None:
            with write_transaction(conn):
                search_terms.rebuild(conn, beside.result(conn))
        self._terms_pending = False

    # -- one batch ----------------------------------------------------------------------------

    def _write_batch(
        self,
        batch: Batch,
        graph: _Graph,
        report: SyncReport,
        cursor_key: str,
        sync_id: int | None,
    ) -> None:
        """Write one batch in one transaction (``sync_id`` None: outside a sync, problems are
        only reported)."""
        runs: dict[str, RunRecord] = {}
        executions: list[ExecutionRecord] = []
        definitions: list[DefinitionRecord] = []
        problems: list[tuple[str, str, str]] = [("record", rid, msg) for rid, msg in batch.problems]
        parse_cache: dict[Any, Any] = {}
        listed: dict[str, RunRecord] = {}  # list-only copies, kept if a detail is refused
        for record in batch.records:
            try:
                if record.kind == "run":
                    run = parse_run(record.data, parse_cache)
                    runs[run.id] = run  # the last copy of a run in a batch wins
                    if run.path is None:
                        listed[run.id] = run
                elif record.kind == "execution":
                    executions.append(parse_execution(record.data))
                elif record.kind == "definition":
                    definitions.append(parse_definition(record.data))
                else:
                    raise MalformedRecord("?", f"unknown record kind {record.kind!r}")
            except MalformedRecord as exc:
                problems.append((record.kind, exc.record_id, exc.message))
        problems += self._screen_step_definitions(runs, graph)
        for run_id, run in listed.items():
            runs.setdefault(run_id, run)
        conn = self.conn
        with write_transaction(conn):
            deltas = _Deltas()
            self._upsert_flows_and_versions([*definitions, *runs.values()], executions)
            if definitions:
                self._register_steps(definitions, graph)
            self._upsert_executions(executions)
            self._ensure_executions(runs.values())
            changed = self._write_runs(list(runs.values()), graph, deltas)
            deltas.apply(conn)
            if sync_id is not None:
                conn.executemany(
                    "INSERT INTO sync_problems (sync_id, record_kind, record_id, message) "
                    "VALUES (?, ?, ?, ?)",
                    [(sync_id, *problem) for problem in problems],
                )
            set_meta(self.db, cursor_key, batch.cursor)
        report.batches += 1
        report.records += len(batch.records)
        report.runs_changed += changed
        report.problems.extend(problems)
        for key, value in batch.stats.items():
            report.stats[key] = report.stats.get(key, 0) + value

    @staticmethod
    def _screen_step_definitions(
        runs: dict[str, RunRecord], graph: _Graph
    ) -> list[tuple[str, str, str]]:
        """Drop (and report) runs carrying a new step definition the cache cannot store.

        ``records`` checks the fields the graph reads; the whole definition is also stored as
        JSON, and text anywhere in it (a lone UTF-16 surrogate) would fail the batch inside its
        transaction. Only definitions new to the cache are serialised, as ``_register_steps``
        will.
        """
        problems: list[tuple[str, str, str]] = []
        checked: dict[int, bool] = {}
        for run in list(runs.values()):
            for definition in run.step_definitions:
                marker = id(definition)
                ok = checked.get(marker)
                if ok is None:
                    known = graph.keys.get(str(definition["id"]))
                    fresh = known is None or known in graph.placeholders
                    ok = checked[marker] = not fresh or storable_json(definition)
                if not ok:
                    del runs[run.id]
                    problems.append(("run", run.id, f"step {definition['id']} holds invalid text"))
                    break
        return problems

    def _upsert_flows_and_versions(
        self,
        runs: Iterable[RunRecord | DefinitionRecord],
        executions: Sequence[ExecutionRecord],
    ) -> None:
        flows: dict[str, FlowRow] = {}
        versions: dict[str, VersionRow] = {}
        for item in (*runs, *executions):
            # A row known by its id only (a list row) never replaces one a detail described.
            flow = item.flow
            if not flow.partial or flows.get(flow.id, flow).partial:
                flows[flow.id] = flow
            version = item.version
            if version is not None and (
                not version.partial or versions.get(version.id, version).partial
            ):
                versions[version.id] = version
        partial_flows = [f for f in flows.values() if f.partial]
        partial_versions = [v for v in versions.values() if v.partial]
        flows = {key: f for key, f in flows.items() if not f.partial}
        versions = {key: v for key, v in versions.items() if not v.partial}
        conn = self.conn
        # Known by id only: inserted when new, with no trigger type (NULL) and no publisher
        # (NULL), which is how a later sync sees they still need one detail; never updated.
        conn.executemany(
            "INSERT INTO flows (id, name, trigger_type, direction) VALUES (?, ?, NULL, ?)"
            " ON CONFLICT(id) DO NOTHING",
            [(f.id, f.name, f.direction) for f in partial_flows],
        )
        conn.executemany(
            "INSERT INTO versions (id, flow_id, name, description, published_by)"
            " VALUES (?, ?, ?, ?, NULL) ON CONFLICT(id) DO NOTHING",
            [(v.id, v.flow_id, v.name, v.description) for v in partial_versions],
        )
        conn.executemany(
            "INSERT INTO flows (id, name, trigger_type, direction, current_version_id, created_on,"
            " api_counters) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
            " name = excluded.name, trigger_type = excluded.trigger_type,"
            " direction = excluded.direction,"
            " current_version_id = coalesce(excluded.current_version_id, current_version_id),"
            " created_on = coalesce(excluded.created_on, created_on),"
            " api_counters = coalesce(excluded.api_counters, api_counters)",
            [
                (
                    f.id,
                    f.name,
                    f.trigger_type,
                    f.direction,
                    f.current_version_id,
                    f.created_on,
                    f.api_counters,
                )
                for f in flows.values()
            ],
        )
        conn.executemany(
            "INSERT INTO versions (id, flow_id, name, description, published_by, published_at,"
            " is_current, api_counters) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(id) DO UPDATE SET name = excluded.name,"
            " description = excluded.description, published_by = excluded.published_by,"
            " published_at = coalesce(excluded.published_at, published_at),"
            " is_current = excluded.is_current,"
            " api_counters = coalesce(excluded.api_counters, api_counters)",
            [
                (
                    v.id,
                    v.flow_id,
                    v.name,
                    v.description,
                    v.published_by,
                    v.published_at,
                    int(v.is_current),
                    v.api_counters,
                )
                for v in versions.values()
            ],
        )
        # One current version per flow: the flow's own pointer wins over version flags.
        for flow in flows.values():
            current = flow.current_version_id
            if current is None:
                current = next(
                    (v.id for v in versions.values() if v.flow_id == flow.id and v.is_current),
                    None,
                )
                if current is None:
                    continue
                conn.execute(
                    "UPDATE flows SET current_version_id = ? WHERE id = ?", [current, flow.id]
                )
            conn.execute(
                "UPDATE versions SET is_current = (id = ?) WHERE flow_id = ?", [current, flow.id]
            )

    def _upsert_executions(self, executions: Sequence[ExecutionRecord]) -> None:
        self.conn.executemany(
            "INSERT INTO executions (id, flow_id, version_id, name, created_by, created_by_email,"
            " created_on, start_on, execute_for, method, contact_import, contact_filters, status,"
            " status_reason, api_counters) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(id) DO UPDATE SET flow_id = excluded.flow_id,"
            " version_id = excluded.version_id, created_by = excluded.created_by,"
            " created_by_email = excluded.created_by_email, created_on = excluded.created_on,"
            " start_on = excluded.start_on, execute_for = excluded.execute_for,"
            " method = excluded.method, contact_import = excluded.contact_import,"
            " contact_filters = excluded.contact_filters, status = excluded.status,"
            " status_reason = excluded.status_reason,"
            " api_counters = coalesce(excluded.api_counters, api_counters)",
            [
                (
                    e.id,
                    e.flow.id,
                    e.version.id if e.version else None,
                    None,
                    e.created_by,
                    e.created_by_email,
                    e.created_on,
                    e.start_on,
                    e.execute_for,
                    e.method,
                    e.contact_import,
                    e.contact_filters,
                    e.status,
                    e.status_reason,
                    e.api_counters,
                )
                for e in executions
            ],
        )

    def _ensure_executions(self, runs: Iterable[RunRecord]) -> None:
        """A run may name an execution whose own record has not arrived (or never will): keep a
        stub so its counters have a row; the full record fills it in when it comes."""
        stubs = {(r.execution_id, r.flow.id, r.version.id) for r in runs if r.execution_id}
        self.conn.executemany(
            "INSERT OR IGNORE INTO executions (id, flow_id, version_id, name, created_by, method)"
            " VALUES (?, ?, ?, NULL, 'Unknown', 'api')",
            [(execution, flow, version) for execution, flow, version in stubs],
        )

    def _register_steps(self, runs: Sequence[RunRecord | DefinitionRecord], graph: _Graph) -> None:
        """Insert step definitions seen for the first time, their edges, and placeholders."""
        conn = self.conn
        seen_objects: set[int] = set()
        for run in runs:
            for definition in run.step_definitions:
                marker = id(definition)
                if marker in seen_objects:
                    continue
                seen_objects.add(marker)
                step_id = str(definition["id"])
                known = graph.keys.get(step_id)
                if known is not None and known not in graph.placeholders:
                    continue
                step = parse_step(definition, run.version.id)
                payload = json.dumps(definition, ensure_ascii=False, default=str)
                if known is None:
                    key = graph.next_step_key
                    graph.next_step_key += 1
                    conn.execute(
                        "INSERT INTO steps (key, id, version_id, flow_id, name, step_type,"
                        " wait_seconds, ordering, is_placeholder, definition)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
                        [
                            key,
                            step.id,
                            step.version_id,
                            run.flow.id,
                            step.name,
                            step.step_type,
                            step.wait_seconds,
                            step.ordering,
                            payload,
                        ],
                    )
                    graph.keys[step.id] = key
                else:
                    key = known
                    conn.execute(
                        "UPDATE steps SET name = ?, step_type = ?, wait_seconds = ?, ordering = ?,"
                        " is_placeholder = 0, definition = ? WHERE key = ?",
                        [step.name, step.step_type, step.wait_seconds, step.ordering, payload, key],
                    )
                    graph.placeholders.discard(key)
                graph.waits[key] = step.wait_seconds is not None
                for edge in step.transitions:
                    target = graph.keys.get(edge.target)
                    if target is None:
                        target = graph.next_step_key
                        graph.next_step_key += 1
                        conn.execute(
                            "INSERT INTO steps (key, id, version_id, flow_id, name, step_type,"
                            " ordering, is_placeholder) VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
                            [
                                target,
                                edge.target,
                                run.version.id,
                                run.flow.id,
                                f"Step {edge.target}",
                                PLACEHOLDER_STEP_TYPE,
                                1_000_000,
                            ],
                        )
                        graph.keys[edge.target] = target
                        graph.placeholders.add(target)
                        graph.waits[target] = False
                    conn.execute(
                        "INSERT OR IGNORE INTO transitions (version_id, source_key, target_key,"
                        " kind, label, ordinal) VALUES (?, ?, ?, ?, ?, ?)",
                        [run.version.id, key, target, edge.kind, edge.label, edge.ordinal],
                    )
                    graph.edges[(key, target)].add(edge.kind)

    def _observe_edges(self, version_id: str, keys: Sequence[int], graph: _Graph) -> None:
        """A path that moved between two steps with no defined edge still draws that edge."""
        for pair in zip(keys, keys[1:], strict=False):
            if pair not in graph.edges:
                graph.edges[pair].add("observed")
                self.conn.execute(
                    "INSERT OR IGNORE INTO transitions (version_id, source_key, target_key, kind,"
                    " label, ordinal) VALUES (?, ?, ?, 'observed', '', 200)",
                    [version_id, *pair],
                )

    @staticmethod
    def _reply_flags(
        keys: Sequence[int], statuses: Sequence[str], graph: _Graph
    ) -> tuple[bool, bool]:
        """(waited, responded): see docs/metrics.md for the response-rate definition."""
        waited = responded = False
        for index, key in enumerate(keys):
            if not graph.waits.get(key) or statuses[index] not in _EXECUTED:
                continue
            waited = True
            if statuses[index] == "COMPLETED":
                following = keys[index + 1] if index + 1 < len(keys) else None
                if following is None or graph.edges.get((key, following)) != {"alternate"}:
                    responded = True
                    break
        return waited, responded

    def _write_runs(self, runs: list[RunRecord], graph: _Graph, deltas: _Deltas) -> int:
        if not runs:
            return 0
        conn = self.conn
        self._register_steps(runs, graph)
        stored: dict[str, tuple] = {}
        for chunk in _chunks([run.id for run in runs]):
            marks = ",".join("?" * len(chunk))
            for row in conn.execute(
                "SELECT id, key, fingerprint, flow_id, version_id, execution_id, metric, waited,"
                f" responded, contact_id, status, path_synced FROM runs WHERE id IN ({marks})",
                list(chunk),
            ):
                stored[row[0]] = row
        self._upsert_contacts(runs)

        changed_existing: list[tuple[RunRecord, tuple]] = []
        new_runs: list[RunRecord] = []
        for run in runs:
            previous = stored.get(run.id)
            if previous is None:
                new_runs.append(run)
            else:
                changed_existing.append((run, previous))

        # Existing runs: skip the unchanged, load the old paths of the changed.
        old_paths: dict[int, list[tuple[int, str, int, str]]] = defaultdict(list)
        if changed_existing:
            keys = [prev[1] for _, prev in changed_existing]
            for chunk in _chunks(keys):
                marks = ",".join("?" * len(chunk))
                for run_key, step_key, status, executed_at, error in conn.execute(
                    "SELECT run_key, step_key, status, executed_at, error FROM run_steps"
                    f" WHERE run_key IN ({marks}) ORDER BY run_key, seq",
                    list(chunk),
                ):
                    old_paths[run_key].append((step_key, status, executed_at, error))

        run_rows: list[tuple] = []
        update_rows: list[tuple] = []
        step_rows: list[tuple] = []
        delete_keys: list[tuple[int]] = []
        changed = 0
        id_by_key = (
            {key: step_id for step_id, key in graph.keys.items()} if changed_existing else {}
        )
        step_key = graph.keys
        # Per batch, results that depend only on a path's shape: most runs share a few routes.
        reply_flags: dict[tuple, tuple[bool, bool]] = {}
        observed: set[tuple] = set()
        metrics: dict[str, str] = {}
        add_run = deltas.add_run
        for run, previous in [(r, None) for r in new_runs] + changed_existing:
            new_path = run.path
            path_synced = 1
            if new_path is None:
                # A list-only record: the stored path stays, unless the status moved on, which
                # leaves the stored path out of date: it is dropped until a detail is read.
                path_synced = 0 if previous is None else previous[11]
                if previous is not None and previous[10] != run.status:
                    new_path, path_synced = [], 0
            if new_path is None:
                if previous is None:
                    path_keys: tuple[int, ...] = ()
                    path_statuses: tuple[str, ...] = ()
                    path_tail = "0"
                    last_time = 0
                else:
                    old = old_paths.get(previous[1], [])
                    path_keys = tuple([item[0] for item in old])
                    path_statuses = tuple([item[1] for item in old])
                    last_time = old[-1][2] if old else 0
                    path_tail = (
                        f"{len(old)}:{id_by_key.get(old[-1][0])}:{old[-1][1]}:{old[-1][2]}:"
                        f"{old[-1][3]}"
                        if old
                        else "0"
                    )
            else:
                path_keys = tuple([step_key[step.step_id] for step in new_path])
                path_statuses = tuple([step.status for step in new_path])
                if new_path:
                    last = new_path[-1]
                    last_time = last.executed_at
                    path_tail = (
                        f"{len(new_path)}:{last.step_id}:{last.status}:{last_time}:{last.error}"
                    )
                else:
                    last_time = 0
                    path_tail = "0"
            if not path_synced:
                path_tail += "\x1epending"  # a detail with the same head still lands
            fingerprint = _fingerprint(f"{_run_head(run)}\x1e{path_tail}")
            if previous is not None and previous[2] == fingerprint:
                continue  # replay of what is stored: nothing to do
            # The path of a run the report already holds, as it was listed, is not a change
            # (so a first sync in two phases counts each run once).
            changed += previous is None or bool(previous[11]) or previous[10] != run.status
            metric = metrics.get(run.status)
            if metric is None:
                metric = metrics[run.status] = metric_for_status(run.status).value
            shape = (path_keys, path_statuses)
            flags = reply_flags.get(shape)
            if flags is None:
                flags = reply_flags[shape] = self._reply_flags(path_keys, path_statuses, graph)
            waited, responded = flags
            if len(path_keys) > 1 and (run.version.id, path_keys) not in observed:
                observed.add((run.version.id, path_keys))
                self._observe_edges(run.version.id, path_keys, graph)
            if previous is None:
                run_key = graph.next_run_key
                graph.next_run_key += 1
            else:
                run_key = previous[1]
                old = old_paths.get(run_key, [])
                add_run(
                    -1,
                    previous[3],
                    previous[4],
                    previous[5],
                    previous[6],
                    bool(previous[7]),
                    bool(previous[8]),
                    [item[0] for item in old],
                )
            add_run(
                +1,
                run.flow.id,
                run.version.id,
                run.execution_id,
                metric,
                waited,
                responded,
                path_keys,
            )
            entered_at = run.entered_at
            changed_at = run.status_changed_at or 0
            last_activity = max(entered_at, changed_at, last_time)
            reason = run.status_reason
            if not reason and new_path and metric == "failed":
                reason = next(
                    (
                        s.error or s.status_reason
                        for s in reversed(new_path)
                        if s.error or s.status_reason
                    ),
                    "",
                )
            contact = run.contact
            row = (
                run.flow.id,
                run.version.id,
                run.execution_id,
                contact.id,
                contact.phone,
                contact.first_name,
                contact.last_name,
                run.status,
                metric,
                reason,
                int(run.is_test),
                entered_at,
                last_activity,
                path_keys[-1] if path_keys else None,
                len(path_keys),
                int(waited),
                int(responded),
                fingerprint,
                path_synced,
            )
            if previous is None:
                run_rows.append((run_key, run.id, *row))
            else:
                update_rows.append((*row, run_key))
                if new_path is not None:
                    delete_keys.append((run_key,))
            path_start = len(step_rows)
            if new_path:
                step_rows += [
                    (
                        run_key,
                        seq,
                        key,
                        step.status,
                        step.status_reason,
                        int(step.has_error),
                        step.executed_at,
                        step.expire_on,
                        step.error,
                    )
                    for seq, (key, step) in enumerate(zip(path_keys, new_path, strict=True))
                ]
            deltas.insights.add_run(
                (run_key, *row[:3], metric, waited, responded, entered_at, last_activity, reason),
                None if new_path is None else step_rows[path_start:],
                previous is not None,
            )
        deltas.insights.settle(conn, graph.waits, graph.edges)
        conn.executemany(
            "INSERT INTO runs (key, id, flow_id, version_id, execution_id, contact_id, phone,"
            " first_name, last_name, status, metric, status_reason, is_test, entered_at,"
            " last_activity, last_step_key, path_length, waited, responded, fingerprint,"
            " path_synced) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            run_rows,
        )
        conn.executemany(
            "UPDATE runs SET flow_id = ?, version_id = ?, execution_id = ?, contact_id = ?,"
            " phone = ?, first_name = ?, last_name = ?, status = ?, metric = ?,"
            " status_reason = ?, is_test = ?, entered_at = ?, last_activity = ?,"
            " last_step_key = ?, path_length = ?, waited = ?, responded = ?, fingerprint = ?,"
            " path_synced = ? WHERE key = ?",
            update_rows,
        )
        conn.executemany("DELETE FROM run_steps WHERE run_key = ?", delete_keys)
        conn.executemany(
            "INSERT INTO run_steps (run_key, seq, step_key, status, status_reason, has_error,"
            " executed_at, expire_on, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            step_rows,
        )
        return changed

    def _upsert_contacts(self, runs: Sequence[RunRecord]) -> None:
        """Keep the contacts table and the names copied onto runs (for sorting) in step."""
        contacts = {run.contact.id: run.contact for run in runs}
        conn = self.conn
        stored: dict[str, tuple] = {}
        ids = list(contacts)
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for row in conn.execute(
                "SELECT id, phone, first_name, last_name, email FROM contacts"
                f" WHERE id IN ({marks})",
                list(chunk),
            ):
                stored[row[0]] = row[1:]
        inserts = []
        renamed = []
        for contact in contacts.values():
            values = (contact.phone, contact.first_name, contact.last_name, contact.email)
            previous = stored.get(contact.id)
            if previous is None:
                inserts.append((contact.id, *values))
            elif previous != values:
                renamed.append((*values, contact.id))
        if not self._terms_pending:
            search_terms.write_contact_terms(
                conn,
                ((row[0], row[1:]) for row in inserts),
                ((row[-1], stored[row[-1]], row[:-1]) for row in renamed),
            )
        conn.executemany(
            "INSERT INTO contacts (id, phone, first_name, last_name, email) VALUES (?, ?, ?, ?, ?)",
            inserts,
        )
        conn.executemany(
            "UPDATE contacts SET phone = ?, first_name = ?, last_name = ?, email = ? WHERE id = ?",
            renamed,
        )
        conn.executemany(
            "UPDATE runs SET phone = ?, first_name = ?, last_name = ? WHERE contact_id = ?",
            [(phone, first, last, cid) for phone, first, last, _email, cid in renamed],
        )
