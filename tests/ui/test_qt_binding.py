"""Guard against Qt bindings that corrupt reference counts (see constraints.txt)."""

from __future__ import annotations

import gc
import sys

import pytest
from PySide6.QtGui import QColor, QFont, QImage, QPainter


@pytest.mark.slow
def test_void_calls_do_not_drain_none(qapp):
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    font = QFont()
    gc.collect()
    before = sys.getrefcount(None)
    for _ in range(2000):
        font.setBold(True)
        painter.setPen(QColor("#123456"))
    gc.collect()
    painter.end()
    assert sys.getrefcount(None) - before > -100, (
        "this PySide6 build leaks None; see constraints.txt"
    )
