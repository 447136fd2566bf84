"""The Downloads panel, its model and row actions, the "Download results" dialog, the wiring."""

from __future__ import annotations

import os
import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QAbstractItemModelTester
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QComboBox,
    QDialogButtonBox,
    QLineEdit,
    QProgressBar,
    QWidget,
)

from flowdesk.core import export as export_pkg
from flowdesk.core.export import ExportSpec, RowSource
from flowdesk.core.export import jobs_store as store
from flowdesk.core.formatting import elapsed as human_duration
from flowdesk.core.formatting import size as human_size
from flowdesk.core.queries import ContactQuery, Scope
from flowdesk.ui.downloads.export_dialog import ExportDialog
from flowdesk.ui.downloads.model import JobsModel, row_actions
from flowdesk.ui.downloads.panel import DownloadsPanel

pytestmark = pytest.mark.qt_log_ignore(
    "This plugin does not support propagateSizeHints", "OpenType support missing"
)


@pytest.fixture
def make_panel(qtbot, make_jobs):
    def make(in_child: bool = True):
        manager = make_jobs(in_child=in_child)
        opened: list[tuple[str, str]] = []
        panel = DownloadsPanel(
            manager,
            opener=lambda path: opened.append(("open", path)) or True,
            revealer=lambda path: opened.append(("reveal", path)) or True,
        )
        panel.opened = opened
        qtbot.addWidget(panel)
        panel.resize(420, 600)
        panel.show()
        return manager, panel

    return make


def visible_buttons(panel: DownloadsPanel, job_id: int) -> list[str]:
    row = panel.row_widget(job_id)
    assert row is not None
    return [name for name, button in row.buttons.items() if button.isVisibleTo(row)]


def unnamed_interactive_widgets(root) -> list[str]:
    kinds = (QAbstractButton, QLineEdit, QComboBox, QAbstractSpinBox, QProgressBar)
    return [
        f"{type(w).__name__} {getattr(w, 'text', lambda: '')()!r}"
        for w in root.findChildren(QWidget)
        if isinstance(w, kinds) and not w.accessibleName()
    ]


def test_the_model_passes_the_model_tester_through_adds_changes_and_removes(
    qtbot, make_jobs, folder
):
    manager = make_jobs()
    model = JobsModel(manager)
    tester = QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Fatal)
    with qtbot.waitSignal(manager.jobFinished, timeout=10_000):
        first = manager.start_export(ExportSpec("f1"))
    with qtbot.waitSignal(manager.jobFailed, timeout=10_000):
        second = manager.start_export(ExportSpec("f1"), folder / "missing")
    assert model.rowCount() == 2
    assert [model.job_id(r) for r in range(2)] == [second, first]
    index = model.index(1, 0)
    assert model.data(index) == "Order helper · All versions · CSV"
    assert model.data(index, JobsModel.StateRole) == "finished"
    assert "Done" in model.data(index, 3)  # the tooltip says what happened
    manager.remove(second)
    assert model.rowCount() == 1
    manager.remove(first)
    assert model.rowCount() == 0
    del tester
    manager.shutdown()


def test_finished_failed_running_rows_show_what_a_support_agent_needs(
    qtbot, make_panel, folder, monkeypatch
):
    manager, panel = make_panel(in_child=False)  # the running row is held by a patch below
    assert panel.empty.isVisible() and not panel.view.isVisible()
    with qtbot.waitSignal(manager.jobFinished, timeout=10_000):
        done = manager.start_export(ExportSpec("f1", format="xlsx"))
    with qtbot.waitSignal(manager.jobFailed, timeout=10_000):
        failed = manager.start_export(ExportSpec("f1"), folder / "nope")
    assert not panel.empty.isVisible()

    row = panel.row_widget(done)
    job = manager.job(done)
    assert row.state.text() == "Done:"
    size, took = human_size(job.size_bytes), human_duration(job.seconds)
    assert row.status.text() == f"5 rows · {size} · took {took}"
    assert row.file_label.text() == job.file_name and row.file_label.toolTip() == job.path
    # Narrow, the file name elides in the middle: its time and extension stay in view.
    row.file_label.resize(160, row.file_label.height())
    head, tail = row.file_label.shown_text().split("…")
    assert job.file_name.startswith(head) and job.file_name.endswith(tail)
    assert tail.endswith(".xlsx") and len(tail) >= 10  # "…012113.xlsx": the time's end
    assert visible_buttons(panel, done) == ["open", "reveal", "copy", "remove"]

    row = panel.row_widget(failed)
    assert row.state.text() == "Failed:" and "does not exist" in row.status.text()
    assert visible_buttons(panel, failed) == ["retry", "remove"]

    # A running job: progress bar and Cancel.
    gate = threading.Event()
    original = RowSource.batches

    def held(self, size=1000):
        for index, batch in enumerate(original(self, size)):
            if index >= 1:
                gate.wait(10)
            yield batch

    monkeypatch.setattr(export_pkg, "BATCH_SIZE", 2)
    monkeypatch.setattr(RowSource, "batches", held)
    running = manager.start_export(ExportSpec("f1", version_id="v1"))
    qtbot.waitUntil(lambda: manager.job(running).rows_done >= 2, timeout=10_000)
    row = panel.row_widget(running)
    assert row.progress.isVisibleTo(row) and 0 < row.progress.value() < row.progress.maximum()
    assert row.state.text() == "Exporting:" and row.status.text() == "2 of 5 rows (40%)"
    assert visible_buttons(panel, running) == ["cancel"]
    assert panel.summary.text() == "1 running · 2 done"
    with qtbot.waitSignal(manager.jobCanceled, timeout=10_000):
        qtbot.mouseClick(row.buttons["cancel"], Qt.MouseButton.LeftButton)
        gate.set()
    assert row.state.text() == "Canceled:" and "no file was written" in row.status.text()
    assert visible_buttons(panel, running) == ["retry", "remove"]
    assert panel.model.rowCount() == 3


def test_row_buttons_open_reveal_copy_remove_retry(qtbot, make_panel, folder):
    manager, panel = make_panel()
    with qtbot.waitSignal(manager.jobFinished, timeout=10_000):
        job_id = manager.start_export(ExportSpec("f1"))
    path = manager.job(job_id).path
    row = panel.row_widget(job_id)
    qtbot.mouseClick(row.buttons["open"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(row.buttons["reveal"], Qt.MouseButton.LeftButton)
    assert panel.opened == [("open", path), ("reveal", path)]
    qtbot.mouseClick(row.buttons["copy"], Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == path

    os.remove(path)  # deleted on disk: the row says so once it is looked at again
    panel.hide()
    panel.show()
    assert row.state.text() == "File missing:"
    assert "moved or deleted" in row.status.text()
    assert visible_buttons(panel, job_id) == ["copy", "retry", "remove"]
    assert row.buttons["retry"].text() == "Export again"
    with qtbot.waitSignal(manager.jobFinished, timeout=10_000):
        qtbot.mouseClick(row.buttons["retry"], Qt.MouseButton.LeftButton)
    assert os.path.exists(manager.job(job_id).path)
    assert panel.row_widget(job_id).state.text() == "Done:"

    new_path = manager.job(job_id).path
    with qtbot.waitSignal(manager.jobRemoved):
        qtbot.mouseClick(panel.row_widget(job_id).buttons["remove"], Qt.MouseButton.LeftButton)
    assert panel.model.rowCount() == 0 and panel.empty.isVisible()
    assert os.path.exists(new_path)  # Remove takes the entry off the list, not the file


def test_the_panel_survives_a_restart(qtbot, make_panel):
    manager, panel = make_panel()
    with qtbot.waitSignal(manager.jobFinished, timeout=10_000):
        done = manager.start_export(ExportSpec("f1"))
    with qtbot.waitSignal(manager.jobFailed, timeout=10_000):
        failed = manager.start_export(ExportSpec("f1", format="xlsx"), "/nonexistent/folder")
    file_name = manager.job(done).file_name
    manager.shutdown()
    panel.close()

    manager, panel = make_panel()
    assert panel.model.rowCount() == 2
    assert panel.row_widget(done).file_label.text() == file_name
    assert panel.row_widget(done).state.text() == "Done:"
    assert panel.row_widget(failed).state.text() == "Failed:"
    assert panel.unseen_count() == 2  # nobody looked at them yet


def test_unseen_badge_counts_results_until_marked_seen(qtbot, make_panel, folder):
    manager, panel = make_panel()
    counts = []
    panel.unseenChanged.connect(counts.append)
    with qtbot.waitSignal(manager.jobFinished, timeout=10_000):
        manager.start_export(ExportSpec("f1"))
    with qtbot.waitSignal(manager.jobFailed, timeout=10_000):
        manager.start_export(ExportSpec("f1"), folder / "x")
    assert panel.unseen_count() == 2 and counts == [1, 2]
    panel.mark_all_seen()
    assert panel.unseen_count() == 0 and counts == [1, 2, 0]
    panel.clear_button.click()
    assert panel.model.rowCount() == 0 and counts == [1, 2, 0]


def test_every_interactive_widget_has_an_accessible_name(
    qtbot, make_panel, factory_db_path, folder
):
    manager, panel = make_panel()
    with qtbot.waitSignal(manager.jobFinished, timeout=10_000):
        manager.start_export(ExportSpec("f1"))
    assert unnamed_interactive_widgets(panel) == []
    from flowdesk.core.db import connect

    db = connect(factory_db_path)
    dialog = ExportDialog.for_spec(db, ExportSpec("f1"), folder)
    qtbot.addWidget(dialog)
    assert unnamed_interactive_widgets(dialog) == []
    db.conn.close()


def test_export_dialog_format_bom_folder_and_preview(qtbot, factory_db_path, folder, tmp_path):
    from flowdesk.core.db import connect

    db = connect(factory_db_path)
    query = ContactQuery(Scope("f1"), metric="failed")
    dialog = ExportDialog.for_spec(db, ExportSpec.for_contacts(query), folder)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.rows_label.text().startswith("1 row: one per contact entry")
    assert dialog.chosen_format() == "csv" and dialog.bom.isEnabled()
    assert dialog.preview.text().startswith("File name: Order helper - Contacts Failed - ")
    assert dialog.preview.text().endswith(".csv")
    dialog.bom.setChecked(True)
    assert dialog.spec() == ExportSpec.for_contacts(query, "csv", excel_bom=True)
    dialog.xlsx_button.setChecked(True)
    assert not dialog.bom.isEnabled() and dialog.preview.text().endswith(".xlsx")
    assert dialog.spec() == ExportSpec.for_contacts(query, "xlsx", excel_bom=False)
    assert dialog.format_note.text().startswith("Slower to create than CSV")
    assert dialog.note.text().startswith("Times are in UTC.")
    dialog.local_time.setChecked(True)
    assert dialog.spec().local_time and dialog.zone in dialog.local_time.text()
    assert dialog.note.text().startswith(f"Times are in local time ({dialog.zone}).")

    ok = dialog.button_box.button(QDialogButtonBox.StandardButton.Ok)
    dialog.folder_edit.setText(str(tmp_path / "nowhere"))
    assert not ok.isEnabled() and "does not exist" in dialog.error.text()
    dialog.accept()
    assert dialog.isVisible()  # refused: stays open with the reason
    dialog.folder_edit.setText(str(folder))
    assert ok.isEnabled() and not dialog.error.isVisible()
    with qtbot.waitSignal(dialog.accepted):
        ok.click()
    assert dialog.folder() == folder
    db.conn.close()


def test_export_dialog_warns_when_rows_need_several_sheets(qtbot, folder):
    dialog = ExportDialog(
        ExportSpec("f1", format="xlsx"), subject="Big · All versions", file_stem="Big",
        folder=folder, row_count=2_500_000,
    )  # fmt: skip
    qtbot.addWidget(dialog)
    assert "continue over 3 sheets" in dialog.format_note.text()
    assert dialog.rows_label.text().startswith("2,500,000 rows")


def test_the_window_opens_download_results_for_the_spec_its_page_asks_for(
    qtbot, make_window, factory_db_path, folder, settings
):
    settings.setValue("exports/folder", str(folder))
    window = make_window(factory_db_path)
    downloads = window.downloads
    assert downloads.manager is not None and downloads.dock.isHidden()
    qtbot.mouseClick(window.page.download, Qt.MouseButton.LeftButton)  # on the Contacts tab
    shown = window.page.contacts_tab.current_query()
    # Times in local time by default, as the app shows them.
    assert downloads.dialog.spec() == ExportSpec.for_contacts(shown).with_local_time(True)
    downloads.dialog.reject()
    window.page.exportRequested.emit(ExportSpec.for_scope(Scope("f1")))
    dialog = downloads.dialog
    assert dialog.isVisible() and dialog.folder() == folder
    with qtbot.waitSignal(downloads.manager.jobFinished, timeout=10_000):
        dialog.button_box.button(QDialogButtonBox.StandardButton.Ok).click()
    assert downloads.dock.isVisible()
    [job] = downloads.manager.jobs()
    assert job.state == store.FINISHED and os.path.dirname(job.path) == str(folder)
    assert downloads.manager.unseen_count() == 0  # it arrived while the panel was open
    downloads.dock.hide()
    spec = ExportSpec.for_contacts(ContactQuery(Scope("f1"), metric="failed"))
    window.page.exportRequested.emit(spec)
    assert downloads.dialog.local_time.isChecked()  # local time, as the app shows times
    downloads.dialog.local_time.setChecked(False)
    with qtbot.waitSignal(downloads.manager.jobFinished, timeout=10_000):
        downloads.dialog.button_box.button(QDialogButtonBox.StandardButton.Ok).click()
    assert downloads.manager.unseen_count() == 0  # starting an export opens the panel again
    assert not downloads.manager.job(downloads.manager.jobs()[0].id).spec.local_time
    window.page.exportRequested.emit(ExportSpec.for_scope(Scope("f1")))  # choice remembered
    assert not downloads.dialog.local_time.isChecked()
    downloads.dialog.reject()


def _job(state: str, path: str | None = None) -> store.JobRecord:
    return store.JobRecord(1, store.KIND_EXPORT, "t", state, path=path)


@pytest.mark.parametrize(
    ("state", "file", "offered"),
    [
        (store.QUEUED, None, ("cancel",)),
        (store.RUNNING, None, ("cancel",)),
        (store.FINISHED, "on disk", ("open", "reveal", "copy", "remove")),
        (store.FINISHED, "deleted", ("copy", "retry", "remove")),
        (store.FAILED, None, ("retry", "remove")),
        (store.CANCELED, None, ("retry", "remove")),
    ],
)
def test_the_buttons_a_row_offers_follow_from_its_state(state, file, offered, tmp_path):
    path = None
    if file is not None:
        path = tmp_path / "export.csv"
        if file == "on disk":
            path.write_text("phone\n")
    assert row_actions(_job(state, str(path) if path else None)) == offered
