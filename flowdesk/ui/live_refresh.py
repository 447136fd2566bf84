"""Live refresh while a sync reads paths: the views built from paths follow the sync.

An ActiveCampaign sync commits the whole report first, then reads each run's path for hours on
a big account (docs/activecampaign.md). The window reloads everything when the report is done
and when the sync ends; in between, each committed batch of paths asks for a refresh of the
path-built views (heat, "Where runs stop", the step filter's "from N of M runs"), which this
throttles: at most one per ``interval`` seconds, and none while the previous one still runs.
A batch that comes too soon is shown when the interval is over, even if no other batch follows
(phase 2 may wait minutes on a rate limit): one check is scheduled for then.
"""

from __future__ import annotations

import time
from collections.abc import Callable

LIVE_REFRESH_SECONDS = 25.0  # a phase-2 batch commits about every 20 s at 5 requests/s


class LiveRefresh:
    """``refresh`` starts the reads (off the GUI thread) and returns at once; ``busy`` says
    whether the last one is still running; ``schedule(seconds, callback)`` calls back later (a
    single-shot timer; None: nothing is shown late). ``clock`` is injected by tests."""

    def __init__(
        self,
        refresh: Callable[[], None],
        busy: Callable[[], bool],
        *,
        interval: float = LIVE_REFRESH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        schedule: Callable[[float, Callable[[], None]], None] | None = None,
    ) -> None:
        self._refresh = refresh
        self._busy = busy
        self.interval = interval
        self.clock = clock
        self._schedule = schedule
        self._last: float | None = None
        self._owed = False  # a committed batch is not shown yet
        self._check_scheduled = False

    def reloaded(self) -> None:
        """Everything was just reloaded (the report is done): the interval starts now."""
        self._last = self.clock()
        self._owed = False

    def stop(self) -> None:
        """The sync ended (its own reload shows everything): nothing is owed any more."""
        self._owed = False

    def batch_committed(self) -> bool:
        """A batch of paths is in the cache: refresh unless too soon or still refreshing (then
        later). Returns whether a refresh started."""
        now = self.clock()
        if self._last is not None and now - self._last < self.interval:
            self._owe(self.interval - (now - self._last))
            return False
        if self._busy():
            self._owe(self.interval / 5)
            return False
        self._last = now
        self._owed = False
        self._refresh()
        return True

    def _owe(self, seconds: float) -> None:
        self._owed = True
        if self._schedule is not None and not self._check_scheduled:
            self._check_scheduled = True
            self._schedule(seconds, self._check)

    def _check(self) -> None:
        self._check_scheduled = False
        if self._owed:
            self.batch_committed()
