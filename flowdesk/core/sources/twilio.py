"""Twilio Studio's REST API v2 as a Flowdesk source (see docs/rapidpro-twilio.md).

A sync makes three passes over ``https://studio.twilio.com/v2``, following ``meta.next_page_url``
(PageToken paging):

1. ``/Flows``; for each flow whose ``revision`` moved since the last sync, ``/Flows/{sid}/
   Revisions``: every revision is a version ("Revision N", dated by its creation), the flow's
   current revision the current one.
2. ``/Flows/{sid}/Executions?DateCreatedFrom=<newest creation seen>``: new executions and their
   ``/Steps``. The bound is inclusive, and an execution already written as ended never changes,
   so those are skipped without fetching their steps.
3. Executions written while still active, created before that bound, are fetched again by sid
   until they end.

The cursor (committed with each batch) keeps each flow's revision and date bound and the active
executions; the bound moves only once a flow's whole listing is written.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterator
from typing import Any

from flowdesk.core.formats import twilio as spec
from flowdesk.core.formats.catalogue import Catalogue
from flowdesk.core.formats.common import FileFormatError, normalize_time
from flowdesk.core.records import parse_timestamp
from flowdesk.core.sources.base import Batch, ConnectionInfo, Record, SyncState
from flowdesk.core.sources.credentials import check_token
from flowdesk.core.sources.http import (
    ApiClient,
    BadResponseError,
    NotFoundError,
    Politeness,
    check_politeness,
)
from flowdesk.core.sources.urls import normalize_api_url
from flowdesk.core.sources.vendor_api import VendorApiSource

KIND = "twilio"
STUDIO_URL = "https://studio.twilio.com/v2"
ENV_SID = "FLOWDESK_TWILIO_SID"
ENV_TOKEN = "FLOWDESK_TWILIO_TOKEN"
KEYRING_SERVICE = "flowdesk-twilio"
DEFAULT_PAGE_SIZE = 50
DEFAULT_RATE = 5.0


def normalize_url(url: str | None) -> str:
    return normalize_api_url(url or STUDIO_URL, "/v2", "https://studio.twilio.com/v2")


class TwilioSource(VendorApiSource):
    """Reads Studio flows, revisions, executions and steps; see the module docstring."""

    kind = KIND
    auth_scheme = "Basic"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        url: str | None = None,
        catalogue: Catalogue | None = None,
        politeness: Politeness | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        sid = normalize_sid(account_sid)
        super().__init__(
            normalize_url(url),
            basic_credential(sid, auth_token),
            catalogue=catalogue,
            politeness=politeness,
            default_rate=DEFAULT_RATE,
            sleep=sleep,
        )
        self.account_sid = self.account = sid
        self.page_size = max(1, int(page_size))
        self.name = f"Twilio Studio ({self.account_sid})"

    def __repr__(self) -> str:  # never show the token
        return f"TwilioSource({self.account_sid!r})"

    def _next_link(self, page: dict[str, Any]) -> Any:
        meta = page.get("meta")
        return meta.get("next_page_url") if isinstance(meta, dict) else None

    def batches(self, state: SyncState, is_cancelled: Callable[[], bool]) -> Iterator[Batch]:
        client = self._start(state, is_cancelled)
        cursor: dict[str, Any] = dict(state.cursor or {})
        flows_cursor: dict[str, dict[str, Any]] = {
            sid: dict(value) for sid, value in (cursor.get("flows") or {}).items()
        }
        active: dict[str, str] = dict(cursor.get("active") or {})  # execution sid → flow sid

        # 1. Flows and their revisions.
        flows = [f for f in self._all(client, "Flows", "flows") if isinstance(f, dict)]
        names = {str(f.get("sid")): str(f.get("friendly_name") or f.get("sid")) for f in flows}
        definitions: list[Record] = []
        for flow in flows:
            sid = str(flow.get("sid") or "")
            known = flows_cursor.setdefault(sid, {})
            if known.get("revision") == flow.get("revision"):
                continue
            for revision in self._all(client, f"Flows/{sid}/Revisions", "revisions"):
                number = revision.get("revision")
                definition = revision.get("definition")
                if definition is None:
                    detail = client.get_json(f"Flows/{sid}/Revisions/{number}")
                    definition = detail.get("definition") if isinstance(detail, dict) else None
                try:
                    record = spec.definition_record(
                        definition,
                        f"{names[sid]} revision {number}",
                        flow_id=sid,
                        flow_name=names[sid],
                        revision=number if isinstance(number, int) else None,
                        published=str(revision.get("date_created") or "") or None,
                        current=number == flow.get("revision"),
                        source="the Studio API",
                    )
                except FileFormatError as exc:
                    raise BadResponseError(str(exc)) from None
                self.catalogue.add_definition(record)
                definitions.append(Record("definition", record))
            known["revision"] = flow.get("revision")
        cursor["flows"] = flows_cursor
        yield Batch(
            definitions,
            _copy(cursor, active),
            note=f"{len(definitions):,} flow revisions",
            stats={"revisions": len(definitions), **client.take_stats()},
        )
        if is_cancelled():
            return

        # 2. Executions created since the last sync, flow by flow.
        done = 0
        listed: set[str] = set()
        for flow in flows:
            sid = str(flow.get("sid") or "")
            known = flows_cursor[sid]
            since = known.get("from")
            params: dict[str, Any] = {"PageSize": self.page_size}
            if since:
                params["DateCreatedFrom"] = since
            newest = since
            for page in self._pages(client, f"Flows/{sid}/Executions", "executions", params):
                records, problems, skipped = [], [], 0
                for execution in page:
                    execution_sid = str(execution.get("sid") or "?")
                    listed.add(execution_sid)
                    created = normalize_time(execution.get("date_created"))
                    if created and (
                        newest is None or parse_timestamp(created) > parse_timestamp(newest)
                    ):
                        newest = created
                    stored = state.known_run_status(execution_sid)
                    if stored is not None and stored != "RUNNING":
                        skipped += 1  # ended executions never change upstream
                        continue
                    record, problem = self._run(client, sid, execution, names[sid])
                    if problem:
                        problems.append((execution_sid, problem))
                        continue
                    records.append(Record("run", record))
                    if record["status"] == "RUNNING":
                        active[execution_sid] = sid
                    else:
                        active.pop(execution_sid, None)
                done += len(records)
                yield Batch(
                    records,
                    _copy(cursor, active),
                    done=done,
                    note=f"{done:,} executions",
                    stats={"executions": len(records), "unchanged": skipped, **client.take_stats()},
                    problems=problems,
                )
                if is_cancelled():
                    return
            known["from"] = newest
            yield Batch([], _copy(cursor, active), done=done, note=f"{done:,} executions")

        # 3. Executions still active at the last sync, created before the bound.
        records, problems = [], []
        for execution_sid, flow_sid in sorted(active.items()):
            if execution_sid in listed:
                continue
            try:
                execution = client.get_json(f"Flows/{flow_sid}/Executions/{execution_sid}")
            except NotFoundError:
                active.pop(execution_sid)  # deleted upstream: keep what was written
                continue
            record, problem = self._run(client, flow_sid, execution, names.get(flow_sid, ""))
            if problem:
                problems.append((execution_sid, problem))
                continue
            records.append(Record("run", record))
            if record["status"] != "RUNNING":
                active.pop(execution_sid)
        yield Batch(
            records,
            _copy(cursor, active),
            done=done + len(records),
            note="active executions",
            stats={"executions": len(records), **client.take_stats()},
            problems=problems,
        )

    def _run(
        self, client: ApiClient, flow_sid: str, execution: Any, flow_name: str
    ) -> tuple[dict[str, Any], str | None]:
        execution_sid = str(execution.get("sid") if isinstance(execution, dict) else "?")
        steps = self._all(client, f"Flows/{flow_sid}/Executions/{execution_sid}/Steps", "steps")
        problem = spec.execution_problem(execution, steps)
        if problem:
            return {}, problem
        if not execution.get("flow_sid"):
            execution = {**execution, "flow_sid": flow_sid}
        return spec.run_record(execution, steps, self.catalogue, flow_name), None


def _copy(cursor: dict[str, Any], active: dict[str, str]) -> dict[str, Any]:
    return {
        "flows": {sid: dict(value) for sid, value in cursor["flows"].items()},
        "active": dict(active),
    }


def normalize_sid(text: str | None) -> str:
    """An Account SID as typed (spaces around it dropped); ValueError when it cannot be one, so
    a typo is caught before any request carries the auth token."""
    sid = (text or "").strip()
    if not sid:
        raise ValueError("the Account SID is empty")
    if not re.fullmatch(r"AC[0-9a-fA-F]{32}", sid):
        raise ValueError(
            "the Account SID should be AC followed by 32 letters and digits (Twilio Console →"
            " Account info)"
        )
    return sid


def basic_credential(sid: str, token: str) -> str:
    """The HTTP Basic credential of an Account SID and its auth token, each checked first: a
    typo in the SID or a line break pasted into the token is refused in one line before any
    request, in a sync as in the Connect dialog's test (base64 would carry either unseen)."""
    pair = f"{normalize_sid(sid)}:{check_token(token)}".encode()
    return base64.b64encode(pair).decode("ascii")


def check_connection(
    sid: str,
    token: str,
    url: str | None = None,
    politeness: Politeness | None = None,
    is_cancelled: Callable[[], bool] = lambda: False,
) -> ConnectionInfo:
    """One small request (the first page of Studio flows) proving that the Account SID and the
    auth token work, for the app's Connect dialog; the message names the flows found."""
    sid = normalize_sid(sid)
    base_url = normalize_url(url)
    polite = politeness or check_politeness()
    client = ApiClient(
        base_url,
        basic_credential(sid, token),
        polite,
        is_cancelled=is_cancelled,
        auth_scheme="Basic",
    )
    data = client.get_json("Flows", {"PageSize": 50})
    if not isinstance(data, dict) or not isinstance(data.get("flows"), list):
        raise BadResponseError("the server's answer does not look like Twilio Studio's API")
    names = [
        str(flow.get("friendly_name") or flow.get("sid"))
        for flow in data["flows"]
        if isinstance(flow, dict)
    ]
    meta = data.get("meta") if isinstance(data.get("meta"), dict) else {}
    more = "more than " if meta.get("next_page_url") else ""
    if not names:
        found = "no Studio flows yet"
    else:
        shown = ", ".join(names[:3]) + (", …" if len(names) > 3 or more else "")
        noun = "Studio flow" if len(names) == 1 and not more else "Studio flows"
        found = f"{more}{len(names):,} {noun} ({shown})"
    return ConnectionInfo(base_url, None, f"Connected to the Twilio account {sid}: {found}.")
