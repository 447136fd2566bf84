"""CSV results: UTF-8, RFC 4180 quoting (CRLF line ends, fields quoted when needed, quotes
doubled), ISO 8601 times (UTC, or local with their offset), formula-safe text. ``excel_bom``
adds a UTF-8 byte-order mark so Excel opens accents and non-Latin names correctly."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import IO

from flowdesk.core.errors import Canceled
from flowdesk.core.export.columns import EXECUTION_COLUMN
from flowdesk.core.export.localtime import LocalOffsets, offset_text
from flowdesk.core.export.rows import RowSource
from flowdesk.core.export.safety import TRIGGERS, neutralise

_BUFFER = 1 << 20
_EPOCH = datetime(1970, 1, 1)


@cache
def _times_of_day() -> list[str]:
    """ "THH:MM:SSZ" for every second of a day (86,400 strings, built once)."""
    return [f"T{h:02d}:{m:02d}:{s:02d}Z" for h in range(24) for m in range(60) for s in range(60)]


class _Dates(dict):
    """Day number since the epoch -> "YYYY-MM-DD", filled on first use."""

    def __missing__(self, day: int) -> str:
        text = self[day] = (_EPOCH + timedelta(days=day)).strftime("%Y-%m-%d")
        return text


def iso_tables() -> tuple[dict[int, str], list[str]]:
    """(dates, times) such that ``dates[t // 86400] + times[t % 86400]`` is epoch second ``t``
    as ISO 8601 UTC text, e.g. ``2026-11-01T10:00:00Z``.

    Several times faster than ``datetime.isoformat`` per cell: two lookups and a join. Memory is
    bounded by the number of distinct days in the data.
    """
    return _Dates(), _times_of_day()


@cache
def _times_of_day_plain() -> list[str]:
    """ "THH:MM:SS" for every second of a day (local times take their offset after it)."""
    return [f"T{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]


def local_iso() -> Callable[[int], str]:
    """A formatter of epoch seconds as local ISO 8601 text with the offset of that instant,
    e.g. ``2026-07-01T12:00:00+02:00`` (summer) and ``2026-01-01T11:00:00+01:00`` (winter)."""
    dates, plain, offsets = _Dates(), _times_of_day_plain(), LocalOffsets()
    suffixes: dict[int, str] = {}

    def stamp(seconds: int) -> str:
        offset = offsets[seconds // 900]
        suffix = suffixes.get(offset)
        if suffix is None:
            suffix = suffixes[offset] = offset_text(offset)
        local = seconds + offset
        return dates[local // 86400] + plain[local % 86400] + suffix

    return stamp


def open_output(path: Path, encoding: str) -> IO[str]:
    """The text file the CSV is written to (tests replace this to simulate a full disk)."""
    return open(path, "w", encoding=encoding, newline="", buffering=_BUFFER)  # noqa: SIM115


def write_csv(
    source: RowSource,
    path: Path,
    *,
    excel_bom: bool = False,
    local_time: bool = False,
    progress: Callable[[int, int], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
    batch_size: int = 1000,
) -> int:
    """Write every row of ``source`` to ``path``; returns the number of data rows.

    Make ``source`` with ``text=neutralise`` so version and execution labels are guarded too.
    """
    total = source.total
    done = 0
    if local_time:
        stamp = local_iso()
    else:
        dates, times = iso_tables()

        def stamp(seconds: int) -> str:  # ISO 8601 UTC: two lookups and a join
            return dates[seconds // 86400] + times[seconds % 86400]

    with open_output(path, "utf-8-sig" if excel_bom else "utf-8") as handle:
        writer = csv.writer(handle, dialect="excel", lineterminator="\r\n")
        writer.writerow([neutralise(h) for h in source.header])
        for batch in source.batches(batch_size):
            if is_cancelled is not None and is_cancelled():
                raise Canceled
            rows = _rows(batch, stamp, source.with_path_note)
            if not source.with_execution:
                for row in rows:
                    del row[EXECUTION_COLUMN]
            writer.writerows(rows)
            done += len(batch)
            if progress is not None:
                progress(done, total)
        if is_cancelled is not None and is_cancelled():
            raise Canceled
    return done


def _rows(batch, stamp: Callable[[int], str], path_note: bool = False):  # noqa: ANN001, ANN202
    """The CSV rows of ``batch``. Phone, names and reason are user data: guarded cell by cell (a
    cheap first-letter test, then the rule); times go through ``stamp``."""
    trig, guard = TRIGGERS, neutralise
    return [
        [
            guard(phone) if phone[:1] in trig else phone,
            guard(first) if first[:1] in trig else first,
            guard(last) if last[:1] in trig else last,
            status,
            guard(reason) if reason[:1] in trig else reason,
            version,
            execution,
            stamp(entered),
            *[None if t is None else stamp(t) for t in cells],
            *((note,) if path_note else ()),
        ]
        for phone, first, last, status, reason, version, execution, entered, cells, note in batch
    ]
