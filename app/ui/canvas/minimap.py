"""The minimap: the whole graph in a corner of the canvas, with the part in view outlined.

Shown only when the graph is bigger than the view, in a corner where it covers no card or
port; when every corner has one, it fades and lets clicks through to them. Click or drag on it
to move the view.
Cards are drawn as boxes in their layer's colour from the scene's cached positions and
sizes (no item is painted twice), and redrawn after each change of the graph.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRect, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QGraphicsOpacityEffect, QWidget

from torchcanvas.app.ui import style
from torchcanvas.app.ui.canvas.node_item import NodeItem
from torchcanvas.app.ui.canvas.port_item import PortItem

SIZE = (200, 150)
MARGIN = 12
SMALLER = 0.6  # the map shrinks to this before it fades over cards
FADED = 0.3  # opacity over cards: they show through, and clicks reach them


class Minimap(QWidget):
    """An overlay on the view's viewport."""

    def __init__(self, view) -> None:
        super().__init__(view.viewport())
        self.view = view
        self.resize(*SIZE)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("The whole graph: click or drag to move the view")
        self._bounds = QRectF()
        self._picture: QPixmap | None = None
        self._redraw = QTimer(self, singleShot=True, interval=120)
        self._redraw.timeout.connect(self.rebuild)
        self._fade = QGraphicsOpacityEffect(self, opacity=FADED)
        self._fade.setEnabled(False)
        self.setGraphicsEffect(self._fade)
        scene = view.scene()  # after each edit and each drag; not on every repaint
        scene.analysis_updated.connect(lambda _analysis: self._redraw.start())
        scene.nodes_dragged.connect(lambda _old, _new: self._redraw.start())
        view.horizontalScrollBar().valueChanged.connect(self.follow_view)
        view.verticalScrollBar().valueChanged.connect(self.follow_view)
        view.zoom_changed.connect(lambda _z: self.follow_view())
        self.hide()

    def schedule(self) -> None:
        """Redraw soon (the cards moved without an edit the minimap hears of)."""
        self._redraw.start()

    def rebuild(self) -> None:
        """Draw the cards again (the graph changed) and decide whether to show."""
        scene = self.view.scene()
        self._bounds = scene.content_bounds()
        picture = QPixmap(self.size())
        picture.fill(QColor(250, 250, 252, 235))
        painter = QPainter(picture)
        for item in scene.nodes.values():
            box = self._to_map(QRectF(item.x(), item.y(), item.width, item.height()))
            painter.fillRect(box.adjusted(0, 0, 1, 1), style.category_color(item.spec.category))
        painter.end()
        self._picture = picture
        self.follow_view()

    def follow_view(self) -> None:
        """Show or hide (the graph fits the view or not) and outline what is in view."""
        seen = self._seen()
        needed = not self._bounds.isEmpty() and not seen.contains(self._bounds)
        self.setVisible(needed)
        if needed:
            viewport = self.view.viewport()
            # At most a quarter of a small canvas's width and a third of its height.
            width = int(min(SIZE[0], viewport.width() * 0.25))
            height = int(min(SIZE[1], viewport.height() * 0.34))
            rect = self._free_place(viewport.width(), viewport.height(), width, height)
            faded = rect is None
            rect = rect or self._corners(viewport.width(), viewport.height(), width, height)[0]
            if rect.size() != self.size():
                self.resize(rect.size())
                self._redraw.start()
            self.move(rect.topLeft())
            self._fade.setEnabled(faded)
            self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, faded)
            self.update()

    def _free_place(self, view_w: int, view_h: int, width: int, height: int) -> QRect | None:
        """The first corner (bottom right first), at full then at a smaller size, where the
        map covers no card or port; None when there is none."""
        for scale in (1.0, SMALLER):
            for rect in self._corners(view_w, view_h, int(width * scale), int(height * scale)):
                if not self._covers_cards(rect):
                    return rect
        return None

    @staticmethod
    def _corners(view_w: int, view_h: int, width: int, height: int) -> list[QRect]:
        right, bottom = view_w - width - MARGIN, view_h - height - MARGIN
        points = [(right, bottom), (MARGIN, bottom), (right, MARGIN), (MARGIN, MARGIN)]
        return [QRect(x, y, width, height) for x, y in points]

    def _covers_cards(self, rect: QRect) -> bool:
        """Whether the map at `rect` (viewport pixels) would hide part of a card or port."""
        scene = self.view.scene()
        if scene is None:  # the window is closing
            return False
        area = self.view.mapToScene(rect).boundingRect()
        items = scene.items(area)  # the scene's index: cheap on a huge graph
        return any(isinstance(item, NodeItem | PortItem) for item in items)

    def faded(self) -> bool:
        """Whether the map is shown over a card or port (then it is faded)."""
        return self.isVisible() and self._fade.isEnabled()

    def _seen(self) -> QRectF:
        return self.view.mapToScene(self.view.viewport().rect()).boundingRect()

    def _scale(self) -> float:
        b = self._bounds
        return min((self.width() - 8) / max(b.width(), 1), (self.height() - 8) / max(b.height(), 1))

    def _origin(self) -> QPointF:
        """Where the graph's top-left corner is drawn: the graph centred in the map."""
        k, b = self._scale(), self._bounds
        return QPointF((self.width() - b.width() * k) / 2, (self.height() - b.height() * k) / 2)

    def _to_map(self, rect: QRectF) -> QRectF:
        k, b, o = self._scale(), self._bounds, self._origin()
        left, top = o.x() + (rect.x() - b.x()) * k, o.y() + (rect.y() - b.y()) * k
        return QRectF(left, top, rect.width() * k, rect.height() * k)

    def _to_scene(self, point: QPointF) -> QPointF:
        k, b, o = self._scale(), self._bounds, self._origin()
        return QPointF(b.x() + (point.x() - o.x()) / k, b.y() + (point.y() - o.y()) / k)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        if self._picture is not None:
            painter.drawPixmap(0, 0, self._picture)
        painter.setPen(QPen(style.SELECTED, 1.5))
        painter.drawRect(self._to_map(self._seen()).intersected(QRectF(self.rect())))
        painter.setPen(QPen(QColor("#9aa0aa"), 1))
        painter.drawRect(QRectF(self.rect()).adjusted(0, 0, -1, -1))

    def mousePressEvent(self, event) -> None:
        self.view.centerOn(self._to_scene(event.position()))
        event.accept()

    def mouseMoveEvent(self, event) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.view.centerOn(self._to_scene(event.position()))
        event.accept()
