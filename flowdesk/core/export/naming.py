"""Human names for exports: the job title in the Downloads panel and the file name."""

from __future__ import annotations

import re
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from flowdesk.core.execution_names import flow_execution_labels
from flowdesk.core.export.spec import ExportSpec
from flowdesk.core.model import METRIC_LABELS
from flowdesk.paths import downloads_dir as default_folder  # noqa: F401 - the export's default

# Characters no file name may hold on Windows, macOS or Linux, plus control characters.
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]+')
_MAX_STEM = 120
_MAX_STEM_BYTES = 200  # leaves room for the time stamp, a " (2)" and the extension


def _lookup(conn: Any, sql: str, key: str | None) -> str | None:
    if not key:
        return None
    row = conn.execute(sql, [key]).fetchone()
    return row[0] if row and row[0] else None


def flow_name(conn: Any, spec: ExportSpec) -> str:
    return _lookup(conn, "SELECT name FROM flows WHERE id = ?", spec.flow_id) or spec.flow_id


def scope_label(conn: Any, spec: ExportSpec) -> str:
    """ "All versions", "Version First", "Execution Campaign 4", "Contacts: Failed, “ana”"."""
    parts: list[str] = []
    if spec.execution_id:
        name = flow_execution_labels(conn, spec.flow_id).get(spec.execution_id)
        parts.append(f"Execution {name or spec.execution_id}")
    elif spec.version_id:
        name = _lookup(conn, "SELECT name FROM versions WHERE id = ?", spec.version_id)
        parts.append(f"Version {name or spec.version_id}")
    elif not spec.contacts:
        parts.append("All versions")
    if spec.contacts:
        details = []
        if spec.metric:
            details.append(str(METRIC_LABELS.get(spec.metric, spec.metric)))
        if spec.search:
            details.append(f"“{spec.search}”")
        if spec.hide_test:
            details.append("no test contacts")
        contacts = "Contacts" + (": " + ", ".join(details) if details else "")
        parts.append(contacts if not parts else contacts[0].lower() + contacts[1:])
    return " · ".join(parts)


def export_title(conn: Any, spec: ExportSpec) -> str:
    """The line the Downloads panel shows for a job."""
    return f"{flow_name(conn, spec)} · {scope_label(conn, spec)} · {spec.format.upper()}"


def safe_file_stem(text: str) -> str:
    stem = _UNSAFE.sub(" ", text.replace("“", "").replace("”", ""))
    stem = " ".join(stem.split()).strip(" .")
    # File systems count bytes (255 at most): a stem of 120 emoji would be 480 of them.
    stem = stem[:_MAX_STEM].encode()[:_MAX_STEM_BYTES].decode("utf-8", "ignore")
    return stem.rstrip(" .") or "export"


def file_name(conn: Any, spec: ExportSpec, when: float | None = None) -> str:
    """``<flow> - <scope> - <YYYY-MM-DD HHMMSS>.<ext>``, local time, safe on every system.

    e.g. ``Order helper - All versions - 2026-11-20 143005.csv``.
    """
    stamp = datetime.fromtimestamp(time.time() if when is None else when).strftime(
        "%Y-%m-%d %H%M%S"
    )
    scope = scope_label(conn, spec).replace(" · ", " - ").replace(": ", " ")
    return f"{safe_file_stem(f'{flow_name(conn, spec)} - {scope}')} - {stamp}{spec.extension}"


def unique_path(folder: Path, name: str) -> Path:
    """``folder/name``, or ``folder/name (2)`` ... when a file of that name already exists."""
    candidate = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    number = 1
    while candidate.exists():
        number += 1
        candidate = folder / f"{stem} ({number}){suffix}"
    return candidate
