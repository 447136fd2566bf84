"""RapidPro / TextIt's API v2 as a Flowdesk source (see docs/rapidpro-twilio.md).

A sync makes two passes:

1. ``GET /api/v2/flows.json`` lists the workspace's flows; the definition of every flow new or
   modified since the last sync is read from ``/api/v2/definitions.json`` (the export format)
   and yielded as ``definition`` records, one version per distinct node list.
2. ``GET /api/v2/runs.json?after=<modified_on>&reverse=true`` lists the runs changed since the
   last sync, oldest change first, following the ``next`` cursor links. Each page is one batch
   whose cursor is the newest ``modified_on`` it held. ``after`` is inclusive, so the runs
   carrying exactly that time come back next sync: their ids are kept in the cursor and skipped.

An interrupted sync resumes from the last committed page: the cursor moves only with a written
batch, and the next sync asks again from there.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from flowdesk.core.formats import rapidpro as spec
from flowdesk.core.formats.catalogue import Catalogue
from flowdesk.core.formats.common import FileFormatError, normalize_time
from flowdesk.core.sources.base import Batch, ConnectionInfo, Record, SyncState
from flowdesk.core.sources.credentials import check_token
from flowdesk.core.sources.http import ApiClient, BadResponseError, Politeness, check_politeness
from flowdesk.core.sources.urls import normalize_api_url
from flowdesk.core.sources.vendor_api import VendorApiSource

KIND = "rapidpro"
ENV_TOKEN = "FLOWDESK_RAPIDPRO_TOKEN"
KEYRING_SERVICE = "flowdesk-rapidpro"
DEFINITIONS_PER_REQUEST = 10
# RapidPro's documented limit is 2,500 requests an hour per token for most endpoints.
DEFAULT_RATE = 0.7


def normalize_url(url: str) -> str:
    """``textit.com`` or ``https://app.rapidpro.io[/api/v2]`` → ``https://…/api/v2``."""
    return normalize_api_url(
        url, "/api/v2", "https://textit.com or https://<your RapidPro host> (or end in /api/v2)"
    )


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(normalize_time(text) or text)


class RapidProSource(VendorApiSource):
    """Reads flow definitions and runs; see the module docstring for the strategy."""

    kind = KIND

    def __init__(
        self,
        url: str,
        token: str,
        *,
        catalogue: Catalogue | None = None,
        politeness: Politeness | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """``clock`` gives "now" (UTC) for the label of a flow without a revision number
        ("Imported … UTC"); tests pass a fixed one so two syncs name it alike."""
        base_url = normalize_url(url)
        super().__init__(
            base_url,
            check_token(token),
            catalogue=catalogue,
            politeness=politeness,
            default_rate=DEFAULT_RATE,
            sleep=sleep,
        )
        self._clock = clock or (lambda: datetime.now(UTC))
        host = self.base_url.split("://", 1)[1].split("/", 1)[0]
        self.name = f"RapidPro ({host})"

    def __repr__(self) -> str:  # never show the token
        return f"RapidProSource({self.base_url!r})"

    def _next_link(self, page: dict[str, Any]) -> Any:
        return page.get("next")

    def batches(self, state: SyncState, is_cancelled: Callable[[], bool]) -> Iterator[Batch]:
        client = self._start(state, is_cancelled)
        cursor = dict(state.cursor or {})
        flows_seen: dict[str, str] = dict(cursor.get("flows") or {})

        # 1. Definitions of new or changed flows.
        changed: list[dict[str, Any]] = []
        for page in self._pages(client, "flows.json", "results"):
            for flow in page:
                if not isinstance(flow, dict) or not flow.get("uuid"):
                    continue
                stamp = str(flow.get("modified_on") or "")
                if flows_seen.get(flow["uuid"]) != stamp or not stamp:
                    changed.append(flow)
        records: list[Record] = []
        for start in range(0, len(changed), DEFINITIONS_PER_REQUEST):
            group = changed[start : start + DEFINITIONS_PER_REQUEST]
            query = [("flow", f["uuid"]) for f in group] + [("dependencies", "none")]
            export = client.get_json("definitions.json?" + urllib.parse.urlencode(query))
            modified = {f["uuid"]: f.get("modified_on") for f in group}
            try:
                found = spec.definitions_from_export(
                    export, "definitions.json", self._clock(), source="API"
                )
            except FileFormatError as exc:
                raise BadResponseError(str(exc)) from None
            for definition in found:
                flow_id = definition["flow"]["id"]
                stamp = normalize_time(modified.get(flow_id))
                if stamp:
                    definition["flow_version"]["created_on"] = stamp
                self.catalogue.add_definition(definition)
                records.append(Record("definition", definition))
            for flow in group:
                flows_seen[flow["uuid"]] = str(flow.get("modified_on") or "")
        cursor["flows"] = flows_seen
        yield Batch(
            records,
            dict(cursor),
            note=f"{len(records):,} flow definitions",
            stats={"definitions": len(records), **client.take_stats()},
        )
        if is_cancelled():
            return

        # 2. Runs changed since the last sync, oldest change first.
        after = cursor.get("after")
        seen_at_after = set(cursor.get("seen") or [])
        params: dict[str, Any] = {"reverse": "true"}
        if after:
            params["after"] = after
        done = 0
        for page in self._pages(client, "runs.json", "results", params):
            runs: list[Record] = []
            problems: list[tuple[str, str]] = []
            newest = after
            newest_ids = set(seen_at_after)
            skipped = 0
            for raw in page:
                problem = spec.run_problem(raw)
                run_id = str(raw.get("uuid") or raw.get("id")) if isinstance(raw, dict) else "?"
                if problem:
                    problems.append((run_id, f"run {problem}"))
                    continue
                modified = str(raw.get("modified_on") or raw["created_on"])
                if after and modified == after and run_id in seen_at_after:
                    skipped += 1  # the inclusive bound returned a run already written
                    continue
                if newest is None or _moment(modified) > _moment(newest):
                    newest, newest_ids = modified, {run_id}
                elif modified == newest:
                    newest_ids.add(run_id)
                runs.append(Record("run", spec.run_record(raw, self.catalogue)))
            after, seen_at_after = newest, newest_ids
            if after:
                cursor["after"] = after
                cursor["seen"] = sorted(seen_at_after)
            done += len(runs)
            stats = {"runs": len(runs), "duplicates": skipped, **client.take_stats()}
            yield Batch(
                runs,
                dict(cursor),
                done=done,
                note=f"{done:,} runs",
                stats=stats,
                problems=problems,
            )
            if is_cancelled():
                return


def check_connection(
    url: str,
    token: str,
    politeness: Politeness | None = None,
    is_cancelled: Callable[[], bool] = lambda: False,
) -> ConnectionInfo:
    """One small request (the first page of flows) proving that the URL and the token work, for
    the app's Connect dialog. Raises ValueError or :class:`HttpError` like a sync would."""
    base_url = normalize_url(url)
    polite = politeness or check_politeness()
    client = ApiClient(base_url, check_token(token), polite, is_cancelled=is_cancelled)
    data = client.get_json("flows.json")
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise BadResponseError("the server's answer does not look like RapidPro's API")
    flows = len(data["results"])
    if data.get("next"):  # more pages: say so rather than read them all for a test
        found = "more than one flow" if flows == 1 else f"more than {flows:,} flows"
    else:
        found = "1 flow" if flows == 1 else f"{flows:,} flows"
    host = urllib.parse.urlsplit(base_url).netloc
    return ConnectionInfo(base_url, None, f"Connected to {host}: {found}.")
