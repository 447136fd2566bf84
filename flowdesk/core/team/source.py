"""The desktop's ``team`` source: what changed on the team server since this cache's cursor.

It reads, in one read-only snapshot of the server, every table's rows whose change number is
above the cursor, puts back the flow, version and step definitions the server stores once, and
yields them as the upstream-shaped records every source yields: the one sync engine writes them
into the local cache exactly as if they came from the upstream, so views stay fast and offline.

Order within a sync: the definitions (flow, version and its steps) of every version whose flow,
record or steps changed, then executions, then runs, each by change number. The cursor
(``{"server", "flows", "versions", "steps", "executions", "runs"}``) is committed with each batch,
so a killed sync resumes after its last whole batch; the snapshot makes every run's execution
visible in the same sync or an earlier one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import psycopg

from flowdesk.core.sources.base import Batch, Record, SyncState
from flowdesk.core.team.connection import (
    ServerAddress,
    TeamServerError,
    connect,
    describe_error,
)
from flowdesk.core.team.schema import (
    OLDEST_READABLE,
    SCHEMA,
    check_version,
    installed_version,
)

KIND = "team"
BATCH_RECORDS = 2000
# The password: in the URL, else libpq's own variable, else the keyring (the app's Connect).
ENV_PASSWORD = "PGPASSWORD"
KEYRING_SERVICE = "flowdesk-team-server"
_TABLES = ("flows", "versions", "steps", "executions", "runs")


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """What the app's Test connection shows of a team server."""

    display: str
    schema_version: int
    runs: int

    @property
    def message(self) -> str:
        return (
            f"Connected to {self.display}: team schema {self.schema_version}, "
            f"{self.runs:,} contact runs"
        )


def _ref_id(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return None if value is None else str(value)


class TeamSource:
    """Reads a Flowdesk team server (``flowdesk server sync`` fills it)."""

    kind = KIND

    def __init__(self, address: ServerAddress, batch_records: int = BATCH_RECORDS) -> None:
        self.address = address
        self.batch_records = max(1, int(batch_records))
        self.name = f"Team server ({address.display})"

    def __repr__(self) -> str:  # the address may carry a password
        return f"TeamSource({self.address.display!r})"

    @property
    def base_url(self) -> str:
        """The server's URL without its password: what the cache records it by."""
        return self.address.url

    def check(self, cursor: dict[str, Any] | None = None) -> str:
        """Connect and check the schema (and that ``cursor`` came from this server): the one-line
        reason otherwise. Returns the server's id. Nothing local is touched."""
        conn = connect(self.address)
        try:
            return self._server_id(conn, cursor or {})
        finally:
            conn.close()

    def probe(self) -> ServerInfo:
        """Connect, check the schema and count the runs (the app's Test connection): a
        :class:`TeamServerError` says why not, in one line. Nothing local is touched."""
        conn = connect(self.address)
        try:
            self._server_id(conn, {})
            try:
                version = installed_version(conn)
                runs = conn.execute(f"SELECT count(*) FROM {SCHEMA}.runs").fetchone()[0]
            except psycopg.Error as exc:
                raise self._unreadable(exc) from None
            return ServerInfo(self.address.display, version, int(runs))
        finally:
            conn.close()

    def _unreadable(self, exc: psycopg.Error) -> TeamServerError:
        return TeamServerError(
            f"cannot read the team server {self.address.display}: "
            f"{describe_error(exc, self.address)}"
        )

    def _server_id(self, conn: Any, cursor: dict[str, Any]) -> str:
        try:
            check_version(conn, self.address.display, OLDEST_READABLE)
            server_id = str(conn.execute(f"SELECT server_id FROM {SCHEMA}.server").fetchone()[0])
        except psycopg.Error as exc:
            raise self._unreadable(exc) from None
        if cursor.get("server") and cursor["server"] != server_id:
            raise TeamServerError(
                f"this cache was synced from another team server than {self.address.display} "
                "(it was re-created, or the URL points elsewhere): sync into a new cache file"
            )
        return server_id

    # -- the Source contract -------------------------------------------------------------------

    def batches(self, state: SyncState, is_cancelled: Callable[[], bool]) -> Iterator[Batch]:
        conn = connect(self.address, autocommit=False)
        try:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            try:
                yield from self._read(conn, dict(state.cursor or {}), is_cancelled)
            except psycopg.Error as exc:
                raise TeamServerError(
                    f"reading the team server {self.address.display} failed: "
                    f"{describe_error(exc, self.address)}; the next sync resumes here"
                ) from None
        finally:
            conn.close()

    def _read(
        self, conn: Any, cursor: dict[str, Any], is_cancelled: Callable[[], bool]
    ) -> Iterator[Batch]:
        server_id = self._server_id(conn, cursor)
        position = {table: int(cursor.get(table) or 0) for table in _TABLES}

        def next_cursor() -> dict[str, Any]:
            return {"server": server_id, **position}

        flows = {
            row[0]: (row[1], row[2])
            for row in conn.execute(f"SELECT id, data, change FROM {SCHEMA}.flows")
        }
        versions = {
            row[0]: (row[1], row[2], row[3])
            for row in conn.execute(f"SELECT id, flow_id, data, change FROM {SCHEMA}.versions")
        }
        pending = {
            table: conn.execute(
                f"SELECT count(*) FROM {SCHEMA}.{table} WHERE change > %s", [position[table]]
            ).fetchone()[0]
            for table in ("executions", "runs")
        }
        total = pending["executions"] + pending["runs"]
        done = 0
        note = f"Team server {self.address.display}"

        # Versions whose flow, own record or step definitions changed, as whole definitions:
        # the desktop hears of them even when no run or execution carries them now.
        steps_changed = {
            row[0]
            for row in conn.execute(
                f"SELECT DISTINCT version_id FROM {SCHEMA}.steps WHERE change > %s",
                [position["steps"]],
            )
        }
        wanted = sorted(
            version_id
            for version_id, (flow_id, _, change) in versions.items()
            if change > position["versions"]
            or version_id in steps_changed
            or flows.get(flow_id, (None, 0))[1] > position["flows"]
        )
        definitions: dict[str, Any] = {}
        if wanted:
            by_version: dict[str, list[Any]] = {version_id: [] for version_id in wanted}
            for step_id, version_id, data in conn.execute(
                f"SELECT id, version_id, data FROM {SCHEMA}.steps"
                " WHERE version_id = ANY(%s) ORDER BY change",
                [wanted],
            ):
                definitions[step_id] = data
                by_version[version_id].append(data)
            records = [
                Record(
                    "definition",
                    {
                        "flow": flows.get(versions[v][0], ({"id": versions[v][0]}, 0))[0],
                        "flow_version": versions[v][1],
                        "steps": by_version[v],
                    },
                )
                for v in wanted
            ]
            for table, rows in (("flows", flows.values()), ("versions", versions.values())):
                position[table] = max((row[-1] for row in rows), default=0)
            position["steps"] = conn.execute(
                f"SELECT coalesce(max(change), 0) FROM {SCHEMA}.steps"
            ).fetchone()[0]
            yield Batch(
                records,
                next_cursor(),
                0,
                total,
                f"{note}: flow definitions",
                {"team_definitions": len(records)},
            )

        def embed(data: dict[str, Any]) -> dict[str, Any]:
            flow_id = _ref_id(data.get("flow"))
            if flow_id in flows:
                data["flow"] = flows[flow_id][0]
            version_id = _ref_id(data.get("flow_version"))
            if version_id in versions:
                data["flow_version"] = versions[version_id][1]
            return data

        for table in ("executions", "runs"):
            with conn.cursor(name=f"flowdesk_{table}") as rows:
                rows.itersize = self.batch_records
                rows.execute(
                    f"SELECT data, change FROM {SCHEMA}.{table} WHERE change > %s ORDER BY change",
                    [position[table]],
                )
                while True:
                    if is_cancelled():
                        return
                    chunk = rows.fetchmany(self.batch_records)
                    if not chunk:
                        break
                    kind = table[:-1]
                    if kind == "run":
                        self._embed_steps(conn, [data for data, _ in chunk], definitions)
                    records = [Record(kind, embed(data)) for data, _ in chunk]
                    position[table] = chunk[-1][1]
                    done += len(chunk)
                    yield Batch(
                        records,
                        next_cursor(),
                        done,
                        total,
                        f"{note}: {table} {done:,} of {total:,}",
                        {f"team_{table}": len(records)},
                    )

    @staticmethod
    def _embed_steps(conn: Any, runs: list[dict[str, Any]], definitions: dict[str, Any]) -> None:
        """Put each path step's definition back, fetching the ones this sync has not seen."""
        wanted = {
            _ref_id(item.get("step"))
            for run in runs
            for item in run.get("execution_steps") or ()
            if isinstance(item, dict)
        }
        missing = [step_id for step_id in wanted if step_id and step_id not in definitions]
        if missing:
            definitions.update(
                conn.execute(
                    f"SELECT id, data FROM {SCHEMA}.steps WHERE id = ANY(%s)", [missing]
                ).fetchall()
            )
        for run in runs:
            for item in run.get("execution_steps") or ():
                if isinstance(item, dict):
                    definition = definitions.get(_ref_id(item.get("step")) or "")
                    if definition is not None:
                        item["step"] = definition


# -- wiring for the command line and the app ---------------------------------------------------


def source_for_url(url: str, password: str | None = None) -> TeamSource:
    """The team source for a URL; the password comes from the URL, ``password`` (the keyring),
    or libpq's own ``PGPASSWORD``/``~/.pgpass``, in that order. ``FLOWDESK_TEAM_BATCH`` sets the
    records per batch (default 2,000)."""
    from flowdesk.core.team.connection import parse_url, with_password

    raw = os.environ.get("FLOWDESK_TEAM_BATCH", "").strip()
    if raw and not raw.isdigit():
        raise TeamServerError(f"FLOWDESK_TEAM_BATCH={raw!r} is not a number")
    return TeamSource(with_password(parse_url(url), password), int(raw or BATCH_RECORDS))
