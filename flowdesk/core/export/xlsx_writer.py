"""XLSX results through openpyxl's write-only mode (rows stream to disk; memory stays flat).

Each sheet: a bold header row, frozen, with an autofilter over the data; column widths set from
the kind of column; times as real date-time cells (Excel serial numbers with a date format), in
UTC or, with ``local_time``, in the machine's zone (Excel cells carry no zone: the Entered
header then names it).
Excel holds at most 1,048,576 rows per sheet: past that the rows continue on "Results 2",
"Results 3", ..., each with its own header.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from flowdesk.core.errors import Canceled
from flowdesk.core.export.columns import EXECUTION_COLUMN
from flowdesk.core.export.localtime import LocalOffsets, zone_label
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


class _CancellableZip(ZipFile):
    """A zip whose big members (the sheets' XML) are copied in chunks, checking for cancel:
    compressing a million-row sheet takes a while, and cancel must work then too."""

    CHUNK = 1 << 20

    def __init__(self, path: Path, is_cancelled: Callable[[], bool] | None) -> None:
        super().__init__(path, "w", ZIP_DEFLATED, allowZip64=True)
        self._is_cancelled = is_cancelled

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None) -> None:  # noqa: ANN001
        if self._is_cancelled is None:
            return super().write(filename, arcname, compress_type, compresslevel)
        info = ZipInfo.from_file(filename, arcname)
        info.compress_type = self.compression if compress_type is None else compress_type
        with open(filename, "rb") as source, self.open(info, "w", force_zip64=True) as target:
            while chunk := source.read(self.CHUNK):
                if self._is_cancelled():
                    raise Canceled
                target.write(chunk)
        return None


def save_workbook(workbook: Workbook, path: Path, is_cancelled: Callable[[], bool] | None) -> None:
    """Zip the workbook into ``path`` (tests replace this to simulate a full disk)."""
    with _CancellableZip(path, is_cancelled) as archive:
        if is_cancelled is not None and is_cancelled():
            raise Canceled
        ExcelWriter(workbook, archive).save()


def _discard(workbook: Workbook) -> None:
    """Close and delete the per-sheet temporary files openpyxl streams rows into."""
    from openpyxl.worksheet import _writer as sheet_writer

    for sheet in workbook.worksheets:
        writer = getattr(sheet, "_writer", None)
        out = getattr(writer, "out", None)
        if writer is None or out is None:
            continue
        rows = getattr(sheet, "_rows", None)
        if rows is not None:  # end the row stream first, or it fails later when collected
            with contextlib.suppress(Exception):
                rows.close()
            sheet._rows = None
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
    rows_per_sheet: int | None = None,
    local_time: bool = False,
) -> tuple[int, int]:
    """Write every row of ``source`` to ``path``; returns (data rows, sheets).

    Make ``source`` with ``text=xlsx_text`` so version and execution labels are guarded too.
    ``rows_per_sheet`` defaults to Excel's limit less the header row.
    """
    if rows_per_sheet is None:
        rows_per_sheet = EXCEL_MAX_ROWS - 1
    header = [xlsx_text(h) for h in source.header]
    fixed_count = source.fixed_count
    if local_time:
        header[fixed_count - 1] += f" (local time, {zone_label()})"
    width = len(header)
    last_column = get_column_letter(width)
    fixed_widths = list(_FIXED_WIDTHS)
    with_execution = source.with_execution
    if not with_execution:
        del fixed_widths[EXECUTION_COLUMN]
    widths = [
        *fixed_widths,
        *(min(max(_TIME_WIDTH, len(h) + 2), _MAX_WIDTH) for h in header[fixed_count:]),
    ]
    path_note = source.with_path_note
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
    offsets = LocalOffsets() if local_time else None
    if offsets is not None:  # naive local date-times: the instant moved by its own offset
        shift = offsets

        def moment(seconds: int) -> datetime:
            return epoch + delta(seconds=seconds + shift(seconds))
    else:

        def moment(seconds: int) -> datetime:
            return epoch + delta(seconds=seconds)

    text = xlsx_text
    done = 0
    try:
        sheet = new_sheet()
        for batch in source.batches(batch_size):
            if is_cancelled is not None and is_cancelled():
                raise Canceled
            for row_data in batch:
                phone, first, last, status, reason, version, execution, entered, cells, note = (
                    row_data
                )
                if in_sheet == rows_per_sheet:
                    close_filter(sheet, in_sheet)
                    sheet = new_sheet()
                    in_sheet = 0
                # Empty text is no cell; times are naive date-times (UTC or local), which
                # openpyxl writes as serial numbers with a date format.
                row = [
                    text(phone) if phone else None,
                    text(first) if first else None,
                    text(last) if last else None,
                    status,
                    text(reason) if reason else None,
                    version or None,
                    execution or None,
                    moment(entered),
                    *[None if t is None else moment(t) for t in cells],
                ]
                if not with_execution:
                    del row[EXECUTION_COLUMN]
                if path_note:
                    row.append(note or None)
                sheet.append(row)
                in_sheet += 1
            done += len(batch)
            if progress is not None:
                progress(done, total)
        close_filter(sheet, in_sheet)
        if is_cancelled is not None and is_cancelled():
            raise Canceled
        save_workbook(workbook, path, is_cancelled)
    finally:
        _discard(workbook)
    return done, len(sheets)
