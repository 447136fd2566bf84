"""The "Connect team server" dialog: a ``postgresql://`` URL, the desktop role's password, Test.

The URL is checked as it is typed (TLS required unless the host is this computer). Test
connection connects in the background through the window's task manager (the GUI never waits on
the network) and says in one line what it found: the server's schema and run count, or why not
(wrong password, unreachable, a newer schema, no TLS). Editing the fields or closing the dialog
drops its answer. After a failed test, Connect stores nothing and creates no workspace until the
inputs change or a test passes. Accepting stores the password in the system keyring, never in
the settings or the cache; :meth:`TeamServerDialog.server_url` is then the URL without it.
"""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from flowdesk.core.errors import UserError
from flowdesk.core.sources.credentials import load_token, store_token
from flowdesk.core.team.connection import ServerAddress, TeamServerError, parse_url, with_password
from flowdesk.core.team.source import ENV_PASSWORD, KEYRING_SERVICE, ServerInfo, TeamSource
from flowdesk.ui.connect_dialog import TestedDialog, sentence
from flowdesk.ui.tasks import TaskManager

PLACEHOLDER = "postgresql://flowdesk_reader@db.example.com/flowdesk"


def probe_server(address: ServerAddress) -> ServerInfo:
    """Test connection's work, on a pool thread."""
    return TeamSource(address).probe()


def _failure_text(exc: BaseException) -> str:
    """One line, never a password (TeamServerError messages carry none) nor a traceback."""
    if isinstance(exc, TeamServerError):
        return sentence(str(exc)).rstrip(".") + "."
    return f"Connection failed: {exc.__class__.__name__}"


class TeamServerDialog(TestedDialog):
    """Ask for the team server's URL and password; test them; keep the password in the keyring."""

    def __init__(self, url: str = "", parent: QWidget | None = None, *, tasks: TaskManager) -> None:
        super().__init__(parent, tasks)
        self.setWindowTitle("Connect team server")
        self.setAccessibleName("Connect team server")
        self.setMinimumWidth(520)
        self._address: ServerAddress | None = None

        intro = QLabel(
            "Your team's Flowdesk server keeps the account in sync for everyone; this computer "
            "then syncs from it and works offline with the last sync. Ask your administrator for "
            "the server's address and the desktop role's password."
        )
        intro.setWordWrap(True)
        self.url_edit = QLineEdit(url)
        self.url_edit.setPlaceholderText(PLACEHOLDER)
        self.url_edit.setAccessibleName("Server URL")
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setAccessibleName("Password")
        self.password_edit.setPlaceholderText(
            "kept in the system keyring (empty: keep the stored one)"
        )
        form = QFormLayout()
        form.addRow("Server &URL", self.url_edit)
        form.addRow("&Password", self.password_edit)
        self._lay_out(intro, form)
        self.url_edit.textChanged.connect(self._check)
        self.password_edit.textChanged.connect(self._check)
        self._check()

    # -- state ------------------------------------------------------------------------------

    @Slot()
    def _check(self) -> None:
        """Say what is wrong with the URL as it is typed; Connect and Test only for a usable
        one. New inputs drop a running test's answer and a failed test's verdict."""
        self._stop_test()
        self._failed_test = None
        text = self.url_edit.text().strip()
        try:
            self._address = parse_url(text) if text else None
        except TeamServerError as exc:
            self._address = None
            self._show(sentence(str(exc)), "")
        else:
            if self._address is None:
                self._show("", "")
            elif self._address.local:
                self._show(f"{self._address.display} (this computer)", "")
            else:
                self._show(f"{self._address.display}, over TLS", "")
        usable = self._address is not None
        self.ok_button.setEnabled(usable)
        self.test_button.setEnabled(usable)

    def _password(self, address: ServerAddress) -> str | None:
        """Typed, else in the URL, else the one stored for this server (or PGPASSWORD)."""
        typed = self.password_edit.text()
        if typed or address.password:
            return typed or address.password
        return load_token(address.url, env=ENV_PASSWORD, service=KEYRING_SERVICE)

    # -- test connection --------------------------------------------------------------------

    @Slot()
    def test_connection(self) -> None:
        address = self._address
        if address is None:
            return
        self._stop_test()
        try:
            password = self._password(address)
        except UserError as exc:  # the keyring cannot be read
            self._test_failed(sentence(str(exc)))
            return
        self._test = self._tasks.call(
            probe_server,
            with_password(address, password),
            success=self._test_succeeded,
            failure=lambda exc: self._test_failed(_failure_text(exc)),
            key=self.test_key,
        )
        self.test_button.setEnabled(False)
        self._show("Testing…", "")

    # -- closing ----------------------------------------------------------------------------

    def accept(self) -> None:
        address = self._address
        if address is None:
            return
        if self._refused_after_failed_test(
            "Fix the URL or the password (or test again) before connecting."
        ):
            return
        password = self.password_edit.text() or address.password
        if password:
            try:
                store_token(address.url, password, service=KEYRING_SERVICE)
            except UserError as exc:  # no keyring on this machine
                self._show(str(exc), "error")
                return
        self.password_edit.clear()  # the password lives in the keyring only
        self._stop_test()
        super().accept()

    def server_url(self) -> str | None:
        """The accepted server's URL, without its password."""
        return self._address.url if self._address is not None else None


def ask_for_team_server(tasks: TaskManager, parent: QWidget | None = None) -> str | None:
    """The server's URL without its password, or None when the user cancels."""
    dialog = TeamServerDialog(parent=parent, tasks=tasks)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.server_url()
