"""Property tests: whatever sequence of run updates arrives, the maintained counters stay exact."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowdesk.core import search_terms
from flowdesk.core.db import connect
from flowdesk.core.integrity import mismatches
from flowdesk.core.queries import Scope, list_versions, summary
from flowdesk.core.steps import transitions_for_step
from flowdesk.core.sync import SyncEngine
from tests.factories import STEPS, ListSource, run, runs_batch

STATUSES = ["READY", "RUNNING", "COMPLETED", "CANCELED", "EXPIRED", "FAILED"]
SECOND_VERSION = {
    "id": "v2",
    "version_name": "Second",
    "published_by": None,
    "created_on": "2026-10-20T09:00:00Z",
    "is_current_version": False,
}


@st.composite
def walks(draw):
    """A path that follows the graph's edges from the entry step, loops included."""
    current = "s1"
    path = []
    for _ in range(draw(st.integers(1, 8))):
        path.append((current, "COMPLETED"))
        exits = [e.target for e in transitions_for_step(STEPS[current])]
        if not exits:
            break
        current = draw(st.sampled_from(exits))
    return path


updates = st.lists(
    st.tuples(
        st.integers(0, 5),  # run number: small, so runs get updated again
        walks(),
        st.sampled_from(STATUSES),
        st.booleans(),  # second version
        st.sampled_from([None, "e1", "e2"]),
        st.sampled_from(["COMPLETED", "RUNNING", "EXPIRED", "FAILED", "CANCELED"]),  # last step
        st.sampled_from([None, "Contact had an open Inbox conversation", "Canceled by Ana"]),
        st.integers(0, 600),  # minutes after 10:00 the run entered: times and waits vary
        st.booleans(),  # a list-only record: the stored path stays
    ),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=st.lists(updates, min_size=1, max_size=4))
def test_counters_equal_a_recount_after_any_sequence_of_batches(tmp_path_factory, batches):
    db = connect(tmp_path_factory.mktemp("prop") / "cache.db")
    source_batches = []
    for updates_in_batch in batches:
        records = []
        for (
            number,
            path,
            status,
            second,
            execution,
            last,
            reason,
            start,
            listed,
        ) in updates_in_batch:
            record = run(
                f"r{number}",
                [*path[:-1], (path[-1][0], last)],
                status,
                contact=f"c{number % 3}",
                execution=execution,
                version=SECOND_VERSION if second else None,
                reason=reason,
                start=start,
            )
            if listed:
                del record["execution_steps"]
            records.append(record)
        source_batches.append(runs_batch(*records))
    report = SyncEngine(db).run(ListSource(source_batches))
    assert report.outcome == "completed"
    assert mismatches(db) == []
    assert search_terms.mismatches(db.conn) == []
    flow = summary(db, Scope("f1"))
    # The five statuses partition contacts, and versions add up to the flow.
    assert (
        flow.contacts == flow.expired + flow.ongoing + flow.canceled + flow.failed + flow.completed
    )
    versions = list_versions(db, "f1")
    assert sum(v.counters.contacts for v in versions) == flow.contacts
    assert sum(v.counters.completed for v in versions) == flow.completed
    distinct_runs = {f"r{n}" for batch in batches for n, *_ in batch}
    assert flow.contacts == len(distinct_runs)
    db.conn.close()
