"""The overview map: the whole flow in miniature with the part on screen framed.

A picture of the scene is rendered once per graph, highlight or palette (``refresh``), so
scrolling a 500-step flow repaints one pixmap and a rectangle, not the scene. Clicking or
dragging on the map moves the main view there. The map shows itself only when part of the flow
is off screen.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QFrame, QGraphicsItem, QGraphicsView

MAP_SIZE = QSize(220, 150)
MARGIN = 12


class Minimap(QFrame):
    """An overlay in the bottom-right corner of ``view``; ``navigated`` when the user moves it."""

    navigated = Signal()

    def __init__(self, view: QGraphicsView) -> None:
        super().__init__(view)
        self._view = view
        self._pixmap = QPixmap()
        self._scene_rect = QRectF()
        self.setFrameShape(QFrame.Shape.Box)
        self.setAccessibleName("Flow overview map")
        self.setToolTip("The whole flow: click or drag to move the view")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.resize(MAP_SIZE)
        view.horizontalScrollBar().valueChanged.connect(self.update)
        view.verticalScrollBar().valueChanged.connect(self.update)
        self.hide()

    # -- content -------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Render the scene again (after a new graph, a highlight or a palette change)."""
        scene = self._view.scene()
        self._scene_rect = scene.sceneRect() if scene is not None else QRectF()
        if scene is None or self._scene_rect.isEmpty():
            self._pixmap = QPixmap()
        else:
            size = self._scene_rect.size().scaled(
                MAP_SIZE.width() - 4, MAP_SIZE.height() - 4, Qt.AspectRatioMode.KeepAspectRatio
            )
            self._pixmap = QPixmap(max(1, int(size.width())), max(1, int(size.height())))
            self._pixmap.fill(self.palette().base().color())
            painter = QPainter(self._pixmap)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            scene.render(painter, QRectF(self._pixmap.rect()), self._scene_rect)
            painter.end()
            # Qt keeps one "needs repainting" mark per cached item, not one per view: the render
            # above used up the marks of cards just changed, and the diagram would show those
            # off screen from their old cached pictures when scrolled to. Mark them again.
            for item in scene.items():
                if item.cacheMode() != QGraphicsItem.CacheMode.NoCache:
                    item.update()
            self.resize(self._pixmap.width() + 4, self._pixmap.height() + 4)
        self.place()

    def place(self) -> None:
        """Stay in the view's bottom-right corner; show only when the flow is not all in view."""
        viewport = self._view.viewport()
        self.move(
            max(0, viewport.width() - self.width() - MARGIN),
            max(0, viewport.height() - self.height() - MARGIN),
        )
        # Needed when the flow at this zoom is bigger than the view (parts are off screen).
        scale = self._view.transform().m11()
        needed = not self._pixmap.isNull() and (
            self._scene_rect.width() * scale > viewport.width() + 2
            or self._scene_rect.height() * scale > viewport.height() + 2
        )
        fits = viewport.width() > self.width() * 2 and viewport.height() > self.height() * 2
        self.setVisible(needed and fits)
        self.update()

    def _visible_scene_rect(self) -> QRectF:
        return self._view.mapToScene(self._view.viewport().rect()).boundingRect()

    # -- geometry ------------------------------------------------------------------------------

    def _image_rect(self) -> QRectF:
        x = (self.width() - self._pixmap.width()) / 2
        y = (self.height() - self._pixmap.height()) / 2
        return QRectF(x, y, self._pixmap.width(), self._pixmap.height())

    def _to_map(self, rect: QRectF) -> QRectF:
        image = self._image_rect()
        sx = image.width() / self._scene_rect.width()
        sy = image.height() / self._scene_rect.height()
        return QRectF(
            image.x() + (rect.x() - self._scene_rect.x()) * sx,
            image.y() + (rect.y() - self._scene_rect.y()) * sy,
            rect.width() * sx,
            rect.height() * sy,
        )

    def scene_point(self, point: QPointF) -> QPointF:
        """The scene point under a point of the map."""
        image = self._image_rect()
        fx = (point.x() - image.x()) / max(1.0, image.width())
        fy = (point.y() - image.y()) / max(1.0, image.height())
        return QPointF(
            self._scene_rect.x() + fx * self._scene_rect.width(),
            self._scene_rect.y() + fy * self._scene_rect.height(),
        )

    def frame_rect(self) -> QRectF:
        """Where the map draws the part of the flow on screen (map coordinates)."""
        return self._to_map(self._visible_scene_rect()).intersected(self._image_rect())

    # -- events --------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self._pixmap.isNull():
            return
        painter = QPainter(self)
        painter.drawPixmap(self._image_rect().topLeft(), self._pixmap)
        accent = self.palette().highlight().color()
        fill = QColor(accent)
        fill.setAlpha(40)
        painter.setPen(QPen(accent, 2))
        painter.setBrush(fill)
        painter.drawRect(self.frame_rect())
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._move_view(event.position())
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._move_view(event.position())
        event.accept()

    def _move_view(self, point: QPointF) -> None:
        if self._pixmap.isNull():
            return
        self.navigated.emit()
        self._view.centerOn(self.scene_point(point))
        self.update()
