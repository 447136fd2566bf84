"""The cache schema, as an ordered list of migrations.

Every migration is a list of SQL statements applied in one transaction; ``PRAGMA user_version``
records how many have run. Never edit a migration that has shipped: append a new one, and add a
fixture database of the previous version under tests/fixtures/ so the upgrade path stays tested.

Timestamps are INTEGER seconds since the Unix epoch (UTC): compact, fast to sort and compare at
millions of rows; the UI and the exports format them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from flowdesk.core import search_terms

_COUNTERS = """
    contacts INTEGER NOT NULL DEFAULT 0,
    expired INTEGER NOT NULL DEFAULT 0,
    ongoing INTEGER NOT NULL DEFAULT 0,
    canceled INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    completed INTEGER NOT NULL DEFAULT 0,
    waited INTEGER NOT NULL DEFAULT 0,
    responded INTEGER NOT NULL DEFAULT 0
"""

# Secondary indexes of the runs table, named so the sync engine can defer them during a first
# bulk build (maintaining eight indexes row by row costs more than building them once).
# Indexes the engine keeps during a bulk build too: syncing itself reads through them.
SYNC_INDEXES = frozenset({"runs_contact", "runs_active"})
RUN_INDEXES: list[tuple[str, str]] = [
    ("runs_flow_entered", "CREATE INDEX runs_flow_entered ON runs(flow_id, entered_at)"),
    ("runs_flow_activity", "CREATE INDEX runs_flow_activity ON runs(flow_id, last_activity)"),
    ("runs_flow_metric", "CREATE INDEX runs_flow_metric ON runs(flow_id, metric, entered_at)"),
    ("runs_version_entered", "CREATE INDEX runs_version_entered ON runs(version_id, entered_at)"),
    (
        "runs_execution_entered",
        "CREATE INDEX runs_execution_entered ON runs(execution_id, entered_at)",
    ),
    ("runs_flow_phone", "CREATE INDEX runs_flow_phone ON runs(flow_id, phone)"),
    # Name sorting and prefix search are case-insensitive, as people read names.
    (
        "runs_flow_first_name",
        "CREATE INDEX runs_flow_first_name ON runs(flow_id, first_name COLLATE NOCASE)",
    ),
    (
        "runs_flow_last_name",
        "CREATE INDEX runs_flow_last_name ON runs(flow_id, last_name COLLATE NOCASE)",
    ),
    ("runs_contact", "CREATE INDEX runs_contact ON runs(contact_id)"),
    ("runs_active", "CREATE INDEX runs_active ON runs(metric) WHERE metric = 'ongoing'"),
]

MIGRATION_1 = [
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)",
    f"""CREATE TABLE flows (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        trigger_type TEXT,
        direction TEXT NOT NULL,
        current_version_id TEXT,
        created_on INTEGER,
        api_counters TEXT,
        {_COUNTERS}
    )""",
    f"""CREATE TABLE versions (
        id TEXT PRIMARY KEY,
        flow_id TEXT NOT NULL,
        name TEXT,
        description TEXT,
        published_by TEXT,
        published_at INTEGER,
        is_current INTEGER NOT NULL DEFAULT 0,
        api_counters TEXT,
        {_COUNTERS}
    )""",
    "CREATE INDEX versions_flow ON versions(flow_id, published_at)",
    f"""CREATE TABLE executions (
        id TEXT PRIMARY KEY,
        flow_id TEXT NOT NULL,
        version_id TEXT,
        name TEXT,
        created_by TEXT,
        created_by_email TEXT,
        created_on INTEGER,
        start_on INTEGER,
        execute_for TEXT,
        method TEXT NOT NULL,
        contact_import TEXT,
        contact_filters TEXT,
        status TEXT,
        status_reason TEXT,
        api_counters TEXT,
        {_COUNTERS}
    )""",
    "CREATE INDEX executions_flow ON executions(flow_id, created_on)",
    """CREATE TABLE steps (
        key INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        version_id TEXT NOT NULL,
        flow_id TEXT NOT NULL,
        name TEXT NOT NULL,
        step_type TEXT NOT NULL,
        wait_seconds INTEGER,
        ordering INTEGER NOT NULL DEFAULT 0,
        is_placeholder INTEGER NOT NULL DEFAULT 0,
        definition TEXT
    )""",
    "CREATE INDEX steps_version ON steps(version_id, ordering)",
    """CREATE TABLE transitions (
        version_id TEXT NOT NULL,
        source_key INTEGER NOT NULL,
        target_key INTEGER NOT NULL,
        kind TEXT NOT NULL,
        label TEXT NOT NULL,
        ordinal INTEGER NOT NULL,
        PRIMARY KEY (source_key, kind, ordinal, target_key)
    ) WITHOUT ROWID""",
    "CREATE INDEX transitions_version ON transitions(version_id)",
    # Reach counters. execution_id '' holds the whole version; other rows one execution.
    """CREATE TABLE step_stats (
        step_key INTEGER NOT NULL,
        execution_id TEXT NOT NULL,
        reached INTEGER NOT NULL DEFAULT 0,
        visits INTEGER NOT NULL DEFAULT 0,
        ended_expired INTEGER NOT NULL DEFAULT 0,
        ended_ongoing INTEGER NOT NULL DEFAULT 0,
        ended_canceled INTEGER NOT NULL DEFAULT 0,
        ended_failed INTEGER NOT NULL DEFAULT 0,
        ended_completed INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (step_key, execution_id)
    ) WITHOUT ROWID""",
    """CREATE TABLE transition_stats (
        source_key INTEGER NOT NULL,
        target_key INTEGER NOT NULL,
        execution_id TEXT NOT NULL,
        runs INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (source_key, target_key, execution_id)
    ) WITHOUT ROWID""",
    """CREATE TABLE contacts (
        id TEXT PRIMARY KEY,
        phone TEXT,
        first_name TEXT,
        last_name TEXT,
        email TEXT
    )""",
    """CREATE TABLE runs (
        key INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        flow_id TEXT NOT NULL,
        version_id TEXT NOT NULL,
        execution_id TEXT,
        contact_id TEXT NOT NULL,
        phone TEXT NOT NULL DEFAULT '',
        first_name TEXT NOT NULL DEFAULT '',
        last_name TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,
        metric TEXT NOT NULL,
        status_reason TEXT NOT NULL DEFAULT '',
        is_test INTEGER NOT NULL DEFAULT 0,
        entered_at INTEGER NOT NULL,
        last_activity INTEGER NOT NULL,
        last_step_key INTEGER,
        path_length INTEGER NOT NULL DEFAULT 0,
        waited INTEGER NOT NULL DEFAULT 0,
        responded INTEGER NOT NULL DEFAULT 0,
        fingerprint INTEGER NOT NULL DEFAULT 0
    )""",
    *(statement for _, statement in RUN_INDEXES),
    """CREATE TABLE run_steps (
        run_key INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        step_key INTEGER NOT NULL,
        status TEXT NOT NULL,
        status_reason TEXT NOT NULL DEFAULT '',
        has_error INTEGER NOT NULL DEFAULT 0,
        executed_at INTEGER NOT NULL,
        expire_on INTEGER,
        error TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (run_key, seq)
    ) WITHOUT ROWID""",
    """CREATE TABLE syncs (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        finished_at INTEGER,
        outcome TEXT NOT NULL DEFAULT 'running',
        records INTEGER NOT NULL DEFAULT 0,
        runs_changed INTEGER NOT NULL DEFAULT 0,
        problems INTEGER NOT NULL DEFAULT 0,
        stats TEXT,
        message TEXT
    )""",
    """CREATE TABLE sync_problems (
        sync_id INTEGER NOT NULL,
        record_kind TEXT NOT NULL,
        record_id TEXT NOT NULL,
        message TEXT NOT NULL
    )""",
    # Background jobs (exports) listed in the Downloads panel; kept across restarts.
    """CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        title TEXT NOT NULL,
        state TEXT NOT NULL,
        params TEXT NOT NULL DEFAULT '{}',
        path TEXT,
        rows_done INTEGER NOT NULL DEFAULT 0,
        rows_total INTEGER,
        size_bytes INTEGER,
        created_at INTEGER NOT NULL,
        finished_at INTEGER,
        error TEXT,
        seen INTEGER NOT NULL DEFAULT 0
    )""",
]

# Indexes for "who went through a step": the runs whose path holds a step, and the runs whose
# last step it is. Deferred during a bulk build like the runs indexes above.
PATH_INDEXES: list[tuple[str, str]] = [
    ("run_steps_step", "CREATE INDEX run_steps_step ON run_steps(step_key, run_key)"),
    ("runs_last_step", "CREATE INDEX runs_last_step ON runs(last_step_key, metric)"),
]
# Every index the engine drops for a bulk build and builds once at its end.
DEFERRED_INDEXES: list[tuple[str, str]] = [*RUN_INDEXES, *PATH_INDEXES]

# Where runs stop, why, how long they take, when they entered (flowdesk/core/insights.py). A
# cache that already holds runs is filled from them once, when it is next opened
# (meta ``insights_rebuild``).
MIGRATION_2 = [
    """CREATE TABLE step_time_stats (
        step_key INTEGER NOT NULL,
        execution_id TEXT NOT NULL,
        bucket INTEGER NOT NULL,
        visits INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (step_key, execution_id, bucket)
    ) WITHOUT ROWID""",
    # step_key 0: the run stopped before its first step.
    """CREATE TABLE step_reason_stats (
        version_id TEXT NOT NULL,
        execution_id TEXT NOT NULL,
        step_key INTEGER NOT NULL,
        metric TEXT NOT NULL,
        reason TEXT NOT NULL,
        runs INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (version_id, execution_id, step_key, metric, reason)
    ) WITHOUT ROWID""",
    f"""CREATE TABLE entry_day_stats (
        flow_id TEXT NOT NULL,
        version_id TEXT NOT NULL,
        execution_id TEXT NOT NULL,
        day INTEGER NOT NULL,
        {_COUNTERS},
        PRIMARY KEY (flow_id, version_id, execution_id, day)
    ) WITHOUT ROWID""",
    """CREATE TABLE completion_time_stats (
        flow_id TEXT NOT NULL,
        version_id TEXT NOT NULL,
        execution_id TEXT NOT NULL,
        bucket INTEGER NOT NULL,
        runs INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (flow_id, version_id, execution_id, bucket)
    ) WITHOUT ROWID""",
    """CREATE TABLE waiting_runs (
        step_key INTEGER NOT NULL,
        arrived_at INTEGER NOT NULL,
        run_key INTEGER NOT NULL,
        execution_id TEXT NOT NULL,
        PRIMARY KEY (step_key, arrived_at, run_key)
    ) WITHOUT ROWID""",
    *(statement for _, statement in PATH_INDEXES),
    "INSERT INTO meta (key, value) SELECT 'insights_rebuild', 'true'"
    " WHERE EXISTS (SELECT 1 FROM runs)",
]


# Find a customer across flows: prefix-searchable terms of every contact (search_terms.py). A
# WITHOUT ROWID table is its own index on (term, contact_id): one B-tree, read range by range.
MIGRATION_3: list[str | Callable[[sqlite3.Connection], None]] = [
    # IF NOT EXISTS: a cache turned back to an older version keeps the table; rebuild refills it.
    """CREATE TABLE IF NOT EXISTS contact_terms (
        term TEXT NOT NULL,
        contact_id TEXT NOT NULL,
        PRIMARY KEY (term, contact_id)
    ) WITHOUT ROWID""",
    search_terms.rebuild,
]


# Report first, paths after (docs/activecampaign.md): a run may be known from a listing before
# its path is read. ``path_synced`` 0 marks such a run (its path is empty until its detail is
# read); every run stored before this migration came with its path. The partial index is the
# queue the second phase walks, newest first, and what views count "from N of M runs" with.
def _add_path_synced(conn: sqlite3.Connection) -> None:
    # A cache turned back to an older version keeps the column (like migration 3's table).
    if "path_synced" not in {row[1] for row in conn.execute("PRAGMA table_info(runs)")}:
        conn.execute("ALTER TABLE runs ADD COLUMN path_synced INTEGER NOT NULL DEFAULT 1")


MIGRATION_4: list[str | Callable[[sqlite3.Connection], None]] = [
    _add_path_synced,
    "CREATE INDEX IF NOT EXISTS runs_path_pending ON runs(entered_at) WHERE path_synced = 0",
]

# A step is an SQL statement, or a function of the connection for data SQL cannot compute.
MIGRATIONS: list[list[str | Callable[[sqlite3.Connection], None]]] = [
    MIGRATION_1,
    MIGRATION_2,
    MIGRATION_3,
    MIGRATION_4,
]
SCHEMA_VERSION = len(MIGRATIONS)
