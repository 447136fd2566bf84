"""The simulated workspace: who enters which flow when, and what the API shows at a moment.

Runs are never stored. Each run is named by ``(flow, kind, unit, j)``:

* inbound runs: ``unit`` is an hour slot relative to the anchor; slot ``s`` holds runs that
  started in ``(anchor + s h, anchor + (s+1) h]`` and its run count is a pure function of
  ``(seed, flow, s)``;
* outbound runs: ``unit`` is an execution number; run ``j`` of an execution of size ``n`` is the
  ``j``-th contact it dispatched.

The name is encoded in the run id (a UUID-shaped string), so a run id from the cache is enough
to rebuild that run alone, and the set of runs that started in any time window is computable
without touching other runs. That is what makes incremental syncs and resumable batches cheap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from flowdesk.core.demo.catalogue import (
    AGENTS,
    Catalogue,
    ExecutionPlan,
    FlowSpec,
    build_catalogue,
)
from flowdesk.core.demo.common import (
    DAY,
    HISTORY_DAYS,
    HOUR,
    TICK_SECONDS,
    iso_formatter,
    mix,
    mix_many,
    stable_uuid,
    unit_float,
)
from flowdesk.core.demo.contacts import ContactPool
from flowdesk.core.demo.simulator import (
    CompiledVersion,
    FlowBehaviour,
    Simulator,
    compile_version,
)

INBOUND, OUTBOUND = 0, 1
SLOT_BIAS = 1 << 23  # slot numbers are stored biased so history slots stay positive
HISTORY_SLOTS = HISTORY_DAYS * 24
SLOTS_PER_TICK = TICK_SECONDS // HOUR
RECURRING_BASE = 1000  # execution numbers of recurring occurrences start here
REPEAT_ENTRY_P = 0.06  # inbound runs by a contact who was in the same flow hours before
_CONTACT_SALT = 0xC0C0C0C0C0
# Run ids look like UUIDs: <hash32>-<flow>-4<kind>-<8 + hash12>-<unit:24 bits><j:24 bits>.
# Percent formatting, because it is measurably faster than an f-string at a million ids.
_RUN_ID_FORMAT = "%08x%s%04x-%012x"
POOL_FACTOR = 1.6  # contact pool size per run; gives ~0.74 distinct contacts per run

# Activity by UTC hour (customers in the Americas, Europe and India) and by weekday (Mon=0).
# fmt: off
_HOURLY = (0.45, 0.35, 0.3, 0.25, 0.25, 0.3, 0.4, 0.55, 0.7, 0.85, 0.95, 1.0,
           1.0, 1.0, 1.05, 1.1, 1.1, 1.05, 1.0, 0.95, 0.9, 0.8, 0.7, 0.55)
# fmt: on
_WEEKDAY = (1.05, 1.1, 1.05, 1.0, 0.95, 0.75, 0.7)
_RECURRING_WEEKDAY = (1.1, 1.1, 1.1, 1.1, 1.05, 0.7, 0.45)


@dataclass(slots=True)
class Execution:
    """An outbound execution, fully determined by (seed, flow, number)."""

    flow: FlowSpec
    number: int
    id: str
    start_on: int
    created_on: int
    size: int
    dispatch: int
    method: str
    created_by: dict[str, Any] | None
    filters: list[dict[str, str]]
    import_id: str | None
    import_name: str | None
    perm_a: int
    perm_b: int
    version: CompiledVersion

    @property
    def dispatched_on(self) -> int:
        return self.start_on + self.dispatch


@dataclass(slots=True)
class Unit:
    """A group of runs that start together: one inbound hour slot or one execution."""

    time: int
    flow: int
    kind: int
    unit: int
    count: int
    execution: Execution | None


@dataclass(slots=True)
class RunContext:
    """Everything the runs of one unit share, computed once per unit."""

    flow: int
    kind: int
    unit: int
    base: int
    id_middle: str
    id_tail: int
    start: int  # slot start (inbound) or execution start (outbound)
    execution: Execution | None
    version: CompiledVersion | None  # None when a version was published inside the slot
    behaviour: FlowBehaviour


@dataclass(slots=True)
class Observation:
    """Flow and version objects as the API shows them at one moment; shared by all records."""

    at: int
    flows: list[dict[str, Any]]
    versions: list[list[dict[str, Any]]]


class World:
    def __init__(self, seed: int, contacts: int, anchor: int) -> None:
        self.seed = int(seed)
        self.contacts = max(1, int(contacts))
        self.anchor = anchor
        self.history_start = anchor - HISTORY_DAYS * DAY
        self.iso = iso_formatter()
        self.catalogue: Catalogue = build_catalogue(anchor)
        self.flows = self.catalogue.flows
        self.compiled: list[list[CompiledVersion]] = [
            [compile_version(v) for v in f.versions] for f in self.flows
        ]
        self._newest_first = [
            sorted(((v.spec.published_on, v) for v in versions), key=lambda p: -p[0])
            for versions in self.compiled
        ]
        self.behaviours = [self._behaviour(f) for f in self.flows]
        self.pool = ContactPool(
            self.seed, int(self.contacts * POOL_FACTOR) + 10, self.history_start - DAY, self.iso
        )
        self.sim = Simulator(self.iso)
        self._slot_counts: dict[tuple[int, int], int] = {}
        self._inbound_scale = [self._scale(f) for f in self.flows]
        self._executions: dict[tuple[int, int], Execution | None] = {}
        self._recurring_mean = [self._recurring_mean_size(f) for f in self.flows]
        self._observations: dict[int, Observation] = {}
        self._unit_bases: dict[tuple[int, int, int], int] = {}
        self._contexts: dict[tuple[int, int, int], RunContext] = {}

    def unit_base(self, flow: int, kind: int, unit: int) -> int:
        """Hash shared by the runs of one unit; a run's own hash is ``mix(base ^ j)``."""
        key = (flow, kind, unit)
        base = self._unit_bases.get(key)
        if base is None:
            if len(self._unit_bases) > 100_000:
                self._unit_bases.clear()
            base = self._unit_bases[key] = mix_many(self.seed, flow, kind, unit)
        return base

    # -- behaviour ---------------------------------------------------------------------------

    @staticmethod
    def _behaviour(flow: FlowSpec) -> FlowBehaviour:
        return FlowBehaviour(
            p_manual_cancel=flow.p_manual_cancel,
            p_inbox_cancel=flow.p_inbox_cancel,
            p_test=flow.p_test,
            reply_speed=flow.reply_speed,
            agents=AGENTS,
            cancel_reasons=tuple(
                f"Canceled manually by {a['first_name']} {a['last_name']}" for a in AGENTS
            ),
        )

    def version_at(self, flow: int, ts: int) -> CompiledVersion:
        """The version current at ``ts``: the latest one published at or before it."""
        for published_on, version in self._newest_first[flow]:
            if published_on <= ts:
                return version
        return self.compiled[flow][0]

    # -- inbound arrivals ----------------------------------------------------------------------

    def _shape(self, flow: FlowSpec, s: int) -> float:
        ts = self.anchor + s * HOUR
        if ts < flow.versions[0].published_on:
            return 0.0
        day = ts // DAY
        if s < 0:
            progress = (s + HISTORY_SLOTS) / HISTORY_SLOTS
            trend = 0.2 + 0.8 * progress * progress
        else:
            trend = 1.0
        noise = 0.85 + 0.3 * unit_float(mix_many(self.seed, flow.index, day, 11))
        rate = _HOURLY[(ts // HOUR) % 24] * _WEEKDAY[(day + 3) % 7] * trend * noise
        anchor_day = self.anchor // DAY
        for offset, factor in flow.busy_spikes:
            if day - anchor_day == offset:
                rate *= factor
        return rate

    def _scale(self, flow: FlowSpec) -> float:
        if flow.inbound_share <= 0:
            return 0.0
        total = sum(self._shape(flow, s) for s in range(-HISTORY_SLOTS, 0))
        return flow.inbound_share * self.contacts / total if total else 0.0

    def slot_count(self, flow: int, s: int) -> int:
        """Inbound runs of ``flow`` that start in hour slot ``s``."""
        key = (flow, s)
        count = self._slot_counts.get(key)
        if count is None:
            scale = self._inbound_scale[flow]
            if scale <= 0 or s < -HISTORY_SLOTS:
                count = 0
            else:
                lam = scale * self._shape(self.flows[flow], s)
                count = int(lam + unit_float(mix_many(self.seed, flow, s, 13)))
            self._slot_counts[key] = count
        return count

    def _inbound_contact(self, flow: int, s: int, j: int) -> int:
        """Contact of an inbound run; some runs reuse the contact of an earlier run in the flow."""
        h = 0
        for _ in range(8):
            h = mix(self.unit_base(flow, INBOUND, s + SLOT_BIAS) ^ j ^ _CONTACT_SALT)
            if unit_float(h) < REPEAT_ENTRY_P:
                back = 1 + (h >> 20) % 72
                n = self.slot_count(flow, s - back)
                if n:
                    s, j = s - back, (h >> 40) % n
                    continue
            break
        return (h >> 8) % self.pool.size

    # -- outbound executions -----------------------------------------------------------------

    def _recurring_mean_size(self, flow: FlowSpec) -> float:
        plan = flow.recurring
        if plan is None:
            return 0.0
        weight = 0.0
        n = 0
        while plan.first_start + n * plan.every <= self.anchor:
            weight += self._recurring_factor(plan.first_start + n * plan.every)
            n += 1
        return plan.share_in_history * self.contacts / weight if weight else 0.0

    @staticmethod
    def _recurring_factor(start: int) -> float:
        return _RECURRING_WEEKDAY[(start // DAY + 3) % 7]

    def execution(self, flow: int, number: int) -> Execution | None:
        """Execution ``number`` of ``flow`` or None when it does not exist or has no contacts."""
        key = (flow, number)
        if key in self._executions:
            return self._executions[key]
        spec = self.flows[flow]
        plan: ExecutionPlan | None = None
        if number >= RECURRING_BASE and spec.recurring is not None:
            rec = spec.recurring
            n = number - RECURRING_BASE
            start = rec.first_start + n * rec.every
            if start > self.anchor + 3650 * DAY:  # a forged or corrupt id, not a real occurrence
                self._executions[key] = None
                return None
            u = unit_float(mix_many(self.seed, flow, number, 21))
            mean = self._recurring_mean[flow] * self._recurring_factor(start)
            share = mean * (0.75 + 0.5 * u) / self.contacts
            date = self.iso(start)[:10]
            plan = ExecutionPlan(
                key=f"{rec.key}-{n}",
                number=number,
                start_on=start,
                created_on=start - rec.lead,
                share=share,
                method=rec.method,
                created_by=rec.creators[n % len(rec.creators)],
                filters=[dict(f) for f in rec.filters],
                import_name=rec.import_pattern.replace("{date}", date)
                if rec.import_pattern
                else None,
                dispatch=rec.dispatch,
            )
        elif 0 <= number < len(spec.one_offs):
            plan = spec.one_offs[number]
        execution = None
        if plan is not None and plan.start_on >= self.history_start:
            size = int(
                plan.share * self.contacts + unit_float(mix_many(self.seed, flow, number, 22))
            )
            if size > 0:
                h = mix_many(self.seed, flow, number, 23)
                modulus = self.pool.size
                a = (h | 1) % modulus or 1
                while math.gcd(a, modulus) != 1:
                    a += 1
                execution = Execution(
                    flow=spec,
                    number=number,
                    id=stable_uuid("execution", self.seed, spec.key, number),
                    start_on=plan.start_on,
                    created_on=plan.created_on,
                    size=size,
                    dispatch=plan.dispatch,
                    method=plan.method,
                    created_by=plan.created_by,
                    filters=plan.filters,
                    import_id=stable_uuid("import", self.seed, spec.key, number)
                    if plan.method == "csv"
                    else None,
                    import_name=plan.import_name,
                    perm_a=a,
                    perm_b=(h >> 32) % modulus,
                    version=self.version_at(flow, plan.start_on),
                )
        self._executions[key] = execution
        return execution

    def executions_between(self, after: int | None, until: int) -> list[Execution]:
        """Executions with an observable change (created, started, dispatched) in the window."""
        found: list[Execution] = []
        lo = -(1 << 62) if after is None else after
        for spec in self.flows:
            numbers = list(range(len(spec.one_offs)))
            rec = spec.recurring
            if rec is not None:
                last = (until + rec.lead - rec.first_start) // rec.every
                first = max(0, (lo - rec.dispatch - rec.first_start) // rec.every - 1)
                numbers.extend(RECURRING_BASE + n for n in range(first, last + 1))
            for number in numbers:
                e = self.execution(spec.index, number)
                if e is None or e.created_on > until:
                    continue
                if any(lo < t <= until for t in (e.created_on, e.start_on, e.dispatched_on)):
                    found.append(e)
        found.sort(key=lambda e: (e.created_on, e.flow.index, e.number))
        return found

    def execution_record(self, e: Execution, obs: Observation) -> dict[str, Any]:
        at = obs.at
        if at < e.start_on:
            status, changed = "READY", e.created_on
        elif at < e.dispatched_on:
            status, changed = "RUNNING", e.start_on
        else:
            status, changed = "COMPLETED", e.dispatched_on
        version = e.version if at >= e.start_on else self.version_at(e.flow.index, at)
        iso = self.iso
        return {
            "id": e.id,
            "status": status,
            "status_reason": None,
            "status_triggered_by": None,
            "status_last_change_on": iso(changed),
            "execute_for": "FILTERS" if e.method == "filter" else "LIST",
            "has_priority": False,
            "flow_execution_variables": {},
            "created_on": iso(e.created_on),
            "start_on": iso(e.start_on),
            "last_run_on": iso(e.start_on) if at >= e.start_on else None,
            "created_by": e.created_by,
            "contact_filters": e.filters,
            "contact_import": e.import_id,
            "contact_import_name": e.import_name,
            "flow": obs.flows[e.flow.index],
            "flow_version": obs.versions[e.flow.index][version.spec.number - 1],
        }

    # -- units of runs -----------------------------------------------------------------------

    def units_for_tick(self, tick: int) -> list[Unit]:
        """Every group of runs that started in tick ``tick``'s window, in start order."""
        if tick == 0:
            lo_slot, hi_slot, after = -HISTORY_SLOTS, 0, None
        else:
            lo_slot, hi_slot = SLOTS_PER_TICK * (tick - 1), SLOTS_PER_TICK * tick
            after = self.anchor + (tick - 1) * TICK_SECONDS
        until = self.anchor + tick * TICK_SECONDS
        units: list[Unit] = []
        for spec in self.flows:
            if spec.inbound_share <= 0:
                continue
            for s in range(lo_slot, hi_slot):
                n = self.slot_count(spec.index, s)
                if n:
                    units.append(
                        Unit(self.anchor + s * HOUR, spec.index, INBOUND, s + SLOT_BIAS, n, None)
                    )
        for e in self.executions_between(after, until):
            if (after is None or e.start_on > after) and e.start_on <= until:
                units.append(Unit(e.start_on, e.flow.index, OUTBOUND, e.number, e.size, e))
        units.sort(key=lambda u: (u.time, u.flow, u.kind, u.unit))
        return units

    # -- observation -------------------------------------------------------------------------

    def observation(self, at: int) -> Observation:
        obs = self._observations.get(at)
        if obs is not None:
            return obs
        iso = self.iso
        flows: list[dict[str, Any]] = []
        versions: list[list[dict[str, Any]]] = []
        for spec in self.flows:
            current = self.version_at(spec.index, at).spec
            flows.append(
                {
                    "id": spec.id,
                    "name": spec.name,
                    "trigger_type": spec.trigger_type,
                    "trigger_config": spec.trigger_config,
                    "status": "PUBLISHED",
                    "is_active": True,
                    "current_version": current.id,
                    "created_on": iso(spec.created_on),
                    "created_by": spec.created_by,
                }
            )
            versions.append(
                [
                    {
                        "id": v.id,
                        "version_name": v.name,
                        "version_description": v.description,
                        "published_by": v.published_by,
                        "created_on": iso(v.published_on),
                        "last_updated_on": iso(v.published_on),
                        "is_current_version": v.id == current.id,
                    }
                    for v in spec.versions
                ]
            )
        obs = Observation(at, flows, versions)
        if len(self._observations) > 4:
            self._observations.clear()
        self._observations[at] = obs
        return obs

    # -- runs ----------------------------------------------------------------------------------

    def context(self, flow: int, kind: int, unit: int) -> RunContext:
        """What the runs of one unit share; cached because a unit holds many runs."""
        key = (flow, kind, unit)
        ctx = self._contexts.get(key)
        if ctx is not None:
            return ctx
        execution = None
        version: CompiledVersion | None
        if kind == INBOUND:
            start = self.anchor + (unit - SLOT_BIAS) * HOUR
            first, last = self.version_at(flow, start), self.version_at(flow, start + HOUR)
            version = first if first is last else None  # None: a version went live mid-slot
        else:
            execution = self.execution(flow, unit)
            if execution is None:
                raise KeyError(f"no execution {unit} in flow {flow}")
            start = execution.start_on
            version = execution.version
        ctx = RunContext(
            flow=flow,
            kind=kind,
            unit=unit,
            base=self.unit_base(flow, kind, unit),
            id_middle=f"-{flow:04x}-4{kind:03x}-",
            id_tail=unit << 24,
            start=start,
            execution=execution,
            version=version,
            behaviour=self.behaviours[flow],
        )
        if len(self._contexts) > 50_000:
            self._contexts.clear()
        self._contexts[key] = ctx
        return ctx

    @staticmethod
    def format_run_id(ctx: RunContext, h: int, j: int) -> str:
        return _RUN_ID_FORMAT % (
            h >> 32,
            ctx.id_middle,
            0x8000 | ((h >> 4) & 0xFFF),
            ctx.id_tail | j,
        )

    def run_id(self, flow: int, kind: int, unit: int, j: int) -> str:
        ctx = self.context(flow, kind, unit)
        return self.format_run_id(ctx, mix(ctx.base ^ j), j)

    def parse_run_id(self, run_id: str) -> tuple[int, int, int, int] | None:
        """(flow, kind, unit, j) of a run id this world made, or None for anything else."""
        if len(run_id) != 36:
            return None
        try:
            flow = int(run_id[9:13], 16)
            kind = int(run_id[15:18], 16)
            tail = int(run_id[24:], 16)
        except ValueError:
            return None
        unit, j = tail >> 24, tail & 0xFFFFFF
        if flow >= len(self.flows) or kind not in (INBOUND, OUTBOUND):
            return None
        if kind == INBOUND:
            if j >= self.slot_count(flow, unit - SLOT_BIAS):
                return None
        else:
            e = self.execution(flow, unit)
            if e is None or j >= e.size:
                return None
        if self.run_id(flow, kind, unit, j) != run_id:
            return None
        return flow, kind, unit, j

    def observe(
        self, flow: int, kind: int, unit: int, j: int, obs: Observation
    ) -> tuple[dict[str, Any], str, int]:
        return self.observe_in(self.context(flow, kind, unit), j, obs)

    def observe_in(
        self, ctx: RunContext, j: int, obs: Observation
    ) -> tuple[dict[str, Any], str, int]:
        """Simulate run ``j`` of a unit and return its record as seen at ``obs.at``.

        Also returns the run's status and the moment of its latest change (see
        :meth:`Simulator.observe`).
        """
        h = mix(ctx.base ^ j)
        run_id = _RUN_ID_FORMAT % (
            h >> 32,
            ctx.id_middle,
            0x8000 | ((h >> 4) & 0xFFF),
            ctx.id_tail | j,
        )
        flow = ctx.flow
        execution = ctx.execution
        if execution is None:
            created = ctx.start + 1 + (h >> 20) % HOUR
            first_at = created + 1 + (h >> 40) % 3
            version = ctx.version or self.version_at(flow, created)
            hc = mix(ctx.base ^ j ^ _CONTACT_SALT)  # as in _inbound_contact, without a call
            contact = self.pool.contact(
                self._inbound_contact(flow, ctx.unit - SLOT_BIAS, j)
                if unit_float(hc) < REPEAT_ENTRY_P
                else (hc >> 8) % self.pool.size
            )
            execution_id = None
        else:
            created = ctx.start
            first_at = created + 1 + (j * execution.dispatch) // execution.size + (h >> 40) % 3
            version = execution.version
            contact = self.pool.contact((execution.perm_a * j + execution.perm_b) % self.pool.size)
            execution_id = execution.id
        return self.sim.observe(
            run_id,
            h,
            version,
            ctx.behaviour,
            execution is not None,
            created,
            first_at,
            obs.at,
            contact,
            obs.flows[flow],
            obs.versions[flow][version.spec.number - 1],
            execution_id,
        )
