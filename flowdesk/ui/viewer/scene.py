"""The diagram scene: builds step cards and arrows from a FlowGraph and the core layout, and
highlights one run's path on top of it."""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPalette
from PySide6.QtWidgets import QGraphicsScene

from flowdesk.core import formatting
from flowdesk.core.layout import (
    LayoutEdge,
    LayoutNode,
    LayoutOptions,
    Point,
    RoutedEdge,
    compute_layout,
)
from flowdesk.core.model import METRIC_LABELS, METRICS
from flowdesk.core.queries import FlowGraph, GraphEdge, GraphStep, PathEntry, edge_share, step_share
from flowdesk.core.step_report import StepOutcome
from flowdesk.core.trunks import Stretch, shared_stretches
from flowdesk.ui.viewer import stops, style
from flowdesk.ui.viewer.items import (
    NODE_HEIGHT,
    NODE_WIDTH,
    EdgeItem,
    EdgeLabelItem,
    Fonts,
    LabelColors,
    NodeColors,
    NodeItem,
    PathBadgeItem,
    TrunkItem,
)

DIM_OPACITY = 0.28
_LABEL_MAX_CHARS = 30


def _contacts(count: int) -> str:
    return "contact" if count == 1 else "contacts"


class FlowScene(QGraphicsScene):
    """Owns the items of one graph. ``nodes`` and ``edges`` are keyed for lookups and tests.

    Style hooks: ``_node_colors``, ``_detail_text`` and ``_node_tooltip`` are called for every
    step while building; a subclass overrides them to draw the same graph another way (the
    Compare tab's ``DiffScene`` colours steps by what changed).
    """

    def __init__(self, parent=None) -> None:  # noqa: ANN001
        super().__init__(parent)
        self.graph: FlowGraph | None = None
        self.nodes: dict[int, NodeItem] = {}
        self.edges: list[EdgeItem] = []
        self.trunks: list[TrunkItem] = []  # stretches bundled loops share
        self.labels: dict[int, EdgeLabelItem] = {}
        self.loops: set[tuple[int, int]] = set()  # (source, target) of arrows looping back
        self.badges: dict[int, PathBadgeItem] = {}
        self.heat = style.HeatScale([])
        self.path: list[PathEntry] = []
        self.graph_rect = QRectF()
        self._fonts = Fonts.from_base(QFont())
        self._palette = QPalette()
        # Each card's traffic-heat look, to come back to from "where runs stop".
        self._heat_looks: dict[int, tuple] = {}
        self.stops: dict[int, StepOutcome] | None = None

    # -- building ------------------------------------------------------------------------------

    def build(self, graph: FlowGraph, palette: QPalette, font: QFont) -> None:
        self.clear_graph()
        self.graph = graph
        self._palette = palette
        self._fonts = fonts = Fonts.from_base(font)
        self.setBackgroundBrush(palette.color(QPalette.ColorRole.Base))
        self.heat = style.HeatScale([s.reached for s in graph.steps if not s.is_placeholder])

        label_metrics = QFontMetricsF(fonts.label)
        # The core's definitions of "% of previous step", computed once per item (the steps'
        # once the layout says which arrows loop back).
        edge_shares = [edge_share(graph, e) for e in graph.edges]
        steps_by_key = {s.key: s for s in graph.steps}
        edge_lines = [
            self._edge_lines(e, share) for e, share in zip(graph.edges, edge_shares, strict=True)
        ]

        def measure(text: str) -> tuple[float, float]:
            lines = text.split("\n")
            width = max(label_metrics.horizontalAdvance(line) for line in lines)
            return width + 2.0, label_metrics.lineSpacing() * len(lines)

        layout = compute_layout(
            [LayoutNode(str(s.key), NODE_WIDTH, NODE_HEIGHT) for s in graph.steps],
            [
                LayoutEdge(str(e.source_key), str(e.target_key), "\n".join(lines), index)
                for index, (e, lines) in enumerate(zip(graph.edges, edge_lines, strict=True))
            ],
            roots=[str(k) for k in graph.entry_keys],
            measure=measure,
            options=LayoutOptions(node_spacing=36.0, layer_spacing=52.0, edge_spacing=12.0),
        )

        self.loops = {
            (graph.edges[routed.key].source_key, graph.edges[routed.key].target_key)
            for routed in layout.edges
            if routed.is_back_edge
        }
        step_shares = {s.key: step_share(graph, s.key, self.loops) for s in graph.steps}
        stretches = self._shared_stretches(layout.edges)
        # Thickness is relative to the thickest line: an arrow, or a line edges share.
        max_runs = max(
            (
                *(e.runs for e in graph.edges),
                *(sum(graph.edges[i].runs for i in s.members) for _k, _t, s in stretches),
            ),
            default=0,
        )
        base_edge = style.edge_color(palette)
        loop = style.loop_color(palette)
        quiet = style.quiet_color(palette)
        highlight = style.path_color(palette)
        label_colors = LabelColors.from_palette(palette)
        loop_label_colors = LabelColors.from_palette(palette, loop)
        for step in graph.steps:
            placed = layout.nodes.get(str(step.key))
            if placed is None:
                continue
            item = NodeItem(
                step.key,
                step.name or step.id,
                step.step_type,
                self._detail_text(step),
                self._reached_text(step),
                self._share_text(graph, step, step_shares[step.key]),
                self._node_colors(step, palette),
                fonts,
                highlight,
                self._node_tooltip(graph, step, step_shares[step.key]),
            )
            item.setPos(placed.rect.x, placed.rect.y)
            item.set_failed(self._failed_count(step), style.status_color("FAILED", palette))
            self.addItem(item)
            self.nodes[step.key] = item
            self._heat_looks[step.key] = (
                item.detail_text,
                item.reached_text,
                item.share_text,
                item.colors,
                item.toolTip(),
            )

        for routed in layout.edges:
            index = routed.key
            edge = graph.edges[index]
            points = [QPointF(x, y) for x, y in routed.points]
            if len(points) < 2:
                continue
            share = (edge.runs / max_runs) ** 0.5 if max_runs else 0.0
            tooltip = self._edge_tooltip(
                steps_by_key, edge, edge_shares[index], routed.is_back_edge
            )
            item = EdgeItem(
                index,
                edge.source_key,
                edge.target_key,
                points,
                routed.is_back_edge,
                1.2 + 3.3 * share,
                quiet if edge.runs == 0 else (loop if routed.is_back_edge else base_edge),
                edge.runs == 0,
                highlight,
                tooltip,
            )
            self.addItem(item)
            self.edges.append(item)
            if routed.label_rect is not None:
                r = routed.label_rect
                lines = edge_lines[index]
                label = EdgeLabelItem(
                    index,
                    QRectF(r.x, r.y, r.width, r.height),
                    lines,
                    fonts.label,
                    loop_label_colors if routed.is_back_edge and edge.runs else label_colors,
                    tooltip,
                )
                self.addItem(label)
                self.labels[index] = label
        colors = {"loops": loop, "options": base_edge, "into": base_edge}
        self._add_trunks(stretches, steps_by_key, max_runs, colors, quiet)
        bounds = layout.bounds
        self.graph_rect = QRectF(0, 0, bounds.width, bounds.height)
        margin = 24.0
        self.setSceneRect(self.graph_rect.adjusted(-margin, -margin, margin, margin))

    def _shared_stretches(self, routed: Sequence[RoutedEdge]) -> list[tuple[str, int, Stretch]]:
        """(kind, step, stretch) of each line several edges share: "loops" back into a step,
        the "options" of a wrapped split down to its rows, the edges "into" a step below them."""
        graph = self.graph
        bundles: dict[tuple[str, int], dict[int, tuple[Point, ...]]] = {}
        for edge in routed:
            if edge.is_self_loop or len(edge.points) < 2:
                continue
            source, target = graph.edges[edge.key].source_key, graph.edges[edge.key].target_key
            groups = [("loops", target)] if edge.is_back_edge else [("options", source)]
            if not edge.is_back_edge:
                groups.append(("into", target))
            for group in groups:
                bundles.setdefault(group, {})[edge.key] = edge.points
        return [
            (kind, key, stretch)
            for (kind, key), polylines in bundles.items()
            if len(polylines) > 1
            for stretch in shared_stretches(polylines)
        ]

    def _add_trunks(
        self,
        stretches: list[tuple[str, int, Stretch]],
        steps: dict[int, GraphStep],
        max_runs: int,
        colors: dict[str, QColor],
        quiet: QColor,
    ) -> None:
        """One item per stretch several edges share: as thick as their contacts together, its
        tooltip naming each (the arrows under it show only one)."""
        for kind, key, stretch in stretches:
            members = [self.graph.edges[i] for i in stretch.members]
            runs = sum(e.runs for e in members)
            share = (runs / max_runs) ** 0.5 if max_runs else 0.0
            item = TrunkItem(
                stretch.members,
                [(QPointF(*a), QPointF(*b)) for a, b in stretch.segments],
                stretch.ends_at_target,
                1.2 + 3.3 * share,
                colors[kind] if runs else quiet,
                runs == 0,
                self._trunk_tooltip(steps, kind, key, members),
            )
            self.addItem(item)
            self.trunks.append(item)

    @staticmethod
    def _trunk_tooltip(
        steps: dict[int, GraphStep], kind: str, key: int, edges: list[GraphEdge]
    ) -> str:
        def name(step_key: int) -> str:
            step = steps.get(step_key)
            return html.escape(step.name or step.id if step else "?")

        total = sum(e.runs for e in edges)
        title = {
            "loops": f"{len(edges)} loops back to {name(key)} share this line",
            "options": f"{len(edges)} options of {name(key)} share this line",
            "into": f"{len(edges)} steps lead into {name(key)} along this line",
        }[kind]
        rows = [
            f"<b>{title}</b>",
            f"{formatting.count(total)} {_contacts(total)} took them together:",
        ]
        for edge in sorted(edges, key=lambda e: -e.runs):  # stable: ties keep the graph's order
            option = f" ({html.escape(' / '.join(edge.labels))})" if edge.labels else ""
            end = (
                f"to {name(edge.target_key)}"
                if kind == "options"
                else f"from {name(edge.source_key)}"
            )
            rows.append(f"\u2022 {end}{option}: {formatting.count(edge.runs)}")
        return "<br>".join(rows)

    def show_stops(self, outcomes: dict[int, StepOutcome] | None) -> None:
        """Switch the cards to "where runs stop" (per step outcomes), or back to traffic heat
        (None). Texts and colours only: the layout stays."""
        self.stops = outcomes
        scale = stops.LossScale()
        for key, item in self.nodes.items():
            step = outcomes.get(key) if outcomes is not None else None
            if step is None:
                look = self._heat_looks[key]
            else:
                look = (
                    *stops.node_texts(step),
                    stops.node_colors(step, self._palette, scale),
                    stops.node_tooltip(step),
                )
            item.detail_text, item.reached_text, item.share_text, item.colors, tip = look
            item.setToolTip(tip)
            item.update()

    def clear_graph(self) -> None:
        self.clear()
        self.graph = None
        self.loops = set()
        self.stops = None
        self._heat_looks.clear()
        self.nodes.clear()
        self.edges.clear()
        self.trunks.clear()
        self.labels.clear()
        self.badges.clear()
        self.path = []
        self.graph_rect = QRectF()

    # -- texts ---------------------------------------------------------------------------------

    @staticmethod
    def _edge_lines(edge: GraphEdge, share: float | None) -> list[str]:
        lines: list[str] = []
        if edge.labels:
            text = " / ".join(edge.labels)
            if len(text) > _LABEL_MAX_CHARS:
                text = text[: _LABEL_MAX_CHARS - 1].rstrip() + "\u2026"
            lines.append(text)
        numbers = formatting.count(edge.runs)
        if share is not None:
            numbers += f" \u00b7 {formatting.share(share)}"
        lines.append(numbers)
        return lines

    @staticmethod
    def _detail_text(step: GraphStep) -> str:
        if step.is_placeholder:
            return "Not executed yet"
        text = style.type_label(step.step_type)
        if step.wait_seconds:
            text += f" \u00b7 waits {formatting.duration(step.wait_seconds)}"
        if step.reached == 0:
            text += " \u00b7 not reached"
        return text

    @staticmethod
    def _reached_text(step: GraphStep) -> str:
        if step.is_placeholder:
            return "\u2014"
        return f"{formatting.count(step.reached)} reached"

    @staticmethod
    def _share_text(graph: FlowGraph, step: GraphStep, share: float | None) -> str:
        if step.is_placeholder:
            return ""
        if step.key in graph.entry_keys:
            return "entry step"
        if share is None:
            return ""
        return f"{formatting.share(share)} of previous"

    def _node_colors(self, step: GraphStep, palette: QPalette) -> NodeColors:
        if step.is_placeholder or step.reached <= 0:
            base = palette.color(QPalette.ColorRole.Base)
            quiet = style.quiet_color(palette)
            return NodeColors(base, quiet, quiet, quiet, True)
        fill = self.heat.color(step.reached)
        text = style.text_on(fill)
        if style.is_dark(palette):
            border = style.mix(fill, QColor(255, 255, 255), 0.35)
        else:
            border = fill.darker(135)
        return NodeColors(fill, border, text, style.mix(text, fill, 0.22), False)

    @staticmethod
    def _failed_count(step: GraphStep) -> int:
        """Runs that ended failed at this step: the number on its red mark (0: no mark)."""
        return 0 if step.is_placeholder else step.ended.get("failed", 0)

    @staticmethod
    def _node_tooltip(graph: FlowGraph, step: GraphStep, share: float | None) -> str:
        rows = [f"<b>{html.escape(step.name or step.id)}</b>"]
        kind = style.type_label(step.step_type)
        if step.is_placeholder:
            rows.append("Not executed yet: known only because another step leads here.")
        else:
            raw = (
                ""
                if style.is_known_type(step.step_type)
                else f" ({html.escape(step.step_type)}: type not recognised)"
            )
            rows.append(f"Type: {html.escape(kind)}{raw}")
            reach = f"Reached: {formatting.count(step.reached)} {_contacts(step.reached)}"
            if step.key in graph.entry_keys:
                reach += " (entry step)"
            elif share is not None:
                reach += f" ({formatting.share(share)} of the previous step)"
            rows.append(reach)
            repeats = step.visits - step.reached
            if repeats > 0:
                rows.append(
                    f"Visits: {formatting.count(step.visits)} ({formatting.count(repeats)} repeat"
                    f" visit{'s' if repeats != 1 else ''} through loops)"
                )
            ended = [
                f"{METRIC_LABELS[m]} {formatting.count(step.ended.get(m.value, 0))}"
                for m in METRICS
                if step.ended.get(m.value, 0)
            ]
            rows.append("Ended here: " + (", ".join(ended) if ended else "none"))
            if step.wait_seconds:
                rows.append(f"Waits up to {formatting.duration(step.wait_seconds)} for a reply")
        rows.append(f"<span style='color:gray'>Step id {html.escape(step.id)}</span>")
        return "<br>".join(rows)

    @staticmethod
    def _edge_tooltip(
        steps: dict[int, GraphStep], edge: GraphEdge, share: float | None, is_back: bool
    ) -> str:
        source, target = steps.get(edge.source_key), steps.get(edge.target_key)
        source_name = html.escape(source.name if source else "?")
        target_name = html.escape(target.name if target else "?")
        rows = [f"<b>{source_name} \u2192 {target_name}</b>"]
        if edge.labels:
            rows.append("Option: " + html.escape(" / ".join(edge.labels)))
        if "observed" in edge.kinds and len(set(edge.kinds)) == 1:
            rows.append("Not in the step definition; seen in contacts' paths")
        if is_back:
            rows.append("Loop: goes back to an earlier step")
        took = f"{formatting.count(edge.runs)} {_contacts(edge.runs)} took it"
        if share is not None and source is not None:
            took += (
                f" = {formatting.share(share)} of the {formatting.count(source.reached)}"
                f" who reached {source_name}"
            )
        rows.append(took)
        return "<br>".join(rows)

    # -- path ----------------------------------------------------------------------------------

    def highlight(self, path: list[PathEntry] | None) -> QRectF:
        """Highlight a run's path; returns the scene rect it covers (empty when none shown)."""
        for badge in self.badges.values():
            self.removeItem(badge)
        self.badges.clear()
        self.path = list(path or [])
        visits: dict[int, list[PathEntry]] = defaultdict(list)
        numbers: dict[int, list[int]] = defaultdict(list)
        for number, entry in enumerate(self.path, start=1):
            visits[entry.step_key].append(entry)
            numbers[entry.step_key].append(number)
        traversed = {
            (a.step_key, b.step_key) for a, b in zip(self.path, self.path[1:], strict=False)
        }
        active = bool(self.path)
        covered = QRectF()
        for key, node in self.nodes.items():
            on_path = key in visits
            if on_path:
                entries = visits[key]
                failed = entries[-1].status == "FAILED"
                node.set_path_state(
                    True, self._visit_text(entries), self._visit_color(entries), failed
                )
                badge = PathBadgeItem(key, numbers[key], self._fonts.badge, node.border_color())
                badge.setPos(node.pos() + QPointF(NODE_WIDTH - 6, 0))
                self.addItem(badge)
                self.badges[key] = badge
                rect = node.sceneBoundingRect()
                covered = rect if covered.isNull() else covered.united(rect)
            else:
                node.set_path_state(False)
            node.setOpacity(1.0 if on_path or not active else DIM_OPACITY)
        for edge in self.edges:
            on_path = (edge.source_key, edge.target_key) in traversed
            edge.set_on_path(on_path)
            edge.setOpacity(1.0 if on_path or not active else DIM_OPACITY)
            label = self.labels.get(edge.index)
            if label is not None:
                label.set_on_path(on_path)
                label.setOpacity(1.0 if on_path or not active else DIM_OPACITY)
        for trunk in self.trunks:  # a traced loop is drawn over its trunk, in the path's colour
            trunk.setOpacity(1.0 if not active else DIM_OPACITY)
        return covered

    def _visit_text(self, entries: list[PathEntry]) -> str:
        times = ", ".join(formatting.clock(e.executed_at) for e in entries)
        last = entries[-1]
        text = f"at {times}"
        if last.status != "COMPLETED":
            text += f" \u00b7 {style.status_word(last.status)}"
        return text

    def _visit_color(self, entries: list[PathEntry]) -> QColor | None:
        status = entries[-1].status
        if status in ("FAILED", "EXPIRED"):
            fill = self.nodes[entries[-1].step_key].colors.fill
            # The status colour must stay readable on the card: fall back to the card's text.
            color = style.status_color(status, self._palette)
            if style.contrast_ratio(color, fill) >= 3.0:
                return color
        return None
