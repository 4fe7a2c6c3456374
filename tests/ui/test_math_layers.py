"""Math layers drawn as a user does: palette drops, wires, inspector edits, the code view."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.ui.helpers import click_node, drop_chain, type_into

pytestmark = pytest.mark.gui


def _wait_code(qtbot, window, text: str) -> None:
    qtbot.waitUntil(lambda: text in window.code_view.source(), timeout=3000)


def test_draw_a_constant_op_and_exp_from_the_palette_and_the_inspector(window, qtbot):
    names = drop_chain(window, qtbot, ["Input", "ScalarOp", "Exp", "RandnLike", "Output"])
    model = window.document.model
    qtbot.waitUntil(lambda: model.analysis().ok)
    _wait_code(qtbot, window, "x = torch.exp(x * 0.5)")
    click_node(window, names[1])
    editors = window.inspector.editors
    qtbot.keyClicks(editors["op"].widget, "sub")
    editors["reverse"].widget.setFocus()
    qtbot.keyClick(editors["reverse"].widget, Qt.Key.Key_Space)
    type_into(qtbot, editors["value"].widget, "1")
    _wait_code(qtbot, window, "x = torch.exp(1 - x)")
    _wait_code(qtbot, window, "x = torch.randn_like(x)")
