"""Graphics items of the flow diagram: step cards, transition arrows, their labels, path badges.

Step cards and labels are text-heavy and static, so they render once into a device-coordinate
cache; highlighting a path only changes their opacity or swaps a line of text. Arrows are not
cached: a long loop's cache pixmap would be large at high zoom, and a stroked path is cheap.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPalette,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from flowdesk.core import formatting
from flowdesk.ui.viewer import style

NODE_WIDTH = 216.0
NODE_HEIGHT = 76.0
_PAD = 10.0
_BADGE = 22.0
_CORNER = 7.0
# Below this zoom a card switches to its overview drawing (name and count only, enlarged).
OVERVIEW_LOD = 0.6
OVERVIEW_MAX_ENLARGE = 2.4


@dataclass(slots=True)
class Fonts:
    """The fonts of the diagram, derived from the widget font so they follow user settings."""

    name: QFont
    small: QFont
    count: QFont
    label: QFont
    badge: QFont

    @classmethod
    def from_base(cls, base: QFont) -> Fonts:
        size = base.pointSizeF() if base.pointSizeF() > 0 else 10.0
        name = QFont(base)
        name.setBold(True)
        small = QFont(base)
        small.setPointSizeF(size * 0.88)
        count = QFont(base)
        count.setBold(True)
        label = QFont(base)
        label.setPointSizeF(size * 0.85)
        badge = QFont(base)
        badge.setBold(True)
        badge.setPointSizeF(size * 0.95)
        return cls(name, small, count, label, badge)


@dataclass(slots=True)
class NodeColors:
    fill: QColor
    border: QColor
    text: QColor
    secondary: QColor
    dashed: bool


@dataclass(slots=True)
class LabelColors:
    fill: QColor
    text: QColor
    border: QColor
    path: QColor

    @classmethod
    def from_palette(cls, palette: QPalette, accent: QColor | None = None) -> LabelColors:
        fill = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        return cls(fill, text, accent or style.mix(text, fill, 0.7), style.path_color(palette))


class NodeItem(QGraphicsItem):
    """One step: type badge, name, type (or the run's times when a path is shown), reach and
    % of the previous step, all on the step's heat colour."""

    Type = QGraphicsItem.UserType + 1

    def __init__(
        self,
        key: int,
        name: str,
        step_type: str,
        detail_text: str,
        reached_text: str,
        share_text: str,
        colors: NodeColors,
        fonts: Fonts,
        path_color: QColor,
        tooltip: str,
    ) -> None:
        super().__init__()
        self.key = key
        self.name = name
        self.step_type = step_type
        self.detail_text = detail_text
        self.reached_text = reached_text
        self.share_text = share_text
        self.colors = colors
        self.fonts = fonts
        self.path_color = path_color
        self.path_text = ""
        self.path_text_color: QColor | None = None
        self.on_path = False
        # Runs that ended failed here (a mark on the card), and whether the traced run did.
        self.failed_mark: FailedMarkItem | None = None
        self.failed_color: QColor | None = None
        self.path_failed = False
        self._hover = False
        # The step chosen by a click or from the timeline; not Qt selection, because selectable
        # items swallow the mouse press and the view could then not be dragged from a card.
        self.focused = False
        self._rect = QRectF(0, 0, NODE_WIDTH, NODE_HEIGHT)
        self._bounds = self._rect.adjusted(-4, -4, 4, 4)
        self.glyph, self.badge_color = style.type_badge(step_type, fonts.badge)
        metrics = QFontMetricsF(fonts.name)
        self.name_width = NODE_WIDTH - 2 * _PAD - _BADGE - 8
        self.elided_name = metrics.elidedText(name, Qt.TextElideMode.ElideRight, self.name_width)
        self.setToolTip(tooltip)
        self.setAcceptHoverEvents(True)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setZValue(2)

    def type(self) -> int:
        return self.Type

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(self._rect, _CORNER, _CORNER)
        return path

    def set_path_state(
        self, on_path: bool, text: str = "", color: QColor | None = None, failed: bool = False
    ) -> None:
        """Show (or clear) this run's visit times in place of the type line; ``failed``: the
        traced run failed at this step, so the card is outlined in the Failed colour."""
        failed = failed and on_path
        state = (on_path, text, color, failed)
        if state == (self.on_path, self.path_text, self.path_text_color, self.path_failed):
            return
        self.on_path, self.path_text, self.path_text_color, self.path_failed = state
        self.update()

    def set_failed(self, count: int, color: QColor) -> None:
        """Mark the card with the number of runs that ended failed at this step (none: no
        mark). ``color`` is the theme's Failed colour, also used for a traced failure."""
        self.failed_color = QColor(color)
        if self.failed_mark is not None:
            self.failed_mark.setParentItem(None)
            if self.scene() is not None:
                self.scene().removeItem(self.failed_mark)
            self.failed_mark = None
        if count > 0:
            self.failed_mark = FailedMarkItem(count, self.fonts.badge, color, self)
            self.failed_mark.setPos(NODE_WIDTH - 6, NODE_HEIGHT)

    def border_color(self) -> QColor:
        """The card's outline: the Failed colour where the traced run failed, the path colour on
        the rest of a traced path, else the card's own border."""
        if self.on_path:
            if self.path_failed and self.failed_color is not None:
                return self.failed_color
            return self.path_color
        return self.colors.border

    def set_focused(self, focused: bool) -> None:
        if focused != self.focused:
            self.focused = focused
            self.update()

    def hoverEnterEvent(self, event) -> None:  # noqa: ANN001
        self._hover = True
        self.update()
        super().hoverEnterEvent(event)

    def hoverLeaveEvent(self, event) -> None:  # noqa: ANN001
        self._hover = False
        self.update()
        super().hoverLeaveEvent(event)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        colors, rect = self.colors, self._rect
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        # Card.
        if self.on_path:
            border = QPen(self.border_color(), 3.0)
        else:
            border = QPen(colors.border, 1.2)
            if colors.dashed:
                border.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(border)
        painter.setBrush(QBrush(colors.fill))
        painter.drawRoundedRect(rect.adjusted(0.6, 0.6, -0.6, -0.6), _CORNER, _CORNER)
        selected = self.focused
        if selected or self._hover:
            ring = QPen(self.path_color if selected else colors.secondary, 2.0)
            ring.setStyle(Qt.PenStyle.SolidLine if selected else Qt.PenStyle.DotLine)
            painter.setPen(ring)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect.adjusted(-3, -3, 3, 3), _CORNER + 3, _CORNER + 3)
        lod = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        if lod < OVERVIEW_LOD:
            self._paint_overview(painter, lod)
        else:
            self._paint_detail(painter)

    def _paint_detail(self, painter: QPainter) -> None:
        colors, fonts = self.colors, self.fonts
        # Type badge.
        badge = QRectF(_PAD, 9, _BADGE, _BADGE)
        badge_fill = self._badge_fill()
        painter.setPen(QPen(style.mix(colors.text, colors.fill, 0.5), 1.0))
        painter.setBrush(badge_fill)
        painter.drawRoundedRect(badge, 5, 5)
        painter.setFont(fonts.badge)
        painter.setPen(style.text_on(badge_fill))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, self.glyph)
        # Name.
        painter.setFont(fonts.name)
        painter.setPen(colors.text)
        name_rect = QRectF(badge.right() + 8, 9, self.name_width, _BADGE)
        painter.drawText(
            name_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, self.elided_name
        )
        # Type line, or this run's visits.
        line = QRectF(_PAD, 34, NODE_WIDTH - 2 * _PAD, 18)
        painter.setFont(fonts.small)
        if self.on_path and self.path_text:
            painter.setPen(self.path_text_color or colors.text)
            text = self.path_text
        else:
            painter.setPen(colors.secondary)
            text = self.detail_text
        metrics = QFontMetricsF(fonts.small)
        painter.drawText(
            line,
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            metrics.elidedText(text, Qt.TextElideMode.ElideRight, line.width()),
        )
        # Reach and share.
        bottom = QRectF(_PAD, 52, NODE_WIDTH - 2 * _PAD, 18)
        reached, share = self.bottom_line()
        painter.setFont(fonts.count)
        painter.setPen(colors.text)
        painter.drawText(
            bottom, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, reached
        )
        painter.setFont(fonts.small)
        painter.setPen(colors.secondary)
        painter.drawText(bottom, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, share)

    def bottom_line(self) -> tuple[str, str]:
        """(reach, share) as the card's last line draws them: "90.8% of previous" becomes
        "90.8%" when both would run into each other ("1,246 reached90.8% of previous");
        the tooltip and the legend say what the percentage is."""
        width = NODE_WIDTH - 2 * _PAD
        count = QFontMetricsF(self.fonts.count).horizontalAdvance(self.reached_text)
        small = QFontMetricsF(self.fonts.small)
        share = self.share_text
        if "%" in share and count + 8 + small.horizontalAdvance(share) > width:
            share = share.split(" ")[0]
        return self.reached_text, share

    def _paint_overview(self, painter: QPainter, lod: float) -> None:
        """Zoomed far out: only the name and the reach, in text large enough to read on screen;
        the type shows as a coloured strip on the left edge."""
        colors = self.colors
        strip = QRectF(1.5, 6, 7, NODE_HEIGHT - 12)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self._badge_fill())
        painter.drawRoundedRect(strip, 3, 3)
        factor = min(OVERVIEW_MAX_ENLARGE, max(1.0, OVERVIEW_LOD / max(lod, 0.01)))
        name_font = QFont(self.fonts.name)
        name_font.setPointSizeF(self.fonts.name.pointSizeF() * factor)
        count_font = QFont(self.fonts.count)
        count_font.setPointSizeF(self.fonts.count.pointSizeF() * factor)
        area = QRectF(_PAD + 4, 3, NODE_WIDTH - 2 * _PAD - 4, NODE_HEIGHT - 6)
        half = area.height() / 2
        painter.setPen(colors.text)
        painter.setFont(name_font)
        name = QFontMetricsF(name_font).elidedText(
            self.name, Qt.TextElideMode.ElideRight, area.width()
        )
        painter.drawText(
            QRectF(area.left(), area.top(), area.width(), half),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            name,
        )
        painter.setFont(count_font)
        count = self.overview_count()
        painter.drawText(
            QRectF(area.left(), area.top() + half, area.width(), half),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            count,
        )

    def overview_count(self) -> str:
        """The overview's second line: the reach and the share of the previous step, so the
        percentage stays readable zoomed out ("251 · 90%")."""
        count = self.reached_text.split(" ")[0] if self.reached_text else ""
        share = self.share_text.split(" ")[0] if "%" in self.share_text else ""
        return f"{count} · {share}" if count and share else count

    def _badge_fill(self) -> QColor:
        fill = QColor(self.badge_color)
        if self.colors.dashed:
            fill = style.mix(fill, self.colors.fill, 0.55)
        return fill


def _rounded_path(points: list[QPointF], radius: float) -> QPainterPath:
    """A polyline with its corners rounded (orthogonal routes read better without sharp bends)."""
    path = QPainterPath(points[0])
    for i in range(1, len(points) - 1):
        prev, corner, nxt = points[i - 1], points[i], points[i + 1]
        d1 = _length(corner - prev)
        d2 = _length(nxt - corner)
        r = min(radius, d1 / 2.0, d2 / 2.0)
        if r < 0.5:
            path.lineTo(corner)
            continue
        a = corner + (prev - corner) * (r / d1)
        b = corner + (nxt - corner) * (r / d2)
        path.lineTo(a)
        path.quadTo(corner, b)
    path.lineTo(points[-1])
    return path


def _length(p: QPointF) -> float:
    return (p.x() ** 2 + p.y() ** 2) ** 0.5


class EdgeItem(QGraphicsItem):
    """A transition arrow along the layout's polyline; thickness grows with the contacts who
    took it, loops use an accent colour, transitions nobody took are dotted."""

    Type = QGraphicsItem.UserType + 2
    ARROW = 9.0

    def __init__(
        self,
        index: int,
        source_key: int,
        target_key: int,
        points: list[QPointF],
        is_back_edge: bool,
        width: float,
        color: QColor,
        dotted: bool,
        path_color: QColor,
        tooltip: str,
    ) -> None:
        super().__init__()
        self.index = index
        self.source_key = source_key
        self.target_key = target_key
        self.is_back_edge = is_back_edge
        self.width = width
        self.color = color
        self.dotted = dotted
        self.path_color = path_color
        self.on_path = False
        self.points = points
        end, before = points[-1], points[-2] if len(points) > 1 else points[-1]
        direction = end - before
        length = _length(direction) or 1.0
        unit = direction / length
        normal = QPointF(-unit.y(), unit.x())
        arrow = self.ARROW
        # The line stops where the arrow head starts, so thick lines do not poke through it.
        base = end - unit * arrow
        self._line = _rounded_path([*points[:-1], base], 8.0)
        self._head = QPolygonF(
            [end, base + normal * (arrow * 0.55), base - normal * (arrow * 0.55)]
        )
        self._shape: QPainterPath | None = None  # built on first hover/hit test
        margin = max(width, 6.0) + 4.0
        self._bounds = (
            self._line.boundingRect()
            .united(self._head.boundingRect())
            .adjusted(-margin, -margin, margin, margin)
        )
        self.setToolTip(tooltip)
        self.setZValue(0)

    def type(self) -> int:
        return self.Type

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        if self._shape is None:
            stroker = QPainterPathStroker()
            stroker.setWidth(max(10.0, self.width + 6))
            self._shape = stroker.createStroke(self._line)
            self._shape.addPolygon(self._head)
        return self._shape

    def set_on_path(self, on_path: bool) -> None:
        if on_path != self.on_path:
            self.on_path = on_path
            self.setZValue(1.5 if on_path else 0)
            self.update()

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self.on_path:
            color, width = self.path_color, max(3.5, self.width + 1.5)
        else:
            color, width = self.color, self.width
        pen = QPen(
            color, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap, Qt.PenJoinStyle.RoundJoin
        )
        if self.dotted and not self.on_path:
            pen.setStyle(Qt.PenStyle.DotLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._line)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawPolygon(self._head)


class TrunkItem(QGraphicsItem):
    """The stretch of line that several loops back into one step share (a bundle's trunk): as
    thick as their contacts together, with a tooltip listing every one of them. Drawn over the
    loops' own arrows, which still run underneath and take over where each branches off."""

    Type = QGraphicsItem.UserType + 6

    def __init__(
        self,
        members: tuple[int, ...],
        segments: list[tuple[QPointF, QPointF]],
        ends_at_target: bool,
        width: float,
        color: QColor,
        dotted: bool,
        tooltip: str,
    ) -> None:
        super().__init__()
        self.members = members  # the input indexes of the loops sharing this stretch
        self.width = width
        self.color = color
        self.dotted = dotted
        self._line = QPainterPath()
        self._head: QPolygonF | None = None
        last: QPointF | None = None
        for n, (start, end) in enumerate(segments):
            if ends_at_target and n == len(segments) - 1:
                direction = end - start
                unit = direction / (_length(direction) or 1.0)
                normal = QPointF(-unit.y(), unit.x())
                base = end - unit * EdgeItem.ARROW
                spread = EdgeItem.ARROW * 0.55
                self._head = QPolygonF([end, base + normal * spread, base - normal * spread])
                end = base
            if last is None or last != start:
                self._line.moveTo(start)
            self._line.lineTo(end)
            last = end
        stroker = QPainterPathStroker()
        stroker.setWidth(max(10.0, width + 6))
        self._shape = stroker.createStroke(self._line)
        if self._head is not None:
            self._shape.addPolygon(self._head)
        self._bounds = self._shape.boundingRect().adjusted(-2, -2, 2, 2)
        self.setToolTip(tooltip)
        self.setZValue(0.5)  # over the loops' own lines, under a traced path (1.5)

    def type(self) -> int:
        return self.Type

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        return self._shape

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(
            self.color,
            self.width,
            Qt.PenStyle.DotLine if self.dotted else Qt.PenStyle.SolidLine,
            Qt.PenCapStyle.RoundCap,
            Qt.PenJoinStyle.RoundJoin,
        )
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._line)
        if self._head is not None:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(self.color)
            painter.drawPolygon(self._head)


class EdgeLabelItem(QGraphicsItem):
    """The pill on a transition: its option label(s), then contacts and % of the previous step."""

    Type = QGraphicsItem.UserType + 3

    def __init__(
        self,
        edge_index: int,
        rect: QRectF,
        lines: list[str],
        font: QFont,
        colors: LabelColors,
        tooltip: str,
    ) -> None:
        super().__init__()
        self.edge_index = edge_index
        self.lines = lines
        self.font = font
        self.fill = colors.fill
        self.text_color = colors.text
        self.border = colors.border
        self.path_color = colors.path
        self.on_path = False
        self._rect = QRectF(0, 0, rect.width(), rect.height())
        self._bounds = self._rect.adjusted(-2, -2, 2, 2)
        self.setPos(rect.topLeft())
        self.setToolTip(tooltip)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setZValue(1)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def type(self) -> int:
        return self.Type

    def boundingRect(self) -> QRectF:
        return self._bounds

    def set_on_path(self, on_path: bool) -> None:
        if on_path != self.on_path:
            self.on_path = on_path
            self.setZValue(1.6 if on_path else 1)
            self.update()

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        border = QPen(
            self.path_color if self.on_path else self.border, 2.0 if self.on_path else 1.0
        )
        painter.setPen(border)
        painter.setBrush(self.fill)
        radius = min(8.0, self._rect.height() / 2.0)
        painter.drawRoundedRect(self._rect.adjusted(0.5, 0.5, -0.5, -0.5), radius, radius)
        painter.setFont(self.font)
        painter.setPen(self.text_color)
        painter.drawText(self._rect, Qt.AlignmentFlag.AlignCenter, self.text)


class _PillItem(QGraphicsItem):
    """A short text on a rounded pill of one colour (its text in the colour that reads on it):
    the failed mark and the path badges. Subclasses set ``text``, ``font``, ``color``,
    ``Type``, ``_rect`` and ``_bounds``."""

    Type: int
    outline_width = 1.2
    text: str
    font: QFont
    color: QColor
    _rect: QRectF
    _bounds: QRectF

    def type(self) -> int:
        return self.Type

    def boundingRect(self) -> QRectF:
        return self._bounds

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text_color = style.text_on(self.color)
        painter.setPen(QPen(text_color, self.outline_width))
        painter.setBrush(self.color)
        radius = self._rect.height() / 2.0
        painter.drawRoundedRect(self._rect, radius, radius)
        painter.setFont(self.font)
        painter.setPen(text_color)
        painter.drawText(self._rect, Qt.AlignmentFlag.AlignCenter, self.text)


class FailedMarkItem(_PillItem):
    """ "3 failed" on a step card's bottom corner: runs that ended failed at this step, in the
    theme's Failed colour, so a failing step stands out at any zoom and in both themes."""

    Type = QGraphicsItem.UserType + 5

    def __init__(self, count: int, font: QFont, color: QColor, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self.count = count
        self.text = f"{formatting.count(count)} failed"
        self.font = font
        self.color = QColor(color)
        metrics = QFontMetricsF(font)
        height = metrics.height() + 4
        width = metrics.horizontalAdvance(self.text) + 14
        self._rect = QRectF(-width, -height / 2.0, width, height)
        self._bounds = self._rect.adjusted(-2, -2, 2, 2)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setZValue(1)  # above its card
        runs = "run" if count == 1 else "runs"
        self.setToolTip(f"{formatting.count(count)} {runs} ended failed at this step")


class PathBadgeItem(_PillItem):
    """The visit numbers of the highlighted run on a step ("3" or "3, 5"), on its top corner."""

    Type = QGraphicsItem.UserType + 4
    outline_width = 1.5

    def __init__(self, step_key: int, numbers: list[int], font: QFont, color: QColor) -> None:
        super().__init__()
        self.step_key = step_key
        self.numbers = numbers
        self.text = ", ".join(str(n) for n in numbers)
        self.font = font
        self.color = color
        metrics = QFontMetricsF(font)
        height = metrics.height() + 6
        width = max(height, metrics.horizontalAdvance(self.text) + 14)
        self._rect = QRectF(-width / 2.0, -height / 2.0, width, height)
        self._bounds = self._rect.adjusted(-2, -2, 2, 2)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setZValue(5)
        self.setToolTip(
            "Step number" + ("s" if len(numbers) > 1 else "") + f" {html.escape(self.text)}"
            " on this run's path"
        )
