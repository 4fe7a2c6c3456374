"""GraphView: zoom around the cursor, pan (middle button or space), drops from the palette."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, Qt, Signal
from PySide6.QtGui import QMouseEvent, QPainter
from PySide6.QtWidgets import QGraphicsView

from torchcanvas.app.ui.canvas.card_compact import readable_zoom
from torchcanvas.app.ui.canvas.minimap import Minimap

LAYER_MIME = "application/x-torchcanvas-layer"
MIN_ZOOM, MAX_ZOOM = 0.1, 3.0
_ARROWS = {
    Qt.Key.Key_Left: (-1, 0),
    Qt.Key.Key_Right: (1, 0),
    Qt.Key.Key_Up: (0, -1),
    Qt.Key.Key_Down: (0, 1),
}


class GraphView(QGraphicsView):
    """The canvas widget."""

    layer_dropped = Signal(str, QPointF)  # layer type, scene position
    zoom_changed = Signal(float)
    quick_add_requested = Signal()  # Tab: a search box to add a layer at the cursor
    nudge_requested = Signal(float, float)  # an arrow key: move the selection by (dx, dy)
    clicked = Signal()  # a left press handled (the selection is as the click left it)

    def __init__(self, scene, parent=None) -> None:
        super().__init__(scene, parent)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setAcceptDrops(True)
        self._space = False
        self._panning = False
        self.minimap = Minimap(self)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.minimap.follow_view()

    def zoom(self) -> float:
        """Current scale factor."""
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        """Zoom by `factor`, within limits, around the cursor."""
        target = max(MIN_ZOOM, min(MAX_ZOOM, self.zoom() * factor))
        factor = target / self.zoom()
        if abs(factor - 1) > 1e-6:
            self.scale(factor, factor)
            self.zoom_changed.emit(self.zoom())

    def fit(self) -> None:
        """Show every node."""
        self._fit(self._bounds())

    def _bounds(self):
        """The bounds of the scene's cards and edges."""
        return self.scene().content_bounds()

    def _fit(self, bounds) -> None:
        """fit() with the bounds of the scene's items already worked out."""
        rect = bounds.adjusted(-40, -40, 40, 40)
        if rect.isValid():
            self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
            if self.zoom() > 1.2:
                self.resetTransform()
                self.scale(1.2, 1.2)
                self.centerOn(rect.center())
            self.zoom_changed.emit(self.zoom())

    def show_top(self, min_zoom: float | None = None) -> None:
        """Start view: the whole graph when its cards' text is then as large as the menus'; a
        graph too big for that shows its top (left to right: its left end) at that zoom, or
        at `min_zoom` when given."""
        min_zoom = readable_zoom() if min_zoom is None else min_zoom
        bounds = self._bounds()
        rect = bounds.adjusted(-40, -30, 40, 30)
        if not rect.isValid():
            return
        self._fit(bounds)
        if self.zoom() >= min_zoom:
            return
        self.resetTransform()
        self.scale(min_zoom, min_zoom)
        visible = self.mapToScene(self.viewport().rect()).boundingRect()
        if getattr(self.scene(), "direction", "down") == "right":  # the start is the left end
            self.centerOn(rect.left() + visible.width() / 2, rect.center().y())
        else:
            self.centerOn(rect.center().x(), rect.top() + visible.height() / 2)
        self.zoom_changed.emit(self.zoom())

    def wheelEvent(self, event) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom_by(1.15**steps)
        event.accept()

    # ----- keys and panning ---------------------------------------------------------
    def event(self, event) -> bool:
        # Tab reaches keyPressEvent only if focus chaining does not take it first.
        if event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Tab:
            self.quick_add_requested.emit()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:
        step = _ARROWS.get(event.key())
        if step is not None and self.scene().selected_nodes():
            fine = event.modifiers() & Qt.KeyboardModifier.ShiftModifier
            size = 2.0 if fine else 20.0  # Shift: a fine nudge; else one grid step
            self.nudge_requested.emit(step[0] * size, step[1] * size)
            return
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
            return
        super().keyReleaseEvent(event)

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.MiddleButton:
            self._panning = True
            self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
            super().mousePressEvent(_as_left(event, QEvent.Type.MouseButtonPress))
            return
        super().mousePressEvent(event)
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()

    def mouseReleaseEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.MiddleButton and self._panning:
            super().mouseReleaseEvent(_as_left(event, QEvent.Type.MouseButtonRelease))
            self._panning = False
            self.setDragMode(
                QGraphicsView.DragMode.ScrollHandDrag
                if self._space
                else QGraphicsView.DragMode.RubberBandDrag
            )
            return
        super().mouseReleaseEvent(event)

    # ----- drops from the palette -------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasFormat(LAYER_MIME):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasFormat(LAYER_MIME):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event) -> None:
        if event.mimeData().hasFormat(LAYER_MIME):
            type_name = bytes(event.mimeData().data(LAYER_MIME)).decode("utf-8")
            self.layer_dropped.emit(type_name, self.mapToScene(event.position().toPoint()))
            event.acceptProposedAction()
        else:
            super().dropEvent(event)


def _as_left(event, kind) -> QMouseEvent:
    """The same mouse event with the left button, so ScrollHandDrag pans on the middle one."""
    buttons = (
        event.buttons() | Qt.MouseButton.LeftButton
        if kind == QEvent.Type.MouseButtonPress
        else Qt.MouseButton.NoButton
    )
    return QMouseEvent(
        kind,
        event.position(),
        event.globalPosition(),
        Qt.MouseButton.LeftButton,
        buttons,
        event.modifiers(),
    )
