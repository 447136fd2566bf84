"""Stream the rows of a results file out of the cache, one consistent snapshot, in run order.

Two cursors walk the same ordered set of runs inside one read transaction:

* the runs themselves (contact, status, version, execution, entry time), and
* the path rows of those runs (``run_steps`` joined to ``runs``), in the same order, by ``seq``.

Both are ordered by (entered_at, run key), which the ``runs_*_entered`` indexes give without a
sort, and ``run_steps`` is read through its primary key, so memory stays flat however many runs
there are. The path rows are grouped per run and pivoted into one cell per step column in C-level
calls (``groupby``, ``itemgetter``, ``dict``), not a Python loop per path row.

A step visited more than once (a loop: "Invalid number" → "Ask order number" → ...) holds the
time of the contact's FIRST visit to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import groupby
from operator import itemgetter
from typing import Any

from flowdesk.core.execution_names import flow_execution_labels
from flowdesk.core.export.columns import (
    StepColumn,
    fixed_headers,
    headers,
    scope_has_executions,
    scope_versions,
    step_columns,
)
from flowdesk.core.export.spec import ExportSpec
from flowdesk.core.model import METRIC_LABELS
from flowdesk.core.queries import _where, paths_waiting

# Status words of the summary, by stored metric.
STATUS_WORDS: dict[str, str] = {
    str(metric): label for metric, label in METRIC_LABELS.items() if metric != "contacts"
}
# The Reason column explains failures and cancellations only.
_REASON_METRICS = frozenset({"failed", "canceled"})

_RUN_COLUMNS = (
    "r.key, r.phone, r.first_name, r.last_name, r.metric, r.status_reason, r.version_id,"
    " r.execution_id, r.entered_at"
)
# The last column of a file some of whose runs wait for their path (a two-phase sync,
# docs/activecampaign.md): their step columns are empty because the path is not read yet.
PATH_HEADER = "Path"
PATH_NOT_SYNCED = "not synced yet"

# Row layout yielded by RowSource.batches(): a tuple
# (phone, first name, last name, status word, reason, version, execution, entered, step times,
#  path note) where step times is a list with one entry per step column (None: never reached)
# and path note is PATH_NOT_SYNCED or "". Rows without a path share one list of Nones: never
# modify it. The writers add the path note as a last column only when ``with_path_note``.


class RowSource:
    """The rows of one export, read inside the caller's read transaction (the caller opens
    it with ``BEGIN`` before creating the source, so the count and the rows agree).

    Times (Entered and the step cells) are integer seconds since the epoch, UTC; the writers
    format them (formatting in SQL with ``strftime`` costs several times more).
    """

    def __init__(
        self, conn: Any, spec: ExportSpec, text: Callable[[str], str] | None = None
    ) -> None:
        """``text`` is applied once to each version name and execution label (the writers'
        formula guard), so repeated labels are not checked again on every row."""
        self.conn = conn
        self.spec = spec
        text = text or str
        self.where, self.params = _where(spec.contact_query())
        scope = spec.scope
        self.columns: list[StepColumn] = step_columns(
            conn, spec.flow_id, scope_versions(conn, scope)
        )
        # Rows always carry the execution; the writers drop it when this is False.
        self.with_execution: bool = scope_has_executions(conn, scope)
        self.total: int = conn.execute(
            f"SELECT count(*) FROM runs r WHERE {self.where}", self.params
        ).fetchone()[0]
        self.with_path_note: bool = _has_runs_without_path(conn, self.where, self.params)
        self.version_names = {
            vid: text(name or vid)
            for vid, name in conn.execute(
                "SELECT id, name FROM versions WHERE flow_id = ?", [spec.flow_id]
            )
        }
        # "#60 · 2026-11-03 10:00", as the app names executions (not their ids).
        self.execution_labels = {
            eid: text(label) for eid, label in flow_execution_labels(conn, spec.flow_id).items()
        }

    @property
    def header(self) -> list[str]:
        names = headers(self.columns, self.with_execution)
        return [*names, PATH_HEADER] if self.with_path_note else names

    @property
    def fixed_count(self) -> int:
        return len(fixed_headers(self.with_execution))

    def _column_keys(self) -> tuple[dict[str, list[int | None]], dict[int, int]]:
        """Per version, the step key of each column (None where the version has no such step);
        and for any step key its column (for runs whose path strays outside their version)."""
        width = len(self.columns)
        by_version: dict[str, list[int | None]] = {}
        column_of: dict[int, int] = {}
        owner = dict(
            self.conn.execute(
                "SELECT key, version_id FROM steps WHERE flow_id = ?", [self.spec.flow_id]
            ).fetchall()
        )
        for index, column in enumerate(self.columns):
            for key in column.keys:
                column_of[key] = index
                version = owner.get(key)
                slots = by_version.setdefault(version, [None] * width)
                slots[index] = key
        return by_version, column_of

    def batches(self, size: int = 1000) -> Iterator[list[tuple]]:
        """Lists of at most ``size`` rows, in order; every run of the scope exactly once."""
        conn = self.conn
        width = len(self.columns)
        order = "ORDER BY r.entered_at, r.key"
        synced = "r.path_synced" if self.with_path_note else "1"
        runs = conn.execute(
            f"SELECT {_RUN_COLUMNS}, {synced} FROM runs r WHERE {self.where} {order}",
            self.params,
        )
        steps = conn.execute(
            "SELECT p.run_key, p.step_key, p.executed_at FROM runs r"
            f" JOIN run_steps p ON p.run_key = r.key WHERE {self.where} {order}, p.seq",
            self.params,
        )

        by_version, column_of = self._column_keys()
        version_keysets = {
            v: frozenset(k for k in keys if k is not None) for v, keys in by_version.items()
        }
        blank = [None] * width
        pair = itemgetter(1, 2)
        groups = groupby(steps, itemgetter(0))  # the cursor iterates in C
        pending = next(groups, None)
        status_words = STATUS_WORDS
        reason_metrics = _REASON_METRICS
        version_names = self.version_names
        execution_labels = self.execution_labels

        while chunk := runs.fetchmany(size):
            out: list[tuple] = []
            append = out.append
            for key, phone, first, last, metric, reason, version, execution, entered, has in chunk:
                if pending is not None and pending[0] == key:
                    # Reversed, so the first visit of a step is the one the dict keeps.
                    first_visit = dict(reversed(list(map(pair, pending[1]))))
                    pending = next(groups, None)
                    keys = by_version.get(version)
                    if keys is not None and first_visit.keys() <= version_keysets[version]:
                        cells = list(map(first_visit.get, keys))
                    else:
                        cells = self._pivot_slow(first_visit, column_of, width)
                else:
                    cells = blank
                append(
                    (
                        phone,
                        first,
                        last,
                        status_words.get(metric, metric),
                        reason if metric in reason_metrics else "",
                        version_names.get(version, version),
                        "" if execution is None else execution_labels.get(execution, execution),
                        entered,
                        cells,
                        "" if has else PATH_NOT_SYNCED,
                    )
                )
            yield out

    @staticmethod
    def _pivot_slow(first_visit: dict[int, Any], column_of: dict[int, int], width: int) -> list:
        cells: list[Any] = [None] * width
        # Earliest first: a step that shares a column with another keeps the earlier time.
        for key, value in sorted(first_visit.items(), key=itemgetter(1), reverse=True):
            index = column_of.get(key)
            if index is not None:
                cells[index] = value
        return cells


def _has_runs_without_path(conn: Any, where: str, params: list[Any]) -> bool:
    """Whether any run of the export waits for its path."""
    if not paths_waiting(conn):
        return False
    found = conn.execute(
        f"SELECT 1 FROM runs r WHERE {where} AND r.path_synced = 0 LIMIT 1", params
    ).fetchone()
    return found is not None
