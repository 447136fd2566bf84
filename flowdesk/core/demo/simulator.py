"""Walk one contact through a version's step graph and observe the run at a moment in time.

A run is fully determined by its own 64-bit seed, its version and its start: the simulator
draws every decision (reply or not, how fast, which button, valid answer, send/HTTP failure,
manual cancellation) from a ``random.Random`` seeded with that value, in an order that never
depends on the observation time. Observing the same run at T1 < T2 therefore gives two
consistent snapshots, which is what lets an incremental sync re-simulate only the runs still
active in the cache.

Every step transition uses a field of the step definition exactly as
:func:`flowdesk.core.steps.transitions_for_step` reads it, so consecutive executed steps are
always an edge of the version graph.

This is the hot loop of a million-run demo: it works on int timestamps, shares step-definition
dicts between records and formats timestamps through a table-driven formatter.
"""

from __future__ import annotations

import _random
import math
import random
from bisect import bisect_right
from dataclasses import dataclass
from math import exp
from typing import Any

from flowdesk.core.demo.builder import StepSim, VersionSpec
from flowdesk.core.demo.common import DAY, TIME_OF_DAY, IsoFn, fmt_duration
from flowdesk.core.model import RunStatus, wait_seconds

# Node kinds (ints for fast dispatch in the loop).
SEND, WAIT, DELAY, COND, ACTION, PASS, END = range(7)

MAX_STEPS = 80  # safety net against a loop in a hand-written flow

# Plain strings (not the enum) in the records, as the upstream API sends them.
READY = RunStatus.READY.value
RUNNING = RunStatus.RUNNING.value
COMPLETED = RunStatus.COMPLETED.value
CANCELED = RunStatus.CANCELED.value
EXPIRED = RunStatus.EXPIRED.value
FAILED = RunStatus.FAILED.value

INBOX_REASON = "Contact had an open Inbox conversation"

# (code, provider message, weight) — WhatsApp Cloud API error codes seen on template sends.
SEND_ERRORS: tuple[tuple[str, str, int], ...] = (
    ("131026", "Message undeliverable", 50),
    ("131049", "This message was not delivered to maintain healthy ecosystem engagement", 20),
    ("131047", "Re-engagement message", 10),
    ("131050", "User has stopped marketing messages", 8),
    ("130472", "User's number is part of an experiment", 5),
    ("131000", "Something went wrong", 4),
    ("131053", "Media upload error", 3),
)
HTTP_ERRORS: tuple[tuple[str, int], ...] = (
    ("HTTP 502 Bad Gateway", 40),
    ("HTTP 504 Gateway Timeout", 22),
    ("HTTP 500 Internal Server Error", 20),
    ("HTTP 404 Not Found", 8),
    ("HTTP 429 Too Many Requests", 5),
    ("Connection timed out after 10 seconds", 5),
)

# Reply delays are log-uniform-ish between 15 s and 40 h, skewed towards quick answers.
_LN_MIN = math.log(15)
_LN_SPAN = math.log(40 * 3600) - _LN_MIN

_STEP_HEX = [f"{i:03x}" for i in range(4096)]


def _cumulative(weights: tuple[float, ...]) -> tuple[float, ...]:
    total = float(sum(weights)) or 1.0
    acc = 0.0
    out = []
    for w in weights:
        acc += w / total
        out.append(acc)
    if out:
        out[-1] = 1.0
    return tuple(out)


def _pick(cum: tuple[float, ...], x: float) -> int:
    for i, edge in enumerate(cum):
        if x < edge:
            return i
    return len(cum) - 1


_SEND_CUM = _cumulative(tuple(float(w) for _c, _m, w in SEND_ERRORS))
_HTTP_CUM = _cumulative(tuple(float(w) for _m, w in HTTP_ERRORS))
_SEND_REASONS = tuple(f"Message not sent: (#{c}) {m}" for c, m, _w in SEND_ERRORS)
_HTTP_RUN_REASONS = tuple(f"External API failed: {m}" for m, _w in HTTP_ERRORS)


class Node:
    """A step definition compiled for simulation: exits resolved to nodes, knobs flattened."""

    __slots__ = (
        "id",
        "d",
        "kind",
        "is_template",
        "is_question",
        "default",
        "alternate",
        "failed",
        "options",
        "cum",
        "wait",
        "p_fail",
        "p_reply",
        "p_valid",
        "max_attempts",
        "gate",
        "delay",
        "busy",
        "no_reply_reason",
        "expired_reason",
        "msg_type",
    )

    def __init__(self, step: dict[str, Any], sim: StepSim) -> None:
        step_type = str(step["step_type"]).upper()
        self.id: str = step["id"]
        self.d = step
        self.is_template = step_type == "TEMPLATE"
        self.is_question = step_type == "QUESTION"
        has_options = bool(step.get("next_steps_for_options"))
        if step_type == "MESSAGE" or (self.is_template and not has_options):
            self.kind = SEND
        elif step_type in ("TEMPLATE", "MENU", "QUESTION"):
            self.kind = WAIT
        elif step_type == "DELAY":
            self.kind = DELAY
        elif step_type == "CONDITIONAL":
            self.kind = COND
        elif step_type == "ACTION":
            self.kind = ACTION
        elif step_type == "END":
            self.kind = END
        else:  # CONTACT_UPDATE, TAG, TEAM, GO_TO_FLOW and types the app does not know
            self.kind = PASS
        self.default: Node | None = None
        self.alternate: Node | None = None
        self.failed: Node | None = None
        self.options: list[Node | None] = []
        if self.kind == COND:
            n_paths = len(step.get("next_steps_for_options") or [])
            weights = sim.weights if len(sim.weights) == n_paths + 1 else (1.0,) * (n_paths + 1)
            self.cum = _cumulative(weights)
        else:
            self.cum = _cumulative(sim.weights) if sim.weights else ()
        self.wait = (
            wait_seconds(
                step_type,
                step.get("max_wait_time_amount"),
                step.get("max_wait_time_unit"),
                bool(step.get("has_max_wait_time")),
            )
            or 0
        )
        self.p_fail = sim.p_fail
        self.p_reply = sim.p_reply
        self.p_valid = sim.p_valid
        self.max_attempts = sim.max_attempts
        self.gate = sim.attempt_gate
        self.delay = sim.delay
        self.busy = max(0, sim.busy)
        waited = fmt_duration(self.wait) if self.wait else ""
        self.no_reply_reason = f"No reply within {waited}; took the No reply branch"
        self.expired_reason = f"No reply from the contact within {waited}"
        self.msg_type = "template" if self.is_template else "text"


@dataclass(slots=True)
class CompiledVersion:
    spec: VersionSpec
    start: Node
    nodes: dict[str, Node]


def compile_version(spec: VersionSpec) -> CompiledVersion:
    nodes = {step["id"]: Node(step, spec.sims[step["id"]]) for step in spec.steps}

    def ref(value: Any) -> Node | None:
        if value is None or value == "":
            return None
        return nodes[str(value)]

    for node in nodes.values():
        d = node.d
        node.default = ref(d.get("next_step_default"))
        node.alternate = ref(d.get("next_step_alternate"))
        node.failed = ref(d.get("answer_failed_next_step"))
        node.options = [ref(t) for t in d.get("next_steps_for_options") or []]
        if node.kind != COND and len(node.cum) != len(node.options):
            node.cum = _cumulative((1.0,) * len(node.options))
    return CompiledVersion(spec=spec, start=nodes[spec.start], nodes=nodes)


@dataclass(slots=True)
class FlowBehaviour:
    """Per-flow knobs the simulator needs on every run."""

    p_manual_cancel: float
    p_inbox_cancel: float
    p_test: float
    reply_speed: float
    agents: tuple[dict[str, Any], ...]
    cancel_reasons: tuple[str, ...]


class Simulator:
    """Simulates and observes runs; one instance per source, not thread-safe (one RNG)."""

    def __init__(self, iso: IsoFn) -> None:
        self._iso = iso
        self._rng = random.Random()
        # The C-level seed: identical to Random.seed for ints, without the Python wrapper.
        self._seed = _random.Random.seed

    def observe(
        self,
        run_id: str,
        seed: int,
        version: CompiledVersion,
        behaviour: FlowBehaviour,
        outbound: bool,
        created: int,
        first_at: int,
        at: int,
        contact: dict[str, Any],
        flow_obj: dict[str, Any],
        version_obj: dict[str, Any],
        execution_id: str | None,
    ) -> tuple[dict[str, Any], str, int]:
        """The run's record as the API would return it at ``at`` (Unix seconds).

        Returns ``(record, status, last_change)`` where ``last_change`` is the latest moment at
        or before ``at`` when the run or one of its steps changed; an incremental sync re-emits
        a run only when that moment falls inside its window.
        """
        iso = self._iso
        rng = self._rng
        self._seed(rng, seed)
        r = rng.random
        created_s = iso(created)
        steps: list[dict[str, Any]] = []
        record = {
            "id": run_id,
            "contact": contact,
            "status": READY,
            "status_reason": None,
            "status_triggered_by": None,
            "status_last_change_on": created_s,
            "created_on": created_s,
            "is_test": r() < behaviour.p_test,
            "flow_execution": execution_id,
            "flow": flow_obj,
            "flow_version": version_obj,
            "execution_steps": steps,
        }
        if first_at > at:
            return record, READY, created
        if outbound and r() < behaviour.p_inbox_cancel:
            record["status"] = CANCELED
            record["status_reason"] = INBOX_REASON
            record["status_last_change_on"] = iso(first_at)
            return record, CANCELED, first_at

        # Timestamps of the same day share a prefix: format them inline, not through iso().
        tod = TIME_OF_DAY
        day0 = first_at - first_at % DAY
        prefix = iso(day0)[:11]
        head = run_id[:14] + "5"
        tail = run_id[18:]
        step_hex = _STEP_HEX
        p_cancel = behaviour.p_manual_cancel
        speed = behaviour.reply_speed
        node: Node | None = version.start
        t = first_at
        last_change = first_at
        status = RUNNING
        reason: str | None = None
        triggered_by: dict[str, Any] | None = None
        attempts: dict[str, int] | None = None
        last_attempts = 0
        index = 0
        while node is not None:
            if t > at:
                break
            if index >= MAX_STEPS:
                status, reason = FAILED, "Flow step limit reached"
                break
            kind = node.kind
            # Invalid answers so far, as the API would show them while the step still waits.
            seen_attempts = attempts.get(node.id, 0) if attempts else 0
            step_status = COMPLETED
            step_reason: str | None = None
            has_error = False
            vfa = 0
            end = t
            nxt: Node | None = None
            final: str | None = None  # the run's status when this step ends the run
            messages: list[dict[str, Any]] = []
            expire = 0
            if kind == PASS:
                if node.busy > 1:
                    end = t + int(r() * node.busy)
                nxt = node.default
            elif kind == SEND:
                if r() < node.p_fail:
                    step_status, step_reason, has_error, final = self._send_failure(
                        r, run_id, index, t, contact, node, messages
                    )
                else:
                    nxt = node.default
            elif kind == WAIT:
                if node.is_template and r() < node.p_fail:
                    step_status, step_reason, has_error, final = self._send_failure(
                        r, run_id, index, t, contact, node, messages
                    )
                else:
                    expire = t + node.wait
                    reply_at = 0
                    if r() < node.p_reply:
                        reply_at = t + 2 + int(exp(_LN_MIN + (r() ** 1.6) * _LN_SPAN) / speed)
                        if reply_at >= expire:
                            reply_at = 0
                    if p_cancel and r() < p_cancel:
                        # An agent takes the conversation over while the flow waits.
                        end = t + 1 + int(r() * ((reply_at or expire) - t - 1))
                        step_status = CANCELED
                        i = int(r() * len(behaviour.agents))
                        step_reason = behaviour.cancel_reasons[i]
                        triggered_by = behaviour.agents[i]
                        final = CANCELED
                    elif reply_at:
                        end = reply_at
                        if node.is_question:
                            if r() < node.p_valid:
                                nxt = node.default
                                vfa = seen_attempts
                            else:
                                if attempts is None:
                                    attempts = {}
                                (step_status, step_reason, has_error, final, nxt, vfa, end) = (
                                    self._invalid_answer(r, node, attempts, end, speed)
                                )
                                last_attempts = vfa
                        elif node.options:
                            nxt = node.options[bisect_right(node.cum, r())]
                        else:
                            nxt = node.default
                    else:
                        end = expire
                        if node.alternate is not None:
                            step_reason = node.no_reply_reason
                            nxt = node.alternate
                        else:
                            step_status = EXPIRED
                            step_reason = node.expired_reason
                            final = EXPIRED
            elif kind == COND:
                if node.gate:
                    nxt = node.options[0] if last_attempts >= node.gate else node.default
                else:
                    i = bisect_right(node.cum, r())  # the option whose weight band holds r()
                    nxt = node.options[i] if i < len(node.options) else node.default
            elif kind == ACTION:
                end = t + 1 + int(r() * node.busy)
                if r() < node.p_fail:
                    i = _pick(_HTTP_CUM, r())
                    has_error = True
                    if node.alternate is not None:
                        step_reason = HTTP_ERRORS[i][0]
                        nxt = node.alternate
                    else:
                        step_status = FAILED
                        step_reason = _HTTP_RUN_REASONS[i]
                        final = FAILED
                else:
                    nxt = node.default
            elif kind == DELAY:
                end = t + node.delay
                if p_cancel and r() < p_cancel:
                    end = t + 1 + int(r() * (node.delay - 1))
                    step_status = CANCELED
                    i = int(r() * len(behaviour.agents))
                    step_reason = behaviour.cancel_reasons[i]
                    triggered_by = behaviour.agents[i]
                    final = CANCELED
                else:
                    nxt = node.default
            # kind == END: completes on the spot with no exit.

            offset = t - day0
            if offset >= DAY:
                day0 = t - t % DAY
                prefix = iso(day0)[:11]
                offset = t - day0
            step_created = prefix + tod[offset]
            if end > at:
                steps.append(
                    {
                        "id": head + step_hex[index] + tail,
                        "step": node.d,
                        "status": RUNNING,
                        "status_reason": None,
                        "has_error": False,
                        "created_on": step_created,
                        "expire_on": iso(expire) if expire else None,
                        "validation_failed_attempts": seen_attempts,
                        "messages": [],
                        "status_last_change_on": step_created,
                    }
                )
                last_change = t
                triggered_by = None
                break
            steps.append(
                {
                    "id": head + step_hex[index] + tail,
                    "step": node.d,
                    "status": step_status,
                    "status_reason": step_reason,
                    "has_error": has_error,
                    "created_on": step_created,
                    "expire_on": iso(expire) if expire else None,
                    "validation_failed_attempts": vfa,
                    "messages": messages,
                    "status_last_change_on": step_created
                    if end == t
                    else prefix + tod[end - day0]
                    if end - day0 < DAY
                    else iso(end),
                }
            )
            index += 1
            last_change = end
            if final is not None:
                status, reason = final, step_reason
                break
            node = nxt
            t = end + (0 if kind == COND else 1 if r() < 0.7 else 2)
        else:
            status = COMPLETED

        if status == RUNNING:
            record["status"] = RUNNING
            record["status_last_change_on"] = iso(first_at)
        else:
            record["status"] = status
            record["status_reason"] = reason
            record["status_triggered_by"] = triggered_by
            record["status_last_change_on"] = iso(last_change)
        return record, status, last_change

    def _send_failure(
        self,
        r: Any,
        run_id: str,
        index: int,
        t: int,
        contact: dict[str, Any],
        node: Node,
        messages: list[dict[str, Any]],
    ) -> tuple[str, str, bool, str]:
        i = _pick(_SEND_CUM, r())
        code, text, _w = SEND_ERRORS[i]
        messages.append(self._failed_message(run_id, index, t, contact, node, code, text))
        return FAILED, _SEND_REASONS[i], True, FAILED

    @staticmethod
    def _invalid_answer(
        r: Any, node: Node, attempts: dict[str, int], end: int, speed: float
    ) -> tuple[str, str | None, bool, str | None, Node | None, int, int]:
        """An answer failed validation: loop through the failed branch, retry in place, or fail.

        Returns (step status, reason, has_error, run status or None, next node, attempts, end).
        """
        key = node.id
        vfa = attempts.get(key, 0) + 1
        limit = node.max_attempts
        if node.failed is not None and not (limit and vfa >= limit):
            attempts[key] = vfa
            return COMPLETED, "Answer failed validation", False, None, node.failed, vfa, end
        if node.failed is None:
            # No failed branch: the step asks again itself until an answer passes.
            while not (limit and vfa >= limit):
                end += 2 + int(exp(_LN_MIN + r() * 4.0) / speed)
                if r() < node.p_valid:
                    attempts[key] = vfa
                    return COMPLETED, None, False, None, node.default, vfa, end
                vfa += 1
        attempts[key] = vfa
        reason = f"Maximum answer attempts reached ({limit})"
        return FAILED, reason, True, FAILED, None, vfa, end

    def _failed_message(
        self,
        run_id: str,
        index: int,
        t: int,
        contact: dict[str, Any],
        node: Node,
        code: str,
        text: str,
    ) -> dict[str, Any]:
        ts = self._iso(t)
        return {
            "message": {
                "id": f"wamid.{run_id[:8]}{run_id[-12:]}{index:02x}",
                "direction": "outbound",
                "to_number": contact["phone"],
                "contact": contact["id"],
                "body": node.d.get("body"),
                "msg_type": node.msg_type,
                "status": "failed",
                "timestamp": ts,
                "failed_on": ts,
                "provider_error_code": code,
                "provider_error_message": text,
            }
        }
