"""``flowdesk server sync``: any source's batches, written into the team server with change numbers.

This is the only process that talks to the upstream. For every batch the source yields, in one
PostgreSQL transaction: validate the records (as the desktop engine would), store flows,
versions, step definitions, executions and runs whose content changed under a new change number,
and save the source's cursor. A process killed at any point leaves the server as after its last
whole batch; the next run resumes from that batch's cursor, and a replayed record whose content
is unchanged keeps its change number, so desktops fetch nothing twice.

A session-level advisory lock makes this the only writer: change numbers are then committed in
the order they were drawn, which is what lets desktops read ``change > cursor`` safely.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from psycopg.types.json import Jsonb

from flowdesk.core.formats.catalogue import Catalogue
from flowdesk.core.records import (
    MalformedRecord,
    RunRecord,
    parse_definition,
    parse_execution,
    parse_run,
)
from flowdesk.core.sources.base import Batch, Source
from flowdesk.core.team.connection import TeamServerError
from flowdesk.core.team.schema import BULK_INDEXES, SCHEMA, WRITER_LOCK

_ACTIVE = ("READY", "RUNNING")


def canonical_json(value: Any) -> str:
    """One text per content, so equal records get equal digests whatever their key order."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return text.replace("\\u0000", "\\ufffd")  # PostgreSQL's jsonb cannot hold NUL characters


def digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _ref(value: Any) -> Any:
    """An embedded object replaced by its id; the desktop puts the stored object back."""
    return {"id": value["id"]} if isinstance(value, dict) and "id" in value else value


@dataclass(slots=True)
class ServerReport:
    source: str
    outcome: str = "running"  # completed | canceled | failed
    message: str = ""
    batches: int = 0
    records: int = 0
    changed: dict[str, int] = field(default_factory=dict)  # table → rows given a new change
    problems: list[tuple[str, str, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def summary(self) -> str:
        changed = ", ".join(f"{n:,} {table}" for table, n in self.changed.items() if n)
        return (
            f"{self.outcome}: {self.records:,} records, changed: {changed or 'nothing'}, "
            f"{len(self.problems)} skipped, {self.seconds:.1f} s"
        )


class _State:
    """The upstream source's view of what the team server already holds (``SyncState``)."""

    def __init__(
        self, conn: Any, cursor: dict[str, Any], notify: Callable[[str], None] | None
    ) -> None:
        self._conn = conn
        self._cursor = cursor
        self._notify = notify
        self._notify_lock = threading.Lock()

    @property
    def cursor(self) -> dict[str, Any]:
        return self._cursor

    def known_run_status(self, run_id: str) -> str | None:
        row = self._conn.execute(
            f"SELECT status FROM {SCHEMA}.runs WHERE id = %s", [run_id]
        ).fetchone()
        return None if row is None else row[0]

    def known_runs(self, run_ids: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        rows = self._conn.execute(
            f"SELECT id, status, execution_id FROM {SCHEMA}.runs WHERE id = ANY(%s)",
            [list(run_ids)],
        )
        return {row[0]: (row[1], row[2]) for row in rows}

    def execution_flows(self) -> set[str]:
        rows = self._conn.execute(f"SELECT DISTINCT flow_id FROM {SCHEMA}.executions")
        return {row[0] for row in rows}

    def runs_without_path(self) -> list[str]:
        rows = self._conn.execute(
            f"SELECT id FROM {SCHEMA}.runs WHERE NOT has_path ORDER BY created_on DESC, id DESC"
        )
        return [row[0] for row in rows]

    def active_run_ids(self) -> list[str]:
        rows = self._conn.execute(
            f"SELECT id FROM {SCHEMA}.runs WHERE status IN ('READY', 'RUNNING')"
            " AND has_path ORDER BY id"
        )
        return [row[0] for row in rows]

    def catalogue(self) -> Catalogue:
        """The versions the server holds, from its own tables: what RapidPro and Twilio
        Studio runs are placed among, as a desktop places them among its cache's."""
        conn = self._conn
        return Catalogue.from_records(
            [row[0] for row in conn.execute(f"SELECT data FROM {SCHEMA}.flows ORDER BY id")],
            conn.execute(f"SELECT flow_id, data FROM {SCHEMA}.versions ORDER BY id").fetchall(),
            conn.execute(f"SELECT version_id, data FROM {SCHEMA}.steps ORDER BY id").fetchall(),
        )

    def notify(self, note: str) -> None:
        if self._notify is not None:
            with self._notify_lock:  # a terminal is not thread-safe
                self._notify(note)


class ServerWriter:
    """Writes one source into one team server database. Create it, ``lock()``, then ``run()``."""

    def __init__(self, conn: Any, display: str) -> None:
        self.conn = conn
        self.display = display
        self._digests: dict[str, dict[str, bytes]] = {}
        self._staged = False

    def lock(self) -> None:
        """Become the only writer, or say who is and stop."""
        locked = self.conn.execute("SELECT pg_try_advisory_lock(%s)", [WRITER_LOCK]).fetchone()[0]
        if not locked:
            raise TeamServerError(
                f"another flowdesk server sync is already writing to {self.display}; "
                "this one stops (only one may run)"
            )

    def claim(self, identity: dict[str, Any]) -> None:
        """Tie the server to one upstream: a second, different one would mix two accounts."""
        row = self.conn.execute(f"SELECT source FROM {SCHEMA}.server").fetchone()
        stored = row[0] if row else None
        if stored and (stored.get("kind"), stored.get("settings")) != (
            identity.get("kind"),
            identity.get("settings"),
        ):
            raise TeamServerError(
                f"{self.display} already mirrors {stored.get('name') or stored.get('kind')}"
                f" {_settings_text(stored)}; use another database for "
                f"{identity.get('name')} {_settings_text(identity)}".rstrip()
            )
        if not stored:
            self.conn.execute(f"UPDATE {SCHEMA}.server SET source = %s", [Jsonb(identity)])

    # -- the sync -----------------------------------------------------------------------------

    def run(
        self,
        source: Source,
        *,
        progress: Callable[[Batch, ServerReport], None] | None = None,
        is_cancelled: Callable[[], bool] = lambda: False,
        notify: Callable[[str], None] | None = None,
    ) -> ServerReport:
        """Write the source's batches; ``notify`` shows the source's notes between batches (a
        long wait for the upstream's rate limit), from the source's worker threads too."""
        started = time.monotonic()
        report = ServerReport(source=source.kind)
        conn = self.conn
        cursor = conn.execute(f"SELECT cursor FROM {SCHEMA}.server").fetchone()[0] or {}
        sync_id = conn.execute(
            f"INSERT INTO {SCHEMA}.syncs (source) VALUES (%s) RETURNING id", [source.kind]
        ).fetchone()[0]
        self._load_digests()
        bulk = self._begin_bulk()
        try:
            for batch in source.batches(_State(conn, cursor, notify), is_cancelled):
                self._write_batch(batch, report, sync_id)
                if progress is not None:
                    progress(batch, report)
                if is_cancelled():
                    report.outcome = "canceled"
                    report.message = "canceled; the next sync resumes where this one stopped"
                    break
            else:
                report.outcome = "completed"
        except TeamServerError:
            raise
        except Exception as exc:  # the upstream failed: keep what committed, say why
            report.outcome = "failed"
            report.message = str(exc) or exc.__class__.__name__
        finally:
            if bulk and not conn.broken:
                self._build_indexes()
        report.seconds = time.monotonic() - started
        conn.execute(
            f"UPDATE {SCHEMA}.syncs SET finished_at = now(), outcome = %s, records = %s,"
            " changed = %s, problems = %s, message = %s WHERE id = %s",
            [
                report.outcome,
                report.records,
                sum(report.changed.values()),
                len(report.problems),
                report.message,
                sync_id,
            ],
        )
        return report

    def _begin_bulk(self) -> bool:
        """Re-create what a killed first sync left out; then, when the server holds no runs
        yet, drop the big tables' secondary indexes until this sync ends (True). Each batch
        still commits with its cursor; desktops reading meanwhile are slower, not wrong."""
        conn = self.conn
        # Commits need not wait for the disk: a database crash loses the newest batches
        # together with their cursor (commits stay in order), so the next sync fetches them again.
        conn.execute("SET synchronous_commit TO off")
        self._build_indexes()
        if conn.execute(f"SELECT EXISTS (SELECT 1 FROM {SCHEMA}.runs)").fetchone()[0]:
            return False
        with conn.transaction():
            for name in BULK_INDEXES:
                conn.execute(f"DROP INDEX IF EXISTS {SCHEMA}.{name}")
        return True

    def _build_indexes(self) -> None:
        conn = self.conn
        conn.execute("SET maintenance_work_mem TO '256MB'")
        for name, target in BULK_INDEXES.items():
            conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")
        conn.execute("RESET maintenance_work_mem")

    def _load_digests(self) -> None:
        """Digests of the small tables, kept in memory: this process is the only writer."""
        for table in ("flows", "versions", "steps", "executions"):
            rows = self.conn.execute(f"SELECT id, digest FROM {SCHEMA}.{table}")
            self._digests[table] = {row[0]: bytes(row[1]) for row in rows}

    # -- one batch ----------------------------------------------------------------------------

    def _write_batch(self, batch: Batch, report: ServerReport, sync_id: int) -> None:
        runs: dict[str, tuple[RunRecord, dict[str, Any]]] = {}
        executions: dict[str, tuple[Any, dict[str, Any]]] = {}
        definitions: dict[str, tuple[Any, dict[str, Any]]] = {}
        problems: list[tuple[str, str, str]] = [("record", rid, msg) for rid, msg in batch.problems]
        cache: dict[Any, Any] = {}
        for record in batch.records:
            try:
                if record.kind == "run":
                    parsed = parse_run(record.data, cache)
                    runs[parsed.id] = (parsed, record.data)
                elif record.kind == "execution":
                    execution = parse_execution(record.data)
                    executions[execution.id] = (execution, record.data)
                elif record.kind == "definition":
                    definition = parse_definition(record.data)
                    definitions[definition.id] = (definition, record.data)
                else:
                    raise MalformedRecord("?", f"unknown record kind {record.kind!r}")
            except MalformedRecord as exc:
                problems.append((record.kind, exc.record_id, exc.message))
        flows: dict[str, tuple[str, str, dict]] = {}
        versions: dict[str, tuple[str, str, dict]] = {}
        steps: dict[str, tuple[str, str, str, dict]] = {}
        for parsed, data in (*definitions.values(), *executions.values(), *runs.values()):
            if isinstance(data.get("flow"), dict):
                flows[parsed.flow.id] = (parsed.flow.name, parsed.flow.trigger_type, data["flow"])
            if parsed.version is not None and isinstance(data.get("flow_version"), dict):
                version = parsed.version
                versions[version.id] = (version.flow_id, version.name, data["flow_version"])
        carried = [
            (parsed.version.id, [item["step"] for item in data.get("execution_steps") or ()])
            for parsed, data in runs.values()
        ]
        carried += [
            (parsed.version.id, parsed.step_definitions) for parsed, _ in definitions.values()
        ]
        for version_id, definitions_of_version in carried:
            for definition in definitions_of_version:
                steps[str(definition["id"])] = (
                    version_id,
                    str(definition.get("name") or ""),
                    str(definition.get("step_type") or ""),
                    definition,
                )
        changed: dict[str, int] = {}
        with self.conn.transaction():
            changed["flows"] = self._upsert_small(
                "flows",
                "name, trigger_type",
                [(key, name, trigger, data) for key, (name, trigger, data) in flows.items()],
            )
            changed["versions"] = self._upsert_small(
                "versions",
                "flow_id, name",
                [(key, flow, name, data) for key, (flow, name, data) in versions.items()],
            )
            changed["steps"] = self._upsert_small(
                "steps",
                "version_id, name, step_type",
                [(key, *values) for key, values in steps.items()],
            )
            changed["executions"] = self._upsert_small(
                "executions",
                "flow_id, version_id, status, created_on",
                [
                    (
                        key,
                        parsed.flow.id,
                        parsed.version.id if parsed.version else None,
                        parsed.status,
                        _timestamp(parsed.created_on),
                        _compact_execution(data),
                    )
                    for key, (parsed, data) in executions.items()
                ],
            )
            changed["runs"] = self._write_runs(list(runs.values()))
            if problems:
                with self.conn.cursor() as cur:
                    cur.executemany(
                        f"INSERT INTO {SCHEMA}.sync_problems VALUES (%s, %s, %s, %s)",
                        [(sync_id, *problem) for problem in problems],
                    )
            self.conn.execute(
                f"UPDATE {SCHEMA}.server SET cursor = %s, last_sync_at = now()",
                [Jsonb(batch.cursor)],
            )
        report.batches += 1
        report.records += len(batch.records)
        report.problems.extend(problems)
        for table, count in changed.items():
            report.changed[table] = report.changed.get(table, 0) + count

    def _upsert_small(self, table: str, columns: str, rows: Iterable[tuple]) -> int:
        """Upsert rows ``(id, *columns, data)`` whose content differs from what is stored."""
        known = self._digests.setdefault(table, {})
        changed: list[tuple] = []
        fresh: dict[str, bytes] = {}
        for key, *values, data in rows:
            text = canonical_json(data)
            mark = digest(text)
            if known.get(key) != mark:
                changed.append((key, *values, text, mark))
                fresh[key] = mark
        if not changed:
            return 0
        names = columns.split(", ")
        placeholders = ", ".join(["%s"] * (len(names) + 1))
        updates = ", ".join(f"{name} = excluded.{name}" for name in [*names, "data", "digest"])
        with self.conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO {SCHEMA}.{table} (id, {columns}, data, digest, change)"
                f" VALUES ({placeholders}, %s::jsonb, %s, nextval('{SCHEMA}.change_seq'))"
                f" ON CONFLICT (id) DO UPDATE SET {updates}, change = excluded.change",
                changed,
            )
        known.update(fresh)
        return len(changed)

    def _stage(self) -> None:
        if self._staged:
            return
        self.conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS stage_runs (id text, flow_id text,"
            " version_id text, execution_id text, contact_id text, status text,"
            " is_test boolean, created_on timestamptz, phone text, status_reason text,"
            " has_path boolean, data json, digest bytea, change bigint)"
            " ON COMMIT DELETE ROWS"
        )
        self.conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS stage_steps (run_id text, seq integer,"
            " step_id text, status text, executed_at bigint) ON COMMIT DELETE ROWS"
        )
        self._staged = True

    def _write_runs(self, runs: list[tuple[RunRecord, dict[str, Any]]]) -> int:
        """Store the runs whose content changed, each under a new change number drawn in the
        upstream's order. Runs the server never had are copied straight into their tables (a
        first sync is almost only those); runs it had go through a staging table and replace
        the stored row and path."""
        if not runs:
            return 0
        conn = self.conn
        ids = [parsed.id for parsed, _ in runs]
        stored = {
            row[0]: bytes(row[1])
            for row in conn.execute(
                f"SELECT id, digest FROM {SCHEMA}.runs WHERE id = ANY(%s)", [ids]
            )
        }
        list_only = [p.id for p, data in runs if data.get("execution_steps") is None]
        kept_paths: dict[str, Any] = {}
        dropped: list[str] = []
        if list_only:
            # A listing row keeps the stored path while its status is the stored one; a status
            # that moved on makes that path out of date: dropped until the detail is read.
            statuses = {p.id: p.status for p, _ in runs}
            for run_id, status, steps in conn.execute(
                f"SELECT id, status, data->'execution_steps' FROM {SCHEMA}.runs WHERE id = ANY(%s)",
                [list_only],
            ).fetchall():
                if status == statuses[run_id]:
                    kept_paths[run_id] = steps
                else:
                    dropped.append(run_id)
        fresh: list[list[Any]] = []
        replaced: list[list[Any]] = []
        fresh_steps: list[tuple] = []
        replaced_steps: list[tuple] = []
        for parsed, data in runs:
            compact = _compact_run(data)
            if parsed.path is None:
                compact["execution_steps"] = kept_paths.get(parsed.id)
            text = canonical_json(compact)
            mark = digest(text)
            known = stored.get(parsed.id)
            if known == mark:
                continue
            row = [
                parsed.id,
                parsed.flow.id,
                parsed.version.id,
                parsed.execution_id,
                parsed.contact.id,
                parsed.status,
                parsed.is_test,
                _timestamp(parsed.entered_at),
                _text(_get(data.get("contact"), "phone")),
                _text(data.get("status_reason")),
                isinstance(compact.get("execution_steps"), list),
                text,
                mark,
                len(fresh) + len(replaced),  # its place in the upstream's order, for now
            ]
            (fresh if known is None else replaced).append(row)
            if parsed.path is not None:
                (fresh_steps if known is None else replaced_steps).extend(
                    (parsed.id, seq, step.step_id, step.status, step.executed_at)
                    for seq, step in enumerate(parsed.path)
                )
        count = len(fresh) + len(replaced)
        if not count:
            return 0
        # One round trip draws the batch's change numbers (this is the only writer).
        last = conn.execute(
            f"SELECT setval('{SCHEMA}.change_seq', nextval('{SCHEMA}.change_seq') + %s - 1)",
            [count],
        ).fetchone()[0]
        first = last - count + 1
        for row in (*fresh, *replaced):
            row[-1] += first
        columns = (
            "id, flow_id, version_id, execution_id, contact_id, status, is_test, created_on,"
            " phone, status_reason, has_path, data, digest, change"
        )
        steps = "run_id, seq, step_id, status, executed_at"
        with conn.cursor() as cur:
            if fresh:
                _copy(cur, f"COPY {SCHEMA}.runs ({columns}) FROM STDIN", fresh)
                _copy(cur, f"COPY {SCHEMA}.run_steps ({steps}) FROM STDIN", fresh_steps)
            if replaced:
                self._stage()
                _copy(cur, f"COPY stage_runs ({columns}) FROM STDIN", replaced)
                _copy(cur, f"COPY stage_steps ({steps}) FROM STDIN", replaced_steps)
                cur.execute(
                    f"INSERT INTO {SCHEMA}.runs AS r ({columns}) SELECT {columns} FROM stage_runs"
                    " ON CONFLICT (id) DO UPDATE SET "
                    + ", ".join(f"{c} = excluded.{c}" for c in columns.split(", ")[1:])
                )
                cur.execute(
                    f"DELETE FROM {SCHEMA}.run_steps WHERE run_id IN"
                    " (SELECT DISTINCT run_id FROM stage_steps) OR run_id = ANY(%s)",
                    [dropped],
                )
                cur.execute(
                    f"INSERT INTO {SCHEMA}.run_steps ({steps}) SELECT {steps} FROM stage_steps"
                )
        return count


def _get(value: Any, key: str) -> Any:
    return value.get(key) if isinstance(value, dict) else None


def _text(value: Any) -> str | None:
    """As ``data->>'key'`` reads a JSON value: strings as they are, others as JSON text."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _copy(cur: Any, statement: str, rows: Iterable[Sequence[Any]]) -> None:
    with cur.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _timestamp(epoch: int | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def _compact_run(data: dict[str, Any]) -> dict[str, Any]:
    """The run as stored: flow, version and step definitions by reference (stored once)."""
    compact = dict(data)
    compact["flow"] = _ref(data.get("flow"))
    compact["flow_version"] = _ref(data.get("flow_version"))
    steps = data.get("execution_steps")
    if isinstance(steps, list):
        compact["execution_steps"] = [{**item, "step": _ref(item["step"])} for item in steps]
    return compact


def _compact_execution(data: dict[str, Any]) -> dict[str, Any]:
    compact = dict(data)
    compact["flow"] = _ref(data.get("flow"))
    compact["flow_version"] = _ref(data.get("flow_version"))
    return compact


def _settings_text(identity: dict[str, Any]) -> str:
    settings = identity.get("settings") or {}
    if not settings:
        return ""
    return "(" + ", ".join(f"{k} {v}" for k, v in sorted(settings.items())) + ")"
