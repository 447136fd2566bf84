"""The flows list on the left: one row per flow with its direction and headline numbers."""

from __future__ import annotations

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from flowdesk.core import formatting
from flowdesk.core.model import Direction
from flowdesk.core.queries import FlowSummary

FLOW_ROLE = Qt.ItemDataRole.UserRole + 1
FLOW_ID_ROLE = Qt.ItemDataRole.UserRole + 2
SUBTITLE_ROLE = Qt.ItemDataRole.UserRole + 3

DIRECTION_LABELS = {
    Direction.INBOUND: "Inbound",
    Direction.OUTBOUND: "Outbound",
    Direction.OTHER: "Other trigger",
}
DIRECTION_MARKS = {
    Direction.INBOUND: "↓ In",
    Direction.OUTBOUND: "↑ Out",
    Direction.OTHER: "• Other",
}

_Index = QModelIndex | QPersistentModelIndex


def flow_subtitle(flow: FlowSummary) -> str:
    counters = flow.counters
    return (
        f"{formatting.counted(counters.contacts, 'contact')} · "
        f"{formatting.share(counters.completion_rate)} completed"
    )


def flow_subtitle_variants(flow: FlowSummary) -> list[tuple[str, str]]:
    """(direction mark, numbers) for the list's second line, longest first. A narrow list
    takes the first that fits: words go before figures, so "79.5%" is never cut (the tooltip
    keeps the whole sentence)."""
    counters = flow.counters
    mark = DIRECTION_MARKS.get(flow.direction, "•")
    arrow = mark.split(" ")[0]
    contacts = formatting.count(counters.contacts)
    completed = formatting.share(counters.completion_rate)
    return [
        (mark, f"· {flow_subtitle(flow)}"),
        (mark, f"· {contacts} · {completed} completed"),
        (arrow, f"{contacts} · {completed} completed"),
        (arrow, f"{contacts} · {completed}"),
    ]


class FlowListModel(QAbstractListModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._flows: list[FlowSummary] = []

    def set_flows(self, flows: list[FlowSummary]) -> None:
        self.beginResetModel()
        self._flows = list(flows)
        self.endResetModel()

    def flows(self) -> list[FlowSummary]:
        return list(self._flows)

    def flow_at(self, row: int) -> FlowSummary | None:
        return self._flows[row] if 0 <= row < len(self._flows) else None

    def row_of(self, flow_id: str) -> int:
        for row, flow in enumerate(self._flows):
            if flow.id == flow_id:
                return row
        return -1

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._flows)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._flows):
            return None
        flow = self._flows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return flow.name
        if role == SUBTITLE_ROLE:
            return flow_subtitle(flow)
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            direction = DIRECTION_LABELS.get(flow.direction, flow.direction)
            return f"{flow.name} — {direction} flow, {flow_subtitle(flow)}"
        if role == FLOW_ROLE:
            return flow
        if role == FLOW_ID_ROLE:
            return flow.id
        return None
