"""A local stand-in for ActiveCampaign's WhatsApp flows API, with fault injection.

It serves the four endpoints Flowdesk reads, shaped after the OpenAPI spec
(``/channel/whatsapp/flow-execution-contact[/{id}]``, ``/channel/whatsapp/flow-execution[/{id}]``)
with DRF page pagination (``page``, ``page_size`` capped at ``max_page_size``, ``404 Invalid
page.``), the documented filters, and the upstream counters computed from its own runs.

It listens on 127.0.0.1 only, on a free port, and stops by itself after ``lifetime`` seconds even
if a test forgets to stop it.
"""

from __future__ import annotations

import copy
import json
import random
import re
import socket
import struct
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fake_http import FakeServer

TOKEN = "ac-test-token-6f1c2b"
BASE = datetime(2026, 11, 1, 9, 0, 0, tzinfo=UTC)
USERS = [
    {"id": 11, "email": "maria@example.com", "first_name": "María", "last_name": "Gómez"},
    {"id": 12, "email": "ops@example.com", "first_name": "", "last_name": ""},
]

# Names chosen to exercise unicode and spreadsheet formula injection.
FIRST_NAMES = [
    "José",
    "Zoë 🚀",
    "李雷",
    "محمد",
    "Ana\nMaría",
    '"Bob"',
    "+cmd|' /C calc'!A0",
    "Ørjan",
    "@handle",
    "Łucja",
    "",
    "Ngozi",
]
LAST_NAMES = [
    "Núñez",
    "=SUM(A1)",
    None,
    "O'Neil",
    "-2+3",
    "Ünal",
    "Smith, Jr.",
    "ﺍﻟﻌﺮﺑﻴﺔ",
    "\tTab",
    "Dupont",
]


def iso(moment: datetime, style: int = 0) -> str:
    """Timestamps in the shapes DRF emits (with Z, with microseconds, with an offset)."""
    if style == 1:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"
    if style == 2:
        return moment.astimezone(timezone(timedelta(hours=-3))).isoformat()
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class Ids:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def __call__(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))


def _step(
    step_id: str, version_id: str, step_type: str, name: str, ordering: int, **exits: Any
) -> dict[str, Any]:
    return {
        "id": step_id,
        "flow_version": version_id,
        "name": name,
        "step_type": step_type,
        "next_step_default": exits.get("default", ""),
        "next_step_alternate": exits.get("alternate", ""),
        "next_steps_for_options": exits.get("options", []),
        "answer_options": exits.get("labels", []),
        "answer_failed_next_step": exits.get("failed"),
        "ordering_idx": ordering,
        "has_max_wait_time": "wait" in exits,
        "max_wait_time_amount": exits.get("wait", 0),
        "max_wait_time_unit": "HOUR",
        "body": exits.get("body", f"Body of {name}"),
        "conditions": [],
        "paths": [],
        "time_windows": [],
        "assign_to_teams": [],
        "assign_to_users": [],
        "whatsapp_template": None,
        "whatsapp_template_variables": None,
        "body_file": None,
    }


@dataclass
class Flow:
    id: str
    name: str
    trigger_type: str
    versions: list[str] = field(default_factory=list)
    current_version: str | None = None


@dataclass
class Version:
    id: str
    flow_id: str
    name: str
    description: str
    created_on: datetime
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    first_step: str = ""
    # Named routes through the graph: (step key, step status) lists, per final run status.
    routes: dict[str, list[list[tuple[str, str]]]] = field(default_factory=dict)


@dataclass
class Execution:
    id: str
    flow_id: str
    version_id: str
    created_by: dict[str, Any]
    created_on: datetime
    execute_for: str
    contact_filters: list[dict[str, Any]]
    contact_import: str | None
    status: str = "COMPLETED"


@dataclass
class Run:
    id: str
    flow_id: str
    version_id: str
    contact: dict[str, Any]
    created_on: datetime
    status: str
    status_reason: str | None
    is_test: bool
    execution_id: str | None
    path: list[dict[str, Any]]
    status_last_change_on: datetime | None = None


class FakeAccount:
    """The upstream's data. Deterministic for a seed; mutate it between syncs."""

    def __init__(self, seed: int = 7, runs: int = 40) -> None:
        self.ids = Ids(seed)
        self.rng = random.Random(seed + 1)
        self.flows: dict[str, Flow] = {}
        self.versions: dict[str, Version] = {}
        self.executions: dict[str, Execution] = {}
        self.runs: dict[str, Run] = {}
        self.contacts: list[dict[str, Any]] = []
        self.clock = BASE
        self._build_catalogue()
        self._build_contacts(24)
        # Every route of every version once (so each step type and outcome is present), then
        # random runs up to ``runs``.
        planned = [
            (self.flows[version.flow_id], version, status, index)
            for version in self.versions.values()
            for status, routes in version.routes.items()
            for index in range(len(routes))
        ]
        for flow, version, status, index in planned[:runs]:
            self.add_run(status, flow=flow, version=version, route=index)
        for _ in range(runs - len(planned)):
            self.add_run()

    # -- catalogue -------------------------------------------------------------------------

    def _inbound_version(self, flow: Flow, name: str, created: datetime, with_ai: bool) -> Version:
        vid = self.ids()
        s = {
            k: self.ids()
            for k in ("welcome", "menu", "ask", "invalid", "lookup", "bye", "ai", "never")
        }
        steps = {
            "welcome": _step(
                s["welcome"],
                vid,
                "TEMPLATE",
                "Bienvenida 👋",
                1,
                default=s["menu"],
                labels=["Start"],
                options=[s["menu"]],
            ),
            "menu": _step(
                s["menu"],
                vid,
                "MENU",
                "Menú principal",
                2,
                options=[s["ask"], s["ai"] if with_ai else s["lookup"], s["never"]],
                labels=["Pedido", "Asistente", "Hablar con alguien"],
                alternate=s["bye"],
                wait=2,
            ),
            "ask": _step(
                s["ask"],
                vid,
                "QUESTION",
                "¿Número de pedido?",
                3,
                default=s["lookup"],
                failed=s["invalid"],
            ),
            "invalid": _step(s["invalid"], vid, "MESSAGE", "Número inválido", 4, default=s["ask"]),
            "lookup": _step(
                s["lookup"],
                vid,
                "ACTION",
                "Consultar pedido",
                5,
                default=s["bye"],
                alternate=s["ai"] if with_ai else s["bye"],
            ),
            "bye": _step(s["bye"], vid, "END", "Gracias", 6),
            # An undocumented step type: kept and drawn generically.
            "ai": _step(s["ai"], vid, "AI_AGENT_HANDOFF", "Asistente IA", 7, default=s["bye"]),
        }
        if not with_ai:
            del steps["ai"]
        # "never" is referenced by the menu but no run ever executes it (a placeholder node).
        version = Version(
            vid,
            flow.id,
            name,
            f"{name} — notes <b>&amp;</b>",
            created,
            steps=steps,
            first_step="welcome",
        )
        done = "COMPLETED"
        version.routes = {
            "COMPLETED": [
                [("welcome", done), ("menu", done), ("ask", done), ("lookup", done), ("bye", done)],
                [
                    ("welcome", done),
                    ("menu", done),
                    ("ask", done),
                    ("invalid", done),
                    ("ask", done),
                    ("lookup", done),
                    ("bye", done),
                ],
            ]
            + (
                [[("welcome", done), ("menu", done), ("ai", done), ("bye", done)]]
                if with_ai
                else []
            ),
            "EXPIRED": [
                [("welcome", done), ("menu", "EXPIRED")],
                [("welcome", done), ("menu", done), ("ask", "EXPIRED")],
            ],
            "RUNNING": [
                [("welcome", done), ("menu", "RUNNING")],
                [("welcome", done), ("menu", done), ("ask", "RUNNING")],
            ],
            "READY": [[("welcome", "WAITING_TO_START")]],
            "FAILED": [[("welcome", done), ("menu", done), ("ask", done), ("lookup", "FAILED")]],
            "CANCELED": [[("welcome", done), ("menu", "CANCELED")]],
        }
        return version

    def _outbound_version(self, flow: Flow, created: datetime) -> Version:
        vid = self.ids()
        s = {k: self.ids() for k in ("promo", "delay", "cond", "tag", "end")}
        steps = {
            "promo": _step(
                s["promo"],
                vid,
                "TEMPLATE",
                "Promo Navidad 🎄",
                1,
                default=s["delay"],
                options=[s["cond"]],
                labels=["Quiero"],
                alternate=s["end"],
            ),
            "delay": _step(s["delay"], vid, "DELAY", "Esperar 1 día", 2, default=s["cond"]),
            "cond": _step(
                s["cond"],
                vid,
                "CONDITIONAL",
                "¿Cliente VIP?",
                3,
                options=[s["tag"]],
                default=s["end"],
            ),
            "tag": _step(s["tag"], vid, "TAG", "Etiquetar VIP", 4, default=s["end"]),
            "end": _step(s["end"], vid, "END", "Fin", 5),
        }
        version = Version(vid, flow.id, "v1", "", created, steps=steps, first_step="promo")
        done = "COMPLETED"
        version.routes = {
            "COMPLETED": [
                [("promo", done), ("cond", done), ("tag", done), ("end", done)],
                [("promo", done), ("delay", done), ("cond", done), ("end", done)],
            ],
            "EXPIRED": [[("promo", "EXPIRED")]],
            "RUNNING": [[("promo", done), ("delay", "RUNNING")]],
            "READY": [[("promo", "WAITING_TO_START")]],
            "FAILED": [[("promo", "FAILED")]],
            "CANCELED": [[("promo", done), ("delay", "CANCELED")]],
        }
        return version

    def _build_catalogue(self) -> None:
        inbound = Flow(self.ids(), "Pedidos – atención 🛒", "INBOUND_ANY_MESSAGE")
        outbound = Flow(self.ids(), 'Promo "Navidad" =HYPERLINK()', "OUTBOUND_CAMPAIGN_CSV")
        for flow in (inbound, outbound):
            self.flows[flow.id] = flow
        old = self._inbound_version(inbound, "Versión 1", BASE - timedelta(days=30), False)
        new = self._inbound_version(inbound, "Versión 2", BASE - timedelta(days=3), True)
        out = self._outbound_version(outbound, BASE - timedelta(days=10))
        for version in (old, new, out):
            self.versions[version.id] = version
            self.flows[version.flow_id].versions.append(version.id)
        inbound.current_version = new.id
        outbound.current_version = out.id
        self.inbound, self.outbound = inbound, outbound
        for index, (execute_for, filters, imported) in enumerate(
            [
                ("LIST", [], self.ids()),  # a CSV upload
                (
                    "FILTERS",
                    [
                        {
                            "id": self.ids(),
                            "field": "contact.tags",
                            "comparison": "contains",
                            "value": "vip",
                        }
                    ],
                    None,
                ),
                ("LIST", [], None),  # through the API
            ]
        ):
            execution = Execution(
                self.ids(),
                outbound.id,
                out.id,
                USERS[index % 2],
                BASE - timedelta(days=5 - index),
                execute_for,
                filters,
                imported,
            )
            self.executions[execution.id] = execution

    def _build_contacts(self, count: int) -> None:
        for index in range(count):
            first = FIRST_NAMES[index % len(FIRST_NAMES)]
            last = LAST_NAMES[index % len(LAST_NAMES)]
            self.contacts.append(
                {
                    "id": str(1000 + index),
                    "phone": f"+52155{index:08d}",
                    "first_name": first,
                    "last_name": last,
                    "email": f"c{index}@example.com" if index % 3 else None,
                    "canonical_phone": f"52155{index:08d}",
                    "source": "whatsapp",
                    "is_deleted": False,
                    "created_on": iso(BASE - timedelta(days=60)),
                    "last_updated_on": iso(BASE - timedelta(days=1)),
                    "meta": {"note": "x"},
                }
            )

    # -- runs ------------------------------------------------------------------------------

    def _path(
        self, version: Version, route: list[tuple[str, str]], start: datetime, run_id: str
    ) -> list[dict[str, Any]]:
        steps = []
        for index, (key, status) in enumerate(route):
            moment = start + timedelta(minutes=index * 3)
            failed = status == "FAILED"
            steps.append(
                {
                    "id": f"{run_id}-{index}",
                    "step": version.steps[key],
                    "status": status,
                    "status_reason": "HTTP 502 from the order system" if failed else None,
                    "has_error": failed,
                    "created_on": iso(moment, index % 3),
                    "expire_on": iso(moment + timedelta(hours=24)),
                    "status_last_change_on": iso(moment),
                    "validation_failed_attempts": 0,
                    "execution_result": None,
                    "request_data": None,
                    "status_triggered_by": None,
                    "messages": [
                        {
                            "message": {
                                "id": f"m-{run_id}-{index}",
                                "provider_error_code": 131026,
                                "provider_error_message": "Message undeliverable",
                            }
                        }
                    ]
                    if failed
                    else [],
                }
            )
        return steps

    def add_run(
        self,
        status: str | None = None,
        *,
        flow: Flow | None = None,
        version: Version | None = None,
        route: int | None = None,
        is_test: bool | None = None,
    ) -> Run:
        rng = self.rng
        flow = flow or (self.inbound if rng.random() < 0.6 else self.outbound)
        version = version or self.versions[rng.choice(flow.versions)]
        status = status or rng.choice(
            [
                "COMPLETED",
                "COMPLETED",
                "COMPLETED",
                "EXPIRED",
                "RUNNING",
                "READY",
                "FAILED",
                "CANCELED",
            ]
        )
        routes = version.routes[status]
        steps = routes[route] if route is not None else rng.choice(routes)
        contact = rng.choice(self.contacts)
        self.clock += timedelta(minutes=rng.randint(1, 90))
        run_id = self.ids()
        execution_id = None
        if flow is self.outbound:
            execution_id = rng.choice(list(self.executions))
        run = Run(
            id=run_id,
            flow_id=flow.id,
            version_id=version.id,
            contact=contact,
            created_on=self.clock,
            status=status,
            status_reason={
                "FAILED": "External API call failed",
                "CANCELED": "Open conversation in Inbox",
            }.get(status),
            is_test=(rng.random() < 0.1) if is_test is None else is_test,
            execution_id=execution_id,
            path=self._path(version, steps, self.clock, run_id),
            status_last_change_on=self.clock + timedelta(minutes=len(steps) * 3),
        )
        self.runs[run_id] = run
        return run

    def finish(self, run_id: str, status: str) -> None:
        """Move an active run on to a final status along a route of that status."""
        run = self.runs[run_id]
        version = self.versions[run.version_id]
        route = version.routes[status][0]
        run.status = status
        run.status_reason = "External API call failed" if status == "FAILED" else None
        run.path = self._path(version, route, run.created_on, run.id)
        run.status_last_change_on = run.created_on + timedelta(hours=2)

    def advance(self, run_id: str) -> None:
        """An active run takes one more step and stays RUNNING."""
        run = self.runs[run_id]
        version = self.versions[run.version_id]
        route = max(version.routes["RUNNING"], key=len)
        run.status = "RUNNING"
        run.path = self._path(version, route, run.created_on, run.id)

    def add_execution(self, execute_for: str = "LIST") -> Execution:
        version = self.versions[self.outbound.current_version or ""]
        self.clock += timedelta(minutes=5)
        execution = Execution(
            self.ids(), self.outbound.id, version.id, USERS[0], self.clock, execute_for, [], None
        )
        self.executions[execution.id] = execution
        return execution

    # -- counters (the API's own) -----------------------------------------------------------

    def counters(self, **match: str) -> dict[str, int]:
        runs = [
            r
            for r in self.runs.values()
            if all(getattr(r, key) == value for key, value in match.items())
        ]
        count = {
            "num_contacts": len(runs),
            "expired": 0,
            "running": 0,
            "completed": 0,
            "canceled": 0,
            "failed": 0,
        }
        for run in runs:
            key = "running" if run.status in ("READY", "RUNNING") else run.status.lower()
            count[key] += 1
        return count

    # -- serialisation ----------------------------------------------------------------------

    def flow_list_read(self, flow: Flow) -> dict[str, Any]:
        return {
            "id": flow.id,
            "name": flow.name,
            "created_by": USERS[0],
            "created_on": iso(BASE - timedelta(days=40)),
            "is_active": True,
            "status": "PUBLISHED",
            "is_legacy": False,
            "channel": {"id": 3, "name": "WhatsApp +52", "channel_type": "WHATSAPP"},
            "current_version": flow.current_version,
            "trigger_type": flow.trigger_type,
            "trigger_config": {},
            "avg_completion_time": "00:12:00",
            **self.counters(flow_id=flow.id),
        }

    def flow_simple_read(self, flow: Flow) -> dict[str, Any]:
        return {
            "id": flow.id,
            "name": flow.name,
            "created_by": USERS[0],
            "created_on": iso(BASE - timedelta(days=40)),
            "channel": {"id": 3, "name": "WhatsApp +52", "channel_type": "WHATSAPP"},
            "trigger_type": flow.trigger_type,
            "flow_execution_variables": None,
        }

    def version_read(self, version: Version, with_flow: bool = False) -> dict[str, Any]:
        flow = self.flows[version.flow_id]
        data = {
            "id": version.id,
            "version_name": version.name,
            "version_description": version.description,
            "published_by": USERS[0],
            "created_on": iso(version.created_on),
            "last_updated_on": iso(version.created_on),
            "is_current_version": flow.current_version == version.id,
            **self.counters(version_id=version.id),
        }
        if with_flow:
            data["flow"] = self.flow_simple_read(flow)
        return data

    def run_list_row(self, run: Run) -> dict[str, Any]:
        return {
            "id": run.id,
            "contact": run.contact,
            "status": run.status,
            "created_on": iso(run.created_on, 1),
            "status_reason": run.status_reason,
            "is_test": run.is_test,
            "flow_version": run.version_id,
            "flow": run.flow_id,
            "flow_name": self.flows[run.flow_id].name,
        }

    def run_detail(self, run: Run) -> dict[str, Any]:
        return {
            "id": run.id,
            "contact": run.contact,
            "status": run.status,
            "execution_steps": run.path,
            "created_on": iso(run.created_on, 1),
            "flow_execution": run.execution_id,
            "status_reason": run.status_reason,
            "flow": self.flow_list_read(self.flows[run.flow_id]),
            "flow_version": self.version_read(self.versions[run.version_id]),
            "status_triggered_by": None,
            "status_last_change_on": iso(run.status_last_change_on)
            if run.status_last_change_on
            else None,
            "inbox_contact_id": str(uuid.uuid5(uuid.NAMESPACE_URL, "inbox/" + run.id)),
            "is_test": run.is_test,
        }

    def execution_list_row(self, execution: Execution) -> dict[str, Any]:
        return {
            "id": execution.id,
            "status": execution.status,
            "execute_for": execution.execute_for,
            "has_priority": False,
            "flow_execution_variables": None,
            "start_on": iso(execution.created_on + timedelta(minutes=5)),
            "created_on": iso(execution.created_on),
            "avg_completion_time": "00:05:00",
            "status_reason": None,
            "status_triggered_by": None,
            "status_last_change_on": iso(execution.created_on),
            "created_by": execution.created_by,
            "flow_version": execution.version_id,
            **self.counters(execution_id=execution.id),
        }

    def execution_detail(self, execution: Execution) -> dict[str, Any]:
        data = self.execution_list_row(execution)
        data.update(
            {
                "contact_filters": execution.contact_filters,
                "contact_import": execution.contact_import,
                "flow": self.flow_simple_read(self.flows[execution.flow_id]),
                "flow_version": self.version_read(self.versions[execution.version_id], True),
                "last_run_on": iso(execution.created_on + timedelta(hours=1)),
            }
        )
        return data


@dataclass
class Fault:
    # 429 | 500 | 502 | 503 | timeout | reset | malformed | 401 | 403 | 404 | slow (a valid body
    # sent one byte every ``FakeACServer.drip`` seconds)
    kind: str
    match: str  # regex searched in "path?query"
    times: int = 1
    retry_after: str | None = "1"


class FakeACServer(FakeServer):
    """Serve a :class:`FakeAccount` on 127.0.0.1; use as a context manager."""

    def __init__(
        self,
        account: FakeAccount | None = None,
        *,
        token: str = TOKEN,
        max_page_size: int = 100,
        default_page_size: int = 20,
        latency: float = 0.0,
        hang: float = 1.0,
        lifetime: float = 120.0,
        auth: str = "authorization",
    ) -> None:
        super().__init__(lifetime=lifetime)
        self.account = account or FakeAccount()
        self.token = token
        # Which header the gateway checks: "authorization" (``Authorization: Token <key>``, the
        # WhatsApp spec) or "api-token" (``Api-Token: <key>``, ActiveCampaign's v3 convention).
        self.auth = auth
        self.max_page_size = max_page_size
        self.default_page_size = default_page_size
        self.latency = latency
        self.hang = hang
        self.faults: list[Fault] = []  # type: ignore[assignment] - kinds, not only statuses
        # Hostile but valid answers: (regex on "path?query", function given the JSON to send,
        # returning what to send instead). They stay until removed.
        self.patches: list[tuple[str, Any]] = []
        # A listing whose ``next`` never ends: None, "repeat" (pages past the end repeat the last
        # page) or "fresh" (pages past the end hold new, unknown ids).
        self.endless: str | None = None
        self.drip = 0.2  # seconds per byte of a "slow" fault
        self.unlisted_executions: set[str] = set()  # created "after" the listing was read
        self.in_flight = 0
        self.max_in_flight = 0

    def _handler_base(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    def authorized(self, headers: Any) -> bool:
        if self.auth == "api-token":
            return headers.get("Api-Token") == self.token
        return headers.get("Authorization") == f"Token {self.token}"

    @property
    def base_url(self) -> str:
        return f"{self.origin}/api/3"

    # -- faults and log ---------------------------------------------------------------------

    def add_fault(  # type: ignore[override] - a kind, not only a status
        self, kind: str, match: str = ".", times: int = 1, retry_after: str | None = "1"
    ) -> None:
        with self.lock:
            self.faults.append(Fault(kind, match, times, retry_after))

    def add_patch(self, match: str, change) -> None:  # noqa: ANN001 - a callable
        """Answer requests matching ``match`` with ``change(data)`` instead of ``data``."""
        with self.lock:
            self.patches.append((match, change))

    def patch_run(self, run_id: str, change) -> None:  # noqa: ANN001 - a callable
        """Corrupt one run's detail in place: ``change(detail)`` mutates the JSON object."""

        def apply(data: Any) -> Any:
            data = copy.deepcopy(data)  # the detail shares step objects with the account
            change(data)
            return data

        self.add_patch(rf"flow-execution-contact/{re.escape(run_id)}(\?|$)", apply)

    def clear_patches(self) -> None:
        with self.lock:
            self.patches.clear()

    def patched(self, target: str, data: Any) -> Any:
        with self.lock:
            changes = [change for match, change in self.patches if re.search(match, target)]
        for change in changes:
            data = change(data)
        return data

    def settle(self, timeout: float = 5.0) -> None:
        """Wait for requests still being served (a hanging fault outlives the client's wait)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self.in_flight == 0:
                    return
            time.sleep(0.01)

    def detail_ids(self, kind: str = "flow-execution-contact") -> list[str]:
        prefix = f"/api/3/channel/whatsapp/{kind}/"
        return [t[len(prefix) :].split("?")[0] for t in self.requests(re.escape(prefix))]

    # -- routing ----------------------------------------------------------------------------

    def respond(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        params = {k: v[-1] for k, v in query.items()}
        match = re.fullmatch(
            r"/api/3/channel/whatsapp/(flow-execution-contact|flow-execution)"
            r"(?:/([^/]+))?/?",
            path,
        )
        if not match:
            return 404, {"detail": "Not found."}
        kind, item = match.groups()
        account = self.account
        with self.lock:  # the account may be mutated by the test between syncs
            if kind == "flow-execution-contact":
                if item:
                    run = account.runs.get(urllib.parse.unquote(item))
                    return (
                        (200, account.run_detail(run)) if run else (404, {"detail": "Not found."})
                    )
                rows = self._filter_runs(list(account.runs.values()), params)
                rows.sort(key=lambda r: (r.created_on, r.id), reverse=True)
                return self._page(rows, params, account.run_list_row, path)
            if item:
                execution = account.executions.get(urllib.parse.unquote(item))
                if execution is None:
                    return 404, {"detail": "Not found."}
                return 200, account.execution_detail(execution)
            executions = [
                e for e in account.executions.values() if e.id not in self.unlisted_executions
            ]
            if params.get("flow"):
                executions = [e for e in executions if e.flow_id == params["flow"]]
            if params.get("flow_version"):
                executions = [e for e in executions if e.version_id == params["flow_version"]]
            if params.get("search"):
                needle = params["search"].lower().replace(" ", "_")
                executions = [
                    e
                    for e in executions
                    if needle in e.status.lower() or needle in e.created_by["email"].lower()
                ]
            executions.sort(key=lambda e: (e.created_on, e.id), reverse=True)
            return self._page(executions, params, account.execution_list_row, path)

    @staticmethod
    def _filter_runs(runs: list[Run], params: dict[str, str]) -> list[Run]:
        for name, attr in (
            ("flow", "flow_id"),
            ("flow_version", "version_id"),
            ("flow_execution", "execution_id"),
            ("id", "id"),
        ):
            if params.get(name):
                runs = [r for r in runs if getattr(r, attr) == params[name]]
        if params.get("contact"):
            runs = [r for r in runs if r.contact["id"] == params["contact"]]
        if "is_active" in params:
            active = params["is_active"].lower() not in ("false", "0", "")
            runs = [r for r in runs if (r.status in ("READY", "RUNNING")) == active]
        if params.get("search"):
            needle = params["search"].lower()
            runs = [
                r
                for r in runs
                if any(
                    needle in str(r.contact.get(k) or "").lower()
                    for k in ("phone", "first_name", "last_name", "email")
                )
            ]
        return runs

    def _page(self, items: list[Any], params: dict[str, str], render, path: str):
        try:
            page = int(params.get("page", "1"))
            size = int(params.get("page_size", str(self.default_page_size)))
        except ValueError:
            return 404, {"detail": "Invalid page."}
        size = max(1, min(size, self.max_page_size))
        pages = max(1, -(-len(items) // size))
        endless = self.endless
        if page < 1 or (page > pages and not endless):
            return 404, {"detail": "Invalid page."}
        chunk = items[(page - 1) * size : page * size]
        rendered = [render(item) for item in chunk]
        if page > pages:
            rendered = [render(item) for item in items[(pages - 1) * size :]]
            if endless == "fresh":
                rendered = [dict(row, id=f"{row['id']}-p{page}") for row in rendered]

        def link(number: int) -> str:
            query = dict(params, page=str(number))
            return f"{self.base_url.rsplit('/api/3', 1)[0]}{path}?" + urllib.parse.urlencode(query)

        return 200, {
            "count": len(items),
            "next": link(page + 1) if page < pages or endless else None,
            "previous": link(page - 1) if page > 1 else None,
            "results": rendered,
        }


class _Handler(BaseHTTPRequestHandler):
    fake: FakeACServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        # Logged before the body goes out: a test reads the log as soon as its client is done,
        # which can be before this thread gets to run again.
        self._log(status)
        self.wfile.write(body)

    def _log(self, status: int) -> None:
        with self.fake.lock:
            self.fake.log.append((time.monotonic(), self.path, status))
        self._logged = True

    def do_GET(self) -> None:  # noqa: N802
        fake = self.fake
        with fake.lock:
            fake.in_flight += 1
            fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
        status = 0
        self._logged = False
        try:
            status = self._handle()
        finally:
            with fake.lock:
                fake.in_flight -= 1
            if not self._logged:  # a fault that sent nothing (timeout, reset)
                self._log(status)

    def _handle(self) -> int:
        fake = self.fake
        if fake.latency:
            time.sleep(fake.latency)
        split = urllib.parse.urlsplit(self.path)
        fault = fake.take_fault(self.path)
        if fault is not None:
            return self._fault(fault)
        if not fake.authorized(self.headers):
            self._send(401, b'{"detail": "Invalid token."}')
            return 401
        status, data = fake.respond(split.path, urllib.parse.parse_qs(split.query))
        if status == 200:
            data = fake.patched(self.path, data)
        try:
            body = json.dumps(data, ensure_ascii=False).encode()
        except UnicodeEncodeError:  # a lone surrogate: valid JSON only as an escape
            body = json.dumps(data).encode()
        self._send(status, body)
        return status

    def _fault(self, fault: Fault) -> int:
        kind = fault.kind
        if kind == "429":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            self._send(429, b'{"detail": "Request was throttled."}', headers=headers)
            return 429
        if kind in ("500", "502", "503"):
            self._send(int(kind), b"<html><body>Bad Gateway</body></html>", "text/html")
            return int(kind)
        if kind in ("401", "403"):
            self._send(int(kind), b'{"detail": "Invalid token."}')
            return int(kind)
        if kind == "404":
            self._send(404, b'{"detail": "Not found."}')
            return 404
        if kind == "malformed":
            self._send(200, b'{"id": "broken", "contact": {"id": ')
            return 200
        if kind == "timeout":
            time.sleep(self.fake.hang)
            self.close_connection = True
            return 0
        if kind == "slow":
            status, data = self.fake.respond(
                urllib.parse.urlsplit(self.path).path,
                urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query),
            )
            body = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.close_connection = True
            try:
                for index in range(len(body)):
                    self.wfile.write(body[index : index + 1])
                    self.wfile.flush()
                    time.sleep(self.fake.drip)
            except OSError:
                pass  # the client gave up: that is the point
            return status
        if kind == "reset":
            # An abortive close: the client sees a connection reset, not a clean EOF.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return 0
        raise ValueError(f"unknown fault {kind!r}")
