"""Compare tab: two versions of the flow side by side.

Pick two versions (current vs previous by default). The page says in plain words whether the
newer one does better and how sure that is, with both versions' rates and their difference
(95 % intervals) on cards, a caveat while runs are still in the flow, and the option to count
only runs old enough to have finished. Below: what changed in the steps, drawn on one graph
with a list beside it, and where in the flow the numbers moved.

The comparison reads maintained counters plus, with the old-enough option, the runs that
entered recently; it runs on the query pool, and the latest request wins.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QSplitter,
    QStackedLayout,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from flowdesk.core import formatting
from flowdesk.core.compare import Comparison, Side, compare_versions, default_pair
from flowdesk.core.compare.graph import DiffGraph, diff_graph
from flowdesk.core.compare.verdict import interval_words
from flowdesk.core.queries import VersionInfo, version_graph
from flowdesk.ui.errors import error_text
from flowdesk.ui.models.compare import StepChangesModel, StepShiftsModel
from flowdesk.ui.models.history import version_label
from flowdesk.ui.theme import diff_color, muted_text, status_color
from flowdesk.ui.widgets.compare_graph import DiffView
from flowdesk.ui.widgets.empty_state import EmptyState


@dataclass(frozen=True, slots=True)
class Loaded:
    comparison: Comparison
    graph: DiffGraph


def load_comparison(db, flow_id: str, a: str, b: str, finished_only: bool) -> Loaded:  # noqa: ANN001
    """Runs on a query thread: the comparison and the merged graph of both versions."""
    comparison = compare_versions(db, flow_id, a, b, finished_only=finished_only)
    graph = diff_graph(version_graph(db, a), version_graph(db, b), comparison.diff)
    return Loaded(comparison, graph)


def rate_line(rate: float | None, part: int, whole: int, interval) -> str:  # noqa: ANN001
    """ "62.0% · 310 of 500 · 95 %: 57.7–66.2%"."""
    text = f"{formatting.share(rate)} · {formatting.count(part)} of {formatting.count(whole)}"
    if interval is not None:
        text += f" · 95 %: {formatting.share(interval.low)}–{formatting.share(interval.high)}"
    return text


def _card(name: str) -> tuple[QFrame, QLabel]:
    frame = QFrame()
    frame.setObjectName(name)
    frame.setFrameShape(QFrame.Shape.StyledPanel)
    frame.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    label = QLabel(frame)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(12, 8, 12, 8)
    layout.addWidget(label)
    return frame, label


def _table(model, name: str, parent: QWidget) -> QTableView:  # noqa: ANN001
    table = QTableView(parent)
    table.setModel(model)
    table.setAccessibleName(name)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.verticalHeader().hide()
    table.horizontalHeader().setHighlightSections(False)
    return table


class CompareTab(QWidget):
    def __init__(self, tasks, parent: QWidget | None = None) -> None:  # noqa: ANN001
        super().__init__(parent)
        self.tasks = tasks
        self.flow_id: str | None = None
        self.versions: list[VersionInfo] = []
        self.loaded: Loaded | None = None
        self._dirty = False

        self.combo_a = QComboBox(self)
        self.combo_a.setAccessibleName("Older version")
        self.combo_b = QComboBox(self)
        self.combo_b.setAccessibleName("Newer version")
        for combo in (self.combo_a, self.combo_b):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.activated.connect(self.reload)
        self.finished_only = QCheckBox("Only runs old enough to have finished", self)
        self.finished_only.setAccessibleName("Only runs old enough to have finished")
        self.finished_only.toggled.connect(self.reload)
        picker = QHBoxLayout()
        picker.setContentsMargins(0, 0, 0, 0)
        compare_label = QLabel("Compare")
        compare_label.setBuddy(self.combo_b)
        picker.addWidget(compare_label)
        picker.addWidget(self.combo_b)
        picker.addWidget(QLabel("with"))
        picker.addWidget(self.combo_a)
        picker.addStretch(1)

        self.verdict = QLabel(" ")
        self.verdict.setAccessibleName("Verdict")
        self.verdict.setWordWrap(True)
        font = self.verdict.font()
        font.setPointSizeF(max(font.pointSizeF(), 9.0) * 1.15)
        font.setBold(True)
        self.verdict.setFont(font)
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.caveat = QLabel("")
        self.caveat.setAccessibleName("Caveat")
        self.caveat.setWordWrap(True)
        self.caveat.setTextFormat(Qt.TextFormat.RichText)

        self.card_b_frame, self.card_b = _card("compareCardB")
        self.card_diff_frame, self.card_diff = _card("compareCardDifference")
        self.card_a_frame, self.card_a = _card("compareCardA")
        self.card_b.setAccessibleName("Newer version's numbers")
        self.card_diff.setAccessibleName("Difference")
        self.card_a.setAccessibleName("Older version's numbers")
        cards = QHBoxLayout()
        cards.setContentsMargins(0, 0, 0, 0)
        cards.addWidget(self.card_b_frame, 1)
        cards.addWidget(self.card_diff_frame, 1)
        cards.addWidget(self.card_a_frame, 1)

        # what changed: the graph and the list beside it
        self.diff_view = DiffView(self)
        self.changes_model = StepChangesModel(self)
        self.changes_table = _table(self.changes_model, "Step changes", self)
        self.changes_table.horizontalHeader().setSectionResizeMode(
            2, QHeaderView.ResizeMode.Stretch
        )
        self.changes_table.setColumnWidth(0, 80)
        self.changes_table.setColumnWidth(1, 170)
        self.changes_table.setWordWrap(True)
        self.changes_table.clicked.connect(self._show_change)
        self.changes_table.activated.connect(self._show_change)
        self.transitions_label = QLabel("")
        self.transitions_label.setWordWrap(True)
        self.transitions_label.setAccessibleName("Transitions added and removed")
        side = QWidget(self)
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.changes_table, 1)
        side_layout.addWidget(self.transitions_label)
        self.what_splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.what_splitter.addWidget(self.diff_view)
        self.what_splitter.addWidget(side)
        self.what_splitter.setStretchFactor(0, 3)
        self.what_splitter.setStretchFactor(1, 2)
        self.what_splitter.setChildrenCollapsible(False)

        # where it changed
        self.shifts_model = StepShiftsModel(self)
        self.shifts_table = _table(self.shifts_model, "Where it changed", self)
        self.only_model = StepShiftsModel(self)
        self.only_table = _table(self.only_model, "Steps in one version only", self)
        for table in (self.shifts_table, self.only_table):
            table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        where = QWidget(self)
        where_layout = QVBoxLayout(where)
        where_layout.setContentsMargins(0, 6, 0, 0)
        both = QLabel(
            "Steps in both versions: the share of each version's contacts who reached the step"
            " and who were lost there (expired, failed or canceled), biggest change first."
        )
        both.setWordWrap(True)
        where_layout.addWidget(both)
        where_layout.addWidget(self.shifts_table, 3)
        where_layout.addWidget(QLabel("Steps in one version only:"))
        where_layout.addWidget(self.only_table, 1)

        self.sections = QTabWidget(self)
        self.sections.setAccessibleName("Comparison sections")
        self.sections.setDocumentMode(True)
        self.sections.addTab(self.what_splitter, "What changed")
        self.sections.addTab(where, "Where it changed")

        content = QWidget(self)
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(0, 6, 0, 0)
        content_layout.setSpacing(6)
        content_layout.addLayout(picker)
        content_layout.addWidget(self.verdict)
        caveat_row = QHBoxLayout()
        caveat_row.setContentsMargins(0, 0, 0, 0)
        caveat_row.addWidget(self.caveat, 1)
        caveat_row.addWidget(self.finished_only, 0, Qt.AlignmentFlag.AlignTop)
        content_layout.addLayout(caveat_row)
        content_layout.addLayout(cards)
        content_layout.addWidget(self.sections, 1)

        self.empty = EmptyState(
            "Only one version",
            "Comparing needs two versions of this flow. When a new version is published and"
            " contacts enter it, pick the two here to see what changed and whether it did"
            " better.",
        )
        self._stack = QStackedLayout(self)
        self._stack.addWidget(content)
        self._stack.addWidget(self.empty)
        self._content = content

    # -- input -----------------------------------------------------------------------------------

    def set_flow(self, flow_id: str, versions: list[VersionInfo]) -> None:
        """A flow opened or re-synced: keep the chosen pair when it still exists."""
        keep = (self.combo_a.currentData(), self.combo_b.currentData())
        same_flow = flow_id == self.flow_id
        self.flow_id = flow_id
        self.versions = list(versions)
        newest_first = list(reversed(self.versions))
        for combo in (self.combo_a, self.combo_b):
            combo.blockSignals(True)
            combo.clear()
            for version in newest_first:
                suffix = "  ● current" if version.is_current else ""
                combo.addItem(version_label(version) + suffix, version.id)
            combo.blockSignals(False)
        pair = default_pair(self.versions)
        ids = {v.id for v in self.versions}
        if pair is not None and same_flow and keep[0] in ids and keep[1] in ids:
            pair = keep
        if pair is None:
            self.loaded = None
            self._stack.setCurrentWidget(self.empty)
            return
        self._stack.setCurrentWidget(self._content)
        self.combo_a.setCurrentIndex(self.combo_a.findData(pair[0]))
        self.combo_b.setCurrentIndex(self.combo_b.findData(pair[1]))
        if not same_flow:
            self.loaded = None
            self.finished_only.blockSignals(True)
            self.finished_only.setChecked(False)
            self.finished_only.blockSignals(False)
        self._dirty = True
        if self.isVisible():
            self.reload()

    def select(self, a_id: str, b_id: str) -> None:
        self.combo_a.setCurrentIndex(self.combo_a.findData(a_id))
        self.combo_b.setCurrentIndex(self.combo_b.findData(b_id))
        self.reload()

    def pair(self) -> tuple[str, str] | None:
        a, b = self.combo_a.currentData(), self.combo_b.currentData()
        return None if a is None or b is None else (a, b)

    def reload(self) -> None:
        pair = self.pair()
        if self.flow_id is None or pair is None:
            return
        self._dirty = False
        self.verdict.setText("Comparing…")
        self.tasks.query(  # the latest request wins; earlier answers are dropped
            load_comparison,
            self.flow_id,
            pair[0],
            pair[1],
            self.finished_only.isChecked(),
            success=self._show,
            failure=self._failed,
            key=(self, "comparison"),
        )

    def showEvent(self, event) -> None:  # noqa: ANN001
        super().showEvent(event)
        if self._dirty:
            self.reload()

    def _show_change(self, index) -> None:  # noqa: ANN001
        """A row of the list: its step on the graph (removed steps where they were)."""
        change = self.changes_model.record_at(index.row())
        if change is not None:
            self.diff_view.show_step(change.step.key)

    # -- output ----------------------------------------------------------------------------------

    def _failed(self, exc: BaseException) -> None:
        self.verdict.setText(error_text(exc, "Comparing these versions"))

    def _show(self, loaded: Loaded) -> None:
        self.loaded = loaded
        c = loaded.comparison
        a, b = c.a.label, c.b.label
        self.verdict.setText(c.verdict)
        warn = status_color("expired", self.palette()).name()
        caveat = c.caveat
        if caveat and not c.finished_only:
            caveat += " Tick “Only runs old enough to have finished” to compare like with like."
        self.caveat.setText(
            f"<span style='color:{warn}'>⚠ {html.escape(caveat)}</span>" if caveat else ""
        )
        self.finished_only.setText(
            f"Only runs old enough to have finished (> {formatting.duration(c.longest_wait)})"
        )
        self.finished_only.setToolTip(
            f"Counts only runs that entered more than {formatting.duration(c.longest_wait)} (the"
            " longest wait or delay of either version) before the latest activity synced, so"
            " runs still waiting do not drag a new version down."
        )
        self.card_b.setText(self.side_html(c.b, "Newer"))
        self.card_a.setText(self.side_html(c.a, "Older"))
        self.card_diff.setText(self.difference_html(c))
        self.changes_model.set_changes(list(c.diff.steps), a, b)
        self.changes_table.resizeRowsToContents()
        added = [t for t in c.diff.transitions if t.status == "added"]
        removed = [t for t in c.diff.transitions if t.status == "removed"]
        self.transitions_label.setText(
            f"Transitions: {len(added)} added, {len(removed)} removed (hover for the list)."
            if c.diff.transitions
            else ("No change to the steps." if c.diff.is_empty else "")
        )
        self.transitions_label.setToolTip(
            "<br>".join(
                html.escape(f"{'+' if t.status == 'added' else '−'} {t.source} → {t.target}")
                + (f" <i>({html.escape(t.label)})</i>" if t.label else "")
                for t in c.diff.transitions
            )
        )
        self.diff_view.set_diff(loaded.graph)
        self.shifts_model.set_shifts(list(c.shifts), a, b)
        self.only_model.set_shifts([*c.only_b, *c.only_a], a, b)

    def side_html(self, side: Side, role: str) -> str:
        c = side.counters
        current = " · current" if side.version.is_current else ""
        muted = muted_text(self.palette()).name()
        running = ""
        if c.ongoing:
            running = (
                f"<br><span style='color:{status_color('ongoing', self.palette()).name()}'>"
                f"{formatting.count(c.ongoing)} still in the flow"
                f" ({formatting.share(c.share('ongoing'))})"
                "</span>"
            )
        completion = rate_line(c.completion_rate, c.completed, c.contacts, side.completion)
        response = rate_line(c.response_rate, c.responded, c.waited, side.response)
        return (
            f"<span style='color:{muted}'>{role}{current}</span><br>"
            f"<b>{html.escape(side.label)}</b> · {formatting.count(c.contacts)} contacts<br>"
            f"Completion <b>{completion}</b><br>Response <b>{response}</b>{running}"
        )

    def difference_html(self, comparison: Comparison) -> str:
        muted = muted_text(self.palette()).name()

        def colored(interval) -> str:  # noqa: ANN001
            text = html.escape(interval_words(interval))
            if interval is None or not interval.excludes_zero():
                return text
            tone = "added" if interval.value > 0 else "removed"
            color = diff_color(tone, self.palette()).name()
            if interval.value < 0:
                color = status_color("failed", self.palette()).name()
            return f"<span style='color:{color}'>{text}</span>"

        return (
            f"<span style='color:{muted}'>Difference (newer − older)</span><br>"
            f"<b>{html.escape(comparison.b.label)}</b> vs {html.escape(comparison.a.label)}<br>"
            f"Completion <b>{colored(comparison.completion)}</b><br>"
            f"Response <b>{colored(comparison.response)}</b>"
        )
