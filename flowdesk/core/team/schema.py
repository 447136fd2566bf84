"""The team server's schema (PostgreSQL schema ``flowdesk``), as migrations.

Records are kept in the upstream's shape (``data``, JSON) so desktops rebuild exactly what the
upstream sent, with flows, versions and step definitions stored once instead of inside every
run. Each row carries ``change``, drawn from one sequence when its content (``digest``) changed:
a desktop asks for ``change > cursor`` per table. Only the single ``server sync`` process writes
(advisory lock), one transaction per batch, so change numbers become visible in order.

A few columns are copied out of ``data`` (status, flow, version, …) for the BI views and for the
writer's questions (which runs are still active).
"""

from __future__ import annotations

from typing import Any

from flowdesk.core.team.connection import TeamServerError

SCHEMA = "flowdesk"
# Serialises `server init` runs; `server sync` holds WRITER_LOCK for as long as it runs.
INIT_LOCK = 0x466C6F7764657301
WRITER_LOCK = 0x466C6F7764657302
READER_ROLE = "flowdesk_reader"

# The secondary indexes of the two big tables. A first sync into an empty server drops them and
# builds each once at the end (faster than keeping them up to date row by row); every
# `server sync` starts by re-creating any that a killed first sync left out.
BULK_INDEXES: dict[str, str] = {
    "runs_change": f"{SCHEMA}.runs (change)",
    "runs_active": f"{SCHEMA}.runs (id) WHERE status IN ('READY', 'RUNNING')",
    "runs_flow": f"{SCHEMA}.runs (flow_id, version_id)",
    "runs_execution": f"{SCHEMA}.runs (execution_id) WHERE execution_id IS NOT NULL",
    "run_steps_step": f"{SCHEMA}.run_steps (step_id)",
    "runs_pathless": f"{SCHEMA}.runs (created_on DESC, id DESC) WHERE NOT has_path",
}

_V1 = [
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    f"""CREATE TABLE {SCHEMA}.server (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        schema_version integer NOT NULL,
        server_id uuid NOT NULL DEFAULT gen_random_uuid(),
        created_at timestamptz NOT NULL DEFAULT now(),
        source jsonb,            -- kind, name and settings of the upstream this server mirrors
        cursor jsonb,            -- the upstream source's cursor, committed with each batch
        last_sync_at timestamptz
    )""",
    f"CREATE SEQUENCE {SCHEMA}.change_seq AS bigint",
    f"""CREATE TABLE {SCHEMA}.flows (
        id text PRIMARY KEY,
        name text NOT NULL,
        trigger_type text NOT NULL,
        data jsonb NOT NULL,
        digest bytea NOT NULL,
        change bigint NOT NULL
    )""",
    f"""CREATE TABLE {SCHEMA}.versions (
        id text PRIMARY KEY,
        flow_id text NOT NULL,
        name text NOT NULL,
        data jsonb NOT NULL,
        digest bytea NOT NULL,
        change bigint NOT NULL
    )""",
    f"""CREATE TABLE {SCHEMA}.steps (
        id text PRIMARY KEY,
        version_id text NOT NULL,
        name text NOT NULL,
        step_type text NOT NULL,
        data jsonb NOT NULL,
        digest bytea NOT NULL,
        change bigint NOT NULL
    )""",
    f"""CREATE TABLE {SCHEMA}.executions (
        id text PRIMARY KEY,
        flow_id text NOT NULL,
        version_id text,
        status text NOT NULL,
        created_on timestamptz,
        data jsonb NOT NULL,
        digest bytea NOT NULL,
        change bigint NOT NULL
    )""",
    f"""CREATE TABLE {SCHEMA}.runs (
        id text PRIMARY KEY,
        flow_id text NOT NULL,
        version_id text NOT NULL,
        execution_id text,
        contact_id text NOT NULL,
        status text NOT NULL,
        is_test boolean NOT NULL,
        created_on timestamptz NOT NULL,
        data jsonb NOT NULL,
        digest bytea NOT NULL,
        change bigint NOT NULL
    )""",
    f"""CREATE TABLE {SCHEMA}.run_steps (
        run_id text NOT NULL,
        seq integer NOT NULL,
        step_id text NOT NULL,
        status text NOT NULL,
        executed_at timestamptz NOT NULL,
        PRIMARY KEY (run_id, seq)
    )""",
    f"""CREATE TABLE {SCHEMA}.syncs (
        id bigserial PRIMARY KEY,
        source text NOT NULL,
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        outcome text NOT NULL DEFAULT 'running',
        records bigint NOT NULL DEFAULT 0,
        changed bigint NOT NULL DEFAULT 0,
        problems bigint NOT NULL DEFAULT 0,
        message text NOT NULL DEFAULT ''
    )""",
    f"""CREATE TABLE {SCHEMA}.sync_problems (
        sync_id bigint NOT NULL,
        record_kind text NOT NULL,
        record_id text NOT NULL,
        message text NOT NULL
    )""",
    *(
        f"CREATE INDEX {table}_change ON {SCHEMA}.{table} (change)"
        for table in ("flows", "versions", "steps", "executions")
    ),
    # runs_pathless reads V2's has_path column, so V2 creates it
    *(
        f"CREATE INDEX {name} ON {target}"
        for name, target in BULK_INDEXES.items()
        if name != "runs_pathless"
    ),
    # -- views for BI tools (docs/team.md) ------------------------------------------------------
    f"""CREATE VIEW {SCHEMA}.run_report AS
        SELECT r.id AS run_id, r.flow_id, f.name AS flow_name, r.version_id,
               v.name AS version_name, r.execution_id, r.contact_id,
               r.data->'contact'->>'phone' AS phone, r.status,
               CASE WHEN r.status IN ('READY', 'RUNNING') THEN 'ongoing'
                    ELSE lower(r.status) END AS metric,
               r.data->>'status_reason' AS status_reason, r.is_test, r.created_on AS entered_at
        FROM {SCHEMA}.runs r
        LEFT JOIN {SCHEMA}.flows f ON f.id = r.flow_id
        LEFT JOIN {SCHEMA}.versions v ON v.id = r.version_id""",
    *(
        f"""CREATE VIEW {SCHEMA}.{name} AS
        SELECT {keys},
               count(*) AS contacts,
               count(*) FILTER (WHERE metric = 'expired') AS expired,
               count(*) FILTER (WHERE metric = 'ongoing') AS ongoing,
               count(*) FILTER (WHERE metric = 'canceled') AS canceled,
               count(*) FILTER (WHERE metric = 'failed') AS failed,
               count(*) FILTER (WHERE metric = 'completed') AS completed
        FROM {SCHEMA}.run_report {where}
        GROUP BY {keys}"""
        for name, keys, where in (
            ("flow_counters", "flow_id, flow_name", ""),
            ("version_counters", "flow_id, flow_name, version_id, version_name", ""),
            (
                "execution_counters",
                "flow_id, flow_name, execution_id",
                "WHERE execution_id IS NOT NULL",
            ),
        )
    ),
    f"""CREATE VIEW {SCHEMA}.step_counters AS
        SELECT s.version_id, v.flow_id, s.id AS step_id, s.name AS step_name, s.step_type,
               count(DISTINCT rs.run_id) AS reached,
               count(rs.run_id) AS visits
        FROM {SCHEMA}.steps s
        LEFT JOIN {SCHEMA}.versions v ON v.id = s.version_id
        LEFT JOIN {SCHEMA}.run_steps rs ON rs.step_id = s.id
        GROUP BY s.version_id, v.flow_id, s.id, s.name, s.step_type""",
]

# Runs keep their record as ``json`` (the text as written) rather than ``jsonb``: PostgreSQL
# then neither parses it into its binary form on every write nor prints it back on every desktop
# read (measured: 3.5x less server CPU per run read, 1.7x less per run written). What the views
# and the writer's questions read out of it become columns of their own (has_path: whether the
# run's path was read, which ActiveCampaign's listing rows leave for a second phase).
_V2 = [
    f"""ALTER TABLE {SCHEMA}.runs ADD COLUMN phone text, ADD COLUMN status_reason text,
        ADD COLUMN has_path boolean NOT NULL DEFAULT false""",
    f"""UPDATE {SCHEMA}.runs
        SET phone = data->'contact'->>'phone', status_reason = data->>'status_reason',
            has_path = coalesce(jsonb_typeof(data->'execution_steps') = 'array', false)""",
    f"CREATE INDEX runs_pathless ON {BULK_INDEXES['runs_pathless']}",
    f"""CREATE OR REPLACE VIEW {SCHEMA}.run_report AS
        SELECT r.id AS run_id, r.flow_id, f.name AS flow_name, r.version_id,
               v.name AS version_name, r.execution_id, r.contact_id, r.phone, r.status,
               CASE WHEN r.status IN ('READY', 'RUNNING') THEN 'ongoing'
                    ELSE lower(r.status) END AS metric,
               r.status_reason, r.is_test, r.created_on AS entered_at
        FROM {SCHEMA}.runs r
        LEFT JOIN {SCHEMA}.flows f ON f.id = r.flow_id
        LEFT JOIN {SCHEMA}.versions v ON v.id = r.version_id""",
    f"ALTER TABLE {SCHEMA}.runs ALTER COLUMN data TYPE json USING data::json",
    # Unix seconds, as the desktop cache keeps them: five or so a run, turning each into a
    # timestamp cost the writer more than the rest of the step's row.
    f"""ALTER TABLE {SCHEMA}.run_steps ALTER COLUMN executed_at TYPE bigint
        USING extract(epoch FROM executed_at)::bigint""",
]

MIGRATIONS: list[list[str]] = [_V1, _V2]
# Desktops read every schema from this one on: later ones only changed how the server keeps
# what desktops read.
OLDEST_READABLE = 1
SCHEMA_VERSION = len(MIGRATIONS)


def installed_version(conn: Any) -> int:
    """The schema version on the server; 0 when ``server init`` never ran there."""
    exists = conn.execute("SELECT to_regclass(%s)", [f"{SCHEMA}.server"]).fetchone()[0]
    if exists is None:
        return 0
    row = conn.execute(f"SELECT schema_version FROM {SCHEMA}.server").fetchone()
    return int(row[0]) if row else 0


def check_version(conn: Any, display: str, oldest: int = SCHEMA_VERSION) -> int:
    """Refuse a server this Flowdesk cannot use: not initialised, of a newer schema, or older
    than ``oldest`` (a writer needs the current one; a desktop reads from OLDEST_READABLE on)."""
    version = installed_version(conn)
    if version == 0:
        raise TeamServerError(
            f"{display} is not a Flowdesk team server yet: run flowdesk server init --pg URL"
        )
    if version > SCHEMA_VERSION:
        raise TeamServerError(
            f"{display} has team schema {version}, newer than this Flowdesk reads "
            f"({SCHEMA_VERSION}): update Flowdesk"
        )
    if version < oldest:
        raise TeamServerError(
            f"{display} has team schema {version}, older than this Flowdesk's "
            f"({SCHEMA_VERSION}): run flowdesk server init --pg URL to upgrade it"
        )
    return version


def migrate(conn: Any, display: str) -> tuple[int, int]:
    """Bring the schema up to date, idempotently; returns (version before, version after).

    Each migration runs in its own transaction under an advisory lock, so two ``server init``
    started at once apply each migration once.
    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [INIT_LOCK])
        before = installed_version(conn)
    if before > SCHEMA_VERSION:
        raise TeamServerError(
            f"{display} has team schema {before}, newer than this Flowdesk knows "
            f"({SCHEMA_VERSION}): update Flowdesk"
        )
    for number in range(before, SCHEMA_VERSION):
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", [INIT_LOCK])
            if installed_version(conn) > number:
                continue  # another init applied it meanwhile
            for statement in MIGRATIONS[number]:
                conn.execute(statement)
            if number == 0:
                conn.execute(
                    f"INSERT INTO {SCHEMA}.server (schema_version) VALUES (%s)", [number + 1]
                )
            else:
                conn.execute(f"UPDATE {SCHEMA}.server SET schema_version = %s", [number + 1])
    return before, SCHEMA_VERSION


def reader_role_sql(database: str, role: str = READER_ROLE) -> str:
    """SQL an administrator runs once so desktops can read the team data and nothing more."""
    return "\n".join(
        [
            f"CREATE ROLE {role} LOGIN PASSWORD 'choose-a-password';",
            f'GRANT CONNECT ON DATABASE "{database}" TO {role};',
            f"GRANT USAGE ON SCHEMA {SCHEMA} TO {role};",
            f"GRANT SELECT ON ALL TABLES IN SCHEMA {SCHEMA} TO {role};",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {SCHEMA} GRANT SELECT ON TABLES TO {role};",
            f"ALTER ROLE {role} SET default_transaction_read_only = on;",
        ]
    )
