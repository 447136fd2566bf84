"""The main window: flows on the left, the selected flow's page on the right, sync below."""

from __future__ import annotations

import html
import logging
import math
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QByteArray, QEvent, QObject, QRect, QSettings, QSize, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QResizeEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QWidget,
)

from flowdesk.core import formatting, workspace
from flowdesk.core.queries import last_sync, list_flows, run_detail
from flowdesk.core.tasks import sync_workspace
from flowdesk.core.workspace import last_completed_sync
from flowdesk.paths import SettingsKey
from flowdesk.ui.downloads import Downloads
from flowdesk.ui.errors import error_text
from flowdesk.ui.live_refresh import LiveRefresh
from flowdesk.ui.reflow import ElidedLabel
from flowdesk.ui.tasks import TaskManager, open_for_ui
from flowdesk.ui.theme import apply_theme, is_dark
from flowdesk.ui.widgets.customers import CustomerSearch, CustomerSearchBox
from flowdesk.ui.widgets.empty_state import EmptyState
from flowdesk.ui.widgets.flow_list import FlowListPanel
from flowdesk.ui.widgets.flow_page import FlowPage

log = logging.getLogger(__name__)

DEMO_DEFAULTS = {"seed": 1, "contacts": 5000}
# The window fits a 1024×700 screen: the flows list gives way first (see _fit_panels).
FLOWS_MIN_WIDTH = 180
FIRST_SIZE = (1440, 900)  # on a first launch, or less: what the screen has room for


def first_size(available: QRect) -> QSize:
    """A first launch opens at 1440×900, or at what the screen has room for."""
    return QSize(min(FIRST_SIZE[0], available.width()), min(FIRST_SIZE[1], available.height()))


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
        self._report_shown = False  # this sync has shown its report before its paths
        self.setWindowTitle(f"Flowdesk — {self.db_path.name}")
        self.setAccessibleName("Flowdesk main window")

        self.flows = FlowListPanel(self)
        self.flows.setMinimumWidth(FLOWS_MIN_WIDTH)
        self.page = FlowPage(self.db, self.tasks, self)
        # while a sync reads paths, the views built from them follow it (at most every 25 s)
        self.live_refresh = LiveRefresh(
            self.page.refresh_paths, self.page.refreshing, schedule=self._call_later
        )
        self.no_flows = EmptyState("No flows yet", "", self)
        self.create_demo_button = self.no_flows.add_button(
            "Create demo workspace", self.create_demo, "Create demo workspace"
        )
        self.first_sync_button = self.no_flows.add_button(
            "Sync now", self.toggle_sync, "Sync this account now"
        )
        self.pick_flow = EmptyState(
            "Pick a flow",
            "Choose a flow on the left to see its contacts, executions, versions and diagram.",
            self,
        )
        self.customer_box = CustomerSearchBox(self)
        self.customers = CustomerSearch(self.tasks, self.customer_box, self)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.page)
        self.stack.addWidget(self.no_flows)
        self.stack.addWidget(self.pick_flow)
        self.stack.addWidget(self.customers)
        self._before_search: QWidget | None = None
        self._flows_hidden_for_room = False
        self._size_before_dock: QSize | None = None
        self._settled_size: QSize | None = None

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
        self.customers.opened.connect(self._show_customers)
        self.customers.closed.connect(self._close_customers)
        self.customers.runChosen.connect(self.trace_customer_run)
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
        self.downloads.dock.installEventFilter(self)

    # -- building --------------------------------------------------------------------------------

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        # The workspace by name ("Demo workspace", "ActiveCampaign · acme"), as the File menu
        # names it; the cache file's path is in the tooltip, not on every screen.
        self.cache_label = ElidedLabel("", mode=Qt.TextElideMode.ElideRight)
        self.cache_label.setAccessibleName("Workspace")
        self._show_workspace()
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

    def _show_workspace(self) -> None:
        from flowdesk.ui.workspaces import workspace_name

        self.cache_label.setText(f"Workspace: {workspace_name(self.db_path)}")
        self.cache_label.setToolTip(f"Cache file: {self.db_path}")

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
        for kind, text in (
            (workspace.ACTIVECAMPAIGN, "&Connect ActiveCampaign…"),
            (workspace.RAPIDPRO, "Connect Rapid&Pro/TextIt…"),
            (workspace.TWILIO, "Connect T&wilio Studio…"),
        ):
            connect_action = QAction(text, self)
            connect_action.triggered.connect(lambda _checked=False, k=kind: self._connect(k))
            file_menu.addAction(connect_action)
        team_action = QAction("Connect &team server…", self)
        team_action.triggered.connect(self._connect_team_server)
        file_menu.addAction(team_action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        box_holder = QWidget(self)
        box_layout = QHBoxLayout(box_holder)
        box_layout.setContentsMargins(4, 2, 6, 2)
        box_layout.addWidget(self.customer_box)
        menu.setCornerWidget(box_holder, Qt.Corner.TopRightCorner)

        view_menu = self.view_menu = menu.addMenu("&View")
        self.find_customer_action = QAction("Find &customer in every flow", self)
        self.find_customer_action.setShortcut(QKeySequence("Ctrl+K"))
        self.find_customer_action.triggered.connect(self.focus_customer_search)
        view_menu.addAction(self.find_customer_action)
        self.find_action = QAction("&Find contact in this flow", self)
        self.find_action.setShortcut(QKeySequence.StandardKey.Find)
        self.find_action.triggered.connect(self.focus_search)
        view_menu.addAction(self.find_action)
        find_flow = QAction("Find f&low", self)
        find_flow.setShortcut(QKeySequence("Ctrl+Shift+F"))
        find_flow.triggered.connect(self._focus_flow_search)
        view_menu.addAction(find_flow)
        view_menu.addSeparator()
        self.dark_action = QAction("&Dark theme", self)
        self.dark_action.setCheckable(True)
        self.dark_action.setChecked(is_dark())
        self.dark_action.setToolTip("Switch between the light and the dark theme (remembered)")
        self.dark_action.toggled.connect(self.set_dark_theme)
        view_menu.addAction(self.dark_action)
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

    # -- fitting the screen ---------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        downloads = getattr(self, "downloads", None)
        if downloads is not None and watched is downloads.dock:
            if event.type() == QEvent.Type.Show:
                self._make_room_for(downloads.dock)
            elif event.type() == QEvent.Type.Hide:
                self._give_room_back()
        return super().eventFilter(watched, event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        QTimer.singleShot(0, self._settle_size)

    def _settle_size(self) -> None:
        """The size the window had once events settled: a panel that opens grows the window
        inside one call, before this runs, so the size before the growth is still known."""
        self._settled_size = self.size()

    def _make_room_for(self, dock: QWidget) -> None:
        """The Downloads panel opens beside the page. Qt grows the window to make room for it;
        instead the flows list steps aside (until the panel closes) and the window keeps its
        size, so it never grows past a small screen or past the size a screenshot asked."""
        kept = self._settled_size or self.size()
        self._size_before_dock = kept
        need = (
            self.splitter.minimumSizeHint().width()
            + dock.minimumSizeHint().width()
            + self.style().pixelMetric(self.style().PixelMetric.PM_DockWidgetSeparatorExtent)
        )
        if self.flows.isVisible() and need > kept.width():
            self._flows_hidden_for_room = True
            self.flows.hide()
        # After the show that grew the window has finished laying out:
        QTimer.singleShot(0, lambda: self._shrink_to(kept) if self._size_before_dock else None)

    def _shrink_to(self, size: QSize) -> None:
        """Back to ``size``, once the layouts have taken in what was just hidden (the minimum
        the window got while growing holds until then)."""
        from PySide6.QtWidgets import QApplication

        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        if self.size() != size:
            self.resize(size)

    def _give_room_back(self) -> None:
        if self._flows_hidden_for_room:
            self._flows_hidden_for_room = False
            self.flows.show()
        before = self._size_before_dock
        self._size_before_dock = None
        if before is not None and self.size() != before:
            self._shrink_to(before)  # anything that grew the window while it was open

    # -- flows -----------------------------------------------------------------------------------

    def load_flows(self, select: str | None = None) -> None:
        search = self.flows.search.text().strip()
        flows = list_flows(self.db, search)
        any_flows = bool(flows) or bool(search and list_flows(self.db))
        self.flows.set_flows(flows, select=select)
        if not any_flows:
            self._explain_no_flows()
            self._show_page(self.no_flows)
            return
        current = select or self.flows.current_flow_id()
        if current and self.flows.select_flow(current):
            if self.page.flow is None or self.page.flow.id != current:
                self.open_flow(current)
            else:
                self._show_page(self.page)
            return
        if flows and self.page.flow is None:
            self.flows.select_flow(flows[0].id)
        elif self.page.flow is None:
            self._show_page(self.pick_flow)

    def _explain_no_flows(self) -> None:
        """An empty account workspace waits for its first sync; only an empty cache that is
        no account's offers the demo (and the commands, each short enough to show whole)."""
        from flowdesk.core.workspace import API_KINDS, describe

        workspace = describe(self.db)
        account = workspace.kind in API_KINDS
        self.create_demo_button.setVisible(not account)
        self.first_sync_button.setVisible(account)
        if account:
            self.no_flows.set_text(
                "No flows synced yet",
                f"This workspace is {html.escape(workspace.title(self.db_path.name))}. Sync now"
                " (F5) fetches its flows, executions and contact runs; the first sync of a"
                " large account takes a while, and you can keep working meanwhile.",
            )
            return
        path = html.escape(str(self.db_path)).replace("/", "/\u200b")  # may wrap after a /
        self.no_flows.set_text(
            "No flows yet",
            "This cache has no messaging flows. Create the demo workspace to explore the app"
            " with realistic data, or connect an account (File → Connect ActiveCampaign,"
            " RapidPro/TextIt or Twilio Studio).<br><br>"
            f"From a terminal, with FILE = {path}:<br>"
            "<code>flowdesk demo --db FILE</code><br>"
            "<code>flowdesk sync --db FILE --source activecampaign --url …</code>",
        )

    def _show_page(self, widget: QWidget) -> None:
        """Show a page, or make it the one to return to when a customer search is on screen
        (a sync re-reading the flows must not take the agent away from a customer)."""
        if self.stack.currentWidget() is self.customers:
            self._before_search = widget
        else:
            self.stack.setCurrentWidget(widget)

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

    def set_dark_theme(self, dark: bool) -> None:
        """The View menu's theme toggle: every window repaints at once, and the choice is kept
        for the next start."""
        from PySide6.QtWidgets import QApplication

        apply_theme(QApplication.instance(), dark)
        self.settings.setValue(SettingsKey.THEME, "dark" if dark else "light")

    # -- customers -------------------------------------------------------------------------------

    def focus_customer_search(self) -> None:
        self.customer_box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.customer_box.selectAll()
        if self.customer_box.text().strip():
            self._show_customers()

    def _show_customers(self) -> None:
        if self.stack.currentWidget() is not self.customers:
            self._before_search = self.stack.currentWidget()
            self.stack.setCurrentWidget(self.customers)

    def _close_customers(self) -> None:
        if self.stack.currentWidget() is self.customers:
            self.stack.setCurrentWidget(self._before_search or self.pick_flow)

    def trace_customer_run(self, run) -> None:  # noqa: ANN001 - a CustomerRun
        """One click on a customer's run: its flow opens with that run traced."""
        detail = run_detail(self.db, run.run_key)
        if detail is None:
            return
        self.open_flow(run.flow_id)
        self.page.trace_contact(detail.row)

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
        self.first_sync_button.setEnabled(False)
        self.statusBar().showMessage("Sync started…", 3000)
        self._report_shown = False
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
        if progress.report_done and not self._report_shown:
            # The report is whole; paths are read for a while yet (hours on a big account).
            self._report_shown = True
            self.statusBar().showMessage(
                "Report up to date; reading the contacts' paths in the background…", 15000
            )
            self._reload_data()
            self.live_refresh.reloaded()
        elif progress.report_done:
            self.live_refresh.batch_committed()  # a batch of paths: throttled, off the GUI thread
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
        self.live_refresh.stop()
        self.progress.hide()
        self.sync_button.setText("Sync now")
        self.sync_button.setToolTip("Fetch new and changed runs in the background (F5)")
        self.sync_button.setEnabled(True)
        self.sync_action.setText("&Sync now")
        self.create_demo_button.setEnabled(True)
        self.first_sync_button.setEnabled(True)

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
        self._show_workspace()  # a first sync names the workspace
        self._reload_data()

    def _call_later(self, seconds: float, callback: Callable[[], None]) -> None:
        QTimer.singleShot(math.ceil(seconds * 1000), self, callback)  # not after the window

    def _reload_data(self) -> None:
        self.load_flows()
        self.page.reload()
        self.customers.reload()

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
            self.restoreGeometry(QByteArray(geometry))  # Qt keeps it on a screen that exists
        else:
            self.resize(first_size(self.screen().availableGeometry()))
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

    def _connect(self, kind: str) -> None:
        """File → Connect …: a new workspace of that source, opened and synced a first time."""
        from flowdesk.ui.workspaces import connect_source

        path = connect_source(self, self.tasks, kind)
        if path is not None:
            window = self.open_workspace(path)
            if window is not None:
                window.toggle_sync()

    def _connect_team_server(self) -> None:
        from flowdesk.ui.workspaces import connect_team_server

        path = connect_team_server(self, self.tasks)
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
