"""The sync engine: idempotent, incremental, exact counters, malformed records skipped."""

from __future__ import annotations

from flowdesk.core.db import BULK_WAL_AUTOCHECKPOINT
from flowdesk.core.integrity import mismatches
from flowdesk.core.queries import Scope, summary, version_graph
from flowdesk.core.sources.base import Record
from flowdesk.core.sync import SyncEngine
from tests.factories import PATH_COMPLETED, PATH_LOOP_THEN_FAIL, ListSource, run, runs_batch

DONE = "COMPLETED"


def _first_batch():
    return runs_batch(
        run("r1", PATH_COMPLETED, DONE),
        run("r2", [("s1", DONE), ("s2", "RUNNING")], "RUNNING", contact="c2", last=None),
        run(
            "r3",
            PATH_LOOP_THEN_FAIL,
            "FAILED",
            contact="c3",
            first="=SUM(A1)",
            reason="External API failed: HTTP 502",
        ),
        run("r4", [("s1", DONE), ("s2", "EXPIRED")], "EXPIRED", contact="c4"),
    )


def test_counters_match_a_recount_and_statuses_partition_contacts(db):
    report = SyncEngine(db).run(ListSource([_first_batch()]))
    assert report.outcome == "completed"
    assert report.runs_changed == 4
    totals = summary(db, Scope("f1"))
    assert (totals.contacts, totals.completed, totals.ongoing, totals.failed, totals.expired) == (
        4,
        1,
        1,
        1,
        1,
    )
    assert totals.contacts == sum(
        getattr(totals, m) for m in ("expired", "ongoing", "canceled", "failed", "completed")
    )
    assert mismatches(db) == []


def test_loops_count_reach_once_and_visits_twice(db):
    SyncEngine(db).run(ListSource([_first_batch()]))
    graph = version_graph(db, "v1")
    by_id = {s.id: s for s in graph.steps}
    assert by_id["s3"].reached == 2  # r1 and r3
    assert by_id["s3"].visits == 3  # r3 asked twice
    assert by_id["s7"].step_type == "MYSTERY_STEP"
    assert by_id["s7"].ended["failed"] == 1
    loop = [
        e for e in graph.edges if (e.source_key, e.target_key) == (by_id["s4"].key, by_id["s3"].key)
    ]
    assert loop and loop[0].runs == 1


def test_replaying_a_batch_changes_nothing(db):
    engine = SyncEngine(db)
    engine.run(ListSource([_first_batch()]))
    before = (
        db.execute("SELECT * FROM flows").fetchall(),
        db.execute("SELECT * FROM step_stats ORDER BY 1, 2").fetchall(),
    )
    db.conn.execute("DELETE FROM meta WHERE key = 'cursor:test'")
    db.conn.commit()
    report = engine.run(ListSource([_first_batch()]))
    assert report.runs_changed == 0
    after = (
        db.execute("SELECT * FROM flows").fetchall(),
        db.execute("SELECT * FROM step_stats ORDER BY 1, 2").fetchall(),
    )
    assert before == after


def test_a_run_that_moves_on_is_recounted_exactly(db):
    engine = SyncEngine(db)
    engine.run(ListSource([_first_batch()]))
    finished = run(
        "r2",
        [("s1", DONE), ("s2", DONE), ("s5", DONE), ("s6", DONE)],
        DONE,
        contact="c2",
        last=None,
    )
    engine.run(ListSource([_first_batch(), runs_batch(finished)]))
    totals = summary(db, Scope("f1"))
    assert (totals.contacts, totals.completed, totals.ongoing) == (4, 2, 0)
    assert mismatches(db) == []


def test_malformed_records_are_reported_and_the_rest_commits(db):
    bad_status = run("r9", [("s1", DONE)], DONE)
    bad_status["status"] = "WHATEVER"
    bad_date = run("r8", [("s1", DONE)], DONE)
    bad_date["execution_steps"][0]["created_on"] = "yesterday"
    records = [
        *_first_batch(),
        Record("run", bad_status),
        Record("run", bad_date),
        Record("run", {"no": "id"}),
    ]
    report = SyncEngine(db).run(ListSource([records]))
    assert report.outcome == "completed"
    assert {(p[1], p[2].split(" ")[0]) for p in report.problems} >= {
        ("r9", "unknown"),
        ("r8", "execution_steps[0].created_on"),
    }
    assert summary(db, Scope("f1")).contacts == 4
    stored = db.execute("SELECT count(*) FROM sync_problems").fetchone()[0]
    assert stored == 3


def test_a_failing_source_keeps_committed_batches_and_resumes(db):
    batches = [_first_batch()[:2], _first_batch()[2:]]
    report = SyncEngine(db).run(ListSource(batches, fail_after=1))
    assert report.outcome == "failed" and "network lost" in report.message
    assert summary(db, Scope("f1")).contacts == 2
    report = SyncEngine(db).run(ListSource(batches))
    assert report.outcome == "completed"
    assert summary(db, Scope("f1")).contacts == 4
    assert mismatches(db) == []


def test_unknown_targets_become_placeholders_and_are_filled_in_later(db):
    first = runs_batch(run("r1", [("s1", DONE), ("s2", "RUNNING")], "RUNNING"))
    SyncEngine(db).run(ListSource([first]))
    graph = version_graph(db, "v1")
    placeholders = {s.id for s in graph.steps if s.is_placeholder}
    assert placeholders == {"s3", "s5", "s6"}  # referenced by the menu, never executed
    second = runs_batch(run("r5", [("s1", DONE), ("s2", DONE), ("s5", DONE), ("s6", DONE)], DONE))
    SyncEngine(db).run(ListSource([first, second]))  # the cursor skips the first batch
    graph = version_graph(db, "v1")
    assert {s.id for s in graph.steps if s.is_placeholder} == {"s3", "s7"}
    assert {s.id: s.name for s in graph.steps}["s6"] == "Goodbye"


def test_response_rate_counts_replies_not_timeouts(db):
    SyncEngine(db).run(ListSource([_first_batch()]))
    totals = summary(db, Scope("f1", version_id="v1"))
    # Every run reached the welcome template's menu; r1 and r3 answered it, r2 waits, r4 expired.
    assert (totals.waited, totals.responded) == (4, 2)
    assert totals.response_rate == 0.5


def _autocheckpoint(db) -> int:
    return db.execute("PRAGMA wal_autocheckpoint").fetchone()[0]


def test_a_first_sync_checkpoints_rarely_and_leaves_no_big_wal(db, tmp_path):
    """Each checkpoint rewrote a bulk build's hot pages and waited for the disk (half of a 300k
    build's time); a first sync raises the interval, then restores it and empties the WAL."""
    usual = _autocheckpoint(db)
    during: list[int] = []
    report = SyncEngine(db).run(
        ListSource([_first_batch(), runs_batch(run("r5", PATH_COMPLETED, DONE, contact="c5"))]),
        progress=lambda _: during.append(_autocheckpoint(db)),
    )
    assert report.outcome == "completed", report.message
    assert during and set(during) == {BULK_WAL_AUTOCHECKPOINT} != {usual}
    assert _autocheckpoint(db) == usual
    # Only the sync's closing record was written after the final checkpoint.
    assert (tmp_path / "cache.db-wal").stat().st_size < 64 * 1024
    assert mismatches(db) == []

    later: list[int] = []
    more = runs_batch(run("r6", PATH_COMPLETED, DONE, contact="c6"))
    SyncEngine(db).run(  # the cursor says two batches are done: this third one is new
        ListSource([[], [], more]),
        progress=lambda _: later.append(_autocheckpoint(db)),
    )
    assert later and set(later) == {usual}  # a cache with runs syncs as usual
