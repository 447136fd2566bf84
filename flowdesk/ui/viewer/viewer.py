"""FlowViewer: the diagram of one flow version with its reach heat map, zoom controls and legend,
and an optional highlighted path of one contact's run."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QRectF, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from flowdesk.core.queries import FlowGraph, PathEntry, StepFilter
from flowdesk.core.step_report import StepOutcome
from flowdesk.core.step_search import find_steps
from flowdesk.ui.reflow import ElidedLabel
from flowdesk.ui.viewer import style
from flowdesk.ui.viewer.legend import LOSS_CAPTION, Legend
from flowdesk.ui.viewer.minimap import Minimap
from flowdesk.ui.viewer.scene import FlowScene
from flowdesk.ui.viewer.stops import LossScale
from flowdesk.ui.viewer.view import FlowView

EMPTY_NO_GRAPH = (
    "<p><b>No flow version selected</b></p>"
    "<p>Choose a flow and one of its versions to see its steps: how many contacts reached each"
    " step, the share of the previous step, and where they went next.</p>"
    "<p>Pick a contact to trace their path through the flow.</p>"
)
EMPTY_NO_STEPS = (
    "<p><b>No steps known for this version yet</b></p>"
    "<p>Steps appear once at least one contact has entered this version and the cache has been"
    " synced.</p>"
)
# The first view of a flow fits it whole unless that needs a smaller scale than this (cards
# switch to large names below 60 %); bigger flows open at READABLE_SCALE on their entry steps,
# with the overview map for the rest. Real flows of 50-110 steps fitted at 30 % showed names
# eight pixels high: unreadable.
OVERVIEW_MIN_SCALE = 0.5
# Centring on a step zooms in to at least this scale, so its text is readable.
READABLE_SCALE = 0.75


class FlowViewer(QWidget):
    """Public API: ``set_graph``, ``highlight_path``, ``center_on_step``, ``fit``, ``zoom_in``,
    ``zoom_out``, ``find_step``, ``zoom_to_path``; ``stepActivated(step_key)`` on double-click
    or Enter on a step. Big flows get a search box, an overview map and a "Path" button."""

    stepActivated = Signal(int)  # noqa: N815
    # "Who went through": a StepFilter and a few words saying what it selects.
    contactsRequested = Signal(object, str)  # noqa: N815

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Flow viewer")
        self._graph: FlowGraph | None = None
        self._path: list[PathEntry] | None = None
        self._stops: dict[int, StepOutcome] | None = None
        # Fit again on every resize until the user zooms, pans or a path/step is shown:
        # "overview" (first show: fit, but not below a legible scale) or "whole" (Fit button).
        self._auto_fit: str | None = "overview"
        self._path_rect = QRectF()  # scene area of the highlighted path ("path" auto-fit)

        self.scene = FlowScene(self)
        self.view = FlowView(self)
        self.view.setScene(self.scene)
        self.view.nodeActivated.connect(self.stepActivated)
        self.view.fitRequested.connect(self.fit)
        self.view.zoomChanged.connect(self._show_zoom)
        self.view.userNavigated.connect(self._stop_auto_fit)
        self.view.resized.connect(self._view_resized)
        self.view.nodeClicked.connect(self.focus_step)
        self.view.stepMenuRequested.connect(self._step_menu)
        self.view.edgeMenuRequested.connect(self._edge_menu)

        self.empty_label = QLabel(EMPTY_NO_GRAPH, self)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setTextFormat(Qt.TextFormat.RichText)
        self.empty_label.setMargin(40)
        self.empty_label.setAccessibleName("Flow viewer message")

        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.empty_label)
        self.stack.addWidget(self.view)

        self.search_edit = QLineEdit(self)
        self.search_edit.setPlaceholderText("Find a step…")
        self.search_edit.setClearButtonEnabled(True)
        for clear in self.search_edit.findChildren(QToolButton):
            clear.setAccessibleName("Clear the step search")
        self.search_edit.setAccessibleName("Find a step")
        self.search_edit.setToolTip(
            "Find a step by its name, type or id; Enter goes to the next match, Esc clears"
        )
        self.search_edit.setMaximumWidth(220)
        self.search_edit.textChanged.connect(self._search_changed)
        self.search_edit.returnPressed.connect(self.next_match)
        self.search_edit.installEventFilter(self)
        self.match_label = QLabel("", self)
        self.match_label.setAccessibleName("Step search matches")
        self._matches: list[int] = []
        self._match_index = -1
        self.path_button = self._button("Path", "Zoom to the traced path", self.zoom_to_path)
        self.zoom_out_button = self._button("\u2212", "Zoom out (\u2212)", self.zoom_out)
        self.zoom_in_button = self._button("+", "Zoom in (+)", self.zoom_in)
        self.fit_button = self._button("Fit", "Fit the whole flow in view (0)", self.fit)
        self.zoom_label = QLabel("100%", self)
        self.zoom_label.setAccessibleName("Zoom level")
        self.zoom_label.setMinimumWidth(self.zoom_label.fontMetrics().horizontalAdvance("400%"))
        self.zoom_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.status_label = ElidedLabel("", self)
        self.status_label.setAccessibleName("Flow viewer summary")

        toolbar = QHBoxLayout()
        toolbar.setContentsMargins(8, 4, 8, 0)
        toolbar.addWidget(self.status_label, 1)
        toolbar.addWidget(self.search_edit)
        toolbar.addWidget(self.match_label)
        toolbar.addWidget(self.path_button)
        toolbar.addWidget(self.zoom_out_button)
        toolbar.addWidget(self.zoom_label)
        toolbar.addWidget(self.zoom_in_button)
        toolbar.addWidget(self.fit_button)

        self.legend = Legend(self)
        self.minimap = Minimap(self.view)
        self.minimap.navigated.connect(self._stop_auto_fit)
        self.view.zoomChanged.connect(lambda _scale: self.minimap.place())
        self.view.resized.connect(self.minimap.place)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(toolbar)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.legend)
        self._set_empty(EMPTY_NO_GRAPH)

    def _button(self, text: str, tip: str, slot) -> QToolButton:  # noqa: ANN001
        button = QToolButton(self)
        button.setText(text)
        button.setToolTip(tip)
        button.setAccessibleName(tip.split(" (")[0])
        button.setAutoRaise(True)
        button.clicked.connect(slot)
        return button

    # -- public API ----------------------------------------------------------------------------

    def set_graph(self, graph: FlowGraph | None) -> None:
        """Show a version's graph; None (or a graph without steps) shows an explanatory message."""
        self._graph = graph
        self._path = None
        self._stops = None
        if graph is None or not graph.steps:
            self.scene.clear_graph()
            self._set_empty(EMPTY_NO_GRAPH if graph is None else EMPTY_NO_STEPS)
            return
        self.scene.build(graph, self.palette(), self.font())
        self.view.focused_key = None
        self.legend.setVisible(True)
        self.legend.set_scale(self.scene.heat)
        self._set_controls_enabled(True)
        self.stack.setCurrentWidget(self.view)
        self._update_status()
        self._auto_fit = "overview"
        self._apply_auto_fit()
        self.minimap.refresh()
        self._search_changed(self.search_edit.text())

    def update_graph(self, graph: FlowGraph) -> None:
        """The same version's graph with newer numbers (a sync reading paths): the heat and
        the counts change, and arrows the new paths took appear; the zoom, the focused step,
        the mode and the place on screen stay (should the layout move, the focused step, else
        the one nearest the middle of the view, stays where it was on screen)."""
        if self._graph is None or not self._graph.steps or not graph.steps:
            self.set_graph(graph)
            return
        anchor = self._anchor()
        self._graph = graph
        self._rebuild()
        self._update_status()
        if self._auto_fit is not None:
            self._apply_auto_fit()  # the agent has not moved the view: frame it as before
        elif anchor is not None and anchor[0] in self.scene.nodes:
            key, before = anchor
            moved = self.view.mapFromScene(self.scene.nodes[key].sceneBoundingRect().center())
            for bar, by in (
                (self.view.horizontalScrollBar(), moved.x() - before.x()),
                (self.view.verticalScrollBar(), moved.y() - before.y()),
            ):
                bar.setValue(bar.value() + by)  # whole pixels: nothing drifts refresh after refresh
            self.minimap.place()

    def _anchor(self) -> tuple[int, QPoint] | None:
        """The focused step (else the one nearest the middle of the view) and where it is in
        the view, in pixels."""
        middle = self.view.mapToScene(self.view.viewport().rect().center())
        nodes = self.scene.nodes
        key = self.view.focused_key
        if key not in nodes:
            key = min(
                nodes,
                key=lambda k: (nodes[k].sceneBoundingRect().center() - middle).manhattanLength(),
                default=None,
            )
        if key is None:
            return None
        return key, self.view.mapFromScene(nodes[key].sceneBoundingRect().center())

    def graph(self) -> FlowGraph | None:
        return self._graph

    def show_stops(self, outcomes: list[StepOutcome] | None) -> None:
        """ "Where runs stop" mode with these per-step outcomes (of the graph shown), or back to
        traffic heat (None)."""
        self._stops = None if outcomes is None else {s.key: s for s in outcomes}
        if self._graph is None or not self._graph.steps:
            return
        self.scene.show_stops(self._stops)
        self._update_legend()
        self.minimap.refresh()  # the map shows the mode's colours too

    def stops(self) -> dict[int, StepOutcome] | None:
        return self._stops

    def step_menu(self, step_key: int) -> QMenu:
        """What a right-click on a step offers: its contacts, all who went through or those who
        ended there."""
        menu = QMenu(self)
        step = self._graph.step(step_key) if self._graph else None
        if step is None:
            return menu
        name = step.name or step.id
        reached = menu.addAction(f"Contacts who reached “{name}”")
        reached.triggered.connect(
            lambda: self.contactsRequested.emit(StepFilter(step_key), f"reached “{name}”")
        )
        ended = menu.addAction(f"Contacts who ended at “{name}”")
        ended.triggered.connect(
            lambda: self.contactsRequested.emit(StepFilter(step_key, "ended"), f"ended at “{name}”")
        )
        return menu

    def edge_menu(self, index: int) -> QMenu:
        menu = QMenu(self)
        if self._graph is None or not 0 <= index < len(self._graph.edges):
            return menu
        edge = self._graph.edges[index]
        source, target = self._graph.step(edge.source_key), self._graph.step(edge.target_key)
        words = (
            f"went from “{source.name if source else '?'}” to “{target.name if target else '?'}”"
        )
        action = menu.addAction(f"Contacts who {words}")
        action.triggered.connect(
            lambda: self.contactsRequested.emit(
                StepFilter(edge.source_key, "edge", edge.target_key), words
            )
        )
        return menu

    def _step_menu(self, step_key: int, where) -> None:  # noqa: ANN001
        self.focus_step(step_key)
        self.step_menu(step_key).exec(where)

    def _edge_menu(self, index: int, where) -> None:  # noqa: ANN001
        self.edge_menu(index).exec(where)

    def _update_legend(self) -> None:
        if self._stops is None:
            self.legend.set_scale(self.scene.heat)
        else:
            self.legend.set_scale(LossScale(), LOSS_CAPTION)

    def highlight_path(self, path: list[PathEntry] | None) -> None:
        """Number and emphasise a run's path, dim the rest, and bring the path into view.
        None (or an empty path) clears the highlight."""
        self._path = list(path) if path else None
        if self._graph is None:
            return
        covered = self.scene.highlight(self._path)
        self._update_status()
        self.path_button.setEnabled(bool(self._path))
        self.minimap.refresh()
        if self._path and not covered.isEmpty():
            # Keep the path in view through resizes (a side panel opening) until the user
            # zooms or pans; a hidden viewer does it when shown.
            self._path_rect = covered
            self._auto_fit = "path"
            self._apply_auto_fit()
        elif self._auto_fit == "path":
            self._auto_fit = None  # the view stays where it is when a trace is cleared

    def center_on_step(self, step_key: int) -> None:
        """Centre the view on a step (from the timeline) and select it."""
        node = self.scene.nodes.get(step_key)
        if node is None:
            return
        self._auto_fit = None
        if self.view.scale_factor() < READABLE_SCALE:
            self.view.set_zoom(READABLE_SCALE)
        self.focus_step(step_key)
        self.view.centerOn(node)

    def find_step(self, text: str) -> list[int]:
        """Search the steps (the search box's text) and go to the first match; returns the
        matching keys in reading order, top to bottom."""
        self.search_edit.setText(text)
        return list(self._matches)

    def next_match(self) -> None:
        """Go to the next step matching the search (wrapping round)."""
        if not self._matches:
            return
        self._match_index = (self._match_index + 1) % len(self._matches)
        self._show_match()

    def zoom_to_path(self) -> None:
        """Bring the traced path back into view after zooming or panning away from it."""
        if not self._path or self._path_rect.isEmpty():
            return
        self._auto_fit = "path"
        self._apply_auto_fit()

    def focus_step(self, step_key: int | None) -> None:
        """Mark one step as the current one (ring around it; Enter activates it)."""
        for key, item in self.scene.nodes.items():
            item.set_focused(key == step_key)
        self.view.focused_key = step_key if step_key in self.scene.nodes else None

    def show_overview(self) -> None:
        """Frame the flow as when it was first shown (after a trace is cleared)."""
        if self._graph is None:
            return
        self._auto_fit = "overview"
        self._apply_auto_fit()

    def fit(self) -> None:
        """Fit the whole flow in the view (never enlarging past 100%)."""
        if self._graph is None or self.scene.graph_rect.isEmpty():
            return
        self._auto_fit = "whole"
        self.view.fit_rect(self.scene.sceneRect())

    def zoom_in(self) -> None:
        self._auto_fit = None
        self.view.zoom_by(1.25)

    def zoom_out(self) -> None:
        self._auto_fit = None
        self.view.zoom_by(1 / 1.25)

    # -- internals -----------------------------------------------------------------------------

    def _scroll_to_path(self, covered: QRectF) -> None:
        """Show the whole path when it fits at a readable scale; otherwise the step where the
        run stopped, which is what a support agent looks for first."""
        target = covered.adjusted(-40, -40, 40, 40)
        viewport = self.view.viewport().rect()
        if viewport.width() <= 0 or viewport.height() <= 0:
            return
        fit_scale = min(viewport.width() / target.width(), viewport.height() / target.height())
        if fit_scale >= READABLE_SCALE:
            self.view.fit_rect(target)
            return
        self.view.set_zoom(READABLE_SCALE)
        last = self.scene.nodes.get(self._path[-1].step_key) if self._path else None
        self.view.centerOn(last if last is not None else target.center())

    def _set_empty(self, message: str) -> None:
        self.empty_label.setText(message)
        self.stack.setCurrentWidget(self.empty_label)
        self.legend.setVisible(False)
        self.status_label.setText("")
        self._set_controls_enabled(False)

    def _set_controls_enabled(self, enabled: bool) -> None:
        for widget in (
            self.zoom_in_button,
            self.zoom_out_button,
            self.fit_button,
            self.zoom_label,
            self.search_edit,
        ):
            widget.setEnabled(enabled)
        self.path_button.setEnabled(enabled and bool(self._path))
        if not enabled:
            self.minimap.hide()

    def _search_changed(self, text: str) -> None:
        graph = self._graph
        nodes = self.scene.nodes

        def reading_order(key: int) -> tuple[float, float]:
            rect = nodes[key].sceneBoundingRect()
            return (rect.top(), rect.left())

        steps = [s for s in graph.steps if s.key in nodes] if graph is not None else []
        self._matches = find_steps(steps, text, type_label=style.type_label, order=reading_order)
        self._match_index = -1
        if not text.strip():
            self.match_label.setText("")
            return
        if not self._matches:
            self.match_label.setText("No step")
            return
        self.next_match()

    def _show_match(self) -> None:
        key = self._matches[self._match_index]
        self.match_label.setText(f"{self._match_index + 1} of {len(self._matches)}")
        self.center_on_step(key)

    def eventFilter(self, watched, event) -> bool:  # noqa: ANN001, N802 - Qt override
        if (
            watched is self.search_edit
            and event.type() == QEvent.Type.KeyPress
            and event.key() == Qt.Key.Key_Escape
        ):
            self.search_edit.clear()
            self.view.setFocus()
            return True
        return super().eventFilter(watched, event)

    def _update_status(self) -> None:
        graph = self._graph
        if graph is None:
            self.status_label.setText("")
            return
        steps = sum(1 for s in graph.steps if not s.is_placeholder)
        text = f"{steps} steps"
        placeholders = len(graph.steps) - steps
        if placeholders:
            text += f" (+{placeholders} not executed yet)"
        if self._path:
            text += f" \u00b7 showing a path of {len(self._path)} steps"
        self.status_label.setText(text)

    def _stop_auto_fit(self) -> None:
        self._auto_fit = None

    def _apply_auto_fit(self) -> None:
        if self._graph is None or self.scene.graph_rect.isEmpty() or self._auto_fit is None:
            return
        if not self.isVisible():
            return  # showEvent fits once the view has its real size
        if self._auto_fit == "whole":
            self.fit()
            return
        if self._auto_fit == "path":
            self._scroll_to_path(self._path_rect)
            return
        # Overview: the whole flow when it fits at a legible scale, else its top (entry) part.
        rect = self.scene.sceneRect()
        viewport = self.view.viewport().rect()
        if viewport.width() <= 0 or viewport.height() <= 0:
            return
        scale = min(viewport.width() / rect.width(), viewport.height() / rect.height())
        if scale >= OVERVIEW_MIN_SCALE:
            self.view.fit_rect(rect)
            return
        self.view.set_zoom(READABLE_SCALE)
        visible_height = viewport.height() / READABLE_SCALE
        entries = [self.scene.nodes[k] for k in self._graph.entry_keys if k in self.scene.nodes]
        x = entries[0].sceneBoundingRect().center().x() if entries else rect.center().x()
        self.view.centerOn(x, rect.top() + visible_height / 2)
        self.minimap.place()

    def _show_zoom(self, scale: float) -> None:
        self.zoom_label.setText(f"{scale * 100:.0f}%")

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._apply_auto_fit()

    def _view_resized(self) -> None:
        self._apply_auto_fit()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange) and (
            self._graph is not None and self._graph.steps
        ):
            # Colours and text sizes are baked into the cached items: rebuild them.
            self._rebuild()

    def _rebuild(self) -> None:
        """Build the scene again for the graph shown, keeping the path, the focused step, the
        mode's colours and where the view is (zoom and scroll)."""
        path, focused = self._path, self.view.focused_key
        bars = self.view.horizontalScrollBar(), self.view.verticalScrollBar()
        scroll = [bar.value() for bar in bars]
        self.scene.build(self._graph, self.palette(), self.font())
        if self._stops is not None:
            self.scene.show_stops(self._stops)
        self._update_legend()
        if path:
            self.scene.highlight(path)
        self.focus_step(focused)
        for bar, value in zip(bars, scroll, strict=True):
            bar.setValue(value)
        self.minimap.refresh()
