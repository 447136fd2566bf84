"""Counts, shares, durations, sizes and dates as Flowdesk writes them, in the app and the CLI.

One rule per kind, in one place, so a share reads "45.7%" on a Flow Viewer node, in the
Versions table and on the command line alike, and a wait reads "24 h" wherever it is shown.
Times are the user's local time unless a function says otherwise.
"""

from __future__ import annotations

import time
from datetime import datetime

DASH = "\u2014"  # what a number reads when there is nothing to show


def count(value: int | None) -> str:
    """``1,234,567``; a dash for none."""
    return DASH if value is None else f"{value:,}"


def counted(number: int, noun: str) -> str:
    """A count with its noun, plural unless one: ``1 run``, ``1,234 runs``, ``2 retries``."""
    if number == 1:
        return f"1 {noun}"
    if noun.endswith("y") and noun[-2:-1] not in ("a", "e", "i", "o", "u"):
        return f"{number:,} {noun[:-1]}ies"
    return f"{number:,} {noun}s"


def path_basis(with_path: int, runs: int) -> str:
    """What per-step numbers are built from while paths are still being read:
    ``from 12,400 of 98,000 runs``."""
    return f"from {with_path:,} of {runs:,} runs"


def share(value: float | None) -> str:
    """A share (0..1) as a percentage with at most one decimal: ``45.7%``, ``40%``, ``<0.1%``;
    a dash when there is nothing to divide by. Never rounds a partial share to 0% or 100%."""
    if value is None:
        return DASH
    percent = value * 100.0
    if percent <= 0:
        return "0%"
    if percent < 0.1:
        return "<0.1%"
    if 99.9 < percent < 100:
        return ">99.9%"
    text = f"{percent:.1f}"
    return f"{text.removesuffix('.0')}%"


def duration(seconds: float | None) -> str:
    """A wait or an age: ``45 s``, ``12 min``, ``2 h 14 min``, ``36 h``, ``3 d 4 h``. Hours run
    up to 48 because wait limits are set in hours ("24 h", not "1 d")."""
    if seconds is None:
        return ""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def elapsed(seconds: float | None) -> str:
    """How long a job took, to the tenth of a second when short: ``under 0.1 s``, ``0.4 s``,
    ``12 s``, ``3 min 05 s``, ``1 h 02 min``."""
    if seconds is None:
        return ""
    if seconds < 0.1:
        return "under 0.1 s"
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = int(round(seconds))
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def size(size_bytes: int | None) -> str:
    """``812 bytes``, ``14.2 KB``, ``3.4 MB``, ``1.2 GB`` (decimal units, as file managers
    show)."""
    if size_bytes is None:
        return ""
    if size_bytes < 1000:
        return f"{size_bytes} bytes"
    value = float(size_bytes)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1000
        if value < 1000 or unit == "TB":
            return f"{value:.1f} {unit}"
    return f"{size_bytes} bytes"  # pragma: no cover


def timestamp(epoch: float | None, seconds: bool = False) -> str:
    """Date and time for table cells: ISO-like (``2026-11-28 14:03``) so columns line up and
    sort by eye."""
    if not epoch:
        return ""
    moment_ = datetime.fromtimestamp(int(epoch))
    return moment_.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def moment(epoch: float | None, *, seconds: bool = True, now: datetime | None = None) -> str:
    """A readable moment for sentences and lists: ``Sun 1 Nov, 10:02:05`` (the year only
    when it is not this year)."""
    if not epoch:
        return ""
    when = datetime.fromtimestamp(epoch).astimezone()
    current = now or datetime.now().astimezone()
    year = f" {when.year}" if when.year != current.year else ""
    return f"{when:%a} {when.day} {when:%b}{year}, {clock(epoch, seconds=seconds)}"


def clock(epoch: float, *, seconds: bool = False) -> str:
    """The time of day alone: ``10:02`` or ``10:02:05``."""
    when = datetime.fromtimestamp(epoch).astimezone()
    return f"{when:%H:%M:%S}" if seconds else f"{when:%H:%M}"


def ago(epoch: float | None, now: float | None = None) -> str:
    """``just now``, ``5 min ago``, ``3 h ago``, ``2 d ago``; ``never`` for none."""
    if not epoch:
        return "never"
    delta = int((time.time() if now is None else now) - epoch)
    if delta < 60:
        return "just now"
    if delta < 3600:
        return f"{delta // 60} min ago"
    if delta < 86400:
        return f"{delta // 3600} h ago"
    return f"{delta // 86400} d ago"


def utc_offset() -> str:
    """The local zone as an offset: ``UTC-06:00``."""
    offset = datetime.now().astimezone().strftime("%z")
    return f"UTC{offset[:3]}:{offset[3:]}" if offset else "local time"
