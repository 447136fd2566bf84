"""Find a customer anywhere: results as you type, grouped by contact, and the customer page.

Support starts from a ticket with a phone number or a name. The search box (Ctrl+K) searches
every flow at once (:func:`flowdesk.core.customers.find_customers`, off the GUI thread); the
results list each matching contact with their runs under them. A contact opens their page: the
details and every run across flows, newest first; one click on a run traces it.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QModelIndex, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedLayout,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from flowdesk.core import formatting
from flowdesk.core.customers import Customer, CustomerRun, find_customers, get_customer
from flowdesk.core.model import METRIC_LABELS
from flowdesk.core.queries import list_executions
from flowdesk.ui.models.history import execution_labels
from flowdesk.ui.models.records import RECORD_ROLE, Column, RecordTableModel
from flowdesk.ui.reflow import fit_widths
from flowdesk.ui.tasks import TaskManager
from flowdesk.ui.theme import status_dot
from flowdesk.ui.widgets.empty_state import EmptyState
from flowdesk.ui.widgets.tables import record_table

SEARCH_DEBOUNCE_MS = 150
# What the pages show is the latest search or customer asked for: one key, the latest wins.
_KEY = ("customer search",)
RESULTS = 20  # contacts shown while typing: refine the text to narrow them


@dataclass(frozen=True, slots=True)
class Found:
    """A search's answer with what the views need to show it (read off the GUI thread)."""

    text: str
    customers: list[Customer]
    executions: dict[str, str]  # execution id → "#n · start" of its flow


def _execution_names(db, customers: list[Customer]) -> dict[str, str]:  # noqa: ANN001
    """Executions named as the rest of the app names them ("#60 · 2026-11-03 10:00")."""
    flows = {run.flow_id for c in customers for run in c.runs if run.execution_id}
    names: dict[str, str] = {}
    for flow_id in sorted(flows):
        names.update(execution_labels(list_executions(db, flow_id)))
    return names


def search_customers(db, text: str) -> Found:  # noqa: ANN001
    customers = find_customers(db, text, RESULTS)
    return Found(text, customers, _execution_names(db, customers))


def load_customer(db, contact_id: str) -> Found | None:  # noqa: ANN001
    customer = get_customer(db, contact_id)
    if customer is None:
        return None
    return Found("", [customer], _execution_names(db, [customer]))


def status_text(run: CustomerRun) -> str:
    return METRIC_LABELS.get(run.metric, run.status.title())


def flows_summary(customer: Customer) -> str:
    flows = len({run.flow_id for run in customer.runs})
    runs = len(customer.runs)
    return (
        f"{runs} run{'s' if runs != 1 else ''} in {flows} flow{'s' if flows != 1 else ''}"
        f" · last active {formatting.ago(customer.last_activity)}"
    )


# -- the search box ------------------------------------------------------------------------------


class CustomerSearchBox(QLineEdit):
    """Down moves into the results; Escape gives the page back."""

    downPressed = Signal()  # noqa: N815
    escapePressed = Signal()  # noqa: N815

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPlaceholderText("Find a customer: phone, name, e-mail  (Ctrl+K)")
        self.setClearButtonEnabled(True)
        self.setAccessibleName("Find a customer in every flow")
        self.setToolTip(
            "Searches every flow: a phone number written any way (+52 1 55…, 055…, the last"
            " digits), a name (accents, case and word order do not matter) or an e-mail."
        )
        self.setMinimumWidth(200)

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(max(hint.width(), 320), hint.height())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Down:
            self.downPressed.emit()
            return
        if event.key() == Qt.Key.Key_Escape:
            self.escapePressed.emit()
            return
        super().keyPressEvent(event)


# -- results -------------------------------------------------------------------------------------

CONTACT_ROLE = Qt.ItemDataRole.UserRole + 2
RUN_ROLE = Qt.ItemDataRole.UserRole + 3


class ResultsModel(QStandardItemModel):
    """Contacts as top-level rows, their runs under them: two columns, what and details."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 2, parent)
        self.setHorizontalHeaderLabels(["Contact / run", "Details"])

    def set_results(self, found: Found) -> None:
        self.removeRows(0, self.rowCount())
        for customer in found.customers:
            who = QStandardItem(customer.name or customer.phone or customer.contact_id)
            who.setData(customer, CONTACT_ROLE)
            who.setToolTip("Open this customer's page (Enter)")
            font = who.font()
            font.setBold(True)
            who.setFont(font)
            parts = [customer.phone, customer.email, flows_summary(customer)]
            details = QStandardItem(" · ".join(p for p in parts if p))
            details.setData(customer, CONTACT_ROLE)
            for run in customer.runs:
                what = QStandardItem(f"{run.flow} · {run.version}")
                what.setData(run, RUN_ROLE)
                what.setIcon(status_dot(run.metric))
                what.setToolTip("Trace this run's path (Enter)")
                execution = found.executions.get(run.execution_id or "", run.execution_id)
                bits = [status_text(run), f"entered {formatting.timestamp(run.entered_at)}"]
                if execution:
                    bits.append(f"execution {execution}")
                if run.reason:
                    bits.append(run.reason)
                info = QStandardItem(" · ".join(bits))
                info.setData(run, RUN_ROLE)
                who.appendRow([what, info])
            for item in (who, details):
                item.setEditable(False)
            self.appendRow([who, details])
        for row in range(self.rowCount()):
            parent = self.item(row, 0)
            for child in range(parent.rowCount()):
                for column in range(2):
                    parent.child(child, column).setEditable(False)


class ResultsView(QTreeView):
    """Enter on a contact opens their page; on a run, traces it."""

    chosen = Signal(QModelIndex)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self.chosen.emit(self.currentIndex())
            return
        super().keyPressEvent(event)


class SearchResultsPage(QWidget):
    customerChosen = Signal(str)  # contact id  # noqa: N815
    runChosen = Signal(object)  # CustomerRun  # noqa: N815

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heading = QLabel("")
        self.heading.setAccessibleName("Search results")
        self.heading.setWordWrap(True)
        self.model = ResultsModel(self)
        self.view = ResultsView(self)
        self.view.setModel(self.model)
        self.view.setAccessibleName("Customers found, with their runs")
        self.view.setUniformRowHeights(True)
        self.view.setAlternatingRowColors(True)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.view.header().setStretchLastSection(True)
        self.view.setColumnWidth(0, 300)
        self.empty = EmptyState(
            "No customer found",
            "Nothing in any flow matches this text. Try the last digits of the phone number, "
            "part of a name, or the e-mail address.",
            self,
        )
        self.stack = QStackedLayout()
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.empty)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 6)
        layout.addWidget(self.heading)
        layout.addLayout(self.stack, 1)
        self.view.activated.connect(self._choose)
        self.view.doubleClicked.connect(self._choose)
        self.view.chosen.connect(self._choose)

    def show_results(self, found: Found) -> None:
        self.model.set_results(found)
        count = len(found.customers)
        if not count:
            self.heading.setText(f"No customer matches “{found.text}”.")
            self.stack.setCurrentWidget(self.empty)
            return
        more = " (the best matches: type more to narrow them)" if count >= RESULTS else ""
        self.heading.setText(
            f"{count} customer{'s' if count != 1 else ''} matching “{found.text}” across every"
            f" flow{more}. Enter opens a customer; on a run, traces it."
        )
        self.stack.setCurrentWidget(self.view)
        self.view.expandAll()
        self.view.setCurrentIndex(self.model.index(0, 0))

    def focus_results(self) -> None:
        self.view.setFocus(Qt.FocusReason.ShortcutFocusReason)
        if not self.view.currentIndex().isValid():
            self.view.setCurrentIndex(self.model.index(0, 0))

    def first_customer(self) -> Customer | None:
        item = self.model.item(0, 0)
        return item.data(CONTACT_ROLE) if item is not None else None

    def _choose(self, index: QModelIndex) -> None:
        run = index.data(RUN_ROLE)
        if run is not None:
            self.runChosen.emit(run)
            return
        customer = index.data(CONTACT_ROLE)
        if customer is not None:
            self.customerChosen.emit(customer.contact_id)


# -- the customer page ---------------------------------------------------------------------------


class CustomerRunsModel(RecordTableModel[CustomerRun]):
    """Every run of one customer; execution names come from :meth:`set_customer`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.executions: dict[str, str] = {}
        # What an agent reads first comes first, so a narrow window shows it without scrolling.
        self.columns = [
            Column(
                "Entered",
                lambda r: formatting.timestamp(r.entered_at),
                sort_key=lambda r: r.entered_at,
            ),
            Column(
                "Flow",
                lambda r: r.flow,
                lambda r: f"Trace this run in “{r.flow}” (click)",
                link=True,
            ),
            Column("Status", status_text, lambda r: f"Upstream status {r.status}"),
            Column("Reason", lambda r: r.reason, lambda r: r.reason or None),
            Column("Version", lambda r: r.version),
            Column(
                "Execution",
                lambda r: (
                    self.executions.get(r.execution_id, r.execution_id) if r.execution_id else "—"
                ),
            ),
            Column(
                "Last activity",
                lambda r: formatting.timestamp(r.last_activity),
                sort_key=lambda r: r.last_activity,
            ),
            Column("Last step", lambda r: r.last_step),
        ]

    def set_customer(self, customer: Customer, executions: dict[str, str]) -> None:
        self.executions = executions
        self.set_records(list(customer.runs))

    def data(self, index, role: int = Qt.ItemDataRole.DisplayRole):  # noqa: ANN001
        if role == Qt.ItemDataRole.DecorationRole and index.isValid() and index.column() == 2:
            run = self.record_at(index.row())
            return status_dot(run.metric) if run is not None else None
        return super().data(index, role)


# The runs table's column widths: preferred, and the least the long-text columns (flow, reason)
# take on a narrow window before a column goes out of view (their text elides, tooltips keep it).
RUN_WIDTHS = (124, 180, 0, 220, 150, 160, 124, 120)
RUN_MIN_WIDTHS = (124, 130, 0, 130, 150, 160, 124, 120)


class CustomerPage(QWidget):
    """A contact's details and every run of theirs across flows, newest first."""

    runChosen = Signal(object)  # CustomerRun  # noqa: N815
    backRequested = Signal()  # noqa: N815

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.customer: Customer | None = None
        self.back = QPushButton("← Results")
        self.back.setAccessibleName("Back to the search results")
        self.name = QLabel("")
        self.name.setAccessibleName("Customer name")
        font = self.name.font()
        font.setPointSizeF(max(font.pointSizeF(), 9.0) * 1.45)
        font.setBold(True)
        self.name.setFont(font)
        self.name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details = QLabel("")
        self.details.setAccessibleName("Customer details")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.model = CustomerRunsModel(self)
        self.table = record_table(self.model, "Runs of this customer in every flow", self)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        for column, width in enumerate(RUN_WIDTHS):
            self.table.setColumnWidth(column, width)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)  # status
        # Columns fit the width until the agent sizes one by hand.
        self._fitting = False
        self._user_sized = False
        header.sectionResized.connect(self._on_section_resized)
        self.table.viewport().installEventFilter(self)
        self.table.setToolTip("Click a run to trace its path")
        hint = QLabel("Newest first. Click a run to trace its path in its flow.")
        hint.setAccessibleName("How to trace a run")

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.name, 1)
        top.addWidget(self.back, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 6)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addWidget(self.details)
        layout.addWidget(hint)
        layout.addWidget(self.table, 1)
        self.table.clicked.connect(self._on_click)
        self.back.clicked.connect(self.backRequested)

    def set_customer(self, found: Found) -> None:
        customer = found.customers[0]
        self.customer = customer
        self.name.setText(customer.name or customer.phone or customer.contact_id)
        parts = [
            f"Phone {customer.phone}" if customer.phone else "No phone",
            f"e-mail {customer.email}" if customer.email else "no e-mail",
            f"contact {customer.contact_id}",
            flows_summary(customer),
        ]
        if any(run.is_test for run in customer.runs):
            parts.append("test contact")
        self.details.setText(" · ".join(parts))
        self.model.set_customer(customer, found.executions)
        self.fit_columns()  # the status column sized to its words
        if customer.runs:
            self.table.selectRow(0)

    def eventFilter(self, watched, event) -> bool:  # noqa: ANN001
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self.fit_columns()
        return super().eventFilter(watched, event)

    def fit_columns(self) -> None:
        """Narrow the flow and reason columns on a narrow window so the columns in view are
        whole (see :func:`fit_widths`)."""
        if self._user_sized:
            return
        header = self.table.horizontalHeader()
        status = header.sectionSize(2)
        preferred = [status if i == 2 else w for i, w in enumerate(RUN_WIDTHS)]
        least = [status if i == 2 else w for i, w in enumerate(RUN_MIN_WIDTHS)]
        widths = fit_widths(preferred, least, self.table.viewport().width())
        self._fitting = True
        try:
            for column, width in enumerate(widths[:-1]):  # the last one stretches
                if column != 2:
                    self.table.setColumnWidth(column, width)
        finally:
            self._fitting = False

    def _on_section_resized(self, column: int, _old: int, _new: int) -> None:
        if not self._fitting and column not in (2, len(RUN_WIDTHS) - 1):
            self._user_sized = True

    def _on_click(self, index: QModelIndex) -> None:
        run = index.siblingAtColumn(1).data(RECORD_ROLE)
        if run is not None:
            self.runChosen.emit(run)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            index = self.table.currentIndex()
            if index.isValid():
                self._on_click(index)
                return
        super().keyPressEvent(event)


class CustomerSearch(QWidget):
    """The two pages the search box leads to (results, then a customer), and the background
    queries behind them. The latest request wins: a slower earlier answer is dropped (one
    task key for both pages, so a late search cannot replace the customer opened since)."""

    runChosen = Signal(object)  # CustomerRun  # noqa: N815
    opened = Signal()  # a page of results or a customer is ready to show
    closed = Signal()

    def __init__(
        self, tasks: TaskManager, box: CustomerSearchBox, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.box = box
        self.results = SearchResultsPage(self)
        self.customer_page = CustomerPage(self)
        self.pages = QStackedLayout(self)
        self.pages.addWidget(self.results)
        self.pages.addWidget(self.customer_page)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DEBOUNCE_MS)
        self._timer.timeout.connect(self.search_now)
        self.box.textChanged.connect(self._on_text)
        self.box.returnPressed.connect(self._open_first)
        self.box.downPressed.connect(self.results.focus_results)
        self.box.escapePressed.connect(self.closed)
        self.results.customerChosen.connect(self.open_customer)
        self.results.runChosen.connect(self.runChosen)
        self.customer_page.runChosen.connect(self.runChosen)
        self.customer_page.backRequested.connect(self.show_results)

    def _on_text(self, _text: str) -> None:
        self._timer.start()

    def search_now(self) -> None:
        self._timer.stop()
        text = self.box.text().strip()
        if not text:
            self.tasks.drop(_KEY)  # a search still on its way must not reopen the results
            self.closed.emit()
            return
        self.tasks.query(search_customers, text, success=self._on_found, key=(*_KEY, "page"))

    def _on_found(self, found: Found) -> None:
        self.results.show_results(found)
        self.show_results()
        self.opened.emit()

    def show_results(self) -> None:
        self.pages.setCurrentWidget(self.results)

    def _open_first(self) -> None:
        if self._timer.isActive():
            self.search_now()  # Enter before the pause: search first, open when shown
            return
        customer = self.results.first_customer()
        if customer is not None:
            self.open_customer(customer.contact_id)

    def open_customer(self, contact_id: str) -> None:
        self.tasks.query(load_customer, contact_id, success=self._on_customer, key=(*_KEY, "page"))

    def _on_customer(self, found: Found | None) -> None:
        if found is None:
            return
        self.customer_page.set_customer(found)
        self.pages.setCurrentWidget(self.customer_page)
        self.opened.emit()
        self.customer_page.table.setFocus(Qt.FocusReason.OtherFocusReason)

    def reload(self) -> None:
        """After a sync: the customer on screen, or the results, read again."""
        if self.pages.currentWidget() is self.customer_page and self.customer_page.customer:
            self.open_customer(self.customer_page.customer.contact_id)
        elif self.box.text().strip():
            self.search_now()
