"""The "Connect ActiveCampaign" dialog: account URL, API token, Test connection.

The test runs off the GUI thread through the window's task manager (the GUI never waits on the
network); editing the fields or closing the dialog drops its answer. Accepting the dialog
stores the token in the system keyring (never in settings or the cache) and leaves the
normalised account URL in :meth:`ConnectDialog.base_url`.
"""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from flowdesk.core.sources.activecampaign import check_connection, normalize_base_url
from flowdesk.core.sources.credentials import CredentialError, load_token, store_token
from flowdesk.core.sources.http import AuthError, HttpError, redact
from flowdesk.ui.tasks import Task, TaskManager
from flowdesk.ui.theme import status_color

TOKEN_HELP = "In ActiveCampaign: Settings → Developer → API Access."


def sentence(text: str) -> str:
    """The first letter up, the rest as written: ``str.capitalize`` lower-cases the rest, and
    turned the variable FLOWDESK_AC_TOKEN into flowdesk_ac_token."""
    return text[:1].upper() + text[1:]


def _failure_text(exc: BaseException, token: str) -> str:
    """What a failed test says: never the token, never a traceback."""
    if isinstance(exc, AuthError):
        return "The token was rejected. Check the API token and the account URL."
    if isinstance(exc, HttpError | ValueError):
        return sentence(redact(str(exc), token))
    return redact(f"Connection failed: {exc.__class__.__name__}", token)


class ConnectDialog(QDialog):
    """Ask for the account URL and the API token; test them; keep the token in the keyring."""

    def __init__(
        self,
        url: str = "",
        parent: QWidget | None = None,
        *,
        tasks: TaskManager,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Connect ActiveCampaign")
        self.setAccessibleName("Connect ActiveCampaign")
        self.setMinimumWidth(480)
        self._tasks = tasks
        self._test: Task | None = None
        self._base_url: str | None = None
        self._stored_token = False
        self._failed_test: str | None = None  # why the last test of these inputs failed

        intro = QLabel(
            "Flowdesk reads your WhatsApp flows, executions and contact runs from ActiveCampaign. "
            "It never changes anything in your account.",
            self,
        )
        intro.setWordWrap(True)

        self.url_edit = QLineEdit(url, self)
        self.url_edit.setPlaceholderText("https://youraccount.api-us1.com")
        self.url_edit.setAccessibleName("Account URL")
        self.url_edit.setAccessibleDescription(
            "Your ActiveCampaign API URL, for example https://youraccount.api-us1.com"
        )
        self.token_edit = QLineEdit(self)
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_edit.setAccessibleName("API token")
        self.token_edit.setAccessibleDescription(TOKEN_HELP + " Kept in the system keyring.")
        self.token_edit.setToolTip(TOKEN_HELP)
        if url:
            self._prefill_token_hint(url)

        self.test_button = QPushButton("&Test connection", self)
        self.test_button.setAccessibleName("Test connection")
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Connection status")
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.status, 1)

        form = QFormLayout()
        form.addRow("Account &URL:", self.url_edit)
        form.addRow("API &token:", self.token_edit)
        help_label = QLabel(TOKEN_HELP, self)
        help_label.setWordWrap(True)
        form.addRow("", help_label)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Connect")
        self.ok_button.setAccessibleName("Connect")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAccessibleName("Cancel")

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addLayout(test_row)
        layout.addWidget(self.buttons)

        self.test_button.clicked.connect(self.test_connection)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.url_edit.textChanged.connect(self._inputs_changed)
        self.token_edit.textChanged.connect(self._inputs_changed)
        self._inputs_changed()

    # -- state ------------------------------------------------------------------------------

    def _prefill_token_hint(self, url: str) -> None:
        try:
            account = normalize_base_url(url)
        except ValueError:
            return
        if load_token(account):
            self._stored_token = True
            self.token_edit.setPlaceholderText("Stored in the keyring (type to replace)")

    def _token(self) -> str:
        typed = self.token_edit.text().strip()
        if typed:
            return typed
        if self._stored_token:
            try:
                return load_token(normalize_base_url(self.url_edit.text())) or ""
            except ValueError:
                return ""
        return ""

    @Slot()
    def _inputs_changed(self) -> None:
        ready = bool(self.url_edit.text().strip()) and bool(
            self.token_edit.text().strip() or self._stored_token
        )
        self._failed_test = None  # other inputs: the failed test no longer speaks for them
        self.ok_button.setEnabled(ready)
        self.test_button.setEnabled(ready and self._test is None)
        if self._test is not None:  # the answer would be for other inputs
            self._stop_test()
            self.test_button.setEnabled(ready)
            self._show("", "")

    def _show(self, text: str, kind: str) -> None:
        metric = {"ok": "completed", "error": "failed"}.get(kind)
        colour = status_color(metric, self.palette()).name() if metric else ""
        self.status.setStyleSheet(f"color: {colour};" if colour else "")
        self.status.setText(text)

    def base_url(self) -> str | None:
        """The normalised account URL once the dialog was accepted."""
        return self._base_url

    def is_testing(self) -> bool:
        return self._test is not None

    # -- test connection --------------------------------------------------------------------

    @Slot()
    def test_connection(self) -> None:
        try:
            url = normalize_base_url(self.url_edit.text())
        except ValueError as exc:
            self._show(sentence(str(exc)) + ".", "error")
            return
        token = self._token()
        if not token:
            self._show("Enter the API token.", "error")
            return
        self._test = self._tasks.call(
            check_connection,
            url,
            token,
            success=self._test_succeeded,
            failure=lambda exc: self._test_failed(_failure_text(exc, token)),
            key=(self, "test connection"),
            cancellable=True,
        )
        self.test_button.setEnabled(False)
        self._show("Testing…", "")

    def _test_succeeded(self, info) -> None:  # noqa: ANN001 - a ConnectionInfo
        self._test = None
        self.test_button.setEnabled(True)
        self._show("✓ " + info.message, "ok")

    def _test_failed(self, message: str) -> None:
        self._test = None
        self.test_button.setEnabled(True)
        self._failed_test = message
        self._show("✗ " + message, "error")

    # -- closing ----------------------------------------------------------------------------

    def accept(self) -> None:
        if self._failed_test is not None:  # keeping a token the account refused helps no one
            self._show(
                f"✗ {self._failed_test} Fix the URL or the token (or test again) before"
                " connecting.",
                "error",
            )
            return
        try:
            url = normalize_base_url(self.url_edit.text())
        except ValueError as exc:
            self._show(sentence(str(exc)) + ".", "error")
            self.url_edit.setFocus()
            return
        typed = self.token_edit.text().strip()
        if typed:
            try:
                store_token(url, typed)
            except CredentialError as exc:
                self._show(sentence(str(exc)) + ".", "error")
                return
        elif not load_token(url):
            self._show("Enter the API token.", "error")
            self.token_edit.setFocus()
            return
        self.token_edit.clear()  # the token lives in the keyring only
        self._base_url = url
        self._stop_test()
        super().accept()

    def reject(self) -> None:
        self._stop_test()
        super().reject()

    def done(self, result: int) -> None:  # noqa: D401 - Qt override
        self._stop_test()
        super().done(result)

    def _stop_test(self) -> None:
        """Stop the running test (at its next check) and drop its answer."""
        self._tasks.drop((self, "test connection"))
        self._test = None


def ask_for_account(tasks: TaskManager, parent: QWidget | None = None, url: str = "") -> str | None:
    """Show the dialog modally; the account URL when the user connected, else None."""
    dialog = ConnectDialog(url, parent, tasks=tasks)
    accepted = dialog.exec() == QDialog.DialogCode.Accepted
    return dialog.base_url() if accepted else None
