"""Small, fast helpers shared by the demo catalogue, contact pool and simulator.

The simulator produces millions of timestamps and ids, so everything here works on plain ints
(Unix seconds, 64-bit hashes) and formats strings through lookup tables instead of ``datetime``.
Hashing never uses Python's ``hash()``: it is salted per process, and the demo must give the
same workspace for the same seed on every machine and every run.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

M64 = (1 << 64) - 1

MINUTE = 60
HOUR = 3600
DAY = 86400
TICK_SECONDS = 6 * HOUR
HISTORY_DAYS = 60

DEFAULT_ANCHOR = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)


def mix(x: int) -> int:
    """SplitMix64 finaliser: a well-spread, platform-independent 64-bit hash of an int."""
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def mix_many(*parts: int) -> int:
    """Hash a tuple of ints; order matters, so (flow, slot) and (slot, flow) differ."""
    h = 0x243F6A8885A308D3
    for part in parts:
        h = mix(h ^ (part & M64))
    return h


def unit_float(h: int) -> float:
    """Map a 64-bit hash to [0, 1) for hash-driven (RNG-free) decisions."""
    return (h >> 11) * (1.0 / (1 << 53))


def stable_uuid(*parts: int | str) -> str:
    """A version-4-looking UUID derived from names, so ids survive rebuilding the catalogue."""
    h = 0x1F83D9ABFB41BD6B
    for part in parts:
        if isinstance(part, str):
            for ch in part.encode():
                h = mix(h ^ ch)
        else:
            h = mix(h ^ (part & M64))
    lo = mix(h ^ 0x5BE0CD19137E2179)
    return _uuid_from(h, lo)


def _uuid_from(hi: int, lo: int) -> str:
    return (
        f"{hi >> 32:08x}-{(hi >> 16) & 0xFFFF:04x}-4{hi & 0xFFF:03x}-"
        f"{0x8 | (lo >> 62):x}{(lo >> 48) & 0xFFF:03x}-{lo & 0xFFFFFFFFFFFF:012x}"
    )


def to_epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


IsoFn = Callable[[int], str]

TIME_OF_DAY: list[str] = []  # filled by the first iso_formatter()


def iso_formatter() -> IsoFn:
    """A function formatting Unix seconds as ``2026-11-03T14:05:09Z``, ~10x faster than datetime.

    The day prefix is cached per day number and the time of day comes from a prebuilt table, so
    a timestamp costs one dict lookup, one list index and one concatenation. A closure rather
    than a class with ``__call__`` because the call overhead dominates at millions of calls.
    """
    if not TIME_OF_DAY:
        TIME_OF_DAY.extend(
            f"{h:02d}:{m:02d}:{s:02d}Z" for h in range(24) for m in range(60) for s in range(60)
        )
    tod = TIME_OF_DAY
    days: dict[int, str] = {}
    days_get = days.get

    def iso(ts: int) -> str:
        prefix = days_get(ts // DAY)
        if prefix is None:
            prefix = datetime.fromtimestamp(ts // DAY * DAY, UTC).strftime("%Y-%m-%dT")
            days[ts // DAY] = prefix
        return prefix + tod[ts % DAY]

    return iso


def fmt_duration(seconds: int) -> str:
    """Human wording of a wait, as support agents read it in status reasons."""
    if seconds % DAY == 0:
        n, unit = seconds // DAY, "day"
    elif seconds % HOUR == 0:
        n, unit = seconds // HOUR, "hour"
    elif seconds % MINUTE == 0:
        n, unit = seconds // MINUTE, "minute"
    else:
        n, unit = seconds, "second"
    return f"{n} {unit}{'s' if n != 1 else ''}"
