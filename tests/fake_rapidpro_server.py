"""A local stand-in for RapidPro/TextIt's API v2: flows, definitions and runs.

``/api/v2/flows.json`` and ``/api/v2/runs.json`` use cursor pagination (``next`` links carrying
an opaque ``cursor``); ``runs.json`` filters on ``modified_on`` with inclusive ``after``/``before``
bounds and lists newest first unless ``reverse=true``, as the real API does. The workspace is
built from the fixture export and archive (tests/fixtures/vendors/), its runs replicated with
new uuids and times; several runs share one ``modified_on`` so the inclusive bound matters.
"""

from __future__ import annotations

import copy
import gzip
import json
import random
import urllib.parse
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.fake_http import FakeServer

TOKEN = "rp-test-token-0b7e1d"
FIXTURES = Path(__file__).parent / "fixtures" / "vendors"
BASE = datetime(2026, 3, 1, 10, 0, 0, tzinfo=UTC)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


class FakeRapidPro(FakeServer):
    def __init__(self, runs: int = 30, *, page_size: int = 7, seed: int = 3, **kwargs: Any):
        super().__init__(**kwargs)
        self.token = TOKEN
        self.page_size = page_size
        self.rng = random.Random(seed)
        export = json.loads((FIXTURES / "rapidpro_export_13.json").read_text(encoding="utf-8"))
        self.export_meta = {k: v for k, v in export.items() if k != "flows"}
        self.flows = export["flows"]
        self.flow_modified = {f["uuid"]: stamp(BASE - timedelta(days=1)) for f in self.flows}
        templates = [
            json.loads(line)
            for line in gzip.decompress((FIXTURES / "rapidpro_runs.jsonl.gz").read_bytes())
            .decode("utf-8")
            .splitlines()
        ]
        self.runs: list[dict[str, Any]] = []
        for index in range(runs):
            run = copy.deepcopy(templates[index % len(templates)])
            run["uuid"] = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
            run["id"] = 10_000 + index
            started = BASE + timedelta(minutes=index)
            for step, item in enumerate(run["path"]):
                item["time"] = stamp(started + timedelta(seconds=20 * step))
            run["created_on"] = run["path"][0]["time"]
            # Three runs at a time share one modified_on, as a bulk update leaves them.
            run["modified_on"] = stamp(BASE + timedelta(minutes=index - index % 3, seconds=59))
            if run.get("exited_on"):
                run["exited_on"] = run["modified_on"]
            self.runs.append(run)

    @property
    def url(self) -> str:
        return self.origin  # users type the host; the connector adds /api/v2

    def authorized(self, headers: Any) -> bool:
        return headers.get("Authorization") == f"Token {self.token}"

    # -- changes upstream ---------------------------------------------------------------------

    def finish(self, run_uuid: str, exit_type: str, when: datetime) -> None:
        """A waiting run ends: its status and modified_on change."""
        run = next(r for r in self.runs if r["uuid"] == run_uuid)
        run["exit_type"] = exit_type
        run["exited_on"] = run["modified_on"] = stamp(when)

    def edit_flow(self, flow_uuid: str, text: str, when: datetime) -> None:
        flow = next(f for f in self.flows if f["uuid"] == flow_uuid)
        flow["nodes"][0]["actions"][0]["text"] = text
        flow["revision"] = int(flow.get("revision") or 0) + 1
        self.flow_modified[flow_uuid] = stamp(when)

    # -- routing ------------------------------------------------------------------------------

    def respond(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        params = {k: v[-1] for k, v in query.items()}
        if path == "/api/v2/flows.json":
            rows = [
                {
                    "uuid": f["uuid"],
                    "name": f["name"],
                    "type": "message",
                    "archived": False,
                    "expires": f.get("expire_after_minutes"),
                    "modified_on": self.flow_modified[f["uuid"]],
                }
                for f in self.flows
            ]
            return 200, self._page(rows, params, path, 1)
        if path == "/api/v2/definitions.json":
            wanted = query.get("flow", [])
            flows = [f for f in self.flows if f["uuid"] in wanted]
            return 200, {**self.export_meta, "flows": copy.deepcopy(flows)}
        if path == "/api/v2/runs.json":

            def moment(text: str) -> datetime:
                return datetime.fromisoformat(text.replace("Z", "+00:00"))

            rows = self.runs
            if "after" in params:
                rows = [r for r in rows if moment(r["modified_on"]) >= moment(params["after"])]
            if "before" in params:
                rows = [r for r in rows if moment(r["modified_on"]) <= moment(params["before"])]
            reverse = params.get("reverse") == "true"
            rows = sorted(rows, key=lambda r: (r["modified_on"], r["id"]), reverse=not reverse)
            return 200, self._page(rows, params, path, self.page_size)
        return 404, {"detail": "Not found."}

    def _page(self, rows: list[Any], params: dict[str, str], path: str, size: int) -> dict:
        offset = int(params.get("cursor", "0") or 0)
        chunk = rows[offset : offset + size]
        following = None
        if offset + size < len(rows):
            rest = {k: v for k, v in params.items() if k != "cursor"}
            query = urllib.parse.urlencode(sorted(rest.items()))
            following = f"{self.origin}{path}?cursor={offset + size}" + (
                f"&{query}" if query else ""
            )
        return {"next": following, "previous": None, "results": copy.deepcopy(chunk)}
