""" "What changed" drawn on one graph: the Flow Viewer's scene and items, styled by diff status.

Added steps are tinted green, changed steps amber, removed steps (and removed transitions) are
ghosted with a dashed outline, unchanged steps are plain; every card also says its status in
words, so colour is never the only cue. The scene reuses the viewer's layout and items and only
replaces its colour and text hooks.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from flowdesk.core.compare.graph import DiffGraph
from flowdesk.core.queries import FlowGraph, GraphStep
from flowdesk.ui.theme import diff_color
from flowdesk.ui.viewer import style
from flowdesk.ui.viewer.items import NodeColors
from flowdesk.ui.viewer.scene import FlowScene
from flowdesk.ui.viewer.view import FlowView
from flowdesk.ui.viewer.viewer import OVERVIEW_MIN_SCALE, READABLE_SCALE

GHOST_OPACITY = 0.42
STATUS_WORDS = {"added": "Added", "changed": "Changed", "removed": "Removed", "same": ""}


class DiffScene(FlowScene):
    """A FlowScene whose step colours and texts say added / changed / removed / same."""

    def __init__(self, parent=None) -> None:  # noqa: ANN001
        super().__init__(parent)
        self.diff: DiffGraph | None = None

    def build_diff(self, diff: DiffGraph, palette: QPalette, font: QFont) -> None:
        self.diff = diff
        self.build(diff.graph, palette, font)
        for key, node in self.nodes.items():
            if diff.status.get(key) == "removed":
                node.setOpacity(GHOST_OPACITY)
        for edge in self.edges:
            if (edge.source_key, edge.target_key) in diff.removed_edges:
                edge.setOpacity(GHOST_OPACITY)
                label = self.labels.get(edge.index)
                if label is not None:
                    label.setOpacity(GHOST_OPACITY)
        for trunk in self.trunks:  # a line only removed loops share is removed too
            ends = {
                (e.source_key, e.target_key) for e in (diff.graph.edges[i] for i in trunk.members)
            }
            if ends <= diff.removed_edges:
                trunk.setOpacity(GHOST_OPACITY)

    def status_of(self, key: int) -> str:
        return self.diff.status.get(key, "same") if self.diff is not None else "same"

    # -- the viewer's hooks ------------------------------------------------------------------------

    def _node_colors(self, step: GraphStep, palette: QPalette) -> NodeColors:
        status = self.status_of(step.key)
        base = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        accent = diff_color(status, palette)
        if status in ("added", "changed"):
            fill = style.mix(base, accent, 0.28)
            ink = style.text_on(fill) if style.contrast_ratio(text, fill) < 4.5 else text
            return NodeColors(fill, accent, ink, style.mix(ink, fill, 0.3), False)
        if status == "removed":
            quiet = style.quiet_color(palette)
            return NodeColors(base, accent, quiet, quiet, True)
        return NodeColors(
            base, style.quiet_color(palette), text, style.mix(text, base, 0.35), False
        )

    def _detail_text(self, step: GraphStep) -> str:
        word = STATUS_WORDS.get(self.status_of(step.key), "")
        detail = style.type_label(step.step_type)
        return f"{word} · {detail}" if word else detail

    @staticmethod
    def _failed_count(step: GraphStep) -> int:
        """No failure marks: this graph says what changed, and mixes two versions' counts."""
        return 0

    def _node_tooltip(self, graph: FlowGraph, step: GraphStep, share: float | None) -> str:
        text = super()._node_tooltip(graph, step, share)
        status = self.status_of(step.key)
        changes = self.diff.changes.get(step.key, ()) if self.diff is not None else ()
        rows = [f"<b>{STATUS_WORDS.get(status) or 'Unchanged'}</b>"]
        rows += [html.escape(change) for change in changes]
        if status == "removed":
            rows.append("Reach shown from the older version")
        return "<br>".join(rows) + "<br>" + text


class DiffLegend(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("What changed legend")
        self.setTextFormat(Qt.TextFormat.RichText)
        self.refresh()

    def refresh(self) -> None:
        palette = self.palette()

        def chip(status: str, word: str, hollow: bool = False) -> str:
            color = diff_color(status, palette).name()
            glyph = "\u25a1" if hollow else "\u25a0"  # □ ghosted / ■ filled
            return f"<span style='color:{color}; font-size:large'>{glyph}</span>&nbsp;{word}"

        self.setText(
            " &nbsp;&nbsp; ".join(
                [
                    chip("added", "<b>Added</b>"),
                    chip("changed", "<b>Changed</b> (hover for what)"),
                    chip("removed", "<b>Removed</b> (ghosted, dashed)", hollow=True),
                    chip("same", "Unchanged", hollow=True),
                ]
            )
            + " &nbsp;&nbsp; numbers: contacts who reached each step in the newer version"
        )


class DiffView(QWidget):
    """The diff graph in a zoomable view that fits itself until the user zooms or pans."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("What changed graph")
        self.scene = DiffScene(self)
        self.view = FlowView(self)
        self.view.setScene(self.scene)
        self.view.setAccessibleName("What changed diagram")
        self.legend = DiffLegend(self)
        self.legend.setWordWrap(True)
        self.fit_button = QToolButton(self)
        self.fit_button.setText("Fit")
        self.fit_button.setToolTip("Fit the whole flow in view (0)")
        self.fit_button.setAccessibleName("Fit the whole flow in view")
        self.fit_button.setAutoRaise(True)
        self.fit_button.clicked.connect(self.fit)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.legend, 1)
        top.addWidget(self.fit_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        self._auto_fit = True
        self.diff: DiffGraph | None = None
        self.view.fitRequested.connect(self.fit)
        self.view.userNavigated.connect(self._stop_auto_fit)
        self.view.resized.connect(self._fit_if_auto)

    def set_diff(self, diff: DiffGraph | None) -> None:
        self.diff = diff
        if diff is None or not diff.graph.steps:
            self.scene.clear_graph()
            return
        self.scene.build_diff(diff, self.palette(), self.font())
        self.legend.refresh()
        self._auto_fit = True
        self._fit_if_auto()

    def show_step(self, key: int | None) -> None:
        """Bring one step into view and ring it (a row picked in the list beside the graph)."""
        for node_key, node in self.scene.nodes.items():
            node.set_focused(node_key == key)
        node = self.scene.nodes.get(key) if key is not None else None
        self.view.focused_key = key if node is not None else None
        if node is not None:
            self._auto_fit = False
            if self.view.scale_factor() < READABLE_SCALE:
                self.view.set_zoom(READABLE_SCALE)
            self.view.centerOn(node)

    def fit(self) -> None:
        self._auto_fit = True
        self._fit_if_auto()

    def _stop_auto_fit(self) -> None:
        self._auto_fit = False

    def _fit_if_auto(self) -> None:
        """The whole graph when it fits at a legible scale; else, at that scale, the part where
        the changes are (a 60-step flow fitted whole is unreadable)."""
        if not self._auto_fit or self.scene.graph_rect.isEmpty() or not self.isVisible():
            return
        rect = self.scene.sceneRect()
        viewport = self.view.viewport().rect()
        if viewport.width() <= 0 or viewport.height() <= 0:
            return
        if min(viewport.width() / rect.width(), viewport.height() / rect.height()) >= (
            OVERVIEW_MIN_SCALE
        ):
            self.view.fit_rect(rect)
            return
        changed = QRectF()
        for key, node in self.scene.nodes.items():
            if self.scene.status_of(key) != "same":
                box = node.sceneBoundingRect()
                changed = box if changed.isNull() else changed.united(box)
        self.view.set_zoom(OVERVIEW_MIN_SCALE)
        self.view.centerOn(changed.center() if not changed.isNull() else rect.center())

    def showEvent(self, event) -> None:  # noqa: ANN001
        super().showEvent(event)
        self._fit_if_auto()
