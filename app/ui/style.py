"""Colours and fonts shared by the canvas and panels."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont

CATEGORY_COLORS = {
    "Input / Output": "#5c6bc0",
    "Convolution": "#1e88e5",
    "Pooling": "#00897b",
    "Linear": "#8e24aa",
    "Activation": "#f4511e",
    "Normalization": "#6d4c41",
    "Regularization": "#757575",
    "Reshape": "#546e7a",
    "Merge": "#c0ca33",
    "Math": "#9e9d24",
    "Blocks": "#3949ab",
}
CANVAS_BG = QColor("#f5f6f8")
GRID = QColor("#e3e6eb")
CARD_BG = QColor("#ffffff")
CARD_BORDER = QColor("#b0b7c3")
SELECTED = QColor("#ff9800")
PROBLEM = QColor("#e53935")
PROBLEM_BG = QColor("#ffebee")
WARNING = QColor("#f9a825")
EDGE = QColor("#7a8494")
TEXT = QColor("#212121")
MUTED = QColor("#616161")


def category_color(category: str) -> QColor:
    """The header colour of a layer category."""
    return QColor(CATEGORY_COLORS.get(category, "#607d8b"))


def font(size: float = 9, bold: bool = False) -> QFont:
    """The UI font at `size` points."""
    result = QFont()
    result.setPointSizeF(size)
    result.setBold(bold)
    return result
