"""The read-only record tables of the side panels and history tabs, set up one way."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget


def record_table(
    model: QAbstractItemModel,
    name: str,
    parent: QWidget,
    *,
    sortable: bool = False,
    columns: QHeaderView.ResizeMode = QHeaderView.ResizeMode.Interactive,
) -> QTableView:
    """A table of records: one whole row selected at a time, nothing editable, rows one line
    high (a long text elides; its tooltip holds it whole), ``name`` for screen readers."""
    table = QTableView(parent)
    table.setModel(model)
    table.setAccessibleName(name)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.setSortingEnabled(sortable)
    table.setWordWrap(False)
    table.setMouseTracking(True)
    rows = table.verticalHeader()
    rows.hide()
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    rows.setDefaultSectionSize(table.fontMetrics().height() + 10)
    header = table.horizontalHeader()
    header.setHighlightSections(False)
    header.setStretchLastSection(False)
    header.setSectionResizeMode(columns)
    return table
