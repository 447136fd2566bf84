"""The contacts table: a virtual model over up to millions of runs in the cache.

Only the row count and a window of pages live in memory. ``rowCount`` comes from
``count_contacts`` (instant from counters unless a search applies); each page of rows is fetched
off the GUI thread the first time the view asks for one of its rows, shown as "…" until it
arrives. Pages past the middle are fetched in reverse order so the last page costs what the first
does. Sorting, filtering and searching re-issue SQL; nothing is filtered in Python.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QFont

from flowdesk.core import formatting
from flowdesk.core.model import METRIC_DEFINITIONS, METRIC_LABELS
from flowdesk.core.queries import (
    ContactQuery,
    ContactRow,
    contacts_page,
    count_contacts,
    count_is_maintained,
)
from flowdesk.ui.errors import error_text
from flowdesk.ui.theme import muted_text, status_color, status_dot

PAGE_SIZE = 200
MAX_PAGES = 40  # 8,000 rows cached at most
MAX_IN_FLIGHT = 2
PLACEHOLDER = "…"

ROW_ROLE = Qt.ItemDataRole.UserRole + 1
RUN_KEY_ROLE = Qt.ItemDataRole.UserRole + 2

# (title, sort key in queries.CONTACT_COLUMNS)
COLUMNS: list[tuple[str, str]] = [
    ("Phone", "phone"),
    ("First name", "first_name"),
    ("Last name", "last_name"),
    ("Status", "status"),
    ("Reason", "reason"),
    ("Version", "version"),
    ("Execution", "execution"),
    ("Entered", "entered"),
    ("Last step", "last_step"),
    ("Last activity", "last_activity"),
]
STATUS_COLUMN = 3

_Index = QModelIndex | QPersistentModelIndex


def count_needs_scan(query: ContactQuery) -> bool:
    """Counts come from maintained counters unless a search, the test filter, or a status
    filter on top of a step filter applies."""
    return not count_is_maintained(query)


def load_first(db, query: ContactQuery, limit: int) -> tuple[int, list[ContactRow], bool]:
    """(row count, first page, whether the count is exact), on a worker.

    When counting means scanning the flow's runs (a search), the first page is read alone, so
    the first matches show as soon as the index walk finds them; the exact count follows.
    """
    if count_needs_scan(query):
        rows = contacts_page(db, query, 0, limit + 1)
        if len(rows) <= limit:
            return len(rows), rows, True
        return limit, rows[:limit], False
    count = count_contacts(db, query)
    rows = contacts_page(db, query, 0, min(limit, count)) if count else []
    return count, rows, True


def load_page(db, query: ContactQuery, page: int, count: int) -> list[ContactRow]:
    """One page; pages past the middle are read from the other end of the index."""
    offset = page * PAGE_SIZE
    limit = max(0, min(PAGE_SIZE, count - offset))
    if limit == 0:
        return []
    if offset > count // 2:
        reverse = replace(query, descending=not query.descending)
        rows = contacts_page(db, reverse, count - offset - limit, limit)
        rows.reverse()
        return rows
    return contacts_page(db, query, offset, limit)


class ContactsModel(QAbstractTableModel):
    """Rows of ``ContactRow``; call :meth:`set_query` to (re)load."""

    loadingChanged = Signal(bool)  # noqa: N815
    countChanged = Signal(int)  # noqa: N815
    queryFailed = Signal(str)  # noqa: N815
    queryLoaded = Signal()  # noqa: N815

    def __init__(self, tasks, parent=None) -> None:  # noqa: ANN001 - a TaskManager
        super().__init__(parent)
        self.tasks = tasks
        self._query: ContactQuery | None = None
        self._count = 0
        self._pages: OrderedDict[int, list[ContactRow]] = OrderedDict()
        self._in_flight: set[int] = set()
        self._wanted: list[int] = []
        self._loading = False
        self._count_exact = True
        self.execution_labels: dict[str, str] = {}
        self._italic = QFont()
        self._italic.setItalic(True)

    # -- queries ---------------------------------------------------------------------------------

    def query(self) -> ContactQuery | None:
        return self._query

    def count(self) -> int:
        return self._count

    def is_loading(self) -> bool:
        return self._loading

    def set_query(self, query: ContactQuery | None) -> None:
        """Load a new query; the current rows stay visible until the new ones arrive."""
        self.tasks.drop((self,))  # answers for the previous query are of no use now
        if query is None:
            self.beginResetModel()
            self._query, self._count = None, 0
            self._clear_pages()
            self.endResetModel()
            self._set_loading(False)
            self.countChanged.emit(0)
            return
        self._load_first(query, reset=True)

    def refresh(self) -> None:
        """Re-read the current query after a sync, keeping the scroll position."""
        if self._query is None:
            return
        self.tasks.drop((self,))
        self._load_first(self._query, reset=False)

    def _load_first(self, query: ContactQuery, *, reset: bool) -> None:
        """Count the query and read its first page off the GUI thread."""
        self._set_loading(True)
        self.tasks.query(
            load_first,
            query,
            PAGE_SIZE,
            success=lambda result: self._on_first(query, result, reset=reset),
            failure=self._on_error,
            key=(self, "first"),
        )

    def _on_first(self, query: ContactQuery, result, reset: bool) -> None:  # noqa: ANN001
        count, rows, exact = result
        self._count_exact = exact
        if reset or query != self._query:
            self.beginResetModel()
            self._query, self._count = query, count
            self._clear_pages()
            self._pages[0] = rows
            self.endResetModel()
        else:
            old = self._count
            if count > old:
                self.beginInsertRows(QModelIndex(), old, count - 1)
                self._count = count
                self.endInsertRows()
            elif count < old:
                self.beginRemoveRows(QModelIndex(), count, old - 1)
                self._count = count
                self.endRemoveRows()
            self._clear_pages()
            self._pages[0] = rows
            if count:
                self.dataChanged.emit(self.index(0, 0), self.index(count - 1, len(COLUMNS) - 1))
        self._set_loading(False)
        self.countChanged.emit(count)
        if exact:
            self.queryLoaded.emit()
            return
        self.tasks.query(
            count_contacts,
            query,
            success=self._on_count,
            failure=self._on_error,
            key=(self, "count"),
        )

    def _on_count(self, total: int) -> None:
        if total > self._count:
            self.beginInsertRows(QModelIndex(), self._count, total - 1)
            self._count = total
            self.endInsertRows()
        elif total < self._count:
            self.beginRemoveRows(QModelIndex(), total, self._count - 1)
            self._count = total
            self.endRemoveRows()
        self._count_exact = True
        self.countChanged.emit(total)
        self.queryLoaded.emit()

    def count_is_exact(self) -> bool:
        return self._count_exact

    def _on_error(self, exc: BaseException) -> None:
        self._in_flight.clear()
        self._set_loading(False)
        self.queryFailed.emit(error_text(exc, "Loading contacts"))

    def _clear_pages(self) -> None:
        self._pages.clear()
        self._in_flight.clear()
        self._wanted.clear()

    def _set_loading(self, loading: bool) -> None:
        if loading != self._loading:
            self._loading = loading
            self.loadingChanged.emit(loading)

    # -- pages ----------------------------------------------------------------------------------

    def pending_pages(self) -> int:
        return len(self._in_flight) + len(self._wanted)

    def cached_pages(self) -> list[int]:
        return list(self._pages)

    def row_at(self, row: int, *, fetch: bool = True) -> ContactRow | None:
        if not 0 <= row < self._count:
            return None
        page = row // PAGE_SIZE
        rows = self._pages.get(page)
        if rows is None:
            if fetch:
                self._want(page)
            return None
        self._pages.move_to_end(page)
        offset = row % PAGE_SIZE
        return rows[offset] if offset < len(rows) else None

    def is_row_loaded(self, row: int) -> bool:
        return (row // PAGE_SIZE) in self._pages

    def _want(self, page: int) -> None:
        if page in self._pages or page in self._in_flight:
            return
        if page in self._wanted:
            self._wanted.remove(page)
        self._wanted.append(page)
        # Only the most recent requests matter when the user scrolls fast: the view asks
        # again for anything still visible when the next page lands.
        del self._wanted[:-8]
        self._pump()

    def _pump(self) -> None:
        query = self._query
        if query is None:
            return
        while self._wanted and len(self._in_flight) < MAX_IN_FLIGHT:
            page = self._wanted.pop()
            if page in self._pages or page in self._in_flight:
                continue
            self._in_flight.add(page)
            self.tasks.query(
                load_page,
                query,
                page,
                self._count,
                success=lambda rows, page=page: self._on_page(page, rows),
                failure=self._on_error,
                key=(self, "page", page),
            )

    def _on_page(self, page: int, rows: list[ContactRow]) -> None:
        self._in_flight.discard(page)
        self._pages[page] = rows
        self._pages.move_to_end(page)
        while len(self._pages) > MAX_PAGES:
            self._pages.popitem(last=False)
        first = page * PAGE_SIZE
        last = min(self._count, first + PAGE_SIZE) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(COLUMNS) - 1))
        self._pump()

    # -- Qt model --------------------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][0]
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"Sort by {COLUMNS[section][0].lower()}"
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        column = index.column()
        if role not in _ROLES or not 0 <= column < len(COLUMNS):
            return None
        row = self.row_at(index.row())
        if row is None:
            if role == Qt.ItemDataRole.DisplayRole:
                return PLACEHOLDER if 0 <= index.row() < self._count else None
            if role == Qt.ItemDataRole.ForegroundRole:
                return muted_text()
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._display(row, column)
        if role == Qt.ItemDataRole.DecorationRole:
            return status_dot(row.metric) if column == STATUS_COLUMN else None
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == STATUS_COLUMN:
                return status_color(row.metric)
            return muted_text() if row.is_test else None
        if role == Qt.ItemDataRole.FontRole:
            return self._italic if row.is_test else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, column)
        if role == ROW_ROLE:
            return row
        if role == RUN_KEY_ROLE:
            return row.run_key
        return None

    def _display(self, row: ContactRow, column: int) -> str:
        if column == 0:
            return row.phone + ("  (test)" if row.is_test else "")
        if column == 1:
            return row.first_name
        if column == 2:
            return row.last_name
        if column == STATUS_COLUMN:
            return METRIC_LABELS.get(row.metric, row.status.title())
        if column == 4:
            return row.reason
        if column == 5:
            return row.version_name
        if column == 6:
            if not row.execution_id:
                return ""
            label = self.execution_labels.get(row.execution_id, row.execution_id)
            return label.split(" · ", 1)[0]
        if column == 7:
            return formatting.timestamp(row.entered_at)
        if column == 8:
            return row.last_step
        return formatting.timestamp(row.last_activity)

    def _tooltip(self, row: ContactRow, column: int) -> str | None:
        if column == STATUS_COLUMN:
            label = METRIC_LABELS.get(row.metric, row.metric)
            return (
                f"{label} (upstream status {row.status}): {METRIC_DEFINITIONS.get(row.metric, '')}"
            )
        if column == 4 and row.reason:
            return row.reason
        if column == 7:
            return formatting.timestamp(row.entered_at, True)
        if column == 9:
            return formatting.timestamp(row.last_activity, True)
        if column == 6 and row.execution_id:
            label = self.execution_labels.get(row.execution_id, "")
            return f"Execution {label}\n{row.execution_id}".strip()
        if column == 0:
            return "Double-click or press Enter to trace this contact's path"
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if self._query is None or not 0 <= column < len(COLUMNS):
            return
        key = COLUMNS[column][1]
        descending = order == Qt.SortOrder.DescendingOrder
        if key == self._query.sort and descending == self._query.descending:
            return
        self.set_query(replace(self._query, sort=key, descending=descending))


_ROLES = frozenset(
    {
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.AccessibleTextRole,
        Qt.ItemDataRole.DecorationRole,
        Qt.ItemDataRole.ForegroundRole,
        Qt.ItemDataRole.FontRole,
        Qt.ItemDataRole.ToolTipRole,
        ROW_ROLE,
        RUN_KEY_ROLE,
    }
)
