"""Contacts tab: the virtual contacts table with search, status/version/execution filters.

Filters and sort are turned into a ``ContactQuery`` and run as SQL by the model. The version and
execution filters are the page scope seen from here: changing them re-scopes the whole page, so
the cards above and the rows below always describe the same contacts.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QItemSelectionModel, QModelIndex, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QFontMetrics, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QStackedLayout,
    QTableView,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from flowdesk.core import formatting
from flowdesk.core.model import METRIC_LABELS, METRICS, Direction
from flowdesk.core.queries import (
    ContactQuery,
    ContactRow,
    ExecutionInfo,
    PathCoverage,
    Scope,
    StepFilter,
    VersionInfo,
    path_coverage,
    row_positions,
)
from flowdesk.ui.models.contacts import COLUMNS, ROW_ROLE, ContactsModel
from flowdesk.ui.models.history import execution_labels, version_label
from flowdesk.ui.reflow import ReflowLayout, fit_widths
from flowdesk.ui.theme import status_dot
from flowdesk.ui.widgets.empty_state import EmptyState

SEARCH_DEBOUNCE_MS = 250
# Column widths (Phone, First name, Last name, Status, Reason, Version, Execution, Entered,
# Last step, Last activity): preferred, and the least a column with long text takes on a
# narrow window before a column goes out of view (its text elides; the tooltip has it whole).
# Phones, statuses and times never narrow.
_WIDTHS = (128, 92, 100, 96, 140, 120, 70, 122, 130, 122)
_LEAST_WIDTHS = (128, 72, 72, 96, 90, 72, 74, 122, 96, 122)
REASON_COLUMN, VERSION_COLUMN, EXECUTION_COLUMN, LAST_STEP_COLUMN = 4, 5, 6, 8
# The version and execution are in the page's Scope too, so they give way first; the names,
# what an agent reads a row by, last.
_SHRINK_FIRST = (VERSION_COLUMN, EXECUTION_COLUMN, REASON_COLUMN, LAST_STEP_COLUMN, 2, 1)


class ContactsTable(QTableView):
    """Enter traces the current contact, like a double-click. Its columns fit its width (see
    :func:`fit_widths`) until the agent sizes one by hand; a cell whose text is cut shows it
    whole in its tooltip."""

    traceRequested = Signal(QModelIndex)  # noqa: N815

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._fitting = False
        self.user_sized = False
        self.horizontalHeader().sectionResized.connect(self._on_section_resized)

    def keyPressEvent(self, event) -> None:  # noqa: ANN001
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.traceRequested.emit(self.currentIndex())
            return
        super().keyPressEvent(event)

    def fit_columns(self) -> None:
        if self.user_sized or self.model() is None:
            return
        hidden = [self.isColumnHidden(c) for c in range(len(_WIDTHS))]
        preferred = [0 if off else w for w, off in zip(_WIDTHS, hidden, strict=True)]
        least = [0 if off else w for w, off in zip(_LEAST_WIDTHS, hidden, strict=True)]
        widths = fit_widths(
            preferred,
            least,
            self.viewport().width(),
            shrink_first=_SHRINK_FIRST,
            grow=REASON_COLUMN,
        )
        self._fitting = True
        try:
            for column, width in enumerate(widths):
                if not hidden[column]:
                    self.setColumnWidth(column, width)
        finally:
            self._fitting = False

    def _on_section_resized(self, column: int, old: int, new: int) -> None:
        # Hiding or showing a column (the Execution column of an inbound flow) is no sizing.
        if not self._fitting and old and new and not self.isColumnHidden(column):
            self.user_sized = True

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit_columns()

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            index = self.indexAt(event.pos())
            text = cut_text(self, index)
            if text:
                tip = index.data(Qt.ItemDataRole.ToolTipRole)
                if tip and text not in tip:
                    text = f"{text}\n{tip}"
                QToolTip.showText(event.globalPos(), text, self.viewport(), self.visualRect(index))
                return True
        return super().viewportEvent(event)


def cut_text(view: QTableView, index: QModelIndex) -> str | None:
    """The cell's text when the column is too narrow to show it whole, else None."""
    if not index.isValid():
        return None
    text = index.data(Qt.ItemDataRole.DisplayRole)
    if not text:
        return None
    room = view.visualRect(index).width() - 8  # the item's text margins
    if index.data(Qt.ItemDataRole.DecorationRole) is not None:
        room -= view.iconSize().width() if view.iconSize().isValid() else 16
        room -= 4
    metrics = QFontMetrics(index.data(Qt.ItemDataRole.FontRole) or view.font())
    return text if metrics.horizontalAdvance(text) > room else None


class ContactsTab(QWidget):
    traceRequested = Signal(object)  # ContactRow  # noqa: N815
    scopeRequested = Signal(object)  # Scope  # noqa: N815
    metricChanged = Signal(object)  # str | None  # noqa: N815

    def __init__(self, tasks, parent: QWidget | None = None) -> None:  # noqa: ANN001
        super().__init__(parent)
        self.model = ContactsModel(tasks, self)
        self._keep: tuple | None = None  # what a refresh keeps on screen (see refresh)
        self._flow_id: str | None = None
        self._scope: Scope | None = None
        self._executions: dict[str, ExecutionInfo] = {}
        self._updating = False
        self._step: StepFilter | None = None
        self._step_words = ""
        # the runs a step filter can see while paths are still being synced (None: all of them)
        self._coverage: PathCoverage | None = None

        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search phone or name…  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search contacts by phone or name")
        self.search.setMinimumWidth(180)  # gives way first, so the filters stay readable

        self.status = QComboBox(self)
        self.status.setAccessibleName("Filter by status")
        self.status.addItem("All statuses", None)
        for metric in METRICS:
            self.status.addItem(status_dot(metric.value), METRIC_LABELS[metric], metric.value)

        self.version = QComboBox(self)
        self.version.setAccessibleName("Filter by version")
        self.version.setToolTip("Filter by version (re-scopes the summary above too)")
        self.version.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.version.setMaximumWidth(220)
        self.execution = QComboBox(self)
        self.execution.setAccessibleName("Filter by execution")
        self.execution.setToolTip("Filter by execution (re-scopes the summary above too)")
        self.execution.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.execution.setMaximumWidth(220)
        for combo, everything in (
            (self.version, "All versions"),
            (self.execution, "All executions"),
        ):
            # Never narrower than "All …": squeezed, a filter must still say what it filters.
            combo.setMinimumWidth(combo.fontMetrics().horizontalAdvance(everything) + 44)
        self.hide_test = QCheckBox("Hide test contacts (table)", self)
        self.hide_test.setAccessibleName("Hide test contacts in this table")
        self.hide_test.setToolTip(
            "Hides test contacts from this table, its count and its downloads. The cards above"
            " count every contact, as ActiveCampaign's report does."
        )
        # "Who went through": set from the Flow Viewer; click to drop it.
        self.step_chip = QToolButton(self)
        self.step_chip.setAccessibleName("Step filter")
        self.step_chip.setToolTip(
            "Contacts who went through a step of the Flow Viewer: click to show everyone again"
        )
        self.step_chip.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.step_chip.setMinimumWidth(80)  # long step names must not widen the window
        self.step_chip.hide()

        self.count_label = QLabel("", self)
        self.count_label.setAccessibleName("Contacts count")
        self.count_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        # The filters wrap onto a second line in a narrow window rather than widening it.
        bar = ReflowLayout()
        bar.addWidget(self.search)
        bar.addWidget(self.status)
        bar.addWidget(self.version)
        bar.addWidget(self.execution)
        bar.addWidget(self.hide_test)
        bar.addWidget(self.step_chip)
        bar.addWidget(self.count_label)
        self.toolbar = bar

        self.table = ContactsTable(self)
        self.table.setModel(self.model)
        self.table.setAccessibleName("Contacts")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setSortingEnabled(True)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 10)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        header.setHighlightSections(False)
        header.setMinimumSectionSize(48)
        self.table.fit_columns()
        header.setSortIndicator(7, Qt.SortOrder.DescendingOrder)
        self.table.setToolTip("Double-click a contact, or press Enter, to trace their path")

        self.empty = EmptyState("No contacts", "", self)
        self._stack = QStackedLayout()
        self._stack.addWidget(self.table)
        self._stack.addWidget(self.empty)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addLayout(bar)
        layout.addLayout(self._stack, 1)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SEARCH_DEBOUNCE_MS)
        self._debounce.timeout.connect(self.reload)
        self.search.textChanged.connect(self._debounce.start)
        self.status.activated.connect(self._on_status)
        self.hide_test.toggled.connect(self.reload)
        self.step_chip.clicked.connect(lambda: self.set_step_filter(None))
        self.version.activated.connect(self._on_version)
        self.execution.activated.connect(self._on_execution)
        self.table.doubleClicked.connect(self._on_trace)
        self.table.traceRequested.connect(self._on_trace)
        self.model.countChanged.connect(self._on_count)
        self.model.loadingChanged.connect(self._on_loading)
        self.model.queryFailed.connect(self._on_failed)
        self.model.queryLoaded.connect(self._after_load)

    # -- context ---------------------------------------------------------------------------------

    def set_flow(
        self,
        flow_id: str,
        direction: str,
        versions: list[VersionInfo],
        executions: list[ExecutionInfo],
    ) -> None:
        """A new flow: reset filters, fill the version/execution choices."""
        self._updating = True
        self._flow_id = flow_id
        self._executions = {e.id: e for e in executions}
        labels = execution_labels(executions)
        self.model.execution_labels = labels
        self.version.clear()
        self.version.addItem("All versions", None)
        for version in reversed(versions):
            current = " (current)" if version.is_current else ""
            self.version.addItem(f"{version_label(version)}{current}", version.id)
        self.execution.clear()
        self.execution.addItem("All executions", None)
        for execution in executions:
            self.execution.addItem(labels[execution.id], execution.id)
        outbound = direction == Direction.OUTBOUND or bool(executions)
        self.execution.setVisible(outbound)
        self.table.setColumnHidden(EXECUTION_COLUMN, not outbound)
        self.table.fit_columns()
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self._debounce.stop()
        self.status.setCurrentIndex(0)
        self._step = None
        self.step_chip.hide()
        self._updating = False

    def set_scope(self, scope: Scope, metric: str | None = None, reload: bool = True) -> None:
        self._updating = True
        self._scope = scope
        self._load_coverage()
        self._select_data(self.version, scope.version_id)
        self._select_data(self.execution, scope.execution_id)
        self._select_data(self.status, metric)
        self._updating = False
        if reload:
            self.reload()

    def set_step_filter(
        self, step: StepFilter | None, words: str = "", metric: str | None = None
    ) -> None:
        """Show only the runs that went through a step ("reached …", "ended at …", "went from
        … to …"), combined with the other filters; None shows everyone again."""
        self._step = step
        self._step_words = words
        self._coverage = None
        self._show_step_chip()
        self.step_chip.setVisible(step is not None)
        if metric is not None:
            self._select_data(self.status, metric)
        self._load_coverage()
        self.reload()

    def _load_coverage(self) -> None:
        """While paths are still being synced, a step filter can only match the runs whose path
        is read: find out how many, so the chip and the count say so."""
        if self._step is None or self._scope is None:
            return
        scope = self._scope
        self.model.tasks.query(
            path_coverage,
            scope.flow_id,
            scope.version_id,
            scope.execution_id,
            success=self._on_coverage,
            key=(self, "step coverage"),
        )

    def _on_coverage(self, coverage: PathCoverage) -> None:
        self._coverage = coverage if coverage.partial else None
        self._show_step_chip()
        if self.model.query() is not None and not self.model.is_loading():
            self._on_count(self.model.count())

    def _path_basis(self) -> str:
        """``from 12,400 of 98,000 runs`` while a step filter sees only part of the runs."""
        if self._step is None or self._coverage is None:
            return ""
        return formatting.path_basis(self._coverage.with_path, self._coverage.runs)

    def _show_step_chip(self) -> None:
        if self._step is None:
            self.step_chip.setText("")
        else:
            basis = self._path_basis()
            self.step_chip.setText(
                f"Contacts who {self._step_words}" + (f" ({basis})" if basis else "") + "  ✕"
            )
            self.step_chip.setToolTip(
                "Contacts who went through a step of the Flow Viewer: click to show everyone"
                " again"
                + (
                    f". Only runs whose path is synced can be matched to a step ({basis}); the"
                    " other paths are still being synced."
                    if basis
                    else ""
                )
            )
        self.toolbar.invalidate()  # the chip's width leaves the tab's size hint with it

    def step_filter(self) -> StepFilter | None:
        return self._step

    def set_metric(self, metric: str | None) -> None:
        self._select_data(self.status, metric)
        self.reload()

    def metric(self) -> str | None:
        return self.status.currentData()

    @staticmethod
    def _select_data(combo: QComboBox, value) -> None:  # noqa: ANN001
        index = combo.findData(value)
        combo.setCurrentIndex(max(index, 0))

    def current_query(self) -> ContactQuery | None:
        if self._scope is None:
            return None
        sort_column = self.table.horizontalHeader().sortIndicatorSection()
        order = self.table.horizontalHeader().sortIndicatorOrder()
        sort = COLUMNS[sort_column][1] if 0 <= sort_column < len(COLUMNS) else "entered"
        return ContactQuery(
            scope=self._scope,
            metric=self.status.currentData(),
            search=self.search.text().strip(),
            sort=sort,
            descending=order == Qt.SortOrder.DescendingOrder,
            hide_test=self.hide_test.isChecked(),
            step=self._step,
        )

    @Slot()
    def reload(self) -> None:
        self._debounce.stop()
        query = self.current_query()
        if query is not None and query != self.model.query():
            self.model.set_query(query)

    def search_now(self) -> None:
        """Run a pending debounced search immediately (tests, Enter in the search box)."""
        self.reload()

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    # -- reactions -------------------------------------------------------------------------------

    def _on_status(self, _index: int) -> None:
        if not self._updating:
            self.metricChanged.emit(self.status.currentData())
            self.reload()

    def _on_version(self, _index: int) -> None:
        if self._updating or self._flow_id is None:
            return
        version_id = self.version.currentData()
        execution_id = self.execution.currentData()
        execution = self._executions.get(execution_id) if execution_id else None
        if execution is not None and execution.version_id != version_id:
            execution_id = None
        self.scopeRequested.emit(Scope(self._flow_id, version_id, execution_id))

    def _on_execution(self, _index: int) -> None:
        if self._updating or self._flow_id is None:
            return
        execution_id = self.execution.currentData()
        execution = self._executions.get(execution_id) if execution_id else None
        version_id = execution.version_id if execution else self.version.currentData()
        self.scopeRequested.emit(Scope(self._flow_id, version_id, execution_id))

    def _on_trace(self, index: QModelIndex) -> None:
        row: ContactRow | None = self.model.data(index, ROW_ROLE) if index.isValid() else None
        if row is not None:
            self.traceRequested.emit(row)

    def _on_count(self, count: int) -> None:
        query = self.model.query()
        filtered = bool(query and (query.search or query.metric or query.hide_test or query.step))
        noun = "contact" if count == 1 else "contacts"
        if not self.model.count_is_exact():
            self.count_label.setText(f"{formatting.count(count)}+ {noun} match · counting…")
        else:
            basis = self._path_basis()
            self.count_label.setText(
                f"{formatting.count(count)} {noun}"
                + (" match" if filtered else "")
                + (f" · {basis}" if basis else "")
            )
        if count == 0:
            if query is not None and query.search:
                self.empty.set_text(
                    "No contacts match your search",
                    f"This scope has contacts, but none matches “{query.search}”. Phone numbers"
                    " match from the start (country code included); names match first or last"
                    " name from the start. To find someone in every flow, use Find a customer"
                    " (Ctrl+K).",
                )
            elif query is not None and query.metric:
                self.empty.set_text(
                    f"No {METRIC_LABELS.get(query.metric, query.metric).lower()} contacts",
                    "No contact in this scope has this status. Pick “All statuses” to see "
                    "everyone.",
                )
            else:
                self.empty.set_text(
                    "No contacts yet",
                    "Nobody has entered this flow in the selected scope. Run “Sync now” (F5) "
                    "to fetch the latest contacts.",
                )
            self._stack.setCurrentWidget(self.empty)
        else:
            self._stack.setCurrentWidget(self.table)

    def _on_loading(self, loading: bool) -> None:
        if loading:
            query = self.current_query()
            self.count_label.setText("Searching…" if query and query.search else "Loading…")

    def _on_failed(self, message: str) -> None:
        self.count_label.setText(message)

    def refresh(self) -> None:
        """After a sync. New contacts enter above the rows on screen (the table is sorted by
        entry, newest first), so the same row numbers would now be other people: once the
        refreshed count is in, the contact that was selected is selected again and the rows
        that were in view are in view again."""
        query = self.model.query()
        index = self.table.currentIndex()
        selected = self.model.row_at(index.row(), fetch=False) if index.isValid() else None
        top_row = self.table.rowAt(0)
        top = self.model.row_at(top_row, fetch=False) if top_row >= 0 else None
        self._keep = (query, selected, top) if query and (selected or top) else None
        self._load_coverage()  # a sync reads paths: fewer runs are left out
        self.model.refresh()

    def _after_load(self) -> None:
        keep, self._keep = self._keep, None
        if keep is None or keep[0] != self.model.query():
            return  # nothing to keep, or the user moved on to another query
        query, selected, top = keep
        keys = [row.run_key for row in (selected, top) if row is not None]
        self.model.tasks.query(
            row_positions,
            query,
            keys,
            success=lambda positions: self._restore(query, selected, top, positions),
            key=(self, "keep rows"),
        )

    def _restore(self, query, selected, top, positions: dict[int, int]) -> None:  # noqa: ANN001
        if query != self.model.query():
            return
        count = self.model.rowCount()
        if selected is not None:
            row = positions.get(selected.run_key)
            if row is None or row >= count:
                self.table.clearSelection()  # the contact left this query (its status changed)
            else:
                self.table.selectionModel().setCurrentIndex(
                    self.model.index(row, 0),
                    QItemSelectionModel.SelectionFlag.ClearAndSelect
                    | QItemSelectionModel.SelectionFlag.Rows,
                )
        if top is not None and positions.get(top.run_key, count) < count:
            self.table.scrollTo(
                self.model.index(positions[top.run_key], 0),
                QAbstractItemView.ScrollHint.PositionAtTop,
            )
