"""The "Connect team server" dialog: a ``postgresql://`` URL and the desktop role's password.

Nothing here touches the network: the URL is checked as it is typed (TLS required unless the
host is this computer), and the first sync, in its own process, connects and reports a wrong
password or an unreachable server as any sync failure. Accepting stores the password in the
system keyring, never in the settings or the cache; :meth:`TeamServerDialog.server_url` is then
the URL without its password.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from flowdesk.core.errors import UserError
from flowdesk.core.sources.credentials import store_token
from flowdesk.core.team.connection import ServerAddress, TeamServerError, parse_url
from flowdesk.core.team.source import KEYRING_SERVICE

PLACEHOLDER = "postgresql://flowdesk_reader@db.example.com/flowdesk"


class TeamServerDialog(QDialog):
    """Ask for the team server's URL and password; keep the password in the keyring."""

    def __init__(self, url: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
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
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Status")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Connect")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.url_edit.textChanged.connect(self._check)
        self._check()

    def _check(self) -> None:
        """Say what is wrong with the URL as it is typed; Connect only for a usable one."""
        text = self.url_edit.text().strip()
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        try:
            self._address = parse_url(text) if text else None
        except TeamServerError as exc:
            self._address = None
            text = str(exc)
            self.status.setText(text[:1].upper() + text[1:])
        else:
            if self._address is None:
                self.status.setText("")
            elif self._address.local:
                self.status.setText(f"{self._address.display} (this computer)")
            else:
                self.status.setText(f"{self._address.display}, over TLS")
        ok.setEnabled(self._address is not None)

    def accept(self) -> None:
        address = self._address
        if address is None:
            return
        password = self.password_edit.text() or address.password
        if password:
            try:
                store_token(address.url, password, service=KEYRING_SERVICE)
            except UserError as exc:  # no keyring on this machine
                self.status.setText(str(exc))
                return
        super().accept()

    def server_url(self) -> str | None:
        """The accepted server's URL, without its password."""
        return self._address.url if self._address is not None else None


def ask_for_team_server(parent: QWidget | None = None) -> str | None:
    """The server's URL without its password, or None when the user cancels."""
    dialog = TeamServerDialog(parent=parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.server_url()
