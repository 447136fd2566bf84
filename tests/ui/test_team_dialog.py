"""File → Connect team server: URL checked as typed, Test connection against the real PostgreSQL
the test session starts (tests/pg_server.py), password to the keyring, its own cache."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialogButtonBox, QLineEdit

from flowdesk.core import workspace
from flowdesk.core.db import connect
from flowdesk.core.sources.credentials import delete_token, load_token
from flowdesk.core.team.connection import parse_url
from flowdesk.core.team.schema import SCHEMA_VERSION
from flowdesk.core.team.source import KEYRING_SERVICE
from flowdesk.ui import team_dialog, workspaces
from flowdesk.ui.team_dialog import TeamServerDialog
from tests.pg_server import ADMIN_PASSWORD
from tests.ui.pools import HeldPool

REMOTE = "postgresql://flowdesk_reader@db.example.com/flowdesk"
STORED = "postgresql://flowdesk_reader@db.example.com/flowdesk?sslmode=require"


@pytest.fixture(autouse=True)
def clean_keyring():
    yield
    delete_token(STORED, service=KEYRING_SERVICE)


def make(qtbot, dialog_tasks, url: str = "") -> TeamServerDialog:
    dialog = TeamServerDialog(url, tasks=dialog_tasks)
    qtbot.addWidget(dialog)
    return dialog


def connect_button(dialog: TeamServerDialog):
    return dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)


def test_the_url_is_checked_as_typed_and_tls_is_required_off_this_computer(qtbot, dialog_tasks):
    dialog = make(qtbot, dialog_tasks)
    assert dialog.password_edit.echoMode() == QLineEdit.EchoMode.Password
    assert not connect_button(dialog).isEnabled()
    dialog.url_edit.setText("https://db.example.com")
    assert not connect_button(dialog).isEnabled()
    assert "must start with postgresql://" in dialog.status.text()
    dialog.url_edit.setText(REMOTE + "?sslmode=disable")
    assert not connect_button(dialog).isEnabled() and "TLS" in dialog.status.text()
    dialog.url_edit.setText(REMOTE)
    assert connect_button(dialog).isEnabled() and "over TLS" in dialog.status.text()
    dialog.url_edit.setText("postgresql://me@localhost/flowdesk")
    assert "this computer" in dialog.status.text()


def test_its_parts_are_named_as_in_the_source_connect_dialogs(qtbot, dialog_tasks):
    """A screen reader meets the same names in every connect dialog."""
    dialog = make(qtbot, dialog_tasks)
    cancel = dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel)
    names = [
        w.accessibleName() for w in (dialog.test_button, dialog.status, connect_button(dialog))
    ]
    assert names == ["Test connection", "Connection status", "Connect"]
    assert cancel.accessibleName() == "Cancel"


def test_connecting_keeps_the_password_in_the_keyring_not_in_the_url(qtbot, dialog_tasks):
    dialog = make(qtbot, dialog_tasks, REMOTE)
    dialog.password_edit.setText("s3cret pass")
    dialog.accept()
    assert dialog.result() == TeamServerDialog.DialogCode.Accepted
    assert dialog.server_url() == STORED
    assert load_token(STORED, env="FLOWDESK_TEST_UNSET", service=KEYRING_SERVICE) == "s3cret pass"


def test_a_password_typed_into_the_url_goes_to_the_keyring_too(qtbot, dialog_tasks):
    dialog = make(
        qtbot, dialog_tasks, "postgresql://flowdesk_reader:in-url@db.example.com/flowdesk"
    )
    dialog.accept()
    assert "in-url" not in dialog.server_url() and "in-url" not in dialog.status.text()
    assert load_token(STORED, env="FLOWDESK_TEST_UNSET", service=KEYRING_SERVICE) == "in-url"


def test_connect_team_server_creates_a_team_workspace(qtbot, dialog_tasks, monkeypatch, tmp_path):
    monkeypatch.setattr(workspaces, "workspace_dir", lambda: tmp_path)
    monkeypatch.setattr(team_dialog, "ask_for_team_server", lambda tasks, parent=None: STORED)
    path = workspaces.connect_team_server(None, dialog_tasks)
    assert path is not None and path.parent == tmp_path and path.name.startswith("team-")
    db = connect(path)
    try:
        found = workspace.describe(db)
        assert found.kind == workspace.TEAM and found.account == STORED
        assert found.title("x") == "Team server (flowdesk_reader@db.example.com/flowdesk)"
        source = workspace.source_for(db)  # the cache now says what it syncs from
        assert source.kind == workspace.TEAM and source.base_url == STORED
    finally:
        db.conn.close()
    assert workspaces.workspace_name(path) == found.title("x")


# -- Test connection, against the session's PostgreSQL -----------------------------------------


@pytest.fixture(scope="module")
def team_server(pg_server):
    """A team server fed once by a small demo; its URL without the password, and its runs."""
    from flowdesk.core.demo import DemoSource
    from flowdesk.core.team.connection import parse_url
    from flowdesk.core.team.server import init_server, sync_server

    database = pg_server.create_database("t_team_dialog")
    admin = parse_url(pg_server.url(database))
    init_server(admin)
    report = sync_server(admin, DemoSource(seed=3, contacts=120), {"seed": 3, "contacts": 120})
    assert report.outcome == "completed", report.message
    return pg_server.url(database, password=None), report.changed["runs"]


def verdict_of(qtbot, dialog: TeamServerDialog) -> str:
    dialog.test_connection()
    qtbot.waitUntil(lambda: not dialog.is_testing(), timeout=15000)
    return dialog.status.text()


def test_test_connection_says_the_schema_and_the_run_count(qtbot, dialog_tasks, team_server):
    url, runs = team_server
    dialog = make(qtbot, dialog_tasks, url)
    assert dialog.test_button.accessibleName() == "Test connection"
    dialog.password_edit.setText(ADMIN_PASSWORD)
    text = verdict_of(qtbot, dialog)
    expected = f"team schema {SCHEMA_VERSION}, {runs:,} contact runs"
    assert text == f"✓ Connected to {parse_url(url).display}: {expected}"
    assert dialog.test_button.isEnabled() and ADMIN_PASSWORD not in text


def test_the_test_runs_off_the_gui_thread_and_new_inputs_drop_its_answer(
    qtbot, make_tasks, team_server
):
    url, _ = team_server
    held = HeldPool()
    dialog = make(qtbot, make_tasks(interactive=held), url)
    dialog.password_edit.setText(ADMIN_PASSWORD)
    dialog.test_connection()
    assert dialog.is_testing() and dialog.status.text() == "Testing…"
    assert not dialog.test_button.isEnabled() and len(held) == 1  # nothing ran yet
    dialog.password_edit.setText("other")  # the answer would be for other inputs
    assert not dialog.is_testing() and len(held) == 0 and dialog.test_button.isEnabled()
    assert "Connected" not in dialog.status.text()


def _newer_schema(pg_server) -> str:
    from flowdesk.core.team.schema import SCHEMA
    from flowdesk.core.team.server import init_server

    database = pg_server.create_database("t_team_dialog_newer")
    init_server(parse_url(pg_server.url(database)))
    with pg_server.admin(database) as conn:
        conn.execute(f"UPDATE {SCHEMA}.server SET schema_version = 99")
    return pg_server.url(database, password=None)


@pytest.mark.parametrize(
    ("case", "said"),
    [
        ("wrong password", "password authentication failed"),
        ("unreachable", "Connection refused (is the team server running"),
        ("newer schema", f"team schema 99, newer than this Flowdesk reads ({SCHEMA_VERSION})"),
        ("no TLS", "the server does not offer TLS"),
    ],
)
def test_a_failed_test_says_why_in_one_line_and_connect_then_keeps_nothing(
    qtbot, dialog_tasks, team_server, pg_server, monkeypatch, tmp_path, case, said
):
    url, _ = team_server
    password = ADMIN_PASSWORD
    if case == "wrong password":
        password = "not-the-password-51"
    elif case == "unreachable":
        url = "postgresql://flowdesk_reader@127.0.0.1:1/flowdesk"
    elif case == "newer schema":
        url = _newer_schema(pg_server)
    else:
        url += "?sslmode=require"  # as a server off this computer is reached
    stored = parse_url(url).url
    monkeypatch.setattr(workspaces, "workspace_dir", lambda: tmp_path)
    shown: list[str] = []

    def exec_(dialog: TeamServerDialog) -> int:
        """The user types, tests, reads the verdict, then presses Connect anyway."""
        qtbot.addWidget(dialog)
        dialog.url_edit.setText(url)
        dialog.password_edit.setText(password)
        shown.append(verdict_of(qtbot, dialog))
        dialog.ok_button.click()
        shown.append(dialog.status.text())
        return dialog.result()

    monkeypatch.setattr(TeamServerDialog, "exec", exec_)
    assert workspaces.connect_team_server(None, dialog_tasks) is None
    verdict, after_connect = shown
    assert verdict.startswith("✗ ") and said in verdict and "\n" not in verdict
    assert password not in verdict and "Traceback" not in verdict
    assert after_connect.startswith(verdict) and "before connecting" in after_connect
    assert load_token(stored, env="FLOWDESK_TEST_UNSET", service=KEYRING_SERVICE) is None
    assert list(tmp_path.iterdir()) == []  # no workspace created


def test_a_passed_test_lets_connect_keep_the_password(qtbot, dialog_tasks, team_server):
    url, _ = team_server
    dialog = make(qtbot, dialog_tasks, url)
    dialog.password_edit.setText("wrong-first")
    assert verdict_of(qtbot, dialog).startswith("✗ ")
    dialog.password_edit.setText(ADMIN_PASSWORD)  # new inputs: the failed verdict no longer holds
    assert verdict_of(qtbot, dialog).startswith("✓ ")
    dialog.ok_button.click()
    assert dialog.result() == TeamServerDialog.DialogCode.Accepted
    stored = parse_url(url).url
    try:
        assert load_token(stored, env="FLOWDESK_TEST_UNSET", service=KEYRING_SERVICE) == (
            ADMIN_PASSWORD
        )
    finally:
        delete_token(stored, service=KEYRING_SERVICE)
