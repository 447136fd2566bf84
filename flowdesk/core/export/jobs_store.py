"""The jobs table: every export the Downloads panel lists, kept across restarts.

A job moves queued → running → finished | failed | canceled; Retry puts a failed or canceled job
back to queued. ``params`` (JSON) holds the export spec, the destination folder and the timing
(``started_at``, ``seconds``, ``sheets``). Each function commits its own short write; callers
the app makes every write on its write lane (``TaskManager.write``), never on the GUI thread:
the manager keeps the jobs in memory and allocates new ids itself, so the GUI never waits for
the write lock a sync may hold. A running export records its own state changes.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowdesk.core.export.atomic import remove_leftovers
from flowdesk.core.export.spec import ExportSpec

KIND_EXPORT = "export"
QUEUED, RUNNING, FINISHED, FAILED, CANCELED = "queued", "running", "finished", "failed", "canceled"
ACTIVE_STATES = frozenset({QUEUED, RUNNING})
ENDED_STATES = frozenset({FINISHED, FAILED, CANCELED})

CANCELED_MESSAGE = "Stopped before it finished; no file was written."
INTERRUPTED_MESSAGE = "Flowdesk closed before this export finished; no file was written."

_COLUMNS = (
    "id, kind, title, state, params, path, rows_done, rows_total, size_bytes, created_at,"
    " finished_at, error, seen"
)


@dataclass(slots=True)
class JobRecord:
    id: int
    kind: str
    title: str
    state: str
    params: dict[str, Any] = field(default_factory=dict)
    path: str | None = None
    rows_done: int = 0
    rows_total: int | None = None
    size_bytes: int | None = None
    created_at: int = 0
    finished_at: int | None = None
    error: str | None = None
    seen: bool = False

    @property
    def spec(self) -> ExportSpec:
        return ExportSpec.from_dict(self.params.get("spec", {}))

    @property
    def folder(self) -> Path | None:
        folder = self.params.get("folder")
        return Path(folder) if folder else None

    @property
    def seconds(self) -> float | None:
        return self.params.get("seconds")

    @property
    def sheets(self) -> int:
        return int(self.params.get("sheets") or 1)

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def ended(self) -> bool:
        return self.state in ENDED_STATES

    @property
    def file_name(self) -> str:
        return Path(self.path).name if self.path else ""

    def file_exists(self) -> bool:
        return bool(self.path) and os.path.isfile(self.path)

    @property
    def missing(self) -> bool:
        """A finished export whose file was since moved or deleted."""
        return self.state == FINISHED and not self.file_exists()


def _conn(db: Any):
    return getattr(db, "conn", db)


def _record(row: tuple) -> JobRecord:
    values = list(row)
    try:
        values[4] = json.loads(values[4] or "{}")
    except ValueError:
        values[4] = {}
    values[12] = bool(values[12])
    return JobRecord(*values)


def get_job(db: Any, job_id: int) -> JobRecord | None:
    row = _conn(db).execute(f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", [job_id]).fetchone()
    return None if row is None else _record(row)


def list_jobs(db: Any, kind: str = KIND_EXPORT) -> list[JobRecord]:
    """Newest first."""
    rows = (
        _conn(db)
        .execute(f"SELECT {_COLUMNS} FROM jobs WHERE kind = ? ORDER BY id DESC", [kind])
        .fetchall()
    )
    return [_record(row) for row in rows]


def new_export_job(
    job_id: int, spec: ExportSpec, folder: Path, title: str, now: float | None = None
) -> JobRecord:
    """A queued export job, in memory; :func:`insert_job` records it."""
    params = {"spec": spec.to_dict(), "folder": str(folder), "pid": os.getpid()}
    created = int(time.time() if now is None else now)
    return JobRecord(job_id, KIND_EXPORT, title, QUEUED, params=params, created_at=created)


def next_job_id(db: Any) -> int:
    return int(_conn(db).execute("SELECT coalesce(max(id), 0) + 1 FROM jobs").fetchone()[0])


def insert_job(db: Any, job: JobRecord) -> None:
    conn = _conn(db)
    with conn:
        conn.execute(
            "INSERT INTO jobs (id, kind, title, state, params, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [job.id, job.kind, job.title, job.state, json.dumps(job.params), job.created_at],
        )


def create_export_job(
    db: Any, spec: ExportSpec, folder: Path, title: str, now: float | None = None
) -> JobRecord:
    job = new_export_job(next_job_id(db), spec, folder, title, now)
    insert_job(db, job)
    return job


def _update(db: Any, job_id: int, **values: Any) -> None:
    if "params" in values:
        values["params"] = json.dumps(values["params"])
    assignments = ", ".join(f"{name} = ?" for name in values)
    conn = _conn(db)
    with conn:
        conn.execute(f"UPDATE jobs SET {assignments} WHERE id = ?", [*values.values(), job_id])


def mark_running(db: Any, job: JobRecord, path: Path, started_at: float) -> None:
    job.params = {**job.params, "started_at": started_at, "pid": os.getpid()}
    _update(
        db,
        job.id,
        state=RUNNING,
        path=str(path),
        params=job.params,
        rows_done=0,
        error=None,
        finished_at=None,
        size_bytes=None,
    )


def set_rows_total(db: Any, job_id: int, rows_total: int) -> None:
    _update(db, job_id, rows_total=rows_total)


def mark_finished(
    db: Any,
    job: JobRecord,
    *,
    path: Path,
    rows: int,
    size_bytes: int,
    seconds: float,
    sheets: int = 1,
    now: float | None = None,
) -> None:
    job.params = {**job.params, "seconds": seconds, "sheets": sheets}
    _update(
        db,
        job.id,
        state=FINISHED,
        path=str(path),
        rows_done=rows,
        rows_total=rows,
        size_bytes=size_bytes,
        params=job.params,
        error=None,
        seen=0,
        finished_at=int(time.time() if now is None else now),
    )


def mark_failed(
    db: Any,
    job_id: int,
    error: str,
    *,
    state: str = FAILED,
    rows_done: int | None = None,
    now: float | None = None,
) -> None:
    values: dict[str, Any] = {
        "state": state,
        "error": error,
        "seen": 0,
        "size_bytes": None,
        "finished_at": int(time.time() if now is None else now),
    }
    if rows_done is not None:
        values["rows_done"] = rows_done
    _update(db, job_id, **values)


def mark_canceled(db: Any, job_id: int, rows_done: int | None = None) -> None:
    mark_failed(db, job_id, CANCELED_MESSAGE, state=CANCELED, rows_done=rows_done)


def reset_for_retry(db: Any, job_id: int) -> None:
    _update(
        db,
        job_id,
        state=QUEUED,
        error=None,
        rows_done=0,
        rows_total=None,
        size_bytes=None,
        finished_at=None,
        path=None,
        seen=1,
    )


def delete_job(db: Any, job_id: int) -> None:
    conn = _conn(db)
    with conn:
        conn.execute("DELETE FROM jobs WHERE id = ?", [job_id])


def mark_seen(db: Any, job_ids: list[int] | None = None) -> None:
    """Mark ended jobs (all of them, or these) as seen by the user."""
    conn = _conn(db)
    marks = ",".join("?" * len(ENDED_STATES))
    with conn:
        if job_ids is None:
            conn.execute(
                f"UPDATE jobs SET seen = 1 WHERE seen = 0 AND state IN ({marks})",
                sorted(ENDED_STATES),
            )
        else:
            conn.executemany("UPDATE jobs SET seen = 1 WHERE id = ?", [(i,) for i in job_ids])


def unseen_count(db: Any) -> int:
    marks = ",".join("?" * len(ENDED_STATES))
    return (
        _conn(db)
        .execute(
            f"SELECT count(*) FROM jobs WHERE seen = 0 AND state IN ({marks})", sorted(ENDED_STATES)
        )
        .fetchone()[0]
    )


def _owned_by_another_live_process(job: JobRecord) -> bool:
    """A job another running Flowdesk (a second window on this cache) is working on."""
    pid = job.params.get("pid")
    if not isinstance(pid, int) or pid == os.getpid() or os.name != "posix":
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def settle_interrupted(jobs: list[JobRecord], now: float | None = None) -> list[JobRecord]:
    """Settle, in memory, the jobs a previous session left queued or running (the app quit or
    crashed); returns them for :func:`save_settled`.

    A running export whose file exists did finish (the file only gets its name when complete);
    any other becomes failed, and its temporary file, if one was left, is deleted.
    """
    settled = []
    when = int(time.time() if now is None else now)
    for job in jobs:
        if not job.active or _owned_by_another_live_process(job):
            continue
        settled.append(job)
        job.seen, job.finished_at = False, when
        if job.state == RUNNING and job.file_exists():
            job.state, job.error = FINISHED, None
            job.rows_done = job.rows_total = job.rows_total or 0
            job.size_bytes = Path(job.path or "").stat().st_size
            job.params = {**job.params, "seconds": job.seconds or 0.0, "sheets": job.sheets}
            continue
        if job.path:
            remove_leftovers(Path(job.path))
        job.state, job.error, job.size_bytes = FAILED, INTERRUPTED_MESSAGE, None
    return settled


def save_settled(db: Any, jobs: list[JobRecord]) -> None:
    for job in jobs:
        _update(
            db,
            job.id,
            state=job.state,
            error=job.error,
            rows_done=job.rows_done,
            rows_total=job.rows_total,
            size_bytes=job.size_bytes,
            params=job.params,
            seen=int(job.seen),
            finished_at=job.finished_at,
        )


def recover_interrupted(db: Any) -> list[int]:
    """Settle and record the jobs a previous session left unfinished; returns their ids."""
    settled = settle_interrupted(list_jobs(db))
    save_settled(db, settled)
    return [job.id for job in settled]
