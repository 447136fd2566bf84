"""The "Download results" dialog: format, time zone and folder for one export, with a preview
of the file name. The Downloads wiring opens it for a spec the flow page asked for."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from flowdesk.core import formatting
from flowdesk.core.export import ExportSpec
from flowdesk.core.export.naming import file_name, flow_name, scope_label
from flowdesk.ui.theme import status_color


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
            f"{formatting.count(row_count)} row{'' if row_count == 1 else 's'}: one per contact "
            "entry, with the "
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
        self.error.setStyleSheet(f"color: {status_color('failed', self.palette()).name()};")
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
