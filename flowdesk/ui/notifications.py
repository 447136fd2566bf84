"""The notifications panel (every export job, running or done) and the "Download results" dialog.

:class:`NotificationsPanel` shows a :class:`JobsModel` (one row per job, newest first) in a list
view with one row widget per job: a progress bar and Cancel while it runs; file name, rows, size
and time taken with Open file, Show in folder, Copy path and Remove once finished; the reason and
Retry when it failed or was canceled. Jobs come from the cache's jobs table, so finished exports
are still listed after a restart; a file deleted on disk shows as missing.

:func:`install` wires both into the main window: a "Downloads" dock with a badge for unseen
results, and the flow page's "Download results…" button.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QProcess,
    QSize,
    Qt,
    QUrl,
    Signal,
    Slot,
)
from PySide6.QtGui import QDesktopServices, QGuiApplication, QPainter, QPalette
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QStyledItemDelegate,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from flowdesk.core.export import ExportSpec, default_folder
from flowdesk.core.export import jobs_store as store
from flowdesk.core.export.naming import (
    file_name,
    flow_name,
    human_duration,
    human_size,
    scope_label,
)
from flowdesk.ui.jobs import JobManager

# -- words ---------------------------------------------------------------------------------------

STATE_WORDS = {
    store.QUEUED: "Waiting",
    store.RUNNING: "Exporting",
    store.FINISHED: "Done",
    store.FAILED: "Failed",
    store.CANCELED: "Canceled",
}


def _when(seconds: float | None, now: float | None = None) -> str:
    if not seconds:
        return ""
    moment = datetime.fromtimestamp(seconds)
    today = datetime.fromtimestamp(time.time() if now is None else now).date()
    if moment.date() == today:
        return f"Today {moment:%H:%M}"
    if moment.year == today.year:
        return f"{moment:%d %b %H:%M}"
    return f"{moment:%d %b %Y %H:%M}"


def job_state_word(job: store.JobRecord) -> str:
    if job.missing:
        return "File missing"
    return STATE_WORDS.get(job.state, job.state.title())


def job_status_text(job: store.JobRecord) -> str:
    """What happened to a job, in words a support agent can repeat (its row's second line)."""
    if job.state == store.QUEUED:
        return "Starts when another export finishes."
    if job.state == store.RUNNING:
        if job.rows_total is None:
            return "Reading the cache…"
        if job.rows_total and job.rows_done >= job.rows_total:
            return f"Saving the file ({job.rows_total:,} rows)…"
        share = f" ({job.rows_done / job.rows_total:.0%})" if job.rows_total else ""
        return f"{job.rows_done:,} of {job.rows_total:,} rows{share}"
    if job.state == store.FINISHED:
        if job.missing:
            return "The file was moved or deleted after the export."
        sheets = f" on {job.sheets} sheets" if job.sheets > 1 else ""
        parts = [f"{job.rows_done:,} rows{sheets}", human_size(job.size_bytes)]
        if job.seconds is not None:
            parts.append(f"took {human_duration(job.seconds)}")
        return " · ".join(p for p in parts if p)
    if job.state == store.CANCELED:
        return job.error or store.CANCELED_MESSAGE
    return job.error or "Failed for an unknown reason; no file was written."


# -- model ---------------------------------------------------------------------------------------


class JobsModel(QAbstractListModel):
    """One row per export job, newest first, mirroring a :class:`JobManager`."""

    JobIdRole = Qt.ItemDataRole.UserRole + 1
    JobRole = Qt.ItemDataRole.UserRole + 2
    StateRole = Qt.ItemDataRole.UserRole + 3

    def __init__(self, manager: JobManager, parent=None) -> None:
        super().__init__(parent)
        self.manager = manager
        self._ids: list[int] = [job.id for job in manager.jobs()]
        manager.jobAdded.connect(self._on_added)
        manager.jobChanged.connect(self._on_changed)
        manager.jobRemoved.connect(self._on_removed)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ):
        if not index.isValid() or not 0 <= index.row() < len(self._ids):
            return None
        job = self.manager.job(self._ids[index.row()])
        if job is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return job.title
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            return f"{job.title}: {job_state_word(job)}. {job_status_text(job)}"
        if role == self.JobIdRole:
            return job.id
        if role == self.JobRole:
            return job
        if role == self.StateRole:
            return "missing" if job.missing else job.state
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled

    def job_id(self, row: int) -> int:
        return self._ids[row]

    def row_of(self, job_id: int) -> int:
        try:
            return self._ids.index(job_id)
        except ValueError:
            return -1

    @Slot(int)
    def _on_added(self, job_id: int) -> None:
        if job_id in self._ids:
            return
        row = next((i for i, other in enumerate(self._ids) if other < job_id), len(self._ids))
        self.beginInsertRows(QModelIndex(), row, row)
        self._ids.insert(row, job_id)
        self.endInsertRows()

    @Slot(int)
    def _on_changed(self, job_id: int) -> None:
        row = self.row_of(job_id)
        if row >= 0:
            index = self.index(row, 0)
            self.dataChanged.emit(index, index)

    @Slot(int)
    def _on_removed(self, job_id: int) -> None:
        row = self.row_of(job_id)
        if row < 0:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._ids[row]
        self.endRemoveRows()


# -- row widgets ---------------------------------------------------------------------------------


class _ElidedLabel(QLabel):
    """One line of text, elided on the right when narrow; the full text is the tooltip."""

    def minimumSizeHint(self) -> QSize:
        return QSize(40, super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:
        return QSize(120, super().sizeHint().height())

    def setText(self, text: str) -> None:  # noqa: N802 - Qt override
        super().setText(text)
        self.setToolTip(text)

    def paintEvent(self, event) -> None:  # noqa: ANN001
        painter = QPainter(self)
        metrics = self.fontMetrics()
        rect = self.contentsRect()
        text = metrics.elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(rect, int(self.alignment() | Qt.AlignmentFlag.AlignVCenter), text)


class JobRowWidget(QFrame):
    """The widget over one row of the list: what the job is, how it went, what one can do."""

    actionRequested = Signal(str, int)  # noqa: N815 - action name, job id

    ACTIONS = (
        ("cancel", "Cancel", "Stop this export; no file is written"),
        ("open", "Open file", "Open the file with its usual program"),
        ("reveal", "Show in folder", "Show the file in its folder"),
        ("copy", "Copy path", "Copy the file's full path to the clipboard"),
        ("retry", "Retry", "Run this export again into a new file"),
        ("remove", "Remove", "Take this entry off the list (the file stays on disk)"),
    )

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("jobRow")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAutoFillBackground(True)
        self.job_id = -1
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(4)

        top = QHBoxLayout()
        top.setSpacing(8)
        self.title = _ElidedLabel(self)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.when = QLabel(self)
        self.when.setAccessibleName("When")
        top.addWidget(self.title, 1)
        top.addWidget(self.when, 0)
        layout.addLayout(top)

        self.state = QLabel(self)
        state_font = self.state.font()
        state_font.setBold(True)
        self.state.setFont(state_font)
        self.state.setAccessibleName("Export state")
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setAccessibleName("Export details")
        self.status.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        lines = self.status.fontMetrics().lineSpacing()
        self.status.setMaximumHeight(2 * lines + 2)  # long reasons wrap onto a second line
        self.progress = QProgressBar(self)
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(max(8, lines // 2))
        self.progress.setAccessibleName("Export progress")
        state_line = QHBoxLayout()
        state_line.setSpacing(6)
        state_line.addWidget(self.state, 0, Qt.AlignmentFlag.AlignTop)
        state_line.addWidget(self.status, 1)
        layout.addLayout(state_line)
        # Third line: the progress bar while running, the file name once there is a file.
        self.file_label = _ElidedLabel(self)
        self.file_label.setAccessibleName("File")
        self.file_label.setFixedHeight(lines + 2)
        third = QHBoxLayout()
        third.setContentsMargins(0, 0, 0, 0)
        third.addWidget(self.progress, 1)
        third.addWidget(self.file_label, 1)
        spacer = QWidget(self)
        spacer.setFixedHeight(lines + 2)
        third.addWidget(spacer, 0)
        layout.addLayout(third)
        layout.addStretch(1)

        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        buttons.addStretch(1)
        self.buttons: dict[str, QPushButton] = {}
        for name, text, tip in self.ACTIONS:
            button = QPushButton(text, self)
            button.setToolTip(tip)
            button.setAutoDefault(False)
            # Styles give text buttons an 80 px floor; a row of four then makes the dock (and
            # with it the window) wider than a 1440 px screen. Fit each to its text instead.
            button.setMinimumWidth(button.fontMetrics().horizontalAdvance(text) + 16)
            button.clicked.connect(lambda _checked=False, n=name: self._request(n))
            buttons.addWidget(button)
            self.buttons[name] = button
        layout.addLayout(buttons)
        # Every row is as tall as one with a two-line reason, a file line and buttons.
        self.setFixedHeight(self.sizeHint().height() + lines)

    def _request(self, action: str) -> None:
        if self.job_id >= 0:
            self.actionRequested.emit(action, self.job_id)

    def set_job(self, job: store.JobRecord) -> None:
        self.job_id = job.id
        self.title.setText(job.title)
        self.setAccessibleName(f"Export {job.title}")
        ended = job.ended
        self.when.setText(_when(job.finished_at if ended else job.created_at))
        word = job_state_word(job)
        self.state.setText(word + ":")
        text = job_status_text(job)
        self.status.setText(text)
        self.status.setToolTip(text)
        self._tone(job)
        running = job.active
        self.progress.setVisible(running)
        has_file = job.state == store.FINISHED and bool(job.path)
        self.file_label.setVisible(has_file)
        if has_file:
            self.file_label.setText(job.file_name)
            self.file_label.setToolTip(job.path or "")
        if running:
            if job.rows_total:
                self.progress.setRange(0, 1000)
                self.progress.setValue(
                    int(1000 * min(job.rows_done, job.rows_total) / job.rows_total)
                )
            elif job.rows_total == 0 and job.state == store.RUNNING:
                self.progress.setRange(0, 1)
                self.progress.setValue(1)
            else:
                self.progress.setRange(0, 0)  # busy: counting rows or waiting
        missing = job.missing
        finished = job.state == store.FINISHED and not missing
        visible = {
            "cancel": running,
            "open": finished,
            "reveal": finished,
            "copy": job.state == store.FINISHED,
            "retry": job.state in (store.FAILED, store.CANCELED) or missing,
            "remove": ended,
        }
        for name, button in self.buttons.items():
            button.setVisible(visible[name])
            label = button.text()
            button.setAccessibleName(f"{label}: {job.title}")
        self.buttons["retry"].setText("Export again" if missing else "Retry")
        self.buttons["retry"].setAccessibleName(f"{self.buttons['retry'].text()}: {job.title}")

    def _tone(self, job: store.JobRecord) -> None:
        from flowdesk.ui.theme import status_color

        tone = {
            store.FINISHED: "completed",
            store.FAILED: "failed",
            store.CANCELED: "canceled",
            store.RUNNING: "ongoing",
            store.QUEUED: "canceled",
        }
        metric = "expired" if job.missing else tone.get(job.state, "canceled")
        self.state.setStyleSheet(f"color: {status_color(metric, self.palette()).name()};")


class _RowDelegate(QStyledItemDelegate):
    """Rows are as tall as a row widget; the widget paints everything."""

    def __init__(self, view: QListView, row_height: int) -> None:
        super().__init__(view)
        self._view = view
        self.row_height = row_height

    def sizeHint(self, option, index) -> QSize:  # noqa: ANN001
        return QSize(max(200, self._view.viewport().width()), self.row_height)

    def paint(self, painter, option, index) -> None:  # noqa: ANN001
        # The row widget covers the item but its last pixel row: draw the separator there.
        painter.save()
        painter.setPen(option.palette.color(QPalette.ColorRole.Mid))
        rect = option.rect
        painter.drawLine(rect.left(), rect.bottom(), rect.right(), rect.bottom())
        painter.restore()


# -- panel ---------------------------------------------------------------------------------------


def open_file(path: str) -> bool:
    return QDesktopServices.openUrl(QUrl.fromLocalFile(path))


def reveal_file(path: str) -> bool:
    """Show ``path`` selected in the system's file manager (its folder on Linux)."""
    if sys.platform == "win32":
        return QProcess.startDetached("explorer", ["/select,", os.path.normpath(path)])[0]
    if sys.platform == "darwin":
        return QProcess.startDetached("open", ["-R", path])[0]
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(path).parent)))


class NotificationsPanel(QWidget):
    """Every export job, newest first, with what can be done with each.

    Put it in a dock. ``unseenChanged(int)`` drives a badge: the number of finished, failed or
    canceled jobs the user has not looked at; call :meth:`mark_all_seen` when the panel is shown.
    ``opener`` and ``revealer`` (``path -> bool``) open a file and show it in its folder.
    """

    unseenChanged = Signal(int)  # noqa: N815

    def __init__(
        self,
        manager: JobManager,
        parent: QWidget | None = None,
        *,
        opener: Callable[[str], bool] = open_file,
        revealer: Callable[[str], bool] = reveal_file,
    ) -> None:
        super().__init__(parent)
        self.manager = manager
        self.opener = opener
        self.revealer = revealer
        self.setAccessibleName("Downloads")
        self.model = JobsModel(manager, self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        header = QHBoxLayout()
        header.setContentsMargins(10, 6, 6, 6)
        self.summary = QLabel(self)
        self.summary.setAccessibleName("Downloads summary")
        self.clear_button = QPushButton("Clear finished", self)
        self.clear_button.setAccessibleName("Clear finished downloads from the list")
        self.clear_button.setToolTip(
            "Remove finished, failed and canceled exports from this list. Files stay on disk."
        )
        self.clear_button.clicked.connect(self._clear)
        header.addWidget(self.summary, 1)
        header.addWidget(self.clear_button)
        layout.addLayout(header)

        self.empty = QLabel(
            "No downloads yet.\n\nUse “Download results…” on a flow, a version, an execution "
            "or the Contacts tab; the export runs in the background and shows up here.",
            self,
        )
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setMargin(24)
        self.empty.setAccessibleName("No downloads yet")
        layout.addWidget(self.empty, 1)

        self.view = QListView(self)
        self.view.setAccessibleName("Export jobs")
        self.view.setModel(self.model)
        self.view.setSelectionMode(QListView.SelectionMode.NoSelection)
        self.view.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setUniformItemSizes(True)
        self.view.setSpacing(0)
        self.view.setFrameShape(QFrame.Shape.NoFrame)
        probe = JobRowWidget()
        self.row_height = probe.height() + 1
        # Wide enough for the most buttons a row shows (a finished file's four).
        probe.set_job(store.JobRecord(0, store.KIND_EXPORT, "", store.FINISHED, path=__file__))
        probe.layout().activate()
        row_width = probe.layout().minimumSize().width()
        probe.deleteLater()
        self.view.setItemDelegate(_RowDelegate(self.view, self.row_height))
        layout.addWidget(self.view, 1)

        self.model.rowsInserted.connect(self._on_rows_inserted)
        self.model.dataChanged.connect(self._on_data_changed)
        self.model.rowsRemoved.connect(self._refresh_summary)
        self.model.modelReset.connect(self._rebuild_rows)
        manager.unseenChanged.connect(self._on_unseen)
        self._rebuild_rows()
        scrollbar = self.view.verticalScrollBar().sizeHint().width()
        self.setMinimumWidth(max(320, row_width + scrollbar + 2))

    # -- public ----------------------------------------------------------------------------------

    def unseen_count(self) -> int:
        return self.manager.unseen_count()

    def mark_all_seen(self) -> None:
        self.manager.mark_all_seen()

    def row_widget(self, job_id: int) -> JobRowWidget | None:
        row = self.model.row_of(job_id)
        if row < 0:
            return None
        widget = self.view.indexWidget(self.model.index(row, 0))
        return widget if isinstance(widget, JobRowWidget) else None

    # -- plumbing --------------------------------------------------------------------------------

    def showEvent(self, event) -> None:  # noqa: ANN001
        super().showEvent(event)
        self.manager.refresh_files()

    def _make_row(self, row: int) -> None:
        index = self.model.index(row, 0)
        job = self.model.data(index, JobsModel.JobRole)
        if job is None:
            return
        widget = JobRowWidget()
        widget.set_job(job)
        widget.actionRequested.connect(self._on_action)
        self.view.setIndexWidget(index, widget)

    def _rebuild_rows(self) -> None:
        for row in range(self.model.rowCount()):
            self._make_row(row)
        self._refresh_summary()

    @Slot(QModelIndex, int, int)
    def _on_rows_inserted(self, _parent: QModelIndex, first: int, last: int) -> None:
        for row in range(first, last + 1):
            self._make_row(row)
        self._refresh_summary()

    @Slot(QModelIndex, QModelIndex)
    def _on_data_changed(self, top: QModelIndex, bottom: QModelIndex, _roles=None) -> None:  # noqa: ANN001
        for row in range(top.row(), bottom.row() + 1):
            index = self.model.index(row, 0)
            widget = self.view.indexWidget(index)
            job = self.model.data(index, JobsModel.JobRole)
            if isinstance(widget, JobRowWidget) and job is not None:
                widget.set_job(job)
        self._refresh_summary()

    def _refresh_summary(self, *_args) -> None:  # noqa: ANN002
        jobs = self.manager.jobs()
        active = sum(1 for job in jobs if job.active)
        ended = sum(1 for job in jobs if job.ended)
        if not jobs:
            text = "Downloads"
        elif active:
            text = f"{active} running · {ended} done" if ended else f"{active} running"
        else:
            text = f"{len(jobs)} export{'s' if len(jobs) != 1 else ''}"
        self.summary.setText(text)
        self.clear_button.setEnabled(ended > 0)
        self.empty.setVisible(not jobs)
        self.view.setVisible(bool(jobs))

    @Slot(int)
    def _on_unseen(self, count: int) -> None:
        self.unseenChanged.emit(count)

    @Slot()
    def _clear(self) -> None:
        self.manager.clear_ended()

    @Slot(str, int)
    def _on_action(self, action: str, job_id: int) -> None:
        job = self.manager.job(job_id)
        if job is None:
            return
        if action == "cancel":
            self.manager.cancel(job_id)
        elif action == "retry":
            self.manager.retry(job_id)
        elif action == "remove":
            self.manager.remove(job_id)
        elif action == "copy" and job.path:
            QGuiApplication.clipboard().setText(job.path)
        elif action in ("open", "reveal") and job.path:
            show = self.opener if action == "open" else self.revealer
            if not job.file_exists() or not show(job.path):
                self.manager.refresh_files()  # a file deleted meanwhile shows as missing


# -- the "Download results" dialog ---------------------------------------------------------------


class ExportDialog(QDialog):
    """Choose format and folder for one export, with a preview of the file name.

    Build it with :meth:`for_spec`; after ``accepted``, read :meth:`spec` and :meth:`folder` and
    pass them to :meth:`JobManager.start_export`.
    """

    def __init__(
        self,
        spec: ExportSpec,
        *,
        subject: str,
        file_stem: str,
        folder: Path,
        row_count: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._spec = spec
        self._stem = file_stem
        self._rows = row_count
        self.setWindowTitle("Download results")
        self.setAccessibleName("Download results")
        self.setModal(True)
        layout = QVBoxLayout(self)
        layout.setSpacing(10)

        heading = QLabel(subject, self)
        font = heading.font()
        font.setBold(True)
        heading.setFont(font)
        heading.setWordWrap(True)
        heading.setAccessibleName("What is exported")
        layout.addWidget(heading)
        rows = (
            f"{row_count:,} row{'' if row_count == 1 else 's'}: one per contact entry, with the "
            "time each step was first reached."
            if row_count is not None
            else "One row per contact entry, with the time each step was first reached."
        )
        self.rows_label = QLabel(rows, self)
        self.rows_label.setWordWrap(True)
        self.rows_label.setAccessibleName("Rows")
        layout.addWidget(self.rows_label)

        format_box = QVBoxLayout()
        format_box.setSpacing(4)
        format_title = QLabel("Format", self)
        format_title.setFont(font)
        format_box.addWidget(format_title)
        self.csv_button = QRadioButton("CSV — opens anywhere, fastest", self)
        self.csv_button.setAccessibleName("CSV format")
        self.xlsx_button = QRadioButton("Excel workbook (.xlsx) — real dates, filters", self)
        self.xlsx_button.setAccessibleName("Excel workbook format")
        self.formats = QButtonGroup(self)
        self.formats.addButton(self.csv_button)
        self.formats.addButton(self.xlsx_button)
        self.bom = QCheckBox(
            "Excel-friendly CSV (so Excel shows accents and non-Latin names correctly)", self
        )
        self.bom.setAccessibleName("Excel-friendly CSV")
        self.bom.setToolTip(
            "Adds a UTF-8 byte-order mark at the start of the file. Leave it off "
            "for files read by other programs or scripts."
        )
        self.format_note = QLabel(self)
        self.format_note.setWordWrap(True)
        self.format_note.setAccessibleName("Format note")
        format_box.addWidget(self.csv_button)
        bom_row = QHBoxLayout()
        bom_row.setContentsMargins(22, 0, 0, 0)
        bom_row.addWidget(self.bom)
        format_box.addLayout(bom_row)
        format_box.addWidget(self.xlsx_button)
        format_box.addWidget(self.format_note)
        layout.addLayout(format_box)

        from flowdesk.core.export.localtime import zone_label

        self.zone = zone_label()
        self.local_time = QCheckBox(
            f"Times in local time ({self.zone}), as the app shows them", self
        )
        self.local_time.setAccessibleName("Times in local time")
        self.local_time.setToolTip(
            "Off: times in UTC. On: CSV times carry their offset (…T09:00:00-06:00); Excel "
            "cells hold local date-times and the Entered column names the zone."
        )
        layout.addWidget(self.local_time)

        folder_title = QLabel("Save in", self)
        folder_title.setFont(font)
        layout.addWidget(folder_title)
        folder_row = QHBoxLayout()
        self.folder_edit = QLineEdit(str(folder), self)
        self.folder_edit.setAccessibleName("Destination folder")
        self.folder_edit.setMinimumWidth(320)
        self.browse = QPushButton("Browse…", self)
        self.browse.setAccessibleName("Choose the destination folder")
        self.browse.setAutoDefault(False)
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(self.browse)
        layout.addLayout(folder_row)

        self.preview = QLabel(self)
        self.preview.setWordWrap(True)
        self.preview.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.preview.setAccessibleName("File name")
        layout.addWidget(self.preview)
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.note.setAccessibleName("About the export")
        layout.addWidget(self.note)
        self.error = QLabel(self)
        self.error.setWordWrap(True)
        self.error.setAccessibleName("Problem")
        self.error.setStyleSheet("color: #c62828;")
        self.error.hide()
        layout.addWidget(self.error)

        self.button_box = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        start = self.button_box.button(QDialogButtonBox.StandardButton.Ok)
        start.setText("Start download")
        start.setAccessibleName("Start download")
        cancel = self.button_box.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setAccessibleName("Cancel")
        self.button_box.accepted.connect(self.accept)
        self.button_box.rejected.connect(self.reject)
        layout.addWidget(self.button_box)

        (self.xlsx_button if spec.format == "xlsx" else self.csv_button).setChecked(True)
        self.bom.setChecked(spec.excel_bom)
        self.local_time.setChecked(spec.local_time)
        self.local_time.toggled.connect(self._update)
        self.formats.buttonToggled.connect(self._update)
        self.bom.toggled.connect(self._update)
        self.folder_edit.textChanged.connect(self._update)
        self.browse.clicked.connect(self._browse)
        self._update()

    @classmethod
    def for_spec(
        cls,
        db,
        spec: ExportSpec,
        folder: Path,
        parent: QWidget | None = None,  # noqa: ANN001
    ) -> ExportDialog:
        """The dialog for ``spec`` on an open cache (``db``: the GUI thread's connection)."""
        from flowdesk.core.queries import count_contacts

        rows = None
        if not spec.search:  # counters answer at once; a text search would scan on this thread
            rows = count_contacts(db, spec.contact_query())
        subject = f"{flow_name(db, spec)} · {scope_label(db, spec)}"
        stem = Path(file_name(db, spec)).stem
        return cls(
            spec, subject=subject, file_stem=stem, folder=folder, row_count=rows, parent=parent
        )

    # -- results ---------------------------------------------------------------------------------

    def chosen_format(self) -> str:
        return "xlsx" if self.xlsx_button.isChecked() else "csv"

    def excel_bom(self) -> bool:
        return self.chosen_format() == "csv" and self.bom.isChecked()

    def folder(self) -> Path:
        return Path(os.path.expanduser(self.folder_edit.text().strip() or "."))

    def spec(self) -> ExportSpec:
        chosen = self._spec.with_format(self.chosen_format(), self.excel_bom())
        return chosen.with_local_time(self.local_time.isChecked())

    def preview_name(self) -> str:
        return f"{self._stem}.{self.chosen_format()}"

    # -- behaviour -------------------------------------------------------------------------------

    def _problem(self) -> str:
        folder = self.folder()
        if not self.folder_edit.text().strip():
            return "Choose a folder to save the file in."
        if not folder.is_dir():
            return f"The folder {folder} does not exist."
        if not os.access(folder, os.W_OK):
            return f"Flowdesk cannot write to {folder}; choose another folder."
        return ""

    def _update(self, *_args) -> None:  # noqa: ANN002
        xlsx = self.chosen_format() == "xlsx"
        self.bom.setEnabled(not xlsx)
        rows = self._rows
        if xlsx:
            note = "Slower to create than CSV."
            # Imported here: openpyxl costs 0.2 s, and the app should not pay it at start.
            from flowdesk.core.export.xlsx_writer import EXCEL_MAX_ROWS

            if rows is not None and rows > EXCEL_MAX_ROWS - 1:
                sheets = -(-rows // (EXCEL_MAX_ROWS - 1))
                note += (
                    f" Excel holds 1,048,576 rows per sheet, so the rows continue over "
                    f"{sheets} sheets."
                )
            elif rows is not None and rows >= 100_000:
                note += " With this many rows it can take several minutes."
        else:
            note = ""
        self.format_note.setText(note)
        self.format_note.setVisible(bool(note))
        times = f"local time ({self.zone})" if self.local_time.isChecked() else "UTC"
        self.note.setText(
            f"Times are in {times}. The export runs in the background: follow it, "
            "and open the file, under Downloads."
        )
        self.preview.setText(f"File name: {self.preview_name()}")
        problem = self._problem()
        self.error.setText(problem)
        self.error.setVisible(bool(problem))
        self.button_box.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problem)
        if self.isVisible():
            # Wrapped notes appear and go: let the dialog grow to show them whole.
            self.layout().activate()
            self.resize(self.width(), max(self.height(), self.heightForWidth(self.width())))

    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Save downloads in", str(self.folder()))
        if chosen:
            self.folder_edit.setText(chosen)

    def accept(self) -> None:
        problem = self._problem()
        if problem:
            self.error.setText(problem)
            self.error.show()
            return
        super().accept()


# -- main window wiring --------------------------------------------------------------------------

_FOLDER_KEY = "exports/folder"
_FORMAT_KEY = "exports/format"
_BOM_KEY = "exports/excel_bom"
_LOCAL_TIME_KEY = "exports/local_time"


class DownloadsButton(QToolButton):
    """Status-bar button that shows and hides the Downloads dock, with a count of new results."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAutoRaise(True)
        self.set_count(0)

    def set_count(self, count: int) -> None:
        self.setText(f"Downloads ({count} new)" if count else "Downloads")
        self.setAccessibleName(f"Downloads, {count} new" if count else "Downloads")
        self.setToolTip("Show exports and their files (Ctrl+J)")


def install(window) -> NotificationsPanel:  # noqa: ANN001
    """Add the Downloads dock, its badge and "Download results…" to a main window.

    Sets ``window.jobs`` (the :class:`JobManager`), ``window.notifications`` (the panel) and
    ``window.downloads_dock``. The window's shutdown cancels the jobs and joins their threads.
    """
    from PySide6.QtGui import QKeySequence

    settings = window.settings
    folder = settings.value(_FOLDER_KEY, "", str) or ""
    manager = JobManager(window.tasks, window, folder=folder or None)
    panel = NotificationsPanel(manager)
    dock = QDockWidget("Downloads", window)
    dock.setObjectName("downloadsDock")
    dock.setAccessibleName("Downloads panel")
    dock.setWidget(panel)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    dock.hide()

    toggle = dock.toggleViewAction()
    toggle.setText("&Downloads")
    toggle.setShortcut(QKeySequence("Ctrl+J"))
    for action in window.menuBar().actions():
        if action.text().replace("&", "") == "View" and action.menu() is not None:
            action.menu().addSeparator()
            action.menu().addAction(toggle)
            break
    else:
        window.addAction(toggle)

    badge = DownloadsButton(window)
    badge.clicked.connect(lambda: dock.setVisible(not dock.isVisible()))
    window.statusBar().addPermanentWidget(badge)
    badge.set_count(panel.unseen_count())
    panel.unseenChanged.connect(badge.set_count)

    def on_visibility(visible: bool) -> None:
        if visible:
            panel.mark_all_seen()

    dock.visibilityChanged.connect(on_visibility)

    def on_unseen(_count: int) -> None:
        if dock.isVisible():  # a result that arrives while the panel is open is seen at once
            panel.mark_all_seen()

    panel.unseenChanged.connect(on_unseen)

    def request_export(kind: str, payload) -> None:  # noqa: ANN001
        if kind == "contacts":
            spec = ExportSpec.for_contacts(payload)
        else:
            spec = ExportSpec.for_scope(payload)
        fmt = settings.value(_FORMAT_KEY, "csv", str) or "csv"
        bom = settings.value(_BOM_KEY, False, bool)
        spec = spec.with_format(fmt if fmt in ("csv", "xlsx") else "csv", bool(bom))
        spec = spec.with_local_time(bool(settings.value(_LOCAL_TIME_KEY, False, bool)))
        target = Path(settings.value(_FOLDER_KEY, "", str) or default_folder())
        dialog = ExportDialog.for_spec(window.db, spec, target, parent=window)

        def start() -> None:
            chosen = dialog.folder()
            settings.setValue(_FOLDER_KEY, str(chosen))
            settings.setValue(_FORMAT_KEY, dialog.chosen_format())
            settings.setValue(_BOM_KEY, dialog.excel_bom())
            settings.setValue(_LOCAL_TIME_KEY, dialog.local_time.isChecked())
            manager.start_export(dialog.spec(), chosen)
            dock.show()
            dock.raise_()
            window.statusBar().showMessage("Export started: follow it under Downloads.", 5000)

        dialog.accepted.connect(start)
        dialog.finished.connect(dialog.deleteLater)
        window.export_dialog = dialog
        dialog.open()

    page = getattr(window, "page", None)
    if page is not None and hasattr(page, "set_export_handler"):
        page.set_export_handler(request_export)

    window.jobs = manager
    window.notifications = panel
    window.downloads_dock = dock
    window.downloads_button = badge
    window.request_export = request_export
    return panel
