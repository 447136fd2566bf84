"""ActiveCampaign's WhatsApp flows API as a Flowdesk source (see docs/activecampaign.md).

A run's path comes only with its detail (one request per run, at 5 requests/s), while the listings
(100 runs a page) carry everything the report needs. So a sync runs in two phases, one batch per
page or per chunk of details, each committed with the cursor:

1. **The report** (``REPORT_PHASES``), from listings:
   ``executions``: ``GET /channel/whatsapp/flow-execution`` pages; a detail for each new or
   changed execution (list rows are fingerprinted in the cursor), whose runs are then listed with
   ``?flow_execution=`` (``execution_runs``): a run's list row does not say its execution.
   ``runs``: every run page, for runs outside executions and status changes. New or changed runs
   are written from their list rows (list-only records, path not read yet); one run detail per
   version and sync describes the version and its flow and carries their own counters.
2. **The paths** (``PATH_PHASES``): ``refresh`` re-reads active runs whose status did not change,
   stalest first, within a budget; ``paths`` reads the detail of every run still without one
   (``runs.path_synced`` = 0), newest first.

``report_only`` stops after the first phase. An interrupted sync resumes from its cursor; a
finished one starts over with the listings (the API has no modified-since filter).
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.parse
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from flowdesk.core.errors import Canceled, UserError
from flowdesk.core.formatting import counted
from flowdesk.core.sources.api_source import ApiSource
from flowdesk.core.sources.base import Batch, ConnectionInfo, Record, SyncState
from flowdesk.core.sources.credentials import check_token
from flowdesk.core.sources.http import (
    ApiClient,
    AuthError,
    BadResponseError,
    HttpError,
    NotFoundError,
    Politeness,
    TransportError,
    check_politeness,
)
from flowdesk.core.sources.urls import normalize_api_url

KIND = "activecampaign"
# The WhatsApp spec says ``Authorization: Token <key>``; ActiveCampaign's v3 API convention is
# ``Api-Token: <key>``, and which one an account's gateway checks is not documented. Every
# request carries both: no detection round trip, no per-account memory that can go stale when
# the gateway changes, and both go to the same host over TLS, so nothing is exposed that the
# other header did not already carry.
TOKEN_HEADERS = ("Api-Token",)
RUNS_PATH = "channel/whatsapp/flow-execution-contact"
EXECUTIONS_PATH = "channel/whatsapp/flow-execution"
DEFAULT_PAGE_SIZE = 100
# Details of still-active runs re-read per sync, stalest first (FLOWDESK_AC_REFRESH_BUDGET).
DEFAULT_REFRESH_BUDGET = 1000
ACTIVE_STATUSES = frozenset({"READY", "RUNNING"})
# The cursor's phases: the first phase builds the exact report from listings, the second reads
# paths (re-reading active runs first, within the refresh budget). See the module docstring.
REPORT_PHASES = ("executions", "execution_runs", "runs")
PATH_PHASES = ("refresh", "paths")
_EXECUTION_FINGERPRINT_FIELDS = (
    "status",
    "status_reason",
    "status_last_change_on",
    "start_on",
    "num_contacts",
    "expired",
    "running",
    "completed",
    "canceled",
    "failed",
)


class SourceError(UserError):
    """A sync that cannot go on; the message is one line meant for the user."""


def normalize_base_url(url: str) -> str:
    """``acme.api-us1.com`` or ``https://acme.api-us1.com[/api/3]`` → ``https://…/api/3``.

    Any base URL ending in ``/api/3`` is accepted; plain ``http://`` only on the loopback.
    """
    return normalize_api_url(url, "/api/3", "https://<account>.api-us1.com (or end in /api/3)")


def account_label(base_url: str) -> str:
    """The account's name as a person says it: ``acme`` for ``acme.api-us1.com``."""
    host = urllib.parse.urlsplit(base_url).hostname or base_url
    if host.endswith(".api-us1.com") or ".api-" in host:
        return host.split(".")[0]
    return host


def _fingerprint(row: dict[str, Any]) -> str:
    data = [row.get(key) for key in _EXECUTION_FINGERPRINT_FIELDS]
    blob = json.dumps(data, sort_keys=True, default=str).encode()
    return hashlib.sha1(blob).hexdigest()[:16]


def _id_of(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    if value is None or value == "":
        return None
    return str(value)


class _ListingGuard:
    """Keeps a listing honest: it must end, and end where its ``count`` says.

    A server whose ``next`` never ends is stopped when the pages exceed what ``count`` implies
    (with a margin for runs added while paging) or when a page repeats an earlier one; a listing
    that ends before its count is incomplete. Both fail the sync (what committed stays, and the
    next sync resumes at the failing page) instead of looping forever or reporting success.
    """

    def __init__(self, name: str, page_size: int | None) -> None:
        self.name = name
        self.page_size = page_size  # requested; the server may serve fewer per page
        self.served_size = 0  # rows on a page that had a next page: the real page size
        self.count: int | None = None
        self.seen: dict[int, int] = {}  # digest of a page's ids -> page number

    def _size(self) -> int | None:
        return self.served_size or self.page_size

    def expects(self, page: int) -> bool:
        """Whether the listing's count says ``page`` exists."""
        size = self._size()
        return self.count is not None and size is not None and (page - 1) * size < self.count

    def check_page(self, page: int, data: dict[str, Any]) -> bool:
        """Check one page; returns whether another page follows."""
        rows = data["results"]
        count = data.get("count")
        if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
            self.count = count
        more = bool(data.get("next")) and bool(rows)
        if more:
            self.served_size = max(self.served_size, len(rows))
        digest = hash(tuple(_id_of(r.get("id")) if isinstance(r, dict) else None for r in rows))
        if rows and digest in self.seen:
            raise SourceError(
                f"{self.name}: page {page} repeats page {self.seen[digest]}; the server's paging "
                "does not end, so the sync stopped"
            )
        self.seen[digest] = page
        size = self._size()
        if more and self.count is not None and size:
            pages = -(-self.count // size)
            if page >= pages + 2 + pages // 100:
                raise SourceError(
                    f"{self.name}: page {page} and still more, although {self.count:,} items "
                    f"fill {counted(pages, 'page')}; the server's paging does not end, so the "
                    "sync stopped"
                )
        if not more and self.count is not None and size:
            listed = (page - 1) * size + len(rows)
            if listed < self.count:
                raise SourceError(
                    f"{self.name}: the listing ended at page {page} with {listed:,} of "
                    f"{self.count:,} items; the sync will resume at this page"
                )
        return more


def check_connection(
    url: str,
    token: str,
    politeness: Politeness | None = None,
    is_cancelled: Callable[[], bool] = lambda: False,
) -> ConnectionInfo:
    """One small request proving that the URL and the token work. Raises ValueError/HttpError."""
    base_url = normalize_base_url(url)
    token = check_token(token)
    polite = politeness or check_politeness()
    client = ApiClient(
        base_url, token, polite, is_cancelled=is_cancelled, token_headers=TOKEN_HEADERS
    )
    data = client.get_json(RUNS_PATH, {"page": 1, "page_size": 1})
    if not isinstance(data, dict) or not isinstance(data.get("count"), int):
        raise BadResponseError("the server's answer does not look like ActiveCampaign's API")
    count = data["count"]
    host = urllib.parse.urlsplit(base_url).netloc
    return ConnectionInfo(
        base_url, count, f"Connected to {host}: {counted(count, 'contact run')} available."
    )


class _Tally:
    """Cumulative numbers for the progress line."""

    def __init__(self) -> None:
        self.pages = 0
        self.runs = 0
        self.details = 0
        self.requests = 0
        self.retries = 0
        self.failed_executions: set[str] = set()  # details that failed during this sync


@dataclass(slots=True)
class _Run:
    """What every phase of one sync shares."""

    client: ApiClient
    pool: ThreadPoolExecutor
    state: SyncState
    page_size: int
    executions: dict[str, str]  # execution id -> fingerprint of its list row
    queue: list[str]  # executions whose runs are still to be listed
    make_cursor: Callable[[str, int], dict[str, Any]]
    finish: Callable[[Batch, dict[str, int]], Batch]
    tally: _Tally
    # Versions a run detail was read for in this sync, and failed attempts per version.
    sampled: set[str] = field(default_factory=set)
    read: set[str] = field(default_factory=set)  # runs whose detail the report read
    failures: dict[str, int] = field(default_factory=dict)

    def needs_detail(self, version_id: str) -> bool:
        """Whether a new or changed run of ``version_id`` should be read in full.

        One per version and sync: a listing row names its flow and version by id only, and
        only a run detail describes them (name, description, publisher, the flow's trigger
        type) and carries the flow's and version's own counters as they are now, which
        ``flowdesk check`` compares with the recount.
        """
        if version_id in self.sampled or self.failures.get(version_id, 0) >= 3:
            return False
        self.sampled.add(version_id)
        return True

    def sample_failed(self, version_id: str) -> None:
        self.sampled.discard(version_id)  # another run of it is read, up to three times
        self.failures[version_id] = self.failures.get(version_id, 0) + 1


class _Listing:
    """What one listing has taken so far (rows shift while paging)."""

    def __init__(self) -> None:
        self.outbound_flows: set[str] = set()
        self.seen: set[str] = set()


class ActiveCampaignSource(ApiSource):
    """Reads flow executions and contact runs; see the module docstring for the strategy."""

    kind = KIND
    token_headers = TOKEN_HEADERS

    def __init__(
        self,
        url: str,
        token: str,
        *,
        politeness: Politeness | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        sleep: Callable[[float], None] | None = None,
        refresh_budget: int | None = None,
        report_only: bool = False,
        clock: Callable[[], float] | None = None,
    ) -> None:
        base_url = normalize_base_url(url)
        try:
            checked = check_token(token)
        except ValueError as exc:  # one line for the user; the token is never repeated
            raise SourceError(str(exc)) from None
        super().__init__(base_url, checked, politeness or Politeness(), sleep=sleep, clock=clock)
        self.page_size = max(1, int(page_size))
        self.refresh_budget = (
            refresh_budget if refresh_budget is not None else refresh_budget_from_env()
        )
        # Stop after the first phase (the exact report); paths are read by a later sync.
        self.report_only = report_only
        self.name = f"ActiveCampaign ({account_label(self.base_url)})"

    def __repr__(self) -> str:  # never show the token
        return f"ActiveCampaignSource({self.base_url!r})"

    # -- the sync ------------------------------------------------------------------------------

    def batches(self, state: SyncState, is_cancelled: Callable[[], bool]) -> Iterator[Batch]:
        client = self.sync_client(state, is_cancelled)
        cursor = dict(state.cursor or {})
        stored_url = cursor.get("url")
        if stored_url and stored_url != self.base_url:
            raise SourceError(
                f"this cache holds the account {stored_url}; sync {self.base_url} into another "
                "cache file"
            )
        executions: dict[str, str] = dict(cursor.get("executions") or {})
        phase = cursor.get("phase")
        refresh: dict[str, Any] = {
            "after": cursor.get("refresh_after"),
            "left": cursor.get("refresh_left"),
        }
        queue: list[str] = list(cursor.get("listing") or [])  # executions whose runs to list
        resumable = REPORT_PHASES if self.report_only else (*REPORT_PHASES, *PATH_PHASES)
        if phase in resumable:
            page = int(cursor.get("page") or 1)
            page_size = int(cursor.get("page_size") or self.page_size)
        else:  # a new sync (the previous one finished, or none ran yet)
            phase, page, page_size, queue = "executions", 1, self.page_size, []
        tally = _Tally()
        pool = ThreadPoolExecutor(
            max_workers=max(1, self.politeness.concurrency), thread_name_prefix="ac-detail"
        )

        def make_cursor(next_phase: str, next_page: int) -> dict[str, Any]:
            cursor = {
                "url": self.base_url,
                "phase": next_phase,
                "page": next_page,
                "page_size": page_size,
                "executions": dict(sorted(executions.items())),
                "refresh_after": refresh["after"],
            }
            if queue:
                cursor["listing"] = list(queue)
            if next_phase in REPORT_PHASES and run.sampled:
                # a resumed report reads the same details as an uninterrupted one would
                cursor["sampled"] = sorted(run.sampled)
            if next_phase in (*REPORT_PHASES, "refresh") and run.read:
                cursor["read"] = sorted(run.read)  # and refreshes none of them again
            return cursor

        committed = {"cursor": dict(cursor)}  # the cursor of the last batch handed over

        def finish(batch: Batch, extra: dict[str, int]) -> Batch:
            committed["cursor"] = batch.cursor
            batch.report_done = batch.cursor.get("phase") not in REPORT_PHASES
            stats = client.take_stats()
            for key, value in extra.items():
                stats[key] = stats.get(key, 0) + value
            batch.stats = stats
            tally.requests += stats.get("requests", 0)
            tally.retries += stats.get("retries", 0)
            batch.note = (
                f"{batch.note} · {counted(tally.requests, 'request')}, "
                f"{counted(tally.retries, 'retry')}"
            )
            return batch

        run = _Run(client, pool, state, page_size, executions, queue, make_cursor, finish, tally)
        if phase in REPORT_PHASES:
            run.sampled = set(cursor.get("sampled") or ())
        # details read in this sync (those of the report are kept in the cursor until the
        # refresh, which skips them)
        refreshed: set[str] = set()
        if phase in (*REPORT_PHASES, "refresh"):
            refreshed.update(cursor.get("read") or ())
        run.read = refreshed
        deferred: list[str] | None = None  # active, unchanged runs of this sync's listing
        budget = self.refresh_budget
        try:
            if phase == "executions":
                yield from self._execution_pages(run, page)
                phase, page = "execution_runs", 1
            if phase == "execution_runs":
                yield from self._execution_runs(run, page, refreshed)
                phase, page = "runs", 1
            if phase == "runs":
                deferred = []
                yield from self._run_pages(run, page, refreshed, deferred)
                phase = "refresh"
            if self.report_only:
                pending = len(state.runs_without_path())
                note = f"report · exact; {counted(pending, 'path')} left to read"
                yield finish(Batch([], make_cursor("done", 1), note=note), {"paths_left": pending})
                return
            if phase == "refresh":
                run.read = set(refreshed)  # the report's reads; the refresh adds its own
                if deferred is None and isinstance(refresh["left"], int):
                    budget = refresh["left"]  # resumed: what the interrupted refresh had left
                yield from self._refresh_active(run, refreshed, deferred, budget, refresh)
            yield from self._paths(run, refreshed)
        except Canceled:
            # An empty batch that keeps the last cursor: the engine then sees the cancel flag.
            yield finish(Batch([], committed["cursor"], note="canceled"), {})
        except AuthError as exc:
            raise SourceError(str(exc)) from None
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def read_runs(self, run_ids: list[str]) -> tuple[list[Record], list[tuple[str, str]]]:
        """The details (paths) of a few runs at once, outside any sync (a contact opened in the
        app before the second phase reached it). Returns the records and their problems."""
        client = self.client()
        with ThreadPoolExecutor(max_workers=max(1, self.politeness.concurrency)) as pool:
            try:
                details = self._details(client, pool, RUNS_PATH, run_ids)
            except AuthError as exc:
                raise SourceError(str(exc)) from None
        records = [Record("run", detail) for _, detail, _ in details if detail is not None]
        problems = [(run_id, problem) for run_id, detail, problem in details if detail is None]
        return records, problems

    # -- phase 1: the report -------------------------------------------------------------------

    def _execution_pages(self, run: _Run, first: int) -> Iterator[Batch]:
        """Executions, page by page; a detail for each new or changed one, whose runs are then
        listed (``listing`` in the cursor)."""
        guard = _ListingGuard("executions", run.page_size)
        listed = 0
        params = {"page_size": run.page_size}
        for page, data, more in self._walk(run.client, EXECUTIONS_PATH, params, guard, first):
            rows = data["results"]
            wanted: list[str] = []
            fingerprints: dict[str, str] = {}
            problems: list[tuple[str, str]] = []
            for row in rows:
                execution_id = _id_of(row.get("id")) if isinstance(row, dict) else None
                if execution_id is None:
                    problems.append(("?", "an execution in the list has no id; skipped"))
                    continue
                fingerprints[execution_id] = _fingerprint(row)
                if run.executions.get(execution_id) != fingerprints[execution_id]:
                    wanted.append(execution_id)
            records = []
            for execution_id, detail, problem in self._details(
                run.client, run.pool, EXECUTIONS_PATH, wanted
            ):
                if detail is None:
                    problems.append((execution_id, problem))
                    run.tally.failed_executions.add(execution_id)
                else:
                    records.append(Record("execution", detail))
                    run.executions[execution_id] = fingerprints[execution_id]
                if execution_id not in run.queue:
                    run.queue.append(execution_id)  # its runs are listed even without a detail
            run.tally.pages += 1
            listed += len(rows)
            count = data.get("count")
            batch = Batch(
                records,
                run.make_cursor("executions", page + 1)
                if more
                else run.make_cursor("execution_runs", 1),
                done=listed,
                total=count if isinstance(count, int) else None,
                note=f"report · executions: page {page}",
                problems=problems,
            )
            yield run.finish(batch, {"pages": 1, "details": len(wanted), "skipped": len(problems)})

    def _execution_runs(self, run: _Run, first: int, refreshed: set[str]) -> Iterator[Batch]:
        """The runs of each queued execution (``?flow_execution=``): a listing row does not say
        which execution a run belongs to, so this is how a report counts executions exactly."""
        listing = _Listing()
        total = len(run.queue)
        while run.queue:
            execution_id = run.queue[0]
            guard = _ListingGuard(f"runs of execution {execution_id}", run.page_size)
            params = {"flow_execution": execution_id, "page_size": run.page_size}
            for page, data, more in self._walk(run.client, RUNS_PATH, params, guard, first):
                records, problems, details = self._take_rows(
                    run, listing, data["results"], execution_id, refreshed
                )
                index = total - len(run.queue) + 1
                if not more:
                    run.queue.pop(0)
                note = f"report · runs of execution {index:,} of {total:,}: page {page}"
                batch = Batch(
                    records,
                    run.make_cursor("execution_runs", page + 1)
                    if more
                    else run.make_cursor("execution_runs", 1)
                    if run.queue
                    else run.make_cursor("runs", 1),
                    done=total - len(run.queue),
                    total=total,
                    note=note,
                    problems=problems,
                )
                yield run.finish(batch, {"pages": 1, "details": details})
            if run.queue and run.queue[0] == execution_id:  # resumed past its last page
                run.queue.pop(0)
            first = 1

    def _run_pages(
        self, run: _Run, first: int, refreshed: set[str], deferred: list[str]
    ) -> Iterator[Batch]:
        """Every run, page by page: new runs outside executions, and status changes."""
        listing = _Listing()
        listing.outbound_flows = run.state.execution_flows()
        guard = _ListingGuard("contact runs", run.page_size)
        params = {"page_size": run.page_size}
        finished = False
        for page, data, more in self._walk(run.client, RUNS_PATH, params, guard, first):
            rows = data["results"]
            total = data.get("count") if isinstance(data.get("count"), int) else None
            records, problems, details = self._take_rows(
                run, listing, rows, None, refreshed, deferred
            )
            run.tally.pages += 1
            run.tally.runs += len(rows)
            done = (page - 1) * run.page_size + len(rows)
            pages = -(-total // run.page_size) if total else None
            note = f"report · runs: page {page}" + (f" of {pages}" if pages else "")
            note += f", {counted(run.tally.details, 'detail')}"
            finished = not more
            batch = Batch(
                records,
                run.make_cursor("runs", page + 1) if more else run.make_cursor("refresh", 1),
                done=min(done, total) if total is not None else done,
                total=total,
                note=note,
                problems=problems,
            )
            yield run.finish(batch, {"pages": 1, "details": details, "skipped": len(problems)})
        if not finished:  # resumed past the end of the listing
            yield run.finish(Batch([], run.make_cursor("refresh", 1), note="report · runs"), {})

    def _take_rows(
        self,
        run: _Run,
        listing: _Listing,
        rows: list[Any],
        execution_id: str | None,
        refreshed: set[str],
        deferred: list[str] | None = None,
    ) -> tuple[list[Record], list[tuple[str, str]], int]:
        """The records a page of listing rows gives: a list-only record for each new run or
        changed status, and a detail where the listing is not enough (the first run of a version
        met first in this sync; a new run of a flow that has executions, met outside them).

        Returns the records, the problems and the number of details read.
        """
        problems: list[tuple[str, str]] = []
        ids = [_id_of(row.get("id")) if isinstance(row, dict) else None for row in rows]
        known = run.state.known_runs([run_id for run_id in ids if run_id])
        listed: dict[str, Record] = {}
        wanted: list[str] = []
        for run_id, row in zip(ids, rows, strict=True):
            if run_id is None:
                problems.append(("?", "a contact run in the list has no id; skipped"))
                continue
            if run_id in listing.seen:
                continue  # seen on an earlier page: rows shifted while paging
            listing.seen.add(run_id)
            status = str(row.get("status") or "").upper()
            stored = known.get(run_id)
            belongs = execution_id
            if stored is not None:
                belongs = execution_id or stored[1]
                if stored[0] == status and stored[1] == belongs:
                    if deferred is not None and status in ACTIVE_STATUSES:
                        # Its status comes from this row, so the report stays exact; its path
                        # may have grown, and is re-read after the listing, within the budget.
                        deferred.append(run_id)
                    continue
            listed[run_id] = Record("run", dict(row, flow_execution=belongs, execution_steps=None))
            flow_id, version_id = _id_of(row.get("flow")), _id_of(row.get("flow_version"))
            if run_id in refreshed:
                continue
            if flow_id is None or version_id is None or run.needs_detail(version_id):
                wanted.append(run_id)
            elif stored is None and execution_id is None and flow_id in listing.outbound_flows:
                wanted.append(run_id)  # created after its execution's runs were listed
        records, details_problems, extra = self._read_details(run, wanted, refreshed)
        for record_id, problem in details_problems:
            if record_id not in listed:  # an execution met through one of these runs
                problems.append((record_id, problem))
                continue
            problems.append((record_id, f"{problem}; kept its listing row"))
            version_id = _id_of(listed[record_id].data.get("flow_version"))
            if version_id:
                run.sample_failed(version_id)
        # The listing rows first: a detail of the same run later in the batch replaces its row,
        # and one the cache cannot take leaves the row (the report stays exact).
        records = list(listed.values()) + records
        run.tally.details += len(wanted)
        return records, problems, len(wanted) + extra

    def _detail_pages(
        self, run: _Run, wanted: list[str], refreshed: set[str]
    ) -> Iterator[tuple[list[str], int, list[Record], list[tuple[str, str]], dict[str, int]]]:
        """``wanted``'s details a page at a time: the page's ids, how many are read so far, its
        records and problems, and its request stats."""
        done = 0
        for start in range(0, len(wanted), run.page_size):
            chunk = wanted[start : start + run.page_size]
            records, problems, extra = self._read_details(run, chunk, refreshed)
            done += len(chunk)
            yield (
                chunk,
                done,
                records,
                problems,
                {
                    "details": len(chunk) + extra,
                    "skipped": len(problems),
                },
            )

    def _read_details(
        self, run: _Run, wanted: list[str], refreshed: set[str]
    ) -> tuple[list[Record], list[tuple[str, str]], int]:
        """Run details (with the execution of a run whose execution is not cached yet first).

        Returns the records, the problems (run id, message) and the extra requests made."""
        problems: list[tuple[str, str]] = []
        run_records: list[Record] = []
        execution_records: list[Record] = []
        extra = 0
        for run_id, detail, problem in self._details(run.client, run.pool, RUNS_PATH, wanted):
            if detail is None:
                problems.append((run_id, problem))
                continue
            refreshed.add(run_id)
            execution_id = _id_of(detail.get("flow_execution"))
            if execution_id and execution_id not in run.executions:
                extra += execution_id not in run.tally.failed_executions
                record, problem = self._execution_for_run(
                    run.client, execution_id, detail, run.tally.failed_executions
                )
                if problem:
                    problems.append((execution_id, problem))
                execution_records.append(record)
                run.executions[execution_id] = (
                    _fingerprint(record.data) if not problem else "incomplete"
                )
            run_records.append(Record("run", detail))
        return execution_records + run_records, problems, extra

    # -- phase 2: paths ------------------------------------------------------------------------

    def _refresh_active(
        self,
        run: _Run,
        refreshed: set[str],
        deferred: list[str] | None,
        budget: int,
        refresh: dict[str, Any],
    ) -> Iterator[Batch]:
        """Re-read the details of active runs whose status did not change, stalest first.

        Their paths may have grown. At most ``budget`` details per sync: a round robin over the
        cache's active runs continues after the run the previous sync refreshed last
        (``refresh_after`` in the cursor), so the runs left this time come first next time and
        a sync of an account with many ongoing runs ends in predictable time.
        """
        active = run.state.active_run_ids()
        after = refresh["after"]
        pivot = active.index(after) + 1 if after in active else 0
        keep = None if deferred is None else set(deferred)  # None: resumed, listing unknown
        order = [
            run_id
            for run_id in active[pivot:] + active[:pivot]
            if run_id not in refreshed and (keep is None or run_id in keep)
        ]
        todo = order[: max(0, budget)]
        left = len(order) - len(todo)
        for chunk, done, records, problems, stats in self._detail_pages(run, todo, refreshed):
            refresh["after"] = chunk[-1]
            cursor = dict(run.make_cursor("refresh", 1), refresh_left=budget - done)
            batch = Batch(
                records,
                cursor,
                done=done,
                total=len(todo),
                note=f"paths · active runs: {done:,} of {len(todo):,} refreshed",
                problems=problems,
            )
            yield run.finish(batch, stats)
        note = f"paths · active runs: {counted(len(todo), 'path')} refreshed"
        if left:
            note += f", {left:,} left for the next sync"
        yield run.finish(Batch([], run.make_cursor("paths", 1), note=note), {"refresh_left": left})

    def _paths(self, run: _Run, refreshed: set[str]) -> Iterator[Batch]:
        """Read the detail (the path) of every run the listings left without one, newest first.

        The cache's ``path_synced`` marks are the queue: each batch commits its paths, so an
        interrupted sync resumes with the runs still unmarked.
        """
        # A run read earlier in this sync whose detail the cache refused waits for the next.
        pending = [run_id for run_id in run.state.runs_without_path() if run_id not in refreshed]
        for _, done, records, problems, stats in self._detail_pages(run, pending, refreshed):
            batch = Batch(
                records,
                run.make_cursor("paths", 1),
                done=done,
                total=len(pending),
                note=f"paths · {done:,} of {len(pending):,} read",
                problems=problems,
            )
            yield run.finish(batch, stats)
        note = f"paths · {counted(len(pending), 'path')} read"
        yield run.finish(Batch([], run.make_cursor("done", 1), note=note), {})

    def _execution_for_run(
        self,
        client: ApiClient,
        execution_id: str,
        run: dict[str, Any],
        failed: set[str],
    ) -> tuple[Record, str]:
        """The execution a run belongs to, fetched when the listing did not have it yet.

        Counters of an execution live on its row, so the row must exist before its runs are
        written. When its detail cannot be read, a stub (flow and version from the run) keeps the
        counters exact and the problem is reported; the next sync fetches it again.
        """
        problem = ""
        if execution_id not in failed:
            detail, problem = self._detail(client, EXECUTIONS_PATH, execution_id)
            if detail is not None:
                return Record("execution", detail), ""
            failed.add(execution_id)
        stub = {
            "id": execution_id,
            "flow": run.get("flow"),
            "flow_version": run.get("flow_version"),
            "execute_for": "",
            "contact_filters": [],
            "contact_import": None,
            "status": "",
            "created_by": None,
        }
        return Record("execution", stub), problem or "execution detail unavailable; kept a stub"

    # -- requests ------------------------------------------------------------------------------

    def _walk(
        self,
        client: ApiClient,
        path: str,
        params: dict[str, Any],
        guard: _ListingGuard,
        page: int,
    ) -> Iterator[tuple[int, dict[str, Any], bool]]:
        """A listing page by page from ``page``: (page, data, whether more follow), checked by
        ``guard``, until its last page (nothing when ``page`` is already past it)."""
        while True:
            data = self._list_page(client, path, {"page": page, **params}, guard)
            if data is None:
                return
            more = guard.check_page(page, data)
            yield page, data, more
            if not more:
                return
            page += 1

    def _list_page(
        self, client: ApiClient, path: str, params: dict[str, Any], guard: _ListingGuard
    ) -> dict | None:
        """One page of a DRF listing, or None past the last page (404 "Invalid page").

        A 404 on a page the listing's count says exists is a glitch, not the end: it is retried,
        and if it persists the sync fails (and resumes at this page) instead of ending early.
        """
        page = params.get("page", 1)
        attempt = 0
        while True:
            try:
                data = client.get_json(path, params)
                break
            except NotFoundError:
                if page == 1:
                    raise SourceError(
                        f"{self.base_url}/{path} does not exist: check the account URL"
                    ) from None
                if guard.count is not None and not guard.expects(page):
                    return None  # past the end the count gives
                if attempt >= client.politeness.max_retries:
                    if guard.expects(page):
                        raise SourceError(
                            f"{guard.name}: page {page} is missing (HTTP 404) although the "
                            f"listing counts {guard.count:,}; the sync will resume at this page"
                        ) from None
                    return None  # resumed past the end: the listing shrank since then
                client.pause(attempt, f"{guard.name} page {page} answered HTTP 404")
                attempt += 1
            except BadResponseError as exc:
                raise SourceError(f"{exc}; the sync will resume at this page") from None
        if not isinstance(data, dict) or not isinstance(data.get("results"), list):
            raise SourceError(f"{path} page {page}: the answer is not a paginated list")
        return data

    def _detail(
        self, client: ApiClient, path: str, record_id: str
    ) -> tuple[dict[str, Any] | None, str]:
        try:
            data = client.get_json(f"{path}/{urllib.parse.quote(record_id, safe='')}")
        except NotFoundError:
            return None, "not found upstream (HTTP 404); skipped"
        except BadResponseError:
            return None, "the server sent malformed JSON for this record; skipped"
        except TransportError as exc:
            if exc.status is None or exc.status == 429:
                raise  # network gone or throttled: fail the batch, the next sync resumes here
            return None, f"{exc}; skipped"
        except HttpError as exc:
            if isinstance(exc, AuthError):
                raise
            return None, f"{exc}; skipped"
        if not isinstance(data, dict) or _id_of(data.get("id")) != record_id:
            return None, "the server sent a malformed record; skipped"
        return data, ""

    def _details(
        self, client: ApiClient, pool: ThreadPoolExecutor, path: str, ids: list[str]
    ) -> list[tuple[str, dict[str, Any] | None, str]]:
        """Fetch details concurrently; results come back in the order of ``ids``."""
        if not ids:
            return []
        futures = [pool.submit(self._detail, client, path, record_id) for record_id in ids]
        results = []
        error: BaseException | None = None
        for record_id, future in zip(ids, futures, strict=True):
            try:
                detail, problem = future.result()
            except BaseException as exc:  # noqa: BLE001 - re-raised below, after all finished
                error = error or exc
                continue
            results.append((record_id, detail, problem))
        if error is not None:
            raise error
        return results


# -- tuning from the environment (the workspace builds the source: core/workspace.py) ------------


def refresh_budget_from_env() -> int:
    """FLOWDESK_AC_REFRESH_BUDGET: active runs' details re-read per sync (default 1,000)."""
    raw = os.environ.get("FLOWDESK_AC_REFRESH_BUDGET", "").strip()
    if not raw:
        return DEFAULT_REFRESH_BUDGET
    try:
        value = int(raw)
    except ValueError:
        raise SourceError(f"FLOWDESK_AC_REFRESH_BUDGET={raw!r} is not a whole number") from None
    if value < 0:
        raise SourceError(f"FLOWDESK_AC_REFRESH_BUDGET={raw!r} is out of range")
    return value


def politeness_from_env(base: Politeness | None = None) -> Politeness:
    """Politeness overridden by FLOWDESK_AC_RATE / _CONCURRENCY / _TIMEOUT / _RETRIES."""
    polite = base or Politeness()
    for name, attr, cast in (
        ("FLOWDESK_AC_RATE", "rate", float),
        ("FLOWDESK_AC_CONCURRENCY", "concurrency", int),
        ("FLOWDESK_AC_TIMEOUT", "timeout", float),
        ("FLOWDESK_AC_RETRIES", "max_retries", int),
        ("FLOWDESK_AC_BACKOFF", "backoff_base", float),
    ):
        raw = os.environ.get(name, "").strip()
        if raw:
            try:
                value = cast(raw)
            except ValueError:
                raise ValueError(f"{name}={raw!r} is not a number") from None
            if value < 0 or (attr == "concurrency" and value < 1):
                raise ValueError(f"{name}={raw!r} is out of range")
            setattr(polite, attr, value)
    return polite
