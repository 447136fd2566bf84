"""File → Connect RapidPro/TextIt and Connect Twilio Studio: the Connect dialog with each
source's fields, tested against the fake servers, and the workspace it creates."""

from __future__ import annotations

import pytest

from flowdesk.core import workspace
from flowdesk.core.db import connect
from flowdesk.core.queries import list_flows
from flowdesk.core.sources import credentials, rapidpro, twilio
from flowdesk.ui import connect_dialog, main_window
from flowdesk.ui import workspaces as ui_workspaces
from flowdesk.ui.connect_dialog import RAPIDPRO, TWILIO, ConnectDialog
from tests.fake_rapidpro_server import TOKEN as RP_TOKEN
from tests.fake_rapidpro_server import FakeRapidPro
from tests.fake_twilio_server import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from tests.ui.conftest import wait_idle


@pytest.fixture(autouse=True)
def no_env_tokens(monkeypatch):
    for name in (rapidpro.ENV_TOKEN, twilio.ENV_TOKEN, twilio.ENV_SID):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def rp():
    with FakeRapidPro(runs=9, page_size=50) as fake:
        yield fake


@pytest.fixture
def tw():
    with FakeTwilio(executions=6) as fake:
        yield fake


def rapidpro_dialog(qtbot, dialog_tasks, server, token=RP_TOKEN) -> ConnectDialog:
    dialog = ConnectDialog(server.url, tasks=dialog_tasks, form=RAPIDPRO)
    qtbot.addWidget(dialog)
    dialog.token_edit.setText(token)
    return dialog


def twilio_dialog(qtbot, dialog_tasks, server, sid=ACCOUNT_SID, token=AUTH_TOKEN) -> ConnectDialog:
    dialog = ConnectDialog(tasks=dialog_tasks, form=TWILIO)
    qtbot.addWidget(dialog)
    dialog.url_edit.setText(server.url)
    dialog.account_edit.setText(sid)
    dialog.token_edit.setText(token)
    return dialog


def run_test(qtbot, dialog: ConnectDialog) -> str:
    dialog.test_connection()
    assert dialog.is_testing()  # off the GUI thread: the call returned at once
    qtbot.waitUntil(lambda: not dialog.is_testing(), timeout=10_000)
    return dialog.status.text()


def test_the_menu_offers_each_api_source(make_window, demo_db_path):
    window = make_window(demo_db_path)
    texts = [a.text().replace("&", "") for a in window.menuBar().actions()[0].menu().actions()]
    for wanted in (
        "Connect ActiveCampaign…",
        "Connect RapidPro/TextIt…",
        "Connect Twilio Studio…",
    ):
        assert wanted in texts


def test_rapidpro_test_connection_says_what_it_found(qtbot, dialog_tasks, rp):
    dialog = rapidpro_dialog(qtbot, dialog_tasks, rp)
    assert dialog.windowTitle() == "Connect RapidPro/TextIt"
    assert dialog.url_edit.accessibleName() == "Workspace URL"
    assert not dialog.account_edit.isVisibleTo(dialog)
    host = rp.url.split("://")[1]
    assert run_test(qtbot, dialog) == f"✓ Connected to {host}: more than one flow."  # a page of 1
    assert rp.requests() == ["/api/v2/flows.json"]


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("token", "✗ The token was rejected. Check the API token and the workspace URL."),
        (429, "is limiting requests (HTTP 429). Wait a minute, then test again."),
        (503, "had a problem (HTTP 503). Try again later."),
    ],
)
def test_rapidpro_failures_are_one_line_without_the_token(qtbot, dialog_tasks, rp, fault, expected):
    token = RP_TOKEN
    if fault == "token":
        token = "wrong-rapidpro-token-77"
    else:
        rp.add_fault(fault, "flows", times=5, retry_after="0")
    dialog = rapidpro_dialog(qtbot, dialog_tasks, rp, token)
    text = run_test(qtbot, dialog)
    assert text.endswith(expected) and "\n" not in text
    assert token not in text
    # Connect after a failed test stores nothing and keeps the dialog open.
    dialog.accept()
    assert dialog.result() == 0 and dialog.connection() is None
    assert "before connecting" in dialog.status.text()
    stored = credentials.load_token(
        rapidpro.normalize_url(rp.url), env=rapidpro.ENV_TOKEN, service=rapidpro.KEYRING_SERVICE
    )
    assert stored is None


def test_an_unreachable_server_is_said_plainly(qtbot, dialog_tasks, rp):
    url = rp.url
    rp.stop()  # nothing listens on that port any more
    dialog = ConnectDialog(url, tasks=dialog_tasks, form=RAPIDPRO)
    qtbot.addWidget(dialog)
    dialog.token_edit.setText(RP_TOKEN)
    host = url.split("://")[1]
    text = run_test(qtbot, dialog)
    assert text == f"✗ Cannot reach {host}: no answer. Check the Workspace URL and the network."


def test_rapidpro_connect_keeps_the_token_in_its_keyring_service(qtbot, dialog_tasks, rp):
    dialog = rapidpro_dialog(qtbot, dialog_tasks, rp, f"  {RP_TOKEN} ")
    dialog.accept()
    assert dialog.result() == 1
    connection = dialog.connection()
    assert connection.kind == "rapidpro" and connection.url == rp.url + "/api/v2"
    assert dialog.token_edit.text() == ""
    base = rapidpro.normalize_url(rp.url)
    kwargs = {"env": rapidpro.ENV_TOKEN, "service": rapidpro.KEYRING_SERVICE}
    assert credentials.load_token(base, **kwargs) == RP_TOKEN
    assert credentials.load_token(base) is None  # not under ActiveCampaign's service
    again = ConnectDialog(rp.url, tasks=dialog_tasks, form=RAPIDPRO)
    qtbot.addWidget(again)
    assert "keyring" in again.token_edit.placeholderText() and again.ok_button.isEnabled()
    assert run_test(qtbot, again).startswith("✓")
    credentials.delete_token(base, service=rapidpro.KEYRING_SERVICE)


def test_twilio_test_connection_names_the_flows(qtbot, dialog_tasks, tw):
    dialog = twilio_dialog(qtbot, dialog_tasks, tw)
    assert dialog.account_edit.accessibleName() == "Account SID"
    assert dialog.token_edit.accessibleName() == "Auth token"
    text = run_test(qtbot, dialog)
    assert (
        text
        == f"✓ Connected to the Twilio account {ACCOUNT_SID}: 1 Studio flow (Citas — clínica 🏥)."
    )


def test_twilio_needs_the_sid_and_refuses_a_malformed_one_without_a_request(
    qtbot, dialog_tasks, tw
):
    dialog = twilio_dialog(qtbot, dialog_tasks, tw, sid="")
    assert not dialog.ok_button.isEnabled() and not dialog.test_button.isEnabled()
    dialog.account_edit.setText("AC123")
    dialog.test_connection()
    assert not dialog.is_testing()
    assert dialog.status.text().startswith("The Account SID should be AC followed by 32")
    assert tw.requests() == []


def test_twilio_rejected_credentials_and_rate_limit(qtbot, dialog_tasks, tw):
    dialog = twilio_dialog(qtbot, dialog_tasks, tw, token="not-the-auth-token")
    assert run_test(qtbot, dialog) == (
        "✗ The Account SID and auth token were rejected. Check both."
    )
    tw.add_fault(429, "Flows", times=5, retry_after="0")
    dialog.token_edit.setText(AUTH_TOKEN)
    assert "(HTTP 429)" in run_test(qtbot, dialog)


def test_twilio_connect_stores_the_token_under_the_sid(qtbot, dialog_tasks, tw):
    dialog = twilio_dialog(qtbot, dialog_tasks, tw)
    assert run_test(qtbot, dialog).startswith("✓")
    dialog.accept()
    assert dialog.result() == 1
    connection = dialog.connection()
    assert (connection.kind, connection.account, connection.url) == ("twilio", ACCOUNT_SID, tw.url)
    kwargs = {"env": twilio.ENV_TOKEN, "service": twilio.KEYRING_SERVICE}
    assert credentials.load_token(ACCOUNT_SID, **kwargs) == AUTH_TOKEN
    credentials.delete_token(ACCOUNT_SID, service=twilio.KEYRING_SERVICE)


def connected(monkeypatch, kind, connection, tmp_path):
    """ui.workspaces.connect_source with the modal dialog answered by ``connection``."""
    monkeypatch.setattr(ui_workspaces, "workspace_dir", lambda: tmp_path)
    monkeypatch.setattr(connect_dialog, "ask_for_connection", lambda *a, **k: connection)
    return ui_workspaces.connect_source(None, None, kind)


def test_connecting_rapidpro_creates_its_workspace_and_the_first_sync_fills_it(
    qtbot, make_window, tmp_path, monkeypatch, rp
):
    base = rapidpro.normalize_url(rp.url)
    credentials.store_token(
        base, RP_TOKEN, env=rapidpro.ENV_TOKEN, service=rapidpro.KEYRING_SERVICE
    )
    connection = connect_dialog.Connection("rapidpro", base, None)
    path = connected(monkeypatch, "rapidpro", connection, tmp_path)
    assert path is not None and path.name.startswith("rapidpro-127-0-0-1-")
    found = workspace.describe_file(path)
    assert (found.kind, found.account, found.has_runs) == ("rapidpro", base, False)
    assert found.title(path.name) == f"RapidPro ({base.split('/')[2]})"
    # The app's Sync now runs in a child process, which reads the token from the environment
    # here (the test keyring lives in this process only).
    monkeypatch.setenv(rapidpro.ENV_TOKEN, RP_TOKEN)
    window = make_window(path)
    assert window.first_sync_button.isVisibleTo(window)
    window.sync_action.trigger()
    qtbot.waitUntil(lambda: not window.is_syncing(), timeout=60_000)
    wait_idle(qtbot, window)
    flows = list_flows(connect(path))
    assert len(flows) == 2 and window.flows.model.rowCount() == 2
    assert sum(flow.counters.contacts for flow in flows) > 0
    credentials.delete_token(base, service=rapidpro.KEYRING_SERVICE)
    window.shutdown()
    main_window._OPEN_WINDOWS.clear()


def test_connecting_twilio_records_the_sid_and_url(tmp_path, monkeypatch, tw):
    kwargs = {"env": twilio.ENV_TOKEN, "service": twilio.KEYRING_SERVICE}
    credentials.store_token(ACCOUNT_SID, AUTH_TOKEN, **kwargs)
    connection = connect_dialog.Connection("twilio", tw.url, ACCOUNT_SID)
    path = connected(monkeypatch, "twilio", connection, tmp_path)
    assert path is not None and path.name == f"twilio-{ACCOUNT_SID}.db"
    found = workspace.describe_file(path)
    assert (found.kind, found.account, found.extra["url"]) == ("twilio", ACCOUNT_SID, tw.url)
    db = connect(path)
    try:
        source = workspace.source_for(db)  # a later sync needs no flags
        assert source.kind == "twilio" and source.base_url == tw.url
    finally:
        db.conn.close()
    credentials.delete_token(ACCOUNT_SID, service=twilio.KEYRING_SERVICE)


def test_connecting_without_a_token_claims_nothing(tmp_path, rp):
    db = connect(tmp_path / "rp.db")
    try:
        with pytest.raises(workspace.WorkspaceError, match="no API token"):
            workspace.connect_source(db, "rapidpro", workspace.SourceOptions(url=rp.url))
        assert workspace.describe(db).kind is None
    finally:
        db.conn.close()


def test_a_test_that_succeeds_after_a_failed_one_lets_connect_through(qtbot, dialog_tasks, rp):
    """A refused test blocks Connect only until a test of the same inputs succeeds."""
    rp.add_fault(429, "flows", times=5, retry_after="0")
    dialog = rapidpro_dialog(qtbot, dialog_tasks, rp, RP_TOKEN)
    assert "(HTTP 429)" in run_test(qtbot, dialog)
    rp.faults.clear()  # the host stops limiting; the same inputs are tested again
    assert run_test(qtbot, dialog).startswith("✓")
    dialog.accept()
    assert dialog.result() == 1 and dialog.connection() is not None
    credentials.delete_token(rapidpro.normalize_url(rp.url), service=rapidpro.KEYRING_SERVICE)
