"""Results exports ("Download results"): one row per run, CSV or XLSX, written atomically.

Qt-free: the desktop app runs :func:`run_export` in a child process (through
:func:`flowdesk.core.tasks.export_to_file`), the CLI in the foreground.
See docs/exports.md for the columns, loop semantics, formula-injection rule and file naming.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowdesk.core.errors import Canceled
from flowdesk.core.export.atomic import atomic_output
from flowdesk.core.export.columns import FIXED_HEADERS, StepColumn, step_columns
from flowdesk.core.export.errors import ExportError, describe_error
from flowdesk.core.export.naming import (
    default_folder,
    export_title,
    file_name,
    scope_label,
    unique_path,
)
from flowdesk.core.export.rows import STATUS_WORDS, RowSource
from flowdesk.core.export.spec import FORMATS, ExportSpec

__all__ = [
    "FIXED_HEADERS",
    "FORMATS",
    "STATUS_WORDS",
    "ExportError",
    "ExportResult",
    "ExportSpec",
    "RowSource",
    "StepColumn",
    "default_folder",
    "export_title",
    "file_name",
    "run_export",
    "scope_label",
    "step_columns",
    "unique_path",
]

ProgressCallback = Callable[[int, int], None]
# Rows per batch: progress and cancel are checked between batches.
BATCH_SIZE = 1000


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path
    format: str
    rows: int
    size_bytes: int
    seconds: float
    sheets: int = 1


def _connection(db: Any) -> tuple[sqlite3.Connection, bool]:
    """(connection, opened here) for a cache path, a sqlite_utils Database or a connection."""
    if isinstance(db, sqlite3.Connection):
        return db, False
    if hasattr(db, "conn") and isinstance(db.conn, sqlite3.Connection):
        return db.conn, False
    from flowdesk.core.db import CacheError, connect

    try:
        return connect(Path(db), create=False, readonly=True).conn, True
    except CacheError as exc:
        raise ExportError(str(exc)) from None


def refuse_database_target(output: Path, conn: sqlite3.Connection) -> None:
    """An export never replaces a database: not the open cache (nor its -wal, -shm or lock
    file, by any name or link), not any other SQLite file. Raises :class:`ExportError`."""
    from flowdesk.core.db import SQLITE_HEADER

    row = conn.execute("PRAGMA database_list").fetchone()
    cache = Path(row[2]) if row and row[2] else None
    try:
        target = output.stat()
    except OSError:
        return  # absent (the usual case) or unreachable: writing it will say what is wrong
    if cache is not None:
        for suffix in ("", "-wal", "-shm", "-journal", "-lock"):
            try:
                companion = cache.with_name(cache.name + suffix).stat()
            except OSError:
                continue
            if (companion.st_dev, companion.st_ino) == (target.st_dev, target.st_ino):
                raise ExportError(
                    f"{output.name} is the cache being exported; choose another file name."
                )
    # Not the open cache, so reading it cannot drop this process's locks on the cache.
    try:
        with output.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError:
        return
    if header == SQLITE_HEADER:
        raise ExportError(
            f"{output.name} is a database file; an export does not replace it. Choose another "
            "file name."
        )


def run_export(
    db: Any,
    spec: ExportSpec,
    output_path: str | Path,
    progress: ProgressCallback | None = None,
    is_cancelled: Callable[[], bool] | None = None,
) -> ExportResult:
    """Export ``spec`` to ``output_path`` and return what was written.

    ``db`` is a cache path (a connection is opened and closed here: pass a path from worker
    threads) or an open connection used from this thread. All reads happen in one read
    transaction, so the file is one consistent snapshot even while a sync writes.
    ``progress(rows_done, rows_total)`` is called after every batch of rows; ``is_cancelled()``
    is polled as often. Raises :class:`Canceled` or :class:`ExportError` (one sentence);
    in both cases no file is left at ``output_path`` nor beside it.
    """
    output = Path(output_path)
    started = time.monotonic()
    conn, owned = _connection(db)
    began = False
    try:
        if not conn.in_transaction:
            conn.execute("BEGIN")
            began = True
        from flowdesk.core.export.safety import neutralise, xlsx_text

        refuse_database_target(output, conn)
        source = RowSource(conn, spec, text=neutralise if spec.format == "csv" else xlsx_text)
        sheets = 1
        with atomic_output(output) as temp:
            if progress is not None:  # the destination is writable: the rows start
                progress(0, source.total)
            if spec.format == "csv":
                from flowdesk.core.export.csv_writer import write_csv

                rows = write_csv(
                    source,
                    temp,
                    excel_bom=spec.excel_bom,
                    local_time=spec.local_time,
                    progress=progress,
                    is_cancelled=is_cancelled,
                    batch_size=BATCH_SIZE,
                )
            else:
                from flowdesk.core.export.xlsx_writer import write_xlsx

                rows, sheets = write_xlsx(
                    source,
                    temp,
                    local_time=spec.local_time,
                    progress=progress,
                    is_cancelled=is_cancelled,
                    batch_size=BATCH_SIZE,
                )
        size = output.stat().st_size
    except (Canceled, ExportError):
        raise
    except Exception as exc:
        raise ExportError(describe_error(exc, output)) from exc
    finally:
        if began and conn.in_transaction:
            conn.execute("ROLLBACK")  # a read-only transaction: nothing to keep
        if owned:
            conn.close()
    return ExportResult(output, spec.format, rows, size, time.monotonic() - started, sheets)
