"""Local time for exports: the machine's own zone, daylight saving included.

The app shows times in the machine's local zone; an export can match it. The offset of each
instant comes from the operating system (``time.localtime(t).tm_gmtoff``), so no zone database
is needed and historical daylight-saving changes are right. Offsets are cached per quarter hour
(every real zone changes its offset on a quarter-hour boundary), which keeps the per-cell cost
to one dictionary lookup.
"""

from __future__ import annotations

import time

_BUCKET = 900  # seconds; offsets never change inside a quarter hour


class LocalOffsets(dict):
    """Quarter-hour bucket -> UTC offset in seconds of the local zone; call it with a time."""

    def __missing__(self, bucket: int) -> int:
        offset = self[bucket] = _offset_at(bucket * _BUCKET)
        return offset

    def __call__(self, seconds: int) -> int:
        return self[seconds // _BUCKET]


def _offset_at(seconds: int) -> int:
    try:
        return int(time.localtime(seconds).tm_gmtoff or 0)
    except (OverflowError, OSError, ValueError):  # far outside what the platform can convert
        return 0


def offset_text(offset: int) -> str:
    """ISO 8601 suffix for an offset in seconds: ``+02:00``, ``-06:00``, ``+05:45``."""
    sign = "-" if offset < 0 else "+"
    minutes = abs(offset) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def zone_label(now: float | None = None) -> str:
    """The local zone as a person reads it: ``UTC+01:00 (CET)``, or ``UTC`` when it is UTC."""
    moment = time.localtime(time.time() if now is None else now)
    offset = int(moment.tm_gmtoff or 0)
    name = moment.tm_zone or ""
    if offset == 0 and name.upper() in ("", "UTC", "GMT", "Z"):
        return "UTC"
    label = f"UTC{offset_text(offset)}"
    return f"{label} ({name})" if name and not name.startswith(("+", "-")) else label
