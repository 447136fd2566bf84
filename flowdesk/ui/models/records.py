"""A table model over a short list of plain records, its columns declared as data.

Versions, executions, a customer's runs, compare's step tables and the "Where runs stop" tables
all use it. These lists are small (tens to hundreds of rows), so they are loaded whole and
sorted in memory; the contacts table, which is large, has its own virtual model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QApplication

T = TypeVar("T")
RECORD_ROLE = Qt.ItemDataRole.UserRole + 1
_Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Column(Generic[T]):
    title: str
    display: Callable[[T], str]
    tooltip: Callable[[T], str] | None = None
    sort_key: Callable[[T], Any] | None = None
    numeric: bool = False
    link: bool = False
    header_tip: str = ""
    bold: Callable[[T], bool] | None = None
    icon: Callable[[T], Any] | None = None


class RecordTableModel(QAbstractTableModel, Generic[T]):
    """Records shown through ``Column`` declarations; ``RECORD_ROLE`` gives a row's record.

    A subclass declares ``columns``; a table built from data passes them in instead."""

    columns: list[Column[T]] = []

    def __init__(self, parent=None, *, columns: Sequence[Column[T]] | None = None) -> None:
        super().__init__(parent)
        if columns is not None:
            self.columns = list(columns)
        self._records: list[T] = []
        self._link_font: QFont | None = None

    def set_records(self, records: list[T]) -> None:
        self.beginResetModel()
        self._records = list(records)
        self.endResetModel()

    def records(self) -> list[T]:
        return list(self._records)

    def record_at(self, row: int) -> T | None:
        return self._records[row] if 0 <= row < len(self._records) else None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._records)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        column = self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.title
        if role == Qt.ItemDataRole.ToolTipRole and column.header_tip:
            return column.header_tip
        if role == Qt.ItemDataRole.TextAlignmentRole and column.numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        record = self.record_at(index.row())
        if record is None or not 0 <= index.column() < len(self.columns):
            return None
        column = self.columns[index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return column.display(record)
        if role == Qt.ItemDataRole.ToolTipRole:
            return column.tooltip(record) if column.tooltip else None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            horizontal = (
                Qt.AlignmentFlag.AlignRight if column.numeric else Qt.AlignmentFlag.AlignLeft
            )
            return int(horizontal | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole:
            if column.link or (column.bold and column.bold(record)):
                font = QFont()
                font.setUnderline(column.link)
                if column.bold and column.bold(record):
                    font.setBold(True)
                return font
            return None
        if role == Qt.ItemDataRole.DecorationRole and column.icon is not None:
            return column.icon(record)
        if role == Qt.ItemDataRole.ForegroundRole and column.link:
            app = QApplication.instance()
            palette = app.palette() if app is not None else QPalette()
            return palette.color(QPalette.ColorRole.Link)
        if role == RECORD_ROLE:
            return record
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.columns):
            return
        spec = self.columns[column]
        key = spec.sort_key or spec.display
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        held = [(index, self._records[index.row()]) for index in persistent]
        self._records.sort(
            key=lambda r: (key(r) is None, key(r) if key(r) is not None else 0),
            reverse=order == Qt.SortOrder.DescendingOrder,
        )
        positions = {id(r): i for i, r in enumerate(self._records)}
        self.changePersistentIndexList(
            persistent, [self.index(positions[id(rec)], idx.column()) for idx, rec in held]
        )
        self.layoutChanged.emit()
