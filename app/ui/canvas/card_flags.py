"""How a card shows its training flags: a frozen layer's muted fill and header lock, and a
learning-rate factor other than 1 ("lr ×10")."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen

from torchcanvas.app.ui import style

FROZEN_BG = QColor("#eceff1")  # grey-blue: the card still reads, but as "held still"
LOCK_ROOM = 14.0  # header width the lock takes from the name


def header_color(color: QColor, frozen: bool) -> QColor:
    """The header's colour: the category's, greyed when frozen."""
    if not frozen:
        return color
    hue, saturation, value, alpha = color.getHsv()
    return QColor.fromHsv(max(hue, 0), saturation // 3, min(255, value * 3 // 4 + 40), alpha)


def scale_text(scale) -> str:
    """'lr ×10' for a factor other than 1, else ''."""
    return f"lr ×{scale:g}" if scale is not None and scale != 1 else ""


def paint_lock(painter: QPainter, right: float, header: float) -> None:
    """A small padlock (drawn, not a font glyph) ending at `right`, centred in the header."""
    body = QRectF(right - 10, header / 2 - 2, 10, 7)
    shackle = QPainterPath()
    shackle.moveTo(body.left() + 2, body.top())
    shackle.lineTo(body.left() + 2, body.top() - 2.5)
    shackle.arcTo(QRectF(body.left() + 2, body.top() - 6, 6, 6), 180, -180)
    shackle.lineTo(body.right() - 2, body.top())
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(QColor("#ffffff"), 1.4))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawPath(shackle)
    painter.fillRect(body, QColor("#ffffff"))
    painter.restore()


def paint_scale(painter: QPainter, text: str, width: float, y: float, line: float) -> None:
    """The factor in small text at the right of the card's shape line."""
    painter.setFont(style.font(7.5))
    painter.setPen(style.MUTED)
    room = QRectF(8, y, width - 16, line)
    painter.drawText(room, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, text)
