"""XLSX results through openpyxl's write-only mode (rows stream to disk; memory stays flat).

Each sheet: a bold header row, frozen, with an autofilter over the data; column widths set from
the kind of column; times as real date-time cells (Excel serial numbers with a date format, UTC).
Excel holds at most 1,048,576 rows per sheet: past that the rows continue on "Results 2",
"Results 3", ..., each with its own header.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zipfile import ZIP_DEFLATED, ZipFile

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from flowdesk.core.export.columns import ENTERED_INDEX, FIXED_COUNT
from flowdesk.core.export.errors import ExportCancelled
from flowdesk.core.export.rows import RowSource
from flowdesk.core.export.safety import xlsx_text

EXCEL_MAX_ROWS = 1_048_576  # rows per sheet, header included
SHEET_TITLE = "Results"
# Widths in characters of the fixed columns; step columns fit their header and a date-time.
_FIXED_WIDTHS = (18, 16, 16, 11, 40, 18, 22, 19)
_TIME_WIDTH = 19
_MAX_WIDTH = 48
_EPOCH = datetime(1970, 1, 1)
_BOLD = Font(bold=True)


def _sheet_title(number: int) -> str:
    return SHEET_TITLE if number == 1 else f"{SHEET_TITLE} {number}"


def save_workbook(workbook: Workbook, path: Path, is_cancelled: Callable[[], bool] | None) -> None:
    """Zip the workbook into ``path`` (tests replace this to simulate a full disk)."""
    with ZipFile(path, "w", ZIP_DEFLATED, allowZip64=True) as archive:
        if is_cancelled is not None and is_cancelled():
            raise ExportCancelled
        ExcelWriter(workbook, archive).save()


def _discard(workbook: Workbook) -> None:
    """Close and delete the per-sheet temporary files openpyxl streams rows into."""
    from openpyxl.worksheet import _writer as sheet_writer

    for sheet in workbook.worksheets:
        writer = getattr(sheet, "_writer", None)
        out = getattr(writer, "out", None)
        if writer is None or out is None:
            continue
        with contextlib.suppress(Exception):
            writer.xf.close()
        with contextlib.suppress(OSError):
            os.remove(out)
        with contextlib.suppress(ValueError):
            sheet_writer.ALL_TEMP_FILES.remove(out)


def write_xlsx(
    source: RowSource,
    path: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
    batch_size: int = 1000,
    rows_per_sheet: int = EXCEL_MAX_ROWS - 1,
) -> tuple[int, int]:
    """Write every row of ``source`` to ``path``; returns (data rows, sheets)."""
    header = [xlsx_text(h) for h in source.header]
    width = len(header)
    last_column = get_column_letter(width)
    widths = [
        *_FIXED_WIDTHS,
        *(min(max(_TIME_WIDTH, len(h) + 2), _MAX_WIDTH) for h in header[FIXED_COUNT:]),
    ]
    total = source.total
    workbook = Workbook(write_only=True)
    sheets: list = []
    in_sheet = 0

    def new_sheet():
        sheet = workbook.create_sheet(_sheet_title(len(sheets) + 1))
        for index, chars in enumerate(widths, 1):
            sheet.column_dimensions[get_column_letter(index)].width = chars
        sheet.freeze_panes = "A2"
        cells = []
        for text in header:
            cell = WriteOnlyCell(sheet, value=text)
            cell.font = _BOLD
            cells.append(cell)
        sheet.append(cells)
        sheets.append(sheet)
        return sheet

    def close_filter(sheet, rows: int) -> None:
        sheet.auto_filter.ref = f"A1:{last_column}{rows + 1}"

    epoch, delta = _EPOCH, timedelta
    labels: dict[object, str] = {}
    done = 0
    try:
        sheet = new_sheet()
        for batch in source.batches(batch_size):
            if is_cancelled is not None and is_cancelled():
                raise ExportCancelled
            for row in batch:
                if in_sheet == rows_per_sheet:
                    close_filter(sheet, in_sheet)
                    sheet = new_sheet()
                    in_sheet = 0
                for index in (0, 1, 2, 4):
                    value = row[index]
                    row[index] = xlsx_text(value) if value else None
                for index in (5, 6):
                    value = row[index]
                    safe = labels.get(value)
                    if safe is None:
                        safe = labels[value] = xlsx_text(value or "") or None
                    row[index] = safe
                # Naive UTC date-times: openpyxl writes them as serials with a date format.
                row[ENTERED_INDEX] = epoch + delta(seconds=row[ENTERED_INDEX])
                for index in range(FIXED_COUNT, width):
                    value = row[index]
                    if value is not None:
                        row[index] = epoch + delta(seconds=value)
                sheet.append(row)
                in_sheet += 1
            done += len(batch)
            if progress is not None:
                progress(done, total)
        close_filter(sheet, in_sheet)
        if is_cancelled is not None and is_cancelled():
            raise ExportCancelled
        save_workbook(workbook, path, is_cancelled)
    finally:
        _discard(workbook)
    return done, len(sheets)
