"""A local stand-in for Twilio Studio's REST API v2: Flows, Revisions, Executions and Steps.

Listings use Twilio's paging (``PageSize``, an opaque ``PageToken`` in ``meta.next_page_url``)
and list newest first; ``DateCreatedFrom``/``DateCreatedTo`` are inclusive. Requests need HTTP
Basic auth with the Account SID and auth token. The account holds the fixture definition
(tests/fixtures/vendors/twilio_studio_flow.json) as revision 2 of one flow, revision 1 being an
older wording, and executions that completed, expired, failed, were stopped, or still wait.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.fake_http import FakeServer

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "tw-test-auth-token-55d2"
FLOW_SID = "FW" + "0" * 31 + "a"
FIXTURE = Path(__file__).parent / "fixtures" / "vendors" / "twilio_studio_flow.json"
BASE = datetime(2026, 3, 1, 10, 0, 0, tzinfo=UTC)

# (status, [(from, event, to)]) — each a route through the fixture definition.
ROUTES: list[tuple[str, list[tuple[str, str, str]]]] = [
    (
        "ended",
        [
            ("Trigger", "incomingMessage", "saludo"),
            ("saludo", "incomingMessage", "split_reply"),
            ("split_reply", "match", "set_vars"),
            ("set_vars", "next", "http_book"),
            ("http_book", "success", "fn_confirm"),
            ("fn_confirm", "success", "subflow_survey"),
            ("subflow_survey", "completed", "Ended"),
        ],
    ),
    (
        "ended",
        [
            ("Trigger", "incomingCall", "say_hello"),
            ("say_hello", "audioComplete", "gather"),
            ("gather", "timeout", "Ended"),
        ],
    ),
    (
        "ended",
        [
            ("Trigger", "incomingMessage", "saludo"),
            ("saludo", "incomingMessage", "split_reply"),
            ("split_reply", "match", "handoff"),
            ("handoff", "callFailure", "Ended"),
        ],
    ),
    ("ended", [("Trigger", "incomingMessage", "saludo")]),  # stopped through the API
    (
        "active",
        [
            ("Trigger", "incomingMessage", "saludo"),
            ("saludo", "timeout", "recordatorio"),
            ("recordatorio", "sent", "saludo"),
        ],
    ),
]


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeTwilio(FakeServer):
    def __init__(self, executions: int = 20, *, page_size_max: int = 1000, **kwargs: Any):
        super().__init__(**kwargs)
        self.sid, self.token = ACCOUNT_SID, AUTH_TOKEN
        self.page_size_max = page_size_max
        latest = json.loads(FIXTURE.read_text(encoding="utf-8"))
        older = copy.deepcopy(latest)
        older["states"] = [s for s in older["states"] if s["name"] != "log_failure"]
        self.revisions = [
            {"revision": 1, "definition": older, "date_created": stamp(BASE - timedelta(days=10))},
            {"revision": 2, "definition": latest, "date_created": stamp(BASE - timedelta(hours=1))},
        ]
        self.flow = {
            "sid": FLOW_SID,
            "friendly_name": "Citas — clínica 🏥",
            "status": "published",
            "revision": 2,
            "date_created": stamp(BASE - timedelta(days=10)),
            "date_updated": stamp(BASE - timedelta(hours=1)),
        }
        self.executions: list[dict[str, Any]] = []
        self.steps: dict[str, list[dict[str, Any]]] = {}
        for index in range(executions):
            # The first two ran before revision 2 was published.
            started = BASE + timedelta(minutes=index * 7) - timedelta(hours=2 if index < 2 else 0)
            self.add_execution(index % len(ROUTES), started)

    @property
    def url(self) -> str:
        return self.origin + "/v2"

    def add_execution(self, route: int, started: datetime) -> str:
        status, hops = ROUTES[route]
        if started < BASE - timedelta(hours=1):
            hops = [h for h in hops if "log_failure" not in h]
        number = len(self.executions)
        sid = f"FN{number:032d}"
        self.executions.append(
            {
                "sid": sid,
                "account_sid": self.sid,
                "flow_sid": FLOW_SID,
                "contact_sid": f"FC{number % 7:032d}",
                "contact_channel_address": f"whatsapp:+1555000{number % 7:04d}",
                "status": status,
                "context": {},
                "date_created": stamp(started),
                "date_updated": stamp(started + timedelta(minutes=len(hops))),
            }
        )
        self.steps[sid] = [
            {
                "sid": f"FT{number:028d}{position:04d}",
                "execution_sid": sid,
                "name": event,
                "transitioned_from": source,
                "transitioned_to": target,
                "date_created": stamp(started + timedelta(seconds=30 * (position + 1))),
                "context": {},
            }
            for position, (source, event, target) in enumerate(hops)
        ]
        return sid

    def end(self, sid: str, when: datetime) -> None:
        """An active execution times out at its wait: a last step to Ended."""
        execution = next(e for e in self.executions if e["sid"] == sid)
        execution["status"] = "ended"
        execution["date_updated"] = stamp(when)
        last = self.steps[sid][-1]
        self.steps[sid].append(
            {
                **last,
                "sid": last["sid"][:-1] + "Z",
                "name": "timeout",
                "transitioned_from": "saludo",
            }
            | {"transitioned_to": "Ended", "date_created": stamp(when)}
        )

    def authorized(self, headers: Any) -> bool:
        expected = base64.b64encode(f"{self.sid}:{self.token}".encode()).decode()
        return headers.get("Authorization") == f"Basic {expected}"

    def respond(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        params = {k: v[-1] for k, v in query.items()}
        if path == "/v2/Flows":
            return 200, self._page("flows", [self.flow], params, path)
        flow = f"/v2/Flows/{FLOW_SID}"
        if path == f"{flow}/Revisions":
            rows = [
                {
                    "sid": FLOW_SID,
                    "friendly_name": self.flow["friendly_name"],
                    "status": "published",
                }
                | r
                for r in reversed(self.revisions)
            ]
            return 200, self._page("revisions", rows, params, path)
        if path == f"{flow}/Executions":
            rows = sorted(self.executions, key=lambda e: e["date_created"], reverse=True)
            if "DateCreatedFrom" in params:
                rows = [e for e in rows if e["date_created"] >= params["DateCreatedFrom"]]
            if "DateCreatedTo" in params:
                rows = [e for e in rows if e["date_created"] <= params["DateCreatedTo"]]
            return 200, self._page("executions", rows, params, path)
        match = re.fullmatch(rf"{flow}/Executions/(FN\w+?)(/Steps)?", path)
        if match:
            sid, steps = match.groups()
            execution = next((e for e in self.executions if e["sid"] == sid), None)
            if execution is None:
                return 404, {"code": 20404, "message": "not found", "status": 404}
            if steps:
                return 200, self._page("steps", list(reversed(self.steps[sid])), params, path)
            return 200, copy.deepcopy(execution)
        return 404, {"code": 20404, "message": "not found", "status": 404}

    def _page(self, key: str, rows: list[Any], params: dict[str, str], path: str) -> dict:
        size = min(int(params.get("PageSize", "50")), self.page_size_max)
        offset = int(params.get("PageToken", "PA0")[2:])
        page = int(params.get("Page", "0"))
        chunk = rows[offset : offset + size]
        following = None
        if offset + size < len(rows):
            rest = {k: v for k, v in params.items() if k not in ("PageToken", "Page")}
            rest |= {
                "PageSize": str(size),
                "Page": str(page + 1),
                "PageToken": f"PA{offset + size}",
            }
            following = f"{self.origin}{path}?{urllib.parse.urlencode(sorted(rest.items()))}"
        return {
            key: copy.deepcopy(chunk),
            "meta": {
                "page": page,
                "page_size": size,
                "first_page_url": f"{self.origin}{path}?PageSize={size}&Page=0",
                "previous_page_url": None,
                "url": f"{self.origin}{path}",
                "next_page_url": following,
                "key": key,
            },
        }
