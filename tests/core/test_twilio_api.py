"""The Twilio Studio v2 connector against a local fake server (tests/fake_twilio_server.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flowdesk.cli import main
from flowdesk.core import workspace
from flowdesk.core.integrity import mismatches
from flowdesk.core.queries import list_flows, list_versions
from flowdesk.core.sync import SyncEngine
from tests.core.test_activecampaign import Sleeps
from tests.fake_twilio_server import ACCOUNT_SID, AUTH_TOKEN, BASE, FLOW_SID, FakeTwilio
from tests.vendor_sources import statuses, sync, twilio_source


@pytest.fixture
def server():
    with FakeTwilio(executions=20) as fake:
        yield fake


def test_a_first_sync_reads_revisions_executions_and_steps(db, server):
    report = sync(db, twilio_source(server))
    assert report.runs_changed == 20 and not report.problems
    flow = next(f for f in list_flows(db) if f.id == FLOW_SID)
    assert flow.name == "Citas — clínica 🏥"
    counters = flow.counters
    assert (counters.completed, counters.expired, counters.failed) == (4, 4, 4)
    assert (counters.canceled, counters.ongoing) == (4, 4)
    versions = {v.name: v for v in list_versions(db, FLOW_SID)}
    assert set(versions) == {"Revision 1", "Revision 2"}
    assert flow.current_version_id == versions["Revision 2"].id
    # The two executions started before revision 2 was published ran revision 1.
    assert versions["Revision 1"].counters.contacts == 2
    assert len(server.requests(r"/Executions\?")) == 4  # 20 executions, 6 a page
    assert len(server.requests(r"/Steps")) == 20
    assert not mismatches(db)


def test_an_incremental_sync_lists_from_the_newest_creation_and_refreshes_active_ones(db, server):
    sync(db, twilio_source(server))
    first_active = next(e["sid"] for e in server.executions if e["status"] == "active")
    server.end(first_active, BASE + timedelta(days=1))
    new = server.add_execution(0, BASE + timedelta(days=1))
    server.clear_log()
    report = sync(db, twilio_source(server))
    listing = server.requests(r"/Executions\?")
    assert len(listing) == 1 and "DateCreatedFrom=" in listing[0]
    assert not server.requests(r"/Revisions")  # the flow's revision did not move
    # Steps: the new execution, the newest old one again (inclusive bound, still active), and
    # the active ones from before the bound.
    step_requests = server.requests(r"/Steps")
    assert any(new in r for r in step_requests)
    assert len(step_requests) == 1 + 4
    assert statuses(db)[first_active] == "EXPIRED" and statuses(db)[new] == "COMPLETED"
    assert report.runs_changed == 2
    assert not mismatches(db)


def test_rate_limits_and_server_errors_are_retried(db, server):
    server.add_fault(429, r"/Steps", times=2, retry_after="3")
    server.add_fault(500, r"/Flows$", times=1)
    sleeps = Sleeps()
    notes: list[str] = []
    report = sync(db, twilio_source(server, sleep=sleeps), notes)
    assert report.runs_changed == 20
    assert report.stats["retries"] == 3 and 3.0 in sleeps.calls
    assert "waiting 3 s before retrying (HTTP 429" in "\n".join(notes)  # said while it lasts


def test_a_bad_token_fails_the_sync_without_showing_it(db, server):
    report = SyncEngine(db).run(twilio_source(server, token="not-the-token-123"))
    assert report.outcome == "failed"
    assert "rejected" in report.message and "not-the-token-123" not in report.message


def test_credentials_come_from_the_environment(db, server, monkeypatch):
    options = workspace.SourceOptions(url=server.url, rate=500)
    monkeypatch.delenv("FLOWDESK_TWILIO_SID", raising=False)
    with pytest.raises(workspace.WorkspaceError, match="FLOWDESK_TWILIO_SID"):
        workspace.source_for(db, "twilio", options)
    monkeypatch.setenv("FLOWDESK_TWILIO_SID", ACCOUNT_SID)
    monkeypatch.delenv("FLOWDESK_TWILIO_TOKEN", raising=False)
    with pytest.raises(
        workspace.WorkspaceError,
        match="no auth token: set FLOWDESK_TWILIO_TOKEN, or connect the account from the app",
    ):
        workspace.source_for(db, "twilio", options)
    monkeypatch.setenv("FLOWDESK_TWILIO_TOKEN", AUTH_TOKEN)
    built = workspace.source_for(db, "twilio", options)
    assert built.base_url == server.url and AUTH_TOKEN not in repr(built)
    report = SyncEngine(db).run(built)
    assert report.outcome == "completed" and report.runs_changed == 20
    # The cache remembers the account and the API URL; another SID is refused.
    monkeypatch.delenv("FLOWDESK_TWILIO_SID")
    assert workspace.source_for(db).base_url == server.url
    monkeypatch.setenv("FLOWDESK_TWILIO_SID", "AC" + "9" * 32)
    with pytest.raises(workspace.WorkspaceError, match="another cache file"):
        workspace.source_for(db)


@pytest.mark.parametrize(
    ("sid", "token", "said"),
    [
        ("AC0123", AUTH_TOKEN, "Account SID should be AC followed by 32"),
        (ACCOUNT_SID, "tw-test\x01auth-token", "contains spaces, line breaks"),
    ],
)
def test_a_sync_refuses_what_the_connect_test_refuses_before_any_request(
    db, server, monkeypatch, sid, token, said
):
    """The sync's credential is the Connect test's: a typo in the SID or a pasted control
    character is one line, and no request carries the token."""
    monkeypatch.setenv("FLOWDESK_TWILIO_SID", sid)
    monkeypatch.setenv("FLOWDESK_TWILIO_TOKEN", token)
    options = workspace.SourceOptions(url=server.url, rate=500)
    with pytest.raises(workspace.WorkspaceError, match=said):
        workspace.source_for(db, "twilio", options)
    assert server.requests() == []


def test_cli_sync_with_twilio(tmp_path, server, monkeypatch, capsys):
    monkeypatch.setenv("FLOWDESK_TWILIO_SID", ACCOUNT_SID)
    monkeypatch.setenv("FLOWDESK_TWILIO_TOKEN", AUTH_TOKEN)
    cache = str(tmp_path / "tw.db")
    args = ["sync", "--db", cache, "--source", "twilio", "--url", server.url, "--rate", "500"]
    assert main(args) == 0
    assert "20 runs changed" in capsys.readouterr().err
