"""A later sync re-reads active runs' paths within a budget, stalest first; the report stays
exact because statuses come from the listing."""

from __future__ import annotations

import pytest

from flowdesk.core.counters_check import compare_api_counters
from flowdesk.core.db import get_meta
from flowdesk.core.integrity import mismatches
from flowdesk.core.sources.activecampaign import (
    ActiveCampaignSource,
    SourceError,
    refresh_budget_from_env,
)
from flowdesk.core.sync import SyncEngine
from tests.core.test_activecampaign import PAGE, Sleeps, polite
from tests.fake_ac_server import TOKEN, FakeAccount, FakeACServer

BUDGET = 5


def budgeted(server: FakeACServer, budget: int) -> ActiveCampaignSource:
    return ActiveCampaignSource(
        server.base_url,
        TOKEN,
        politeness=polite(),
        page_size=PAGE,
        sleep=Sleeps(),
        refresh_budget=budget,
    )


@pytest.fixture
def server():
    with FakeACServer(FakeAccount(seed=7, runs=60)) as fake:
        yield fake


def active_ids(server: FakeACServer) -> set[str]:
    return {rid for rid, run in server.account.runs.items() if run.status in ("READY", "RUNNING")}


def test_the_budget_bounds_refreshes_and_the_rest_comes_next_time(db, server):
    engine = SyncEngine(db)
    assert engine.run(budgeted(server, BUDGET)).outcome == "completed"  # first sync: all
    active = active_ids(server)
    assert len(active) > 2 * BUDGET

    account = server.account
    finished = sorted(active)[0]
    account.finish(finished, "COMPLETED")  # a status change is always read, budget or not
    server.clear_log()
    report = engine.run(budgeted(server, BUDGET))
    assert report.outcome == "completed", report.message
    first = set(server.detail_ids()) - {finished}
    assert finished in server.detail_ids()
    assert len(first) == BUDGET and first <= active
    assert report.stats["refresh_left"] == len(active) - 1 - BUDGET
    assert compare_api_counters(db) == [] and mismatches(db) == []

    server.clear_log()
    engine.run(budgeted(server, BUDGET))
    second = set(server.detail_ids())
    assert len(second) == BUDGET and not second & first  # stalest first: the others now

    # Round after round, every active run is refreshed.
    seen = first | second
    for _ in range(len(active) // BUDGET + 1):
        server.clear_log()
        engine.run(budgeted(server, BUDGET))
        seen |= set(server.detail_ids())
    assert seen == active - {finished}
    assert get_meta(db, "cursor:activecampaign")["phase"] == "done"


def test_a_refresh_interrupted_midway_resumes_with_what_its_budget_left(db, server):
    engine = SyncEngine(db)
    assert engine.run(budgeted(server, 100)).outcome == "completed"
    cancel = {"after": 0}

    def is_cancelled() -> bool:  # stop after the first refresh batch commits
        cursor = get_meta(db, "cursor:activecampaign") or {}
        if cursor.get("phase") == "refresh" and cursor.get("refresh_left", -1) >= 0:
            cancel["after"] += 1
        return cancel["after"] > 0

    source = ActiveCampaignSource(
        server.base_url, TOKEN, politeness=polite(), page_size=4, sleep=Sleeps(), refresh_budget=8
    )
    report = engine.run(source, is_cancelled=is_cancelled)
    assert report.outcome == "canceled"
    assert get_meta(db, "cursor:activecampaign")["refresh_left"] == 4
    server.clear_log()
    source = ActiveCampaignSource(
        server.base_url, TOKEN, politeness=polite(), page_size=4, sleep=Sleeps(), refresh_budget=8
    )
    assert engine.run(source).outcome == "completed"
    assert len(server.detail_ids()) == 4  # the 4 the interrupted refresh had left
    assert not server.requests(r"flow-execution-contact\?page=")  # no listing again


def test_the_budget_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("FLOWDESK_AC_REFRESH_BUDGET", "250")
    assert refresh_budget_from_env() == 250
    monkeypatch.setenv("FLOWDESK_AC_REFRESH_BUDGET", "lots")
    with pytest.raises(SourceError, match="not a whole number"):
        refresh_budget_from_env()
    monkeypatch.delenv("FLOWDESK_AC_REFRESH_BUDGET")
    assert refresh_budget_from_env() == 1000
