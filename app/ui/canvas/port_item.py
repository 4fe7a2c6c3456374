"""A card's port: an input or output circle that wires start from and end on."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QBrush, QColor, QCursor, QPen
from PySide6.QtWidgets import QGraphicsEllipseItem

from torchcanvas.app.ui import style
from torchcanvas.app.ui.canvas.card_text import port_tip

PORT_RADIUS = 6.0

# Pens and brushes are copied by Qt, so one of each serves every port (a big graph has tens
# of thousands).
_CROSS: list[QCursor] = []  # made with the first port: a QCursor needs the application
_PORT_BRUSH = QBrush(QColor("#ffffff"))
_PORT_PEN = QPen(style.EDGE, 1.5)
_OPTIONAL_PEN = QPen(style.EDGE, 1.5, Qt.PenStyle.DotLine)


class PortItem(QGraphicsEllipseItem):
    """An input or output port; drags between ports make connections."""

    def __init__(self, node, kind: str, name: str, label: str, optional: bool = False) -> None:
        r = PORT_RADIUS
        super().__init__(-r, -r, 2 * r, 2 * r, node)
        self.node, self.kind, self.name, self.label = node, kind, name, label
        self.optional = optional
        self._tip: tuple | None = None  # what the tooltip is made from
        self._tip_written = True
        self.setBrush(_PORT_BRUSH)
        # An optional input (a mask, an initial state) is dashed.
        self.setPen(_OPTIONAL_PEN if optional else _PORT_PEN)
        self.setAcceptHoverEvents(True)
        self.setZValue(2)
        if not _CROSS:
            _CROSS.append(QCursor(Qt.CursorShape.CrossCursor))
        self.setCursor(_CROSS[0])

    def hoverEnterEvent(self, event) -> None:
        self._write_tip()  # the pointer arrives before Qt asks for the tooltip
        self.setBrush(QBrush(style.SELECTED))
        super().hoverEnterEvent(event)

    def hoverLeaveEvent(self, event) -> None:
        self.setBrush(_PORT_BRUSH)
        super().hoverLeaveEvent(event)

    def anchor(self) -> QPointF:
        """Where edges attach, in scene coordinates."""
        return self.scenePos()

    def set_tip(self, name: str, doc: str, value) -> None:
        """The tooltip: name, doc and the value on the port."""
        # Written when first wanted (the pointer arrives, or toolTip() is asked): a big graph
        # has tens of thousands of ports, and few are ever hovered.
        if (name, doc, value) != self._tip:
            self._tip, self._tip_written = (name, doc, value), False

    def toolTip(self) -> str:
        """The tooltip, written first if the port's value changed since."""
        self._write_tip()
        return super().toolTip()

    def _write_tip(self) -> None:
        if not self._tip_written:
            self._tip_written = True
            self.setToolTip(port_tip(*self._tip))
