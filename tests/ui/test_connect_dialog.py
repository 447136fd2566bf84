"""The "Connect ActiveCampaign" dialog: fields, a non-blocking Test connection, keyring storage."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLineEdit

from flowdesk.core.sources import credentials
from flowdesk.ui import connect_dialog
from flowdesk.ui.connect_dialog import ConnectDialog
from tests.fake_ac_server import TOKEN, FakeAccount, FakeACServer


@pytest.fixture
def server():
    with FakeACServer(FakeAccount(seed=2, runs=12), latency=0.2) as fake:
        yield fake
        fake.settle()


@pytest.fixture(autouse=True)
def no_env_token(monkeypatch):
    monkeypatch.delenv("FLOWDESK_AC_TOKEN", raising=False)


def make(qtbot, dialog_tasks, url: str = "") -> ConnectDialog:
    dialog = ConnectDialog(url, tasks=dialog_tasks)
    qtbot.addWidget(dialog)
    return dialog


def test_fields_are_accessible_and_the_token_is_hidden(qtbot, dialog_tasks):
    dialog = make(qtbot, dialog_tasks)
    assert dialog.url_edit.accessibleName() == "Account URL"
    assert dialog.token_edit.accessibleName() == "API token"
    assert dialog.token_edit.echoMode() == QLineEdit.EchoMode.Password
    assert dialog.test_button.accessibleName() == "Test connection"
    assert dialog.status.accessibleName() == "Connection status"
    assert not dialog.ok_button.isEnabled() and not dialog.test_button.isEnabled()
    dialog.url_edit.setText("acme.api-us1.com")
    assert not dialog.ok_button.isEnabled()
    dialog.token_edit.setText("abc")
    assert dialog.ok_button.isEnabled() and dialog.test_button.isEnabled()


def test_test_connection_runs_off_the_gui_thread(qtbot, dialog_tasks, server):
    dialog = make(qtbot, dialog_tasks, server.base_url)
    dialog.token_edit.setText(TOKEN)
    dialog.test_connection()
    # The call returned at once: the request is still on the server (0.2 s latency).
    assert dialog.is_testing()
    assert dialog.status.text() == "Testing…"
    assert not dialog.test_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.is_testing(), timeout=5000)
    assert dialog.status.text().startswith("✓ Connected to 127.0.0.1")
    assert "12 contact runs" in dialog.status.text()
    assert dialog.test_button.isEnabled()


def test_a_rejected_token_is_said_plainly(qtbot, dialog_tasks, server):
    dialog = make(qtbot, dialog_tasks, server.base_url)
    dialog.token_edit.setText("wrong-token-xyz")
    dialog.test_connection()
    qtbot.waitUntil(lambda: not dialog.is_testing(), timeout=5000)
    text = dialog.status.text()
    assert text == "✗ The token was rejected. Check the API token and the account URL."
    assert "wrong-token-xyz" not in text


def test_a_bad_url_is_refused_without_a_request(qtbot, dialog_tasks):
    dialog = make(qtbot, dialog_tasks, "http://acme.api-us1.com")
    dialog.token_edit.setText("abc")
    dialog.test_connection()
    assert not dialog.is_testing()
    assert "https" in dialog.status.text()
    dialog.accept()
    assert dialog.result() == 0 and dialog.base_url() is None


def test_editing_during_a_test_discards_its_answer(qtbot, dialog_tasks, server):
    dialog = make(qtbot, dialog_tasks, server.base_url)
    dialog.token_edit.setText(TOKEN)
    dialog.test_connection()
    dialog.token_edit.setText(TOKEN + "x")
    assert not dialog.is_testing() and dialog.status.text() == ""
    dialog_tasks.wait(5000)
    qtbot.wait(50)
    assert dialog.status.text() == ""


def test_connect_keeps_the_token_in_the_keyring_only(qtbot, dialog_tasks, server):
    dialog = make(qtbot, dialog_tasks)
    dialog.url_edit.setText(server.base_url + "/")
    dialog.token_edit.setText(f"  {TOKEN}  ")
    dialog.accept()
    assert dialog.result() == 1
    assert dialog.base_url() == server.base_url
    assert dialog.token_edit.text() == ""
    assert credentials.load_token(server.base_url) == TOKEN

    # Reopened for the same account, the stored token is used without retyping it.
    again = make(qtbot, dialog_tasks, server.base_url)
    assert "keyring" in again.token_edit.placeholderText()
    assert again.ok_button.isEnabled()
    again.test_connection()
    qtbot.waitUntil(lambda: not again.is_testing(), timeout=5000)
    assert again.status.text().startswith("✓")
    again.accept()
    assert again.result() == 1
    credentials.delete_token(server.base_url)


def test_closing_while_testing_is_safe(qtbot, dialog_tasks, server):
    dialog = make(qtbot, dialog_tasks, server.base_url)
    dialog.token_edit.setText(TOKEN)
    dialog.test_connection()
    dialog.reject()
    assert not dialog.is_testing()
    dialog_tasks.wait(5000)
    qtbot.wait(20)
    assert dialog.status.text() == "Testing…"  # the late answer was ignored
    qtbot.waitUntil(lambda: not dialog_tasks.busy(), timeout=5000)


def test_keyring_refusal_is_shown(qtbot, dialog_tasks, monkeypatch):
    def refuse(account, token, **_where):
        raise credentials.CredentialError("no system keyring is available to keep the token")

    monkeypatch.setattr(connect_dialog, "store_token", refuse)
    dialog = make(qtbot, dialog_tasks, "acme.api-us1.com")
    dialog.token_edit.setText("abc")
    dialog.accept()
    assert dialog.result() == 0
    assert "keyring" in dialog.status.text()


def test_connect_after_a_failed_test_keeps_the_dialog_and_no_token(qtbot, dialog_tasks, server):
    dialog = make(qtbot, dialog_tasks, server.base_url)
    dialog.token_edit.setText("wrong-token-xyz")
    dialog.test_connection()
    qtbot.waitUntil(lambda: not dialog.is_testing(), timeout=5000)
    dialog.accept()
    assert dialog.result() == 0
    assert "before connecting" in dialog.status.text()
    assert credentials.load_token(server.base_url) is None
    dialog.token_edit.setText(TOKEN)  # new inputs: the old failure no longer applies
    dialog.accept()
    assert dialog.result() == 1
    assert credentials.load_token(server.base_url) == TOKEN
    credentials.delete_token(server.base_url)


def test_the_keyring_message_names_the_variable_as_it_is_spelled(qtbot, dialog_tasks, monkeypatch):
    def refuse(account, token, **_where):
        raise credentials.CredentialError(
            "no system keyring is available to keep the token; set the environment variable "
            "FLOWDESK_AC_TOKEN instead"
        )

    monkeypatch.setattr(connect_dialog, "store_token", refuse)
    dialog = make(qtbot, dialog_tasks, "acme.api-us1.com")
    dialog.token_edit.setText("abc")
    dialog.accept()
    assert dialog.status.text() == (
        "No system keyring is available to keep the token; set the environment variable "
        "FLOWDESK_AC_TOKEN instead."
    )
