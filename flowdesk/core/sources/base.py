"""The contract every data source honours: records shaped like the upstream API, in batches.

A source never writes to the cache. It yields :class:`Batch` objects; the sync engine writes each
batch in one transaction together with the batch's cursor, so an interrupted sync resumes from the
last committed batch and replaying a batch changes nothing.

Record kinds (``Record.kind``) and their payloads:

* ``"run"``: a ``FlowExecutionContactReadDetail`` object as returned by
  ``GET /channel/whatsapp/flow-execution-contact/{id}``: id, contact, status, status_reason,
  created_on, is_test, flow_execution (id or null), flow (FlowListRead), flow_version
  (FlowVersionSimpleListRead) and execution_steps (each with its full ``step`` definition). A run
  whose ``execution_steps`` is ``None`` is a list-only record (a listing row: ``flow`` and
  ``flow_version`` may be bare ids, which never overwrite what a detail stored): its path is kept
  as stored while its status is unchanged, and dropped (``runs.path_synced`` 0) when the status
  moved on, until its detail is read.
* ``"execution"``: a ``FlowExecutionReadDetail`` object as returned by
  ``GET /channel/whatsapp/flow-execution/{id}`` (created_by, created_on, start_on, execute_for,
  contact_filters, contact_import, status, counters, flow, flow_version).
* ``"definition"``: a flow version's whole graph, for upstreams that publish definitions (RapidPro,
  Twilio Studio): ``flow`` and ``flow_version`` shaped as above, and ``steps``, step definitions
  shaped like an ``execution_steps[].step``. Its steps are drawn before any run reaches them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from flowdesk.core.formats.catalogue import Catalogue


@dataclass(slots=True)
class Record:
    kind: str
    data: dict[str, Any]


@dataclass(slots=True)
class Batch:
    records: list[Record]
    cursor: dict[str, Any]
    # Progress hints for the UI: how far along the source is, in its own unit.
    done: int = 0
    total: int | None = None
    note: str = ""
    # Source-side counters surfaced in the sync report (requests, retries, skipped details...).
    stats: dict[str, int] = field(default_factory=dict)
    # Problems the source met with individual records: (record id, message).
    problems: list[tuple[str, str]] = field(default_factory=list)
    # A source that writes the report before the paths (ActiveCampaign): with this batch, every
    # count, contact, version and execution is in the cache; only paths are still to come, so
    # the app can show the report without waiting for the end of the sync.
    report_done: bool = False


@dataclass(slots=True)
class ConnectionInfo:
    """What a successful connection test found, said in one line for the Connect dialogs."""

    base_url: str
    runs: int | None  # how many runs the account holds, where one request can tell
    message: str


class SyncState(Protocol):
    """What a source may ask the cache while it fetches (read-only)."""

    @property
    def cursor(self) -> dict[str, Any]: ...

    def known_run_status(self, run_id: str) -> str | None:
        """Stored upstream status of a run, or None when the run is not cached yet."""

    def known_runs(self, run_ids: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        """Stored (status, execution id) of the runs among ``run_ids`` that are cached."""

    def execution_flows(self) -> set[str]:
        """Flows that have executions (outbound campaigns)."""

    def runs_without_path(self) -> list[str]:
        """Runs known from a listing whose path (detail) is still to be read, newest first."""

    def active_run_ids(self) -> list[str]:
        """Ids of cached runs still READY or RUNNING whose path has been read (a run whose path
        is still to be read is not refreshed: it is read anyway)."""

    def notify(self, note: str) -> None:
        """Show ``note`` in the sync's progress now, between batches (e.g. a long wait).

        Safe to call from the source's worker threads.
        """

    def catalogue(self) -> Catalogue:
        """The flows, versions and step definitions stored so far, for sources whose runs do
        not say which version they ran (RapidPro, Twilio Studio): they place each run among
        these. A desktop cache and the team server each answer from their own tables."""


class Source(Protocol):
    kind: str
    name: str

    def batches(self, state: SyncState, is_cancelled: Callable[[], bool]) -> Iterator[Batch]:
        """Yield batches until the source is exhausted or ``is_cancelled()`` turns true."""
