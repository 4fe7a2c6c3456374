"""A card seen from afar: a box in its layer's colour whose name, type (a container's class
and ×N) and output shape are written at the menus' size on screen, as many lines as fit."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontInfo, QPainter, QPen
from PySide6.QtWidgets import QApplication

from torchcanvas.app.ui import style
from torchcanvas.app.ui.canvas import card_flags
from torchcanvas.app.ui.canvas.card_names import fit_name
from torchcanvas.graph.registry import CONTAINER

CARD_TEXT_PT = 9.0  # the card's name, type and shape; the menus' size at 100% on most desktops


def menu_pixels() -> int:
    """The menus' text height in pixels: the smallest text a card may show."""
    return QFontInfo(QApplication.font("QMenu")).pixelSize()


def readable_zoom() -> float:
    """The smallest zoom at which a full card's text is as large as the menus."""
    return menu_pixels() / QFontInfo(style.font(CARD_TEXT_PT)).pixelSize()


def kind_text(item) -> str:
    """What the card is: its type, or for a container what it holds and how many (×N)."""
    if item.spec.kind == CONTAINER and item.details:
        return item.details[0]
    return item.spec.type + (f" ×{item.count}" if item.count else "")


def paint_compact(item, painter: QPainter, zoom: float, border: QPen) -> None:
    """The box and its lines, each at the menus' pixel size however far the view is out."""
    rect = QRectF(0, 0, item.width, item.height())
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(border)
    pen.setWidthF(pen.widthF() / zoom)
    painter.setPen(pen)
    color = style.category_color(item.spec.category)
    painter.setBrush(card_flags.header_color(color, item.frozen))
    painter.drawRoundedRect(rect, 7, 7)
    font = QFont(style.font(CARD_TEXT_PT, bold=True))
    font.setPixelSize(max(1, round(menu_pixels() / zoom)))
    painter.setFont(font)
    metrics = painter.fontMetrics()
    room = rect.width() - 10 / zoom
    lines = [fit_name(item.name, metrics.horizontalAdvance, room), kind_text(item), item.shape_text]
    fitting = max(1, int(rect.height() / metrics.height()))
    shown = lines[:fitting]
    item.shown_name = shown[0]
    shown[1:] = [metrics.elidedText(t, Qt.TextElideMode.ElideRight, int(room)) for t in shown[1:]]
    painter.setPen(QColor("#ffffff"))
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "\n".join(shown))
