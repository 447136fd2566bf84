"""Downloads: background exports of a main window, listed in a dock that survives restarts.

* :mod:`~flowdesk.ui.downloads.manager` — the jobs in memory; starts, cancels, retries them.
* :mod:`~flowdesk.ui.downloads.model` — what a row shows and which buttons it offers.
* :mod:`~flowdesk.ui.downloads.panel` — the list with one row widget per job, and its badge.
* :mod:`~flowdesk.ui.downloads.export_dialog` — "Download results": format, zone, folder.

:class:`Downloads` puts them in a window: the dock (Ctrl+J), the status-bar badge of unseen
results, and the dialog opened for each spec the flow page asks to export. The window keeps it
as its one ``downloads`` attribute.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Qt, Slot
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow

from flowdesk.core.export import ExportSpec
from flowdesk.paths import SettingsKey, downloads_dir
from flowdesk.ui.downloads.export_dialog import ExportDialog
from flowdesk.ui.downloads.manager import JobManager
from flowdesk.ui.downloads.panel import DownloadsButton, DownloadsPanel
from flowdesk.ui.tasks import TaskManager

FOLDER_KEY = SettingsKey.EXPORT_FOLDER
FORMAT_KEY = SettingsKey.EXPORT_FORMAT
BOM_KEY = SettingsKey.EXPORT_EXCEL_BOM
LOCAL_TIME_KEY = SettingsKey.EXPORT_LOCAL_TIME


class Downloads(QObject):
    """A window's exports: its job manager, the Downloads dock and badge, the export dialog."""

    def __init__(
        self,
        window: QMainWindow,
        tasks: TaskManager,
        settings: QSettings,
        db,  # noqa: ANN001
    ) -> None:
        super().__init__(window)
        self.window = window
        self.settings = settings
        self.db = db  # the GUI thread's connection: names and counts for the dialog
        folder = settings.value(FOLDER_KEY, "", str) or None
        self.manager = JobManager(tasks, self, folder=folder)
        self.panel = DownloadsPanel(self.manager)
        self.dialog: ExportDialog | None = None

        self.dock = QDockWidget("Downloads", window)
        self.dock.setObjectName("downloadsDock")
        self.dock.setAccessibleName("Downloads panel")
        self.dock.setWidget(self.panel)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.hide()
        toggle = self.dock.toggleViewAction()
        toggle.setText("&Downloads")
        toggle.setShortcut(QKeySequence("Ctrl+J"))
        self.toggle_action = toggle

        self.button = DownloadsButton(window)
        self.button.clicked.connect(self._toggle)
        window.statusBar().addPermanentWidget(self.button)
        self.button.set_count(self.manager.unseen_count())
        self.manager.unseenChanged.connect(self.button.set_count)
        self.manager.unseenChanged.connect(self._seen_while_open)
        self.dock.visibilityChanged.connect(self._on_visibility)

    @Slot(object)
    def request_export(self, spec: ExportSpec) -> None:
        """Open the dialog for ``spec`` with the format, zone and folder chosen last time."""
        settings = self.settings
        fmt = settings.value(FORMAT_KEY, "csv", str) or "csv"
        bom = bool(settings.value(BOM_KEY, False, bool))
        spec = spec.with_format(fmt if fmt in ("csv", "xlsx") else "csv", bom)
        # Local time unless the user chose UTC: the app shows every time in local time, and an
        # export that silently differs from the screen by the UTC offset misleads.
        spec = spec.with_local_time(bool(settings.value(LOCAL_TIME_KEY, True, bool)))
        target = Path(settings.value(FOLDER_KEY, "", str) or downloads_dir())
        dialog = ExportDialog.for_spec(self.db, spec, target, parent=self.window)
        dialog.accepted.connect(self._start)
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()

    def shutdown(self) -> bool:
        """Cancel every export and wait for them; True when they all stopped in time."""
        return self.manager.shutdown()

    @Slot()
    def _start(self) -> None:
        dialog = self.dialog
        if dialog is None:
            return
        chosen = dialog.folder()
        self.settings.setValue(FOLDER_KEY, str(chosen))
        self.settings.setValue(FORMAT_KEY, dialog.chosen_format())
        self.settings.setValue(BOM_KEY, dialog.excel_bom())
        self.settings.setValue(LOCAL_TIME_KEY, dialog.local_time.isChecked())
        self.manager.start_export(dialog.spec(), chosen)
        self.dock.show()
        self.dock.raise_()
        self.window.statusBar().showMessage("Export started: follow it under Downloads.", 5000)

    @Slot()
    def _toggle(self) -> None:
        self.dock.setVisible(not self.dock.isVisible())

    @Slot(bool)
    def _on_visibility(self, visible: bool) -> None:
        if visible:
            self.manager.mark_all_seen()

    @Slot(int)
    def _seen_while_open(self, _count: int) -> None:
        if self.dock.isVisible():  # a result that arrives while the panel is open is seen at once
            self.manager.mark_all_seen()
