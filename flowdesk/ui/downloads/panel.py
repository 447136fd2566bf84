"""The Downloads panel: every export job, running or done, with what one can do with each.

:class:`DownloadsPanel` shows a :class:`~flowdesk.ui.downloads.model.JobsModel` (newest first)
in a list view with one :class:`JobRowWidget` per job: a progress bar and Cancel while it runs;
file name, rows, size and time taken with Open file, Show in folder, Copy path and Remove once
finished; the reason and Retry when it failed or was canceled. The buttons a row shows come
from :func:`~flowdesk.ui.downloads.model.row_actions`. Jobs come from the cache's jobs table,
so finished exports are still listed after a restart; a file deleted on disk shows as missing.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QModelIndex, QProcess, QSize, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication, QPainter, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListView,
    QProgressBar,
    QPushButton,
    QStyledItemDelegate,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from flowdesk.core import formatting
from flowdesk.core.export import jobs_store as store
from flowdesk.ui.downloads.manager import JobManager
from flowdesk.ui.downloads.model import (
    ACTIONS,
    JobsModel,
    action_label,
    job_state_word,
    job_status_text,
    job_tone,
    row_actions,
)
from flowdesk.ui.theme import status_color


class _ElidedLabel(QLabel):
    """One line of text, elided when narrow (on the right unless ``mode`` says otherwise); the
    full text is the tooltip."""

    def __init__(
        self, parent: QWidget | None = None, mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight
    ) -> None:
        super().__init__(parent)
        self._mode = mode

    def minimumSizeHint(self) -> QSize:
        return QSize(40, super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:
        return QSize(120, super().sizeHint().height())

    def setText(self, text: str) -> None:  # noqa: N802 - Qt override
        super().setText(text)
        self.setToolTip(text)

    def shown_text(self) -> str:
        """The text as drawn at the label's current width."""
        return self.fontMetrics().elidedText(self.text(), self._mode, self.contentsRect().width())

    def paintEvent(self, event) -> None:  # noqa: ANN001
        painter = QPainter(self)
        rect = self.contentsRect()
        text = self.shown_text()
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(rect, int(self.alignment() | Qt.AlignmentFlag.AlignVCenter), text)


class JobRowWidget(QFrame):
    """The widget over one row of the list: what the job is, how it went, what one can do."""

    actionRequested = Signal(str, int)  # noqa: N815 - action name, job id

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
        # Elided in the middle: the end of a file name (its time and extension) tells files of
        # one flow and scope apart.
        self.file_label = _ElidedLabel(self, Qt.TextElideMode.ElideMiddle)
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
        for name, text, tip in ACTIONS:
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
        moment = job.finished_at if job.ended else job.created_at
        self.when.setText(formatting.moment(moment, seconds=False))
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
        offered = row_actions(job)
        for name, button in self.buttons.items():
            button.setVisible(name in offered)
            button.setText(action_label(job, name))
            button.setAccessibleName(f"{button.text()}: {job.title}")

    def _tone(self, job: store.JobRecord) -> None:
        color = status_color(job_tone(job), self.palette()).name()
        self.state.setStyleSheet(f"color: {color};")


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


class DownloadsPanel(QWidget):
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
