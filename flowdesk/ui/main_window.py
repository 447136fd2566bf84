"""The main window: flows on the left, the selected flow's page on the right, sync below."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QWidget,
)

from flowdesk.core import formatting
from flowdesk.core.queries import last_sync, list_flows
from flowdesk.core.tasks import sync_workspace
from flowdesk.core.workspace import last_completed_sync
from flowdesk.paths import SettingsKey
from flowdesk.ui.downloads import Downloads
from flowdesk.ui.errors import error_text
from flowdesk.ui.tasks import TaskManager, open_for_ui
from flowdesk.ui.widgets.empty_state import EmptyState
from flowdesk.ui.widgets.flow_list import FlowListPanel
from flowdesk.ui.widgets.flow_page import FlowPage

log = logging.getLogger(__name__)

DEMO_DEFAULTS = {"seed": 1, "contacts": 5000}


# Windows opened by switching workspace; the first one belongs to run_app.
_OPEN_WINDOWS: list[MainWindow] = []


class MainWindow(QMainWindow):
    def __init__(
        self,
        db_path: str | Path,
        settings: QSettings | None = None,
        tasks: TaskManager | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.db_path = Path(db_path)
        self.settings = settings if settings is not None else QSettings()
        self.db = open_for_ui(self.db_path)
        self.tasks = tasks or TaskManager(self.db_path, self)
        self._sync_task = None
        self.setWindowTitle(f"Flowdesk — {self.db_path.name}")
        self.setAccessibleName("Flowdesk main window")

        self.flows = FlowListPanel(self)
        self.flows.setMinimumWidth(240)
        self.page = FlowPage(self.db, self.tasks, self)
        self.no_flows = EmptyState(
            "No flows yet",
            "This cache has no messaging flows. Create the demo workspace to explore the app "
            "with realistic data, or connect a source and sync.<br><br>From a terminal:<br>"
            f"<code>flowdesk demo --db {self.db_path}</code><br>"
            f"<code>flowdesk sync --db {self.db_path} --source activecampaign --url …</code>",
            self,
        )
        self.create_demo_button = self.no_flows.add_button(
            "Create demo workspace", self.create_demo, "Create demo workspace"
        )
        self.pick_flow = EmptyState(
            "Pick a flow",
            "Choose a flow on the left to see its contacts, executions, versions and diagram.",
            self,
        )
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.page)
        self.stack.addWidget(self.no_flows)
        self.stack.addWidget(self.pick_flow)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setAccessibleName("Flows and flow page")
        self.splitter.addWidget(self.flows)
        self.splitter.addWidget(self.stack)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([300, 1140])
        self.splitter.setChildrenCollapsible(False)
        self.setCentralWidget(self.splitter)

        self._build_status_bar()
        self._build_actions()
        self.flows.flowSelected.connect(self.open_flow)
        self.flows.searchChanged.connect(self._on_flow_search)
        self.page.timings.connect(self._log_timing)

        self._clock = QTimer(self)
        self._clock.setInterval(60_000)
        self._clock.timeout.connect(self._update_sync_label)
        self._clock.start()

        self.restore_settings()
        self.load_flows(select=self.settings.value(SettingsKey.LAST_FLOW, "", str) or None)
        self._update_sync_label()
        # Exports: the Downloads dock and badge, and the dialog for "Download results…".
        self.downloads = Downloads(self, self.tasks, self.settings, self.db)
        self.page.exportRequested.connect(self.downloads.request_export)
        self.view_menu.addSeparator()
        self.view_menu.addAction(self.downloads.toggle_action)

    # -- building --------------------------------------------------------------------------------

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.cache_label = QLabel(f"Cache: {self.db_path}")
        self.cache_label.setAccessibleName("Cache location")
        self.cache_label.setToolTip(str(self.db_path))
        self.sync_label = QLabel("")
        self.sync_label.setAccessibleName("Last sync")
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Sync progress")
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.sync_button = QPushButton("Sync now")
        self.sync_button.setAccessibleName("Sync now")
        self.sync_button.setToolTip("Fetch new and changed runs in the background (F5)")
        self.sync_button.clicked.connect(self.toggle_sync)
        bar.addWidget(self.cache_label, 1)
        bar.addPermanentWidget(self.sync_label)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.sync_button)

    def _build_actions(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        self.sync_action = QAction("&Sync now", self)
        self.sync_action.setShortcut(QKeySequence(Qt.Key.Key_F5))
        self.sync_action.triggered.connect(self.toggle_sync)
        file_menu.addAction(self.sync_action)
        file_menu.addSeparator()
        open_action = QAction("&Open workspace…", self)
        open_action.setShortcut(QKeySequence.StandardKey.Open)
        open_action.triggered.connect(self._choose_workspace)
        file_menu.addAction(open_action)
        self.recent_menu = file_menu.addMenu("&Recent workspaces")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        connect_action = QAction("&Connect ActiveCampaign…", self)
        connect_action.triggered.connect(self._connect_activecampaign)
        file_menu.addAction(connect_action)
        team_action = QAction("Connect &team server…", self)
        team_action.triggered.connect(self._connect_team_server)
        file_menu.addAction(team_action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        view_menu = self.view_menu = menu.addMenu("&View")
        self.find_action = QAction("&Find contact", self)
        self.find_action.setShortcut(QKeySequence.StandardKey.Find)
        self.find_action.triggered.connect(self.focus_search)
        view_menu.addAction(self.find_action)
        find_flow = QAction("Find f&low", self)
        find_flow.setShortcut(QKeySequence("Ctrl+Shift+F"))
        find_flow.triggered.connect(self._focus_flow_search)
        view_menu.addAction(find_flow)
        view_menu.addSeparator()
        self.tab_actions: list[QAction] = []
        names = (
            "Contacts",
            "Messaging Flow Executions",
            "Versions",
            "Flow Viewer",
            "Compare versions",
            "Over Time",
        )
        for index, name in enumerate(names):
            action = QAction(name, self)
            action.setShortcut(QKeySequence(f"Ctrl+{index + 1}"))
            action.triggered.connect(lambda _checked=False, i=index: self.show_tab(i))
            view_menu.addAction(action)
            self.tab_actions.append(action)
        help_menu = menu.addMenu("&Help")
        about = QAction("&About Flowdesk", self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    # -- flows -----------------------------------------------------------------------------------

    def load_flows(self, select: str | None = None) -> None:
        search = self.flows.search.text().strip()
        flows = list_flows(self.db, search)
        any_flows = bool(flows) or bool(search and list_flows(self.db))
        self.flows.set_flows(flows, select=select)
        if not any_flows:
            self.stack.setCurrentWidget(self.no_flows)
            return
        current = select or self.flows.current_flow_id()
        if current and self.flows.select_flow(current):
            if self.page.flow is None or self.page.flow.id != current:
                self.open_flow(current)
            else:
                self.stack.setCurrentWidget(self.page)
            return
        if flows and self.page.flow is None:
            self.flows.select_flow(flows[0].id)
        elif self.page.flow is None:
            self.stack.setCurrentWidget(self.pick_flow)

    @Slot(str)
    def open_flow(self, flow_id: str) -> None:
        if self.page.open_flow(flow_id):
            self.stack.setCurrentWidget(self.page)
            self.settings.setValue(SettingsKey.LAST_FLOW, flow_id)
        self.flows.select_flow(flow_id)

    def _on_flow_search(self, _text: str) -> None:
        self.load_flows()

    def show_tab(self, index: int) -> None:
        if self.stack.currentWidget() is not self.page:
            return
        if self.page.tabs.isTabVisible(index):
            self.page.tabs.setCurrentIndex(index)

    def focus_search(self) -> None:
        if self.stack.currentWidget() is self.page:
            self.page.tabs.setCurrentWidget(self.page.contacts_tab)
            self.page.contacts_tab.focus_search()
        else:
            self._focus_flow_search()

    def _focus_flow_search(self) -> None:
        self.flows.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.flows.search.selectAll()

    # -- sync ------------------------------------------------------------------------------------

    def is_syncing(self) -> bool:
        return self._sync_task is not None

    @Slot()
    def toggle_sync(self) -> None:
        if self._sync_task is not None:
            self._sync_task.cancel()
            self.sync_button.setText("Canceling…")
            self.sync_button.setEnabled(False)
            return
        self.start_sync()

    def start_sync(self, create_demo: dict | None = None) -> None:
        if self._sync_task is not None:
            return
        self.progress.setRange(0, 0)
        self.progress.setFormat("Syncing…")
        self.progress.show()
        self.sync_button.setText("Cancel sync")
        self.sync_button.setToolTip("Stop after the current batch; the next sync resumes (F5)")
        self.sync_action.setText("Cancel &sync")
        self.create_demo_button.setEnabled(False)
        self.statusBar().showMessage("Sync started…", 3000)
        self._sync_task = self.tasks.job(
            sync_workspace,
            str(self.db_path),
            create_demo,
            success=self._on_sync_done,
            failure=self._on_sync_error,
            progress=self._on_sync_progress,
        )

    def create_demo(self) -> None:
        self.start_sync(create_demo=dict(DEMO_DEFAULTS))

    def _on_sync_progress(self, progress) -> None:  # noqa: ANN001
        if progress.total:
            self.progress.setRange(0, int(progress.total))
            self.progress.setValue(min(int(progress.done), int(progress.total)))
            self.progress.setFormat(f"%p% · {formatting.count(progress.runs_changed)} runs")
        else:
            self.progress.setRange(0, 0)
        self.progress.setToolTip(
            f"{formatting.count(progress.records)} records, "
            f"{formatting.count(progress.runs_changed)} runs changed {progress.note}".strip()
        )

    def _end_sync(self) -> None:
        self._sync_task = None
        self.progress.hide()
        self.sync_button.setText("Sync now")
        self.sync_button.setToolTip("Fetch new and changed runs in the background (F5)")
        self.sync_button.setEnabled(True)
        self.sync_action.setText("&Sync now")
        self.create_demo_button.setEnabled(True)

    def _on_sync_done(self, report) -> None:  # noqa: ANN001
        self._end_sync()
        skipped = f", {len(report.problems)} skipped" if report.problems else ""
        changed = formatting.count(report.runs_changed)
        message = {
            "completed": f"Sync finished: {changed} runs changed{skipped}.",
            "canceled": "Sync canceled; the next sync resumes where this one stopped.",
        }.get(report.outcome, f"Sync failed: {report.message}")
        self.statusBar().showMessage(message, 15000)
        self._update_sync_label()
        self.load_flows()
        self.page.reload()

    def _on_sync_error(self, exc: BaseException) -> None:
        self._end_sync()
        self.statusBar().showMessage(error_text(exc, "Sync"), 15000)

    def _update_sync_label(self) -> None:
        info = last_sync(self.db)
        last_ok = last_completed_sync(self.db)
        if info is None and last_ok is None:
            self.sync_label.setText("Never synced")
            return
        text = f"Last sync {formatting.ago(last_ok)}" if last_ok else "No completed sync"
        if info is not None and info["outcome"] != "completed":
            text += f" (last attempt {info['outcome']})"
        self.sync_label.setText(text)
        self.sync_label.setToolTip(
            f"Last completed sync: {formatting.timestamp(last_ok, True) if last_ok else 'never'}"
        )

    # -- settings and lifecycle ------------------------------------------------------------------

    def restore_settings(self) -> None:
        geometry = self.settings.value(SettingsKey.WINDOW_GEOMETRY)
        if isinstance(geometry, QByteArray | bytes) and geometry:
            self.restoreGeometry(QByteArray(geometry))
        else:
            self.resize(1440, 900)
        splitter = self.settings.value(SettingsKey.WINDOW_SPLITTER)
        if isinstance(splitter, QByteArray | bytes) and splitter:
            self.splitter.restoreState(QByteArray(splitter))

    def save_settings(self) -> None:
        self.settings.setValue(SettingsKey.WINDOW_GEOMETRY, self.saveGeometry())
        self.settings.setValue(SettingsKey.WINDOW_SPLITTER, self.splitter.saveState())
        if self.page.flow is not None:
            self.settings.setValue(SettingsKey.LAST_FLOW, self.page.flow.id)
        self.settings.sync()

    # -- workspaces ------------------------------------------------------------------------------

    def _fill_recent_menu(self) -> None:
        from flowdesk.ui.workspaces import recent_workspaces, workspace_name

        self.recent_menu.clear()
        paths = recent_workspaces(self.settings, self.db_path)
        if not paths:
            empty = self.recent_menu.addAction("No other workspaces")
            empty.setEnabled(False)
        for path in paths:
            action = self.recent_menu.addAction(f"{workspace_name(path)} — {path.name}")
            action.setToolTip(str(path))
            action.triggered.connect(lambda _checked=False, p=path: self.open_workspace(p))

    def _choose_workspace(self) -> None:
        from flowdesk.ui.workspaces import choose_cache_file

        path = choose_cache_file(self)
        if path is not None:
            self.open_workspace(path)

    def _connect_activecampaign(self) -> None:
        from flowdesk.ui.workspaces import connect_activecampaign

        path = connect_activecampaign(self, self.tasks)
        if path is not None:
            window = self.open_workspace(path)
            if window is not None:
                window.toggle_sync()

    def _connect_team_server(self) -> None:
        from flowdesk.ui.workspaces import connect_team_server

        path = connect_team_server(self)
        if path is not None:
            window = self.open_workspace(path)
            if window is not None:
                window.toggle_sync()

    def open_workspace(self, path: Path) -> MainWindow | None:
        """Switch to another cache file: a fresh window on it replaces this one."""
        from flowdesk.ui.workspaces import remember_workspace

        path = Path(path)
        if path.resolve() == self.db_path.resolve():
            return self
        try:
            window = MainWindow(path, settings=self.settings)
        except Exception as exc:  # noqa: BLE001 - a bad file must not take the app down
            QMessageBox.warning(self, "Open workspace", f"Cannot open {path}: {exc}")
            return None
        remember_workspace(self.settings, self.db_path)
        remember_workspace(self.settings, path)
        self.settings.setValue(SettingsKey.LAST_WORKSPACE, str(path.resolve()))
        _OPEN_WINDOWS.append(window)
        window.show()
        self.close()
        return window

    def closeEvent(self, event: QCloseEvent) -> None:
        if self in _OPEN_WINDOWS:
            _OPEN_WINDOWS.remove(self)
        self.save_settings()
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        if self._sync_task is not None:  # stops after its batch; the next sync resumes
            self._sync_task.cancel()
        self.downloads.shutdown()  # exports first: cancel them and wait for them
        self._clock.stop()
        self.tasks.shutdown()
        if self.db is not None:
            self.db.conn.close()
            self.db = None  # type: ignore[assignment]

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Process events until no worker is running (screenshots and tests)."""
        from PySide6.QtWidgets import QApplication

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            QApplication.processEvents()
            if not self.tasks.busy() and not self.page.contacts_tab.model.pending_pages():
                QApplication.processEvents()
                if not self.tasks.busy():
                    return True
            time.sleep(0.005)
        return False

    def _log_timing(self, what: str, seconds: float) -> None:
        log.debug("%s took %.1f ms", what, seconds * 1000)

    def _about(self) -> None:
        from flowdesk import __version__

        QMessageBox.about(
            self,
            "About Flowdesk",
            f"<b>Flowdesk {__version__}</b><br>What happened to this customer inside a WhatsApp"
            " messaging flow, and how is the flow performing.",
        )
