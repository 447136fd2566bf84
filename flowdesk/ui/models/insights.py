"""Tables of the "Where runs stop" panel: steps that lose most, why, and how long per step.

One small read-only model over a list of plain rows, with its columns declared as data, so the
three tables share one implementation (and one model test).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from flowdesk.core import formatting
from flowdesk.core.model import METRIC_LABELS
from flowdesk.core.step_report import StepOutcome
from flowdesk.ui.theme import status_dot
from flowdesk.ui.viewer.stops import time_text

ROW_ROLE = Qt.ItemDataRole.UserRole + 1
_Index = QModelIndex | QPersistentModelIndex
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


@dataclass(frozen=True, slots=True)
class Column:
    title: str
    text: Callable[[Any], str]
    numeric: bool = False
    tip: str = ""
    icon: Callable[[Any], Any] | None = None


class RowsModel(QAbstractTableModel):
    """Rows of any dataclass, shown through ``Column`` declarations; ``ROW_ROLE`` gives a row."""

    def __init__(self, columns: Sequence[Column], parent=None) -> None:  # noqa: ANN001
        super().__init__(parent)
        self.columns = list(columns)
        self._rows: list[Any] = []

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rows(self) -> list[Any]:
        return list(self._rows)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        column = self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.title
        if role == Qt.ItemDataRole.ToolTipRole and column.tip:
            return column.tip
        if role == Qt.ItemDataRole.TextAlignmentRole and column.numeric:
            return int(_RIGHT)
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        if not 0 <= index.column() < len(self.columns):
            return None
        row, column = self._rows[index.row()], self.columns[index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return column.text(row)
        if role == Qt.ItemDataRole.TextAlignmentRole and column.numeric:
            return int(_RIGHT)
        if role == Qt.ItemDataRole.DecorationRole and column.icon is not None:
            return column.icon(row)
        if role == ROW_ROLE:
            return row
        return None


def lost_breakdown(step: StepOutcome) -> str:
    return " · ".join(
        f"{formatting.count(step.ended.get(m, 0))} {m}"
        for m in ("expired", "canceled", "failed")
        if step.ended.get(m, 0)
    )


LOSS_COLUMNS = (
    Column("Step", lambda s: s.name or s.id),
    Column("Lost", lambda s: formatting.count(s.lost), True, "Expired + canceled + failed here"),
    Column("How", lost_breakdown, tip="Expired, canceled and failed here"),
    Column(
        "% of arrivals",
        lambda s: formatting.share(s.lost_share),
        True,
        "Lost here ÷ contacts who reached the step",
    ),
    Column(
        "Waiting", lambda s: formatting.count(s.waiting), True, "Ongoing runs whose last step it is"
    ),
    Column(
        "Overdue",
        lambda s: formatting.count(s.overdue) if s.wait_seconds else "—",
        True,
        "Waiting longer than the step's wait time and still not expired upstream",
    ),
)

REASON_COLUMNS = (
    Column("Step", lambda r: r.step_name),
    Column(
        "Outcome",
        lambda r: str(METRIC_LABELS.get(r.metric, r.metric)),
        icon=lambda r: status_dot(r.metric),
    ),
    Column("Reason", lambda r: r.reason),
    Column("Contacts", lambda r: formatting.count(r.runs), True),
)


@dataclass(frozen=True, slots=True)
class TimeRow:
    """One line of the "How long" table: a step, or the whole flow (``step`` None)."""

    label: str
    passes: int
    p50: float | None
    p90: float | None
    step: StepOutcome | None = None


def time_rows(outcomes: Sequence[StepOutcome], completion: TimeRow | None) -> list[TimeRow]:
    rows = [completion] if completion is not None else []
    rows += [
        TimeRow(s.name or s.id, s.timed, s.time_p50, s.time_p90, s) for s in outcomes if s.timed
    ]
    return rows


TIME_COLUMNS = (
    Column("Step", lambda t: t.label),
    Column(
        "Passes",
        lambda t: formatting.count(t.passes),
        True,
        "Passes with a time (replies only, for steps that wait for one)",
    ),
    Column("Median", lambda t: time_text(t.p50), True, "Approximate to ±19% (time buckets)"),
    Column("90th pct.", lambda t: time_text(t.p90), True, "Approximate to ±19% (time buckets)"),
)
