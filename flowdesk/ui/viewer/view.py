"""The diagram's view: wheel zoom anchored under the mouse, +/- keys, drag to pan, fit."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QContextMenuEvent, QKeyEvent, QMouseEvent, QPainter, QWheelEvent
from PySide6.QtWidgets import QFrame, QGraphicsView, QWidget

from flowdesk.ui.viewer.items import EdgeItem, EdgeLabelItem, NodeItem

MIN_SCALE = 0.1
MAX_SCALE = 4.0
STEP = 1.25
# Fitting never enlarges past this: a three-step flow should not fill the screen with 30 pt text.
FIT_MAX_SCALE = 1.0


class FlowView(QGraphicsView):
    nodeActivated = Signal(int)  # noqa: N815
    nodeClicked = Signal(int)  # noqa: N815
    # Right-click on a step (its key) or an arrow (its index in the graph's edges), and where.
    stepMenuRequested = Signal(int, object)  # noqa: N815
    edgeMenuRequested = Signal(int, object)  # noqa: N815
    zoomChanged = Signal(float)  # noqa: N815
    fitRequested = Signal()  # noqa: N815
    # The user zoomed or panned: an automatic fit must not undo that.
    userNavigated = Signal()  # noqa: N815
    resized = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Flow diagram")
        self.setAccessibleDescription(
            "Steps of the flow with the contacts who reached each one. Mouse wheel or plus and"
            " minus keys zoom, drag to pan, 0 fits the flow, Enter opens the selected step."
        )
        self.focused_key: int | None = None
        self._press_pos: QPointF | None = None

    # -- zoom ----------------------------------------------------------------------------------

    def scale_factor(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float, anchor_under_mouse: bool = False) -> None:
        current = self.scale_factor()
        target = min(MAX_SCALE, max(MIN_SCALE, current * factor))
        if abs(target - current) < 1e-9:
            return
        anchor = (
            QGraphicsView.ViewportAnchor.AnchorUnderMouse
            if anchor_under_mouse
            else QGraphicsView.ViewportAnchor.AnchorViewCenter
        )
        self.setTransformationAnchor(anchor)
        self.scale(target / current, target / current)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.zoomChanged.emit(target)

    def set_zoom(self, value: float) -> None:
        self.zoom_by(value / self.scale_factor())

    def fit_rect(self, rect: QRectF, max_scale: float = FIT_MAX_SCALE) -> None:
        if rect.isEmpty():
            return
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        scale = self.scale_factor()
        clamped = min(max_scale, max(MIN_SCALE, scale))
        if abs(clamped - scale) > 1e-9:
            self.scale(clamped / scale, clamped / scale)
        self.centerOn(rect.center())
        self.zoomChanged.emit(self.scale_factor())

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta().y()
        if delta == 0:
            super().wheelEvent(event)
            return
        self.zoom_by(STEP ** (delta / 120.0), anchor_under_mouse=True)
        self.userNavigated.emit()
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_by(STEP)
            self.userNavigated.emit()
        elif key in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
            self.zoom_by(1 / STEP)
            self.userNavigated.emit()
        elif key == Qt.Key.Key_0:
            self.fitRequested.emit()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if self.focused_key is not None:
                self.nodeActivated.emit(self.focused_key)
            else:
                super().keyPressEvent(event)
        else:
            super().keyPressEvent(event)

    # -- activation ----------------------------------------------------------------------------

    def node_at(self, pos: QPointF) -> NodeItem | None:
        for item in self.items(pos.toPoint()):
            while item is not None and not isinstance(item, NodeItem):
                item = item.parentItem()
            if isinstance(item, NodeItem):
                return item
        return None

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        node = self.node_at(QPointF(event.pos()))
        if node is not None:
            self.stepMenuRequested.emit(node.key, event.globalPos())
            return
        for item in self.items(event.pos()):
            if isinstance(item, EdgeItem):
                self.edgeMenuRequested.emit(item.index, event.globalPos())
                return
            if isinstance(item, EdgeLabelItem):
                self.edgeMenuRequested.emit(item.edge_index, event.globalPos())
                return
        super().contextMenuEvent(event)

    def resizeEvent(self, event) -> None:  # noqa: ANN001
        super().resizeEvent(event)
        self.resized.emit()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.userNavigated.emit()
        self._press_pos = event.position()
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        start, self._press_pos = self._press_pos, None
        if start is None or event.button() != Qt.MouseButton.LeftButton:
            return
        moved = event.position() - start
        if abs(moved.x()) + abs(moved.y()) <= 4:  # a click, not a drag
            node = self.node_at(event.position())
            if node is not None:
                self.nodeClicked.emit(node.key)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        node = self.node_at(event.position())
        if node is not None and event.button() == Qt.MouseButton.LeftButton:
            self.nodeActivated.emit(node.key)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)
