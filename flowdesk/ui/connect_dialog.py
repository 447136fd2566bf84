"""The Connect dialogs of the API sources: ActiveCampaign, RapidPro/TextIt and Twilio Studio.

One dialog, parametrised by a :class:`SourceForm`: the fields each source needs (an account URL,
Twilio's Account SID), its token, and the request that tests them. The test runs off the GUI
thread through the window's task manager (the GUI never waits on the network); editing the
fields or closing the dialog drops its answer, and a failure is one line (rejected token,
unreachable server, rate limited) that never shows the token. Accepting stores the token in the
system keyring (never in settings, a message or the cache) and leaves what identifies the
account in :meth:`ConnectDialog.connection`; after a failed test, Connect stores nothing until
the inputs change.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

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

from flowdesk.core import workspace
from flowdesk.core.sources import activecampaign, rapidpro, twilio
from flowdesk.core.sources.base import ConnectionInfo
from flowdesk.core.sources.credentials import (
    ENV_TOKEN,
    SERVICE,
    CredentialError,
    load_token,
    store_token,
)
from flowdesk.core.sources.http import AuthError, HttpError, TransportError, redact
from flowdesk.ui.tasks import Task, TaskManager
from flowdesk.ui.theme import status_color

# (url, account, token, is_cancelled) → what the test found; raises ValueError or HttpError.
CheckFn = Callable[[str, str, str, Callable[[], bool]], ConnectionInfo]


@dataclass(frozen=True, slots=True)
class SourceForm:
    """What one source's Connect dialog asks and how it tests it; the rest is shared."""

    kind: str  # the workspace kind it creates (flowdesk.core.workspace)
    title: str
    intro: str
    check: CheckFn
    normalize_url: Callable[[str], str]
    url_label: str
    url_name: str  # accessible name, also used in messages
    url_placeholder: str
    token_label: str
    token_name: str
    token_help: str
    rejected: str  # what a rejected token says
    url_required: bool = True
    account_label: str = ""  # empty: no account field (the URL names the account)
    account_name: str = ""
    account_placeholder: str = ""
    normalize_account: Callable[[str], str] | None = None
    token_env: str = ENV_TOKEN
    token_service: str = SERVICE


@dataclass(frozen=True, slots=True)
class Connection:
    """What an accepted dialog connected: the normalised URL and, for Twilio, the Account SID.
    The token is in the keyring (or the environment), under :attr:`keyring_account`."""

    kind: str
    url: str
    account: str | None

    @property
    def keyring_account(self) -> str:
        return self.account or self.url


def _check_activecampaign(url: str, _account: str, token: str, is_cancelled) -> ConnectionInfo:  # noqa: ANN001
    return activecampaign.check_connection(url, token, is_cancelled=is_cancelled)


def _check_rapidpro(url: str, _account: str, token: str, is_cancelled) -> ConnectionInfo:  # noqa: ANN001
    return rapidpro.check_connection(url, token, is_cancelled=is_cancelled)


def _check_twilio(url: str, account: str, token: str, is_cancelled) -> ConnectionInfo:  # noqa: ANN001
    return twilio.check_connection(account, token, url, is_cancelled=is_cancelled)


ACTIVECAMPAIGN = SourceForm(
    kind=workspace.ACTIVECAMPAIGN,
    title="Connect ActiveCampaign",
    intro="Flowdesk reads your WhatsApp flows, executions and contact runs from ActiveCampaign. "
    "It never changes anything in your account.",
    check=_check_activecampaign,
    normalize_url=activecampaign.normalize_base_url,
    url_label="Account &URL:",
    url_name="Account URL",
    url_placeholder="https://youraccount.api-us1.com",
    token_label="API &token:",
    token_name="API token",
    token_help="In ActiveCampaign: Settings → Developer → API Access.",
    rejected="The token was rejected. Check the API token and the account URL.",
)
RAPIDPRO = SourceForm(
    kind=workspace.RAPIDPRO,
    title="Connect RapidPro/TextIt",
    intro="Flowdesk reads your flows' definitions and their runs from your RapidPro or TextIt "
    "workspace. It never changes anything there.",
    check=_check_rapidpro,
    normalize_url=rapidpro.normalize_url,
    url_label="Workspace &URL:",
    url_name="Workspace URL",
    url_placeholder="https://textit.com or https://your RapidPro host",
    token_label="API &token:",
    token_name="API token",
    token_help="In RapidPro or TextIt: your workspace's Settings → API Tokens.",
    rejected="The token was rejected. Check the API token and the workspace URL.",
    token_env=rapidpro.ENV_TOKEN,
    token_service=rapidpro.KEYRING_SERVICE,
)
TWILIO = SourceForm(
    kind=workspace.TWILIO,
    title="Connect Twilio Studio",
    intro="Flowdesk reads your Studio flows, their revisions and executions with their steps. "
    "It never changes anything in your Twilio account.",
    check=_check_twilio,
    normalize_url=twilio.normalize_url,
    url_label="Studio &API URL:",
    url_name="Studio API URL",
    url_placeholder=f"{twilio.STUDIO_URL} (leave empty)",
    url_required=False,
    account_label="Account &SID:",
    account_name="Account SID",
    account_placeholder="AC…",
    normalize_account=twilio.normalize_sid,
    token_label="Auth &token:",
    token_name="Auth token",
    token_help="In the Twilio Console: Account info (Account SID and Auth token).",
    rejected="The Account SID and auth token were rejected. Check both.",
    token_env=twilio.ENV_TOKEN,
    token_service=twilio.KEYRING_SERVICE,
)
FORMS = {form.kind: form for form in (ACTIVECAMPAIGN, RAPIDPRO, TWILIO)}


def sentence(text: str) -> str:
    """The first letter up, the rest as written: ``str.capitalize`` lower-cases the rest, and
    turned the variable FLOWDESK_AC_TOKEN into flowdesk_ac_token."""
    return text[:1].upper() + text[1:]


def failure_text(exc: BaseException, token: str, form: SourceForm, url: str) -> str:
    """What a failed test says, in one line: never the token, never a traceback."""
    host = urllib.parse.urlsplit(url).netloc or url
    if isinstance(exc, AuthError):
        return form.rejected
    if isinstance(exc, HttpError) and exc.status == 429:
        return f"{host} is limiting requests (HTTP 429). Wait a minute, then test again."
    if isinstance(exc, TransportError):
        if exc.status is not None and exc.status >= 500:
            return f"{host} had a problem (HTTP {exc.status}). Try again later."
        if exc.status is None and "gave up" in str(exc):
            return f"Cannot reach {host}: no answer. Check the {form.url_name} and the network."
    if isinstance(exc, HttpError | ValueError):
        return sentence(redact(str(exc), token))
    return redact(f"Connection failed: {exc.__class__.__name__}", token)


class TestedDialog(QDialog):
    """A connect dialog whose inputs are tested in the background before it connects.

    One home for the test's state, so every connect dialog follows the same rules: a test's
    answer is dropped when the inputs change or the dialog closes; a failed test blocks Connect
    until the inputs change or a later test of them succeeds. It also makes the parts every
    connect dialog has (Test connection and its status line, Connect and Cancel) and lays them
    out under the subclass's fields (:meth:`_lay_out`). Subclasses implement
    :meth:`test_connection`, starting the test with ``key=self.test_key``.
    """

    def __init__(self, parent: QWidget | None, tasks: TaskManager) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._test: Task | None = None
        self._failed_test: str | None = None  # why the last test of these inputs failed
        self.test_key = (self, "test connection")
        self.test_button = QPushButton("&Test connection", self)
        self.test_button.setAccessibleName("Test connection")
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Connection status")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Connect")
        self.ok_button.setAccessibleName("Connect")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAccessibleName("Cancel")
        self.test_button.clicked.connect(self.test_connection)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

    def _lay_out(self, intro: QLabel, fields: QFormLayout) -> None:
        """The intro, the subclass's fields, the test row, then Connect and Cancel."""
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.status, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(fields)
        layout.addLayout(test_row)
        layout.addWidget(self.buttons)

    def test_connection(self) -> None:
        raise NotImplementedError

    def is_testing(self) -> bool:
        return self._test is not None

    def _show(self, text: str, kind: str) -> None:
        metric = {"ok": "completed", "error": "failed"}.get(kind)
        colour = status_color(metric, self.palette()).name() if metric else ""
        self.status.setStyleSheet(f"color: {colour};" if colour else "")
        self.status.setText(text)

    def _test_succeeded(self, info: ConnectionInfo) -> None:
        self._test = None
        self.test_button.setEnabled(True)
        self._failed_test = None
        self._show("✓ " + info.message, "ok")

    def _test_failed(self, message: str) -> None:
        self._test = None
        self.test_button.setEnabled(True)
        self._failed_test = message
        self._show("✗ " + message, "error")

    def _refused_after_failed_test(self, advice: str) -> bool:
        """Whether Connect must wait: keeping a secret the other side refused helps no one."""
        if self._failed_test is None:
            return False
        self._show(f"✗ {self._failed_test} {advice}", "error")
        return True

    def _stop_test(self) -> None:
        """Stop the running test (at its next check) and drop its answer: it would speak for
        other inputs, or for no one."""
        self._tasks.drop(self.test_key)
        self._test = None

    def reject(self) -> None:
        self._stop_test()
        super().reject()

    def done(self, result: int) -> None:  # noqa: D401 - Qt override
        self._stop_test()
        super().done(result)


class ConnectDialog(TestedDialog):
    """Ask for a source's account and token; test them; keep the token in the keyring."""

    def __init__(
        self,
        url: str = "",
        parent: QWidget | None = None,
        *,
        tasks: TaskManager,
        form: SourceForm = ACTIVECAMPAIGN,
        account: str = "",
    ) -> None:
        super().__init__(parent, tasks)
        self.form = form
        self.setWindowTitle(form.title)
        self.setAccessibleName(form.title)
        self.setMinimumWidth(480)
        self._connection: Connection | None = None
        self._stored_token = False

        intro = QLabel(form.intro, self)
        intro.setWordWrap(True)

        self.url_edit = QLineEdit(url, self)
        self.url_edit.setPlaceholderText(form.url_placeholder)
        self.url_edit.setAccessibleName(form.url_name)
        self.url_edit.setAccessibleDescription(
            f"{form.url_name}, for example {form.url_placeholder}"
        )
        self.account_edit = QLineEdit(account, self)
        self.account_edit.setPlaceholderText(form.account_placeholder)
        self.account_edit.setAccessibleName(form.account_name)
        self.account_edit.setVisible(bool(form.account_label))
        self.token_edit = QLineEdit(self)
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_edit.setAccessibleName(form.token_name)
        self.token_edit.setAccessibleDescription(form.token_help + " Kept in the system keyring.")
        self.token_edit.setToolTip(form.token_help)
        self._prefill_token_hint()

        rows = QFormLayout()
        if form.url_required:
            rows.addRow(form.url_label, self.url_edit)
        if form.account_label:
            rows.addRow(form.account_label, self.account_edit)
        rows.addRow(form.token_label, self.token_edit)
        help_label = QLabel(form.token_help, self)
        help_label.setWordWrap(True)
        rows.addRow("", help_label)
        if not form.url_required:  # an advanced field, after what everyone fills
            rows.addRow(form.url_label, self.url_edit)
        self._lay_out(intro, rows)

        for edit in (self.url_edit, self.account_edit, self.token_edit):
            edit.textChanged.connect(self._inputs_changed)
        self._inputs_changed()

    # -- state ------------------------------------------------------------------------------

    def _inputs(self) -> Connection:
        """The typed URL and account, normalised; ValueError (one sentence) when one is wrong."""
        url = self.form.normalize_url(self.url_edit.text())
        account = None
        if self.form.normalize_account is not None:
            account = self.form.normalize_account(self.account_edit.text())
        return Connection(self.form.kind, url, account)

    def _load_token(self, connection: Connection) -> str | None:
        form = self.form
        return load_token(
            connection.keyring_account, env=form.token_env, service=form.token_service
        )

    def _prefill_token_hint(self) -> None:
        if self.form.url_required and not self.url_edit.text().strip():
            return
        try:
            connection = self._inputs()
        except ValueError:
            return
        if self._load_token(connection):
            self._stored_token = True
            self.token_edit.setPlaceholderText("Stored in the keyring (type to replace)")

    def _token(self, connection: Connection) -> str:
        typed = self.token_edit.text().strip()
        if typed:
            return typed
        if self._stored_token:
            return self._load_token(connection) or ""
        return ""

    @Slot()
    def _inputs_changed(self) -> None:
        form = self.form
        ready = (
            (bool(self.url_edit.text().strip()) or not form.url_required)
            and (bool(self.account_edit.text().strip()) or not form.account_label)
            and bool(self.token_edit.text().strip() or self._stored_token)
        )
        self._failed_test = None  # other inputs: the failed test no longer speaks for them
        self.ok_button.setEnabled(ready)
        self.test_button.setEnabled(ready and self._test is None)
        if self._test is not None:  # the answer would be for other inputs
            self._stop_test()
            self.test_button.setEnabled(ready)
            self._show("", "")

    def connection(self) -> Connection | None:
        """What was connected, once the dialog was accepted."""
        return self._connection

    def base_url(self) -> str | None:
        """The normalised account URL once the dialog was accepted."""
        return self._connection.url if self._connection else None

    # -- test connection --------------------------------------------------------------------

    @Slot()
    def test_connection(self) -> None:
        try:
            connection = self._inputs()
        except ValueError as exc:
            self._show(sentence(str(exc)) + ".", "error")
            return
        token = self._token(connection)
        if not token:
            self._show(f"Enter the {self.form.token_name}.", "error")
            return
        self._test = self._tasks.call(
            self.form.check,
            connection.url,
            connection.account or "",
            token,
            success=self._test_succeeded,
            failure=lambda exc: self._test_failed(
                failure_text(exc, token, self.form, connection.url)
            ),
            key=self.test_key,
            cancellable=True,
        )
        self.test_button.setEnabled(False)
        self._show("Testing…", "")

    # -- closing ----------------------------------------------------------------------------

    def accept(self) -> None:
        if self._refused_after_failed_test("Fix the inputs (or test again) before connecting."):
            return
        try:
            connection = self._inputs()
        except ValueError as exc:
            self._show(sentence(str(exc)) + ".", "error")
            return
        form = self.form
        typed = self.token_edit.text().strip()
        if typed:
            try:
                store_token(
                    connection.keyring_account,
                    typed,
                    env=form.token_env,
                    service=form.token_service,
                )
            except CredentialError as exc:
                self._show(sentence(str(exc)) + ".", "error")
                return
        elif not self._load_token(connection):
            self._show(f"Enter the {form.token_name}.", "error")
            self.token_edit.setFocus()
            return
        self.token_edit.clear()  # the token lives in the keyring only
        self._connection = connection
        self._stop_test()
        super().accept()


def ask_for_connection(
    tasks: TaskManager, form: SourceForm, parent: QWidget | None = None, url: str = ""
) -> Connection | None:
    """Show the dialog modally; what was connected, or None when the user cancelled."""
    dialog = ConnectDialog(url, parent, tasks=tasks, form=form)
    accepted = dialog.exec() == QDialog.DialogCode.Accepted
    return dialog.connection() if accepted else None
