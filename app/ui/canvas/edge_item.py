"""An edge: a curve from an output port to an input port, labelled with its tensor shape."""

from __future__ import annotations

import functools

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
)
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QStyleOptionGraphicsItem

from torchcanvas.app.ui import style
from torchcanvas.app.ui.canvas.node_item import COMPACT_ZOOM
from torchcanvas.app.ui.canvas.routing import SWAP
from torchcanvas.graph.model import Edge


def curve(start: QPointF, end: QPointF, sideways: bool = False) -> QPainterPath:
    """A top-to-bottom bezier (left to right when `sideways`); long straight drops bulge
    aside so they skip the cards between."""
    if sideways:
        return SWAP.map(curve(SWAP.map(start), SWAP.map(end)))
    path = QPainterPath(start)
    dy = end.y() - start.y()
    dx = end.x() - start.x()
    if dy < 20:  # going up or sideways: loop out and back in
        reach = max(60.0, abs(dy) / 2)
        path.cubicTo(start + QPointF(0, reach), end - QPointF(0, reach), end)
        return path
    bulge = min(220.0, dy * 0.35) if dy > 180 and abs(dx) < 60 else 0.0
    path.cubicTo(start + QPointF(bulge, dy * 0.45), end + QPointF(bulge, -dy * 0.45), end)
    return path


_SELECTABLE = QGraphicsItem.GraphicsItemFlag.ItemIsSelectable  # PySide enums are slow to read
_PEN = QPen(style.EDGE, 1.8)
_BUNDLE_PEN = QPen(style.EDGE, 3.2)  # a wire that stands for many edges
_PAINT: dict = {}  # what paint() uses, made once (the font needs the application)


def _paint_kit() -> dict:
    """Pens, brushes, font and flags for paint(), made on the first call."""
    # Every visible edge is painted on each repaint; building these there cost more than
    # drawing.
    if not _PAINT:
        _PAINT.update(
            {
                "antialias": QPainter.RenderHint.Antialiasing,
                "selected": QPen(style.SELECTED, 2.4),
                "no brush": Qt.BrushStyle.NoBrush,
                "label pen": QPen(QColor("#c5cad3"), 1),
                "label brush": QBrush(QColor("#ffffff")),
                "font": style.font(8),
                "centre": Qt.AlignmentFlag.AlignCenter,
            }
        )
    return _PAINT


@functools.lru_cache(maxsize=4096)
def _label_width(text: str) -> float:
    """The width of a shape label; a graph has few distinct shapes, on many edges."""
    return QFontMetricsF(style.font(8)).horizontalAdvance(text)


class EdgeItem(QGraphicsPathItem):
    """One connection; selectable so that it can be deleted."""

    def __init__(self, edge: Edge) -> None:
        super().__init__()
        self.edge = edge
        self.label = ""
        self.count = 1  # the edges this wire stands for (see edge_bundles)
        # Qt asks for the bounds many times per item (index, paint, fit): worked out once per
        # path or label, not each time (it measured text and walked the curve every call).
        self._bounds: QRectF | None = None
        self._stroke: QPainterPath | None = None
        self._label_box: QRectF | None = None
        self.setFlag(_SELECTABLE)  # z stays 0, under the cards
        self.setPen(_PEN)

    def key(self) -> Edge:
        """The model edge this item draws."""
        return self.edge

    def route(self, start: QPointF, end: QPointF, sideways: bool = False) -> None:
        """Redraw between two anchors."""
        self.set_route(curve(start, end, sideways))

    def set_route(self, path: QPainterPath) -> None:
        """Redraw along `path` (a curve, or a lane around cards)."""
        self.setPath(path)  # asks for the old bounds first: still cached
        self._bounds = self._stroke = self._label_box = None

    def set_label(self, text: str) -> None:
        """The tensor shape this edge carries."""
        if text != self.label:
            self.prepareGeometryChange()
            self.label = text
            self._bounds = self._label_box = None
            self.update()

    def set_count(self, count: int) -> None:
        """Stand for `count` parallel edges: a thicker wire, ×count after the shape."""
        if count != self.count:
            self.prepareGeometryChange()
            self.count = count
            self._bounds = self._label_box = None
            self.setPen(_PEN if count == 1 else _BUNDLE_PEN)
            self.update()

    def text(self) -> str:
        """What the label says: the shape, and how many edges a bundle stands for."""
        if self.count == 1:
            return self.label
        return f"{self.label} ×{self.count}" if self.label else f"×{self.count}"

    def shape(self) -> QPainterPath:
        if self._stroke is None:
            stroker = QPainterPathStroker()
            stroker.setWidth(10)
            self._stroke = stroker.createStroke(self.path())
        return self._stroke

    def boundingRect(self) -> QRectF:
        if self._bounds is None:
            # The curve lies within its control points, and the label is centred on the
            # curve: bounds without measuring the curve (the label's place, halfway along it,
            # costs more than the rest of the edge; it is found when the edge is painted).
            # 8 covers the 10-wide stroke that shape() gives, caps included.
            text = self.text()
            side = max(8.0, (_label_width(text) + 8) / 2) if text else 8.0
            rect = self.path().controlPointRect().adjusted(-side, -8, side, 8)
            self._bounds = rect.adjusted(-4, -4, 4, 4)
        return self._bounds

    def _label_rect(self) -> QRectF:
        if self._label_box is None:
            self._label_box = QRectF()
            if self.text():
                width = _label_width(self.text()) + 8
                middle = self.path().pointAtPercent(0.5)
                self._label_box = QRectF(middle.x() - width / 2, middle.y() - 8, width, 16)
        return self._label_box

    def paint(self, painter: QPainter, option, widget=None) -> None:
        kit = _paint_kit()
        crowded = self.scene().crowded  # see GraphScene.drawBackground
        zoom = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        small = zoom < COMPACT_ZOOM  # compact cards: shape labels would be specks
        painter.setRenderHint(kit["antialias"], not crowded)
        painter.setPen(
            kit["selected"] if self.isSelected() else _PEN if self.count == 1 else _BUNDLE_PEN
        )
        painter.setBrush(kit["no brush"])
        painter.drawPath(self.path())
        if self.text() and not crowded and not small:
            rect = self._label_rect()
            painter.setPen(kit["label pen"])
            painter.setBrush(kit["label brush"])
            painter.drawRoundedRect(rect, 4, 4)
            painter.setPen(style.MUTED)
            painter.setFont(kit["font"])
            painter.drawText(rect, kit["centre"], self.text())
