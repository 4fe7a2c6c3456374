"""An edge: a curve from an output port to an input port, labelled with its tensor shape."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem

from torchcanvas.app.ui import style
from torchcanvas.graph.model import Edge


def curve(start: QPointF, end: QPointF) -> QPainterPath:
    """A top-to-bottom bezier; long straight drops bulge aside so they skip the cards between."""
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


class EdgeItem(QGraphicsPathItem):
    """One connection; selectable so that it can be deleted."""

    def __init__(self, edge: Edge) -> None:
        super().__init__()
        self.edge = edge
        self.label = ""
        self.setZValue(0)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setPen(QPen(style.EDGE, 1.8))

    def key(self) -> Edge:
        """The model edge this item draws."""
        return self.edge

    def route(self, start: QPointF, end: QPointF) -> None:
        """Redraw between two anchors."""
        self.setPath(curve(start, end))

    def set_label(self, text: str) -> None:
        """The tensor shape this edge carries."""
        if text != self.label:
            self.prepareGeometryChange()
            self.label = text
            self.update()

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(10)
        return stroker.createStroke(self.path())

    def boundingRect(self) -> QRectF:
        return super().boundingRect().united(self._label_rect()).adjusted(-4, -4, 4, 4)

    def _label_rect(self) -> QRectF:
        if not self.label:
            return QRectF()
        metrics = QFontMetricsF(style.font(8))
        width = metrics.horizontalAdvance(self.label) + 8
        middle = self.path().pointAtPercent(0.5)
        return QRectF(middle.x() - width / 2, middle.y() - 8, width, 16)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        color = style.SELECTED if self.isSelected() else style.EDGE
        painter.setPen(QPen(color, 2.4 if self.isSelected() else 1.8))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self.path())
        if self.label:
            rect = self._label_rect()
            painter.setPen(QPen(QColor("#c5cad3"), 1))
            painter.setBrush(QColor("#ffffff"))
            painter.drawRoundedRect(rect, 4, 4)
            painter.setPen(style.MUTED)
            painter.setFont(style.font(8))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self.label)
