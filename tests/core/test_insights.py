"""Where runs stop, why, how long they take: exact numbers on hand-built runs."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace

import pytest

from flowdesk.cli import main
from flowdesk.core import queries
from flowdesk.core.db import connect
from flowdesk.core.export.spec import ExportSpec
from flowdesk.core.insights import (
    LAST_BUCKET,
    NO_REASON,
    bucket_bounds,
    percentile,
    time_bucket,
)
from flowdesk.core.integrity import mismatches
from flowdesk.core.queries import ContactQuery, Scope, StepFilter, contacts_page, count_contacts
from flowdesk.core.schema import PATH_INDEXES
from flowdesk.core.step_report import (
    as_of,
    completion_time_histogram,
    entry_days,
    ranked_losses,
    step_outcomes,
    step_time_histogram,
    stop_reasons,
)
from flowdesk.core.sync import SyncEngine
from tests.factories import PATH_COMPLETED, PATH_LOOP_THEN_FAIL, ListSource, run, runs_batch

DONE = "COMPLETED"
NOV_1_10H = 1793527200  # 2026-11-01T10:00:00Z


def _sync(db, *batches):
    """Sync the batches (the source's cursor skips the ones an earlier sync took)."""
    report = SyncEngine(db).run(ListSource([runs_batch(*records) for records in batches]))
    assert report.outcome == "completed", report.message
    return report


def _by_id(db, version="v1", execution=None, now=None):
    return {s.id: s for s in step_outcomes(db, version, execution, now)}


FIRST = (
    run("r1", PATH_COMPLETED, DONE),
    run("r2", [("s1", DONE), ("s2", "RUNNING")], "RUNNING", contact="c2"),
    run("r3", PATH_LOOP_THEN_FAIL, "FAILED", contact="c3", reason="External API failed: 502"),
    run("r4", [("s1", DONE), ("s2", "EXPIRED")], "EXPIRED", contact="c4", execution="e1"),
    run("r5", [], "CANCELED", contact="c5", reason="Contact had an open Inbox conversation"),
)


def _cache(db):
    _sync(db, FIRST)


def test_buckets_are_logarithmic_and_percentiles_read_their_middle():
    assert time_bucket(0) == 0 and time_bucket(-5) == 0
    for seconds in (1, 2, 59, 60, 61, 3600, 86_400, 10**9):
        low, high = bucket_bounds(time_bucket(seconds))
        assert low <= seconds < high
    assert time_bucket(10**9) == LAST_BUCKET
    # Any value read back is within a factor 2^(1/4) of every duration in its bucket.
    assert abs(percentile({time_bucket(60): 3}, 0.5) / 60 - 1) < 0.19
    counts = {time_bucket(10): 5, time_bucket(1000): 5}
    assert round(percentile(counts, 0.5)) in range(9, 12)
    assert round(percentile(counts, 0.9)) in range(850, 1190)
    assert percentile({}, 0.5) is None


def test_where_runs_stop_per_step(db):
    _cache(db)
    steps = _by_id(db)
    # Ended by outcome; waiting = ongoing runs whose last step it is.
    assert steps["s2"].ended["expired"] == 1
    assert steps["s2"].waiting == 1
    assert steps["s7"].ended["failed"] == 1
    assert steps["s6"].ended["completed"] == 1
    assert steps["s2"].reached == 4
    assert steps["s2"].lost_share == 1 / 4
    assert [s.id for s in ranked_losses(list(steps.values()))] == ["s7", "s2"]
    # One execution's own numbers.
    e1 = _by_id(db, execution="e1")
    assert (e1["s2"].reached, e1["s2"].ended["expired"], e1["s2"].waiting) == (1, 1, 0)


def test_overdue_counts_runs_waiting_past_their_step_wait(db):
    _cache(db)
    arrived = NOV_1_10H + 60  # r2 reached the menu (24 h wait) one minute after entering
    assert _by_id(db, now=arrived + 24 * 3600)["s2"].overdue == 0
    assert _by_id(db, now=arrived + 24 * 3600 + 1)["s2"].overdue == 1
    assert _by_id(db, execution="e1", now=arrived + 10**6)["s2"].overdue == 0
    # The default clock is the newest activity the cache holds, not the wall clock.
    assert as_of(db) == NOV_1_10H + 6 * 60
    assert _by_id(db)["s2"].overdue == 0


def test_time_per_step_counts_passes_and_reply_times_only(db):
    _cache(db)
    steps = _by_id(db)
    # s1 (a template without buttons does not wait): r1, r2, r3, r4 left it after a minute.
    assert step_time_histogram(db, steps["s1"].key) == {time_bucket(60): 4}
    # s2 waits for a reply: r1 and r3 replied after a minute; r2 still waits, r4 expired.
    assert steps["s2"].timed == 2
    # s3 was asked twice in r3's loop: every pass counts.
    assert steps["s3"].timed == 3
    assert abs(steps["s3"].time_p50 / 60 - 1) < 0.19
    # The last step of an ended run is timed to the run's last activity (here: 0 s).
    assert step_time_histogram(db, steps["s6"].key) == {0: 1}


def test_why_reasons_per_step_including_before_the_first_step(db):
    _cache(db)
    reasons = {(r.step_name, r.metric, r.reason): r.runs for r in stop_reasons(db, Scope("f1"))}
    assert reasons == {
        ("Before the first step", "canceled", "Contact had an open Inbox conversation"): 1,
        ("Escalate", "failed", "External API failed: 502"): 1,
        ("Main menu", "expired", NO_REASON): 1,
    }
    only_e1 = stop_reasons(db, Scope("f1", "v1", "e1"))
    assert [(r.step_name, r.metric) for r in only_e1] == [("Main menu", "expired")]


def _expired_at_menu(run_id: str, contact: str, *, reason=None, step_reason=None) -> dict:
    record = run(
        run_id, [("s1", DONE), ("s2", "EXPIRED")], "EXPIRED", contact=contact, reason=reason
    )
    record["execution_steps"][-1]["status_reason"] = step_reason
    return record


@pytest.mark.parametrize("plan", ["by_key", "walk"])
def test_the_contacts_behind_one_reason_row(db, monkeypatch, plan):
    """A Why row's click-through lists exactly the runs that row counts: its step, its outcome
    and its reason, however the reason was given (the run's own, else its last step's)."""
    if plan == "walk":
        monkeypatch.setattr(queries, "_sparse_limit", lambda db, query: -1)
    _sync(
        db,
        (
            *FIRST,
            _expired_at_menu("r6", "c6", reason="Contact opted out"),
            _expired_at_menu("r7", "c7", step_reason="No answer in 24 h"),
            _expired_at_menu("r8", "c8", reason="Contact opted out", step_reason="ignored"),
        ),
    )
    menu = _by_id(db)["s2"].key
    rows = [r for r in stop_reasons(db, Scope("f1")) if r.step_key == menu]
    expected = {
        NO_REASON: {"r4"},
        "Contact opted out": {"r6", "r8"},
        "No answer in 24 h": {"r7"},
    }
    assert {r.reason: r.runs for r in rows} == {k: len(v) for k, v in expected.items()}
    for row in rows:
        for metric in ("expired", None, "completed"):
            query = ContactQuery(
                Scope("f1"), metric=metric, step=StepFilter(menu, "ended", reason=row.reason)
            )
            want = expected[row.reason] if metric != "completed" else set()
            assert {r.run_id for r in contacts_page(db, query, 0, 50)} == want, (row, metric)
            assert count_contacts(db, query) == len(want), (row, metric)
            spec = ExportSpec.from_dict(ExportSpec.for_contacts(query).to_dict())
            assert spec.contact_query() == replace(query, sort="entered", descending=True)
    with pytest.raises(ValueError):
        StepFilter(menu, "reached", reason="Contact opted out")


def test_entry_days_and_completion_time(db):
    _cache(db)
    days = entry_days(db, Scope("f1"))
    assert len(days) == 1 and days[0].start == NOV_1_10H - 10 * 3600
    counters = days[0].counters
    assert (counters.contacts, counters.completed, counters.expired) == (5, 1, 1)
    assert (counters.waited, counters.responded) == (4, 2)
    assert completion_time_histogram(db, Scope("f1")) == {time_bucket(4 * 60): 1}
    assert entry_days(db, Scope("f1", "v1", "e1"))[0].counters.contacts == 1


def test_a_changed_run_moves_its_contribution(db):
    _cache(db)
    # r2 answers the menu and completes; r4 is re-read with no path (a list-only record).
    listed = run("r4", [], "EXPIRED", contact="c4", execution="e1")
    del listed["execution_steps"]
    _sync(db, FIRST, (run("r2", PATH_COMPLETED, DONE, contact="c2"), listed))
    steps = _by_id(db, now=10**10)
    assert steps["s2"].waiting == 0 and steps["s2"].overdue == 0
    assert steps["s2"].ended["expired"] == 1  # r4 kept its stored path
    assert steps["s6"].ended["completed"] == 2
    assert mismatches(db) == []


def test_stats_json_lists_steps_under_each_version(db, tmp_path, capsys):
    _cache(db)
    path = db.conn.execute("PRAGMA database_list").fetchone()[2]
    assert main(["stats", "--db", path, "--json"]) == 0
    version = json.loads(capsys.readouterr().out)[0]["versions"][0]
    steps = {s["id"]: s for s in version["steps"]}
    assert set(steps["s2"]) == {
        "id",
        "name",
        "reached",
        "ended",
        "waiting",
        "overdue",
        "time_p50_s",
        "time_p90_s",
    }
    assert steps["s2"]["ended"] == {"expired": 1, "canceled": 0, "failed": 0, "completed": 0}
    s2 = steps["s2"]
    assert (s2["reached"], s2["waiting"], s2["overdue"], s2["name"]) == (4, 1, 0, "Main menu")
    assert steps["s1"]["time_p50_s"] in range(50, 72)


def test_a_cache_from_before_these_counters_is_filled_when_opened(tmp_path):
    path = tmp_path / "old.db"
    db = connect(path)
    _cache(db)
    db.conn.close()
    # Turn it back into a schema-1 cache: the new tables and indexes gone.
    raw = sqlite3.connect(path)
    for table in (
        "step_time_stats",
        "step_reason_stats",
        "entry_day_stats",
        "completion_time_stats",
        "waiting_runs",
    ):
        raw.execute(f"DROP TABLE {table}")
    for name, _ in PATH_INDEXES:
        raw.execute(f"DROP INDEX {name}")
    raw.execute("PRAGMA user_version = 1")
    raw.commit()
    raw.close()
    db = connect(path)
    assert mismatches(db) == []
    assert _by_id(db)["s2"].waiting == 1
    assert db.execute("SELECT count(*) FROM meta WHERE key = 'insights_rebuild'").fetchone()[0] == 0
    db.conn.close()


def _brute(db, sql, params=()):
    return {row[0] for row in db.execute(sql, params)}


@pytest.mark.parametrize("plan", ["by_key", "walk"])
def test_who_went_through_a_step_arrow_or_ended_there(db, monkeypatch, plan):
    if plan == "walk":  # pretend every step is crowded: walk the sort order instead
        monkeypatch.setattr(queries, "_sparse_limit", lambda db, query: -1)
    _cache(db)
    keys = {s.id: s.key for s in step_outcomes(db, "v1")}
    reached_s3 = _brute(
        db,
        "SELECT DISTINCT r.id FROM runs r JOIN run_steps p ON p.run_key = r.key"
        " WHERE p.step_key = ?",
        [keys["s3"]],
    )
    cases = [
        (StepFilter(keys["s3"]), None, reached_s3),
        (StepFilter(keys["s3"]), "failed", {"r3"}),
        (StepFilter(keys["s2"], "ended"), None, {"r2", "r4"}),
        (StepFilter(keys["s2"], "ended"), "expired", {"r4"}),
        (StepFilter(keys["s4"], "edge", keys["s3"]), None, {"r3"}),
        (StepFilter(keys["s3"], "edge", keys["s5"]), None, {"r1", "r3"}),
        (StepFilter(keys["s3"], "edge", keys["s4"]), "completed", set()),
    ]
    assert reached_s3 == {"r1", "r3"}
    for step, metric, expected in cases:
        query = ContactQuery(Scope("f1"), metric=metric, step=step)
        rows = contacts_page(db, query, 0, 50)
        assert {r.run_id for r in rows} == expected, (step, metric)
        assert len(rows) == len(expected)  # a loop does not list a run twice
        assert count_contacts(db, query) == len(expected), (step, metric)
        # The export started from this filter selects the same rows.
        spec = ExportSpec.from_dict(ExportSpec.for_contacts(query).to_dict())
        assert spec.contact_query() == replace(query, sort="entered", descending=True)
    searched = ContactQuery(Scope("f1"), search="+5215", step=StepFilter(keys["s3"]))
    assert {r.run_id for r in contacts_page(db, searched, 0, 50)} == {"r1", "r3"}
    one_execution = ContactQuery(Scope("f1", "v1", "e1"), step=StepFilter(keys["s2"], "ended"))
    assert [r.run_id for r in contacts_page(db, one_execution, 0, 50)] == ["r4"]
    assert count_contacts(db, one_execution) == 1
