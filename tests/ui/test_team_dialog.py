"""File → Connect team server: URL checked as typed, password to the keyring, its own cache."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialogButtonBox, QLineEdit

from flowdesk.core import workspace
from flowdesk.core.db import connect
from flowdesk.core.sources.credentials import delete_token, load_token
from flowdesk.core.team.source import KEYRING_SERVICE
from flowdesk.ui import team_dialog, workspaces
from flowdesk.ui.team_dialog import TeamServerDialog

REMOTE = "postgresql://flowdesk_reader@db.example.com/flowdesk"
STORED = "postgresql://flowdesk_reader@db.example.com/flowdesk?sslmode=require"


@pytest.fixture(autouse=True)
def clean_keyring():
    yield
    delete_token(STORED, service=KEYRING_SERVICE)


def make(qtbot, url: str = "") -> TeamServerDialog:
    dialog = TeamServerDialog(url)
    qtbot.addWidget(dialog)
    return dialog


def connect_button(dialog: TeamServerDialog):
    return dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)


def test_the_url_is_checked_as_typed_and_tls_is_required_off_this_computer(qtbot):
    dialog = make(qtbot)
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


def test_connecting_keeps_the_password_in_the_keyring_not_in_the_url(qtbot):
    dialog = make(qtbot, REMOTE)
    dialog.password_edit.setText("s3cret pass")
    dialog.accept()
    assert dialog.result() == TeamServerDialog.DialogCode.Accepted
    assert dialog.server_url() == STORED
    assert load_token(STORED, env="FLOWDESK_TEST_UNSET", service=KEYRING_SERVICE) == "s3cret pass"


def test_a_password_typed_into_the_url_goes_to_the_keyring_too(qtbot):
    dialog = make(qtbot, "postgresql://flowdesk_reader:in-url@db.example.com/flowdesk")
    dialog.accept()
    assert "in-url" not in dialog.server_url() and "in-url" not in dialog.status.text()
    assert load_token(STORED, env="FLOWDESK_TEST_UNSET", service=KEYRING_SERVICE) == "in-url"


def test_connect_team_server_creates_a_team_workspace(qtbot, monkeypatch, tmp_path):
    monkeypatch.setattr(workspaces, "workspace_dir", lambda: tmp_path)
    monkeypatch.setattr(team_dialog, "ask_for_team_server", lambda parent=None: STORED)
    path = workspaces.connect_team_server(None)
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
