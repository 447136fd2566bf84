"""``DemoSource``: a simulated workspace that syncs like the real API, tick by tick.

The workspace has a clock. Sync number k (k = 0 for the first) observes the world at
``T_k = anchor + k × 6 h``:

* sync 0 emits every outbound execution created up to the anchor, then every run that started
  in the ~60 days before it, each truncated at the anchor (runs still waiting are RUNNING,
  dispatch not yet reached is READY);
* sync k > 0 emits executions that were created, started or finished dispatching in
  ``(T_{k-1}, T_k]``, then re-observations of the cache's active runs whose state changed in
  that window, then the runs that started in it.

``contacts`` is the number of contact entries (runs) at sync 0, not the number of people: about
three quarters of the runs are distinct contacts, since people enter several flows and some
enter the same flow twice. Later syncs add roughly half a percent of that per tick.

Cursor (stored by the sync engine after each committed batch)::

    {"tick": k, "phase": "executions" | "active" | "runs" | "done",
     "offset": n,        # items of this phase already emitted (runs: in start order)
     "after": "<id>"}    # active phase only: last run id processed (ids go in sorted order)

``phase == "done"`` means tick k is complete; the next call starts tick k + 1. Because every
run is a pure function of its id and every phase is emitted in a fixed order, a sync killed
after any batch and restarted from its cursor ends with exactly the records of an uninterrupted
sync.

Record conventions a consumer may rely on:

* timestamps are ISO 8601 UTC strings with a ``Z`` suffix, whole seconds;
* executions started by the system (the daily "Appointment reminders" API call) have
  ``created_by: None``; people are ``SimpleUser`` dicts; executions carry an extra
  ``contact_import_name`` (the uploaded file's name) next to the ``contact_import`` id;
* API counters (num_contacts, expired, ...) are never sent: the cache recounts;
* a waiting step that timed out into its "No reply" branch is COMPLETED with a "No reply within
  …" reason; an ACTION that took its error branch is COMPLETED with ``has_error`` true;
* a DELAY step keeps its duration in ``max_wait_time_amount``/``max_wait_time_unit`` with
  ``delay_type: "DURATION"`` (``has_max_wait_time`` stays false);
* flow, version and step-definition dicts are shared between records: treat them as read-only.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from flowdesk.core.demo.common import DEFAULT_ANCHOR, TICK_SECONDS, to_epoch
from flowdesk.core.demo.world import World
from flowdesk.core.sources.base import Batch, Record, SyncState

BATCH_RUNS = 2000


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a batch is built.

    A batch is ~15,000 fresh dicts and lists, none of them in a reference cycle (records only
    point at shared, long-lived definitions), so reference counting frees them all and the
    collector's repeated passes over the growing batch are pure overhead (10–20 % of the
    generation time, measured at 150k runs). Collection resumes before the batch is handed to
    the consumer, so other threads only see it deferred for the time one batch takes.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class DemoSource:
    """A deterministic simulated workspace; the same seed gives the same records everywhere."""

    kind = "demo"
    name = "Demo workspace"

    def __init__(
        self, seed: int = 1, contacts: int = 5000, anchor: datetime = DEFAULT_ANCHOR
    ) -> None:
        self.seed = int(seed)
        self.contacts = int(contacts)
        self.anchor = anchor
        self._world: World | None = None

    @property
    def world(self) -> World:
        """Built on first use: the catalogue and rate tables take a moment."""
        if self._world is None:
            self._world = World(self.seed, self.contacts, to_epoch(self.anchor))
        return self._world

    def tick_time(self, tick: int) -> int:
        """The simulated clock (Unix seconds) at sync number ``tick``."""
        return to_epoch(self.anchor) + tick * TICK_SECONDS

    def run_record(self, run_id: str, tick: int = 0) -> dict[str, Any] | None:
        """One run as the API would show it at sync ``tick``; None if the id is not ours."""
        world = self.world
        key = world.parse_run_id(run_id)
        if key is None:
            return None
        obs = world.observation(self.tick_time(tick))
        record, _status, _changed = world.observe(*key, obs)
        created = record["created_on"]
        if created > world.iso(obs.at):
            return None
        return record

    # -- the Source contract -------------------------------------------------------------------

    def batches(self, state: SyncState, is_cancelled: Callable[[], bool]) -> Iterator[Batch]:
        cursor = dict(state.cursor or {})
        if "tick" not in cursor:
            tick, phase, offset, after = 0, "executions", 0, ""
        elif cursor.get("phase") == "done":
            tick, phase, offset, after = int(cursor["tick"]) + 1, "executions", 0, ""
        else:
            tick = int(cursor["tick"])
            phase = str(cursor.get("phase") or "executions")
            offset = int(cursor.get("offset") or 0)
            after = str(cursor.get("after") or "")
        yield from self._tick(tick, phase, offset, after, state, is_cancelled)

    def _tick(
        self,
        tick: int,
        phase: str,
        offset: int,
        after: str,
        state: SyncState,
        is_cancelled: Callable[[], bool],
    ) -> Iterator[Batch]:
        world = self.world
        at = self.tick_time(tick)
        previous = at - TICK_SECONDS if tick > 0 else None
        obs = world.observation(at)
        when = world.iso(at).replace("T", " ").replace("Z", " UTC")

        units = world.units_for_tick(tick)
        new_total = sum(u.count for u in units)
        executions = world.executions_between(previous, at) if phase == "executions" else []
        active: list[str] = []
        if tick > 0 and phase in ("executions", "active"):
            active = sorted(i for i in state.active_run_ids() if i > after)
        # Progress is counted in items of this tick: executions, re-observed runs, new runs.
        if phase == "runs":
            done, total = offset, new_total
        elif phase == "active":
            done, total = offset, offset + len(active) + new_total
        else:
            done, total = 0, len(executions) + len(active) + new_total

        def cursor(next_phase: str, **extra: Any) -> dict[str, Any]:
            return {"tick": tick, "phase": next_phase, **extra}

        if phase == "executions":
            if is_cancelled():
                return
            if executions:
                records = [Record("execution", world.execution_record(e, obs)) for e in executions]
                done += len(executions)
                yield Batch(
                    records,
                    cursor("active" if tick > 0 else "runs", offset=0),
                    done=done,
                    total=total,
                    note=f"World at {when}: {len(records)} outbound executions",
                    stats={"executions": len(records)},
                )
            phase, offset = ("active" if tick > 0 else "runs"), 0

        if phase == "active":
            processed = offset
            for start in range(0, len(active), BATCH_RUNS):
                if is_cancelled():
                    return
                chunk = active[start : start + BATCH_RUNS]
                records: list[Record] = []
                unknown = 0
                with _gc_paused():
                    for run_id in chunk:
                        key = world.parse_run_id(run_id)
                        if key is None:
                            unknown += 1
                            continue
                        record, _status, changed = world.observe(*key, obs)
                        if previous is not None and changed > previous:
                            records.append(Record("run", record))
                processed += len(chunk)
                done += len(chunk)
                yield Batch(
                    records,
                    cursor("active", offset=processed, after=chunk[-1]),
                    done=done,
                    total=total,
                    note=f"World at {when}: checking {len(active)} active runs",
                    stats={
                        "runs_reobserved": len(records),
                        "runs_unchanged": len(chunk) - len(records) - unknown,
                        "runs_not_in_demo": unknown,
                    },
                )
            phase, offset = "runs", 0

        # phase == "runs": new runs in start order, skipping the ``offset`` already emitted.
        ui, j = 0, offset
        while ui < len(units) and j >= units[ui].count:
            j -= units[ui].count
            ui += 1
        emitted = offset
        observe = world.observe_in
        while True:
            if is_cancelled():
                return
            pending: list[Record] = []
            with _gc_paused():
                while ui < len(units) and len(pending) < BATCH_RUNS:
                    unit = units[ui]
                    ctx = world.context(unit.flow, unit.kind, unit.unit)
                    stop = min(unit.count, j + BATCH_RUNS - len(pending))
                    for jj in range(j, stop):
                        pending.append(Record("run", observe(ctx, jj, obs)[0]))
                    j = stop
                    if j >= unit.count:
                        ui, j = ui + 1, 0
            emitted += len(pending)
            done += len(pending)
            finished = ui >= len(units)
            # The last batch (possibly empty) carries "done" so the next sync starts a new tick.
            yield Batch(
                pending,
                cursor("done") if finished else cursor("runs", offset=emitted),
                done=done,
                total=total,
                note=f"World at {when}: new runs {emitted:,} of {new_total:,}",
                stats={"runs_new": len(pending)},
            )
            if finished:
                return
