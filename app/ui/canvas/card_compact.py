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

MIN_PIXELS = 6  # smaller letters are noise: such a card is a coloured box
LOCK_MIN_WIDTH = 80  # screen pixels a compact card needs to show its lock and a name
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
    # As many lines as fit at the menus' size; a card too small for one gets smaller letters,
    # and none below a legible size (a name drawn past the card's edges would hide others).
    lines_px = min(menu_pixels(), 0.7 * rect.height() * zoom)
    if lines_px < MIN_PIXELS:
        item.shown_name, item.shown_lines, item.shown_pixels = "", [], 0
        return
    font = QFont(style.font(CARD_TEXT_PT, bold=True))
    font.setPixelSize(max(1, round(lines_px / zoom)))
    painter.setFont(font)
    metrics = painter.fontMetrics()
    # The lock shows wherever there is room for it beside a name; the fill is muted anyway.
    locked = item.frozen and rect.width() * zoom >= LOCK_MIN_WIDTH
    lock = card_flags.LOCK_ROOM / zoom if locked else 0.0
    room = rect.width() - 10 / zoom - 2 * lock  # centred text clears the lock on both sides
    lines = [fit_name(item.name, metrics.horizontalAdvance, room), kind_text(item), item.shape_text]
    shown = lines[: max(1, int(rect.height() / metrics.height()))]
    shown[1:] = [_elide_keeping_count(metrics, text, room) for text in shown[1:]]
    item.shown_name, item.shown_lines, item.shown_pixels = shown[0], shown, round(lines_px)
    painter.setPen(QColor("#ffffff"))
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "\n".join(shown))
    if locked:
        _paint_lock_at_screen_size(painter, rect, zoom)


def _paint_lock_at_screen_size(painter: QPainter, rect: QRectF, zoom: float) -> None:
    """The header's padlock in the card's top right corner, as large on screen as on a full
    card at 100%, so a frozen layer reads as frozen however far the view is out."""
    painter.save()
    painter.translate(rect.right() - 4 / zoom, 0)
    painter.scale(1 / zoom, 1 / zoom)
    card_flags.paint_lock(painter, 0, min(card_flags.LOCK_ROOM + 6, rect.height() * zoom))
    painter.restore()


def _elide_keeping_count(metrics, text: str, room: float) -> str:
    """Elide at the right, but keep a trailing ×N whole: `Basic… ×2`, not `BasicBlock …`."""
    head, sep, count = text.rpartition(" ×")
    if not sep or metrics.horizontalAdvance(text) <= room:
        return metrics.elidedText(text, Qt.TextElideMode.ElideRight, int(room))
    tail = f" ×{count}"
    left = room - metrics.horizontalAdvance(tail)
    return metrics.elidedText(head, Qt.TextElideMode.ElideRight, max(0, int(left))) + tail
