"""Ports on a card's sides, for the left-to-right layout: inputs down the left edge, outputs
down the right edge, each named beside its port when a side has several."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter

from torchcanvas.app.ui import style

SIDE_SPACING = 20.0  # between ports down a side
LABEL_INSET = 9.0  # clear of the port circle on the edge
SIDE_LABEL = 22.0  # room for a port's name beside it (the tooltip has the whole name)


def side_height(item, base: float) -> float:
    """A card tall enough for its ports down each side, below the header."""
    ports = max(len(item.in_ports), len(item.out_ports), 1)
    return max(base, item.header_height() + SIDE_SPACING * (ports + 0.5))


def place_sideways(item) -> None:
    """Inputs on the left edge, outputs on the right, spread below the header."""
    top, height = item.header_height(), item.height()
    for ports, x in ((item.in_ports, 0.0), (item.out_ports, item.width)):
        count = len(ports)
        for index, port in enumerate(ports.values()):
            port.setPos(x, top + (height - top) * (index + 1) / (count + 1))


def paint_side_labels(item, painter: QPainter) -> None:
    """Port names inside the card next to their ports, where a side has more than one."""
    painter.setFont(style.font(7))
    painter.setPen(style.MUTED)
    for ports, left in ((item.in_ports, True), (item.out_ports, False)):
        if len(ports) < 2:
            continue
        for port in ports.values():
            y = port.pos().y() - 7
            x = LABEL_INSET if left else item.width - SIDE_LABEL - LABEL_INSET
            box = QRectF(x, y, SIDE_LABEL, 14)
            align = Qt.AlignmentFlag.AlignLeft if left else Qt.AlignmentFlag.AlignRight
            text = painter.fontMetrics().elidedText(
                port.label, Qt.TextElideMode.ElideRight, int(SIDE_LABEL)
            )
            painter.drawText(box, align | Qt.AlignmentFlag.AlignVCenter, text)


def text_margins(item) -> tuple[float, float]:
    """Left and right room the card's text leaves for the port names on its sides."""
    if not item.sideways:
        return 8.0, 8.0
    left = 8.0 + (SIDE_LABEL if len(item.in_ports) > 1 else 0.0)
    right = 8.0 + (SIDE_LABEL if len(item.out_ports) > 1 else 0.0)
    return left, right
