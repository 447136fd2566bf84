"""What the Downloads list shows of a job: its words, its buttons, and a list model over them.

Which buttons a row offers is a pure function of the job (:func:`row_actions`), so the table of
states and actions is tested without building a widget.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, Slot

from flowdesk.core import formatting
from flowdesk.core.export import jobs_store as store
from flowdesk.ui.downloads.manager import JobManager

STATE_WORDS = {
    store.QUEUED: "Waiting",
    store.RUNNING: "Exporting",
    store.FINISHED: "Done",
    store.FAILED: "Failed",
    store.CANCELED: "Canceled",
}

# Every action a row can offer, in the order its buttons are laid out: (name, label, tooltip).
ACTIONS = (
    ("cancel", "Cancel", "Stop this export; no file is written"),
    ("open", "Open file", "Open the file with its usual program"),
    ("reveal", "Show in folder", "Show the file in its folder"),
    ("copy", "Copy path", "Copy the file's full path to the clipboard"),
    ("retry", "Retry", "Run this export again into a new file"),
    ("remove", "Remove", "Take this entry off the list (the file stays on disk)"),
)


def row_actions(job: store.JobRecord) -> tuple[str, ...]:
    """The actions a job's row offers, in layout order."""
    if job.active:
        return ("cancel",)
    if job.state == store.FINISHED:
        if job.missing:
            return ("copy", "retry", "remove")
        return ("open", "reveal", "copy", "remove")
    return ("retry", "remove")  # failed or canceled


def action_label(job: store.JobRecord, action: str) -> str:
    """A button's text: Retry says "Export again" when the file of a finished job is gone."""
    if action == "retry" and job.missing:
        return "Export again"
    return next(label for name, label, _tip in ACTIONS if name == action)


def job_tone(job: store.JobRecord) -> str:
    """The status colour a job's state word takes (a metric name of the theme)."""
    if job.missing:
        return "expired"
    return {
        store.FINISHED: "completed",
        store.FAILED: "failed",
        store.RUNNING: "ongoing",
    }.get(job.state, "canceled")


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
            return f"Saving the file ({formatting.count(job.rows_total)} rows)…"
        done, total = formatting.count(job.rows_done), formatting.count(job.rows_total)
        share = f" ({formatting.share(job.rows_done / job.rows_total)})" if job.rows_total else ""
        return f"{done} of {total} rows{share}"
    if job.state == store.FINISHED:
        if job.missing:
            return "The file was moved or deleted after the export."
        sheets = f" on {job.sheets} sheets" if job.sheets > 1 else ""
        parts = [f"{formatting.count(job.rows_done)} rows{sheets}", formatting.size(job.size_bytes)]
        if job.seconds is not None:
            parts.append(f"took {formatting.elapsed(job.seconds)}")
        return " · ".join(p for p in parts if p)
    if job.state == store.CANCELED:
        return job.error or store.CANCELED_MESSAGE
    return job.error or "Failed for an unknown reason; no file was written."


class JobsModel(QAbstractListModel):
    """One row per export job, newest first, mirroring a :class:`JobManager`."""

    JobIdRole = Qt.ItemDataRole.UserRole + 1
    JobRole = Qt.ItemDataRole.UserRole + 2
    StateRole = Qt.ItemDataRole.UserRole + 3

    def __init__(self, manager: JobManager, parent=None) -> None:  # noqa: ANN001
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
    ):  # noqa: ANN201
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
