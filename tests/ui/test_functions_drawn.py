"""F.normalize and masks drawn as a user does: palette drops, inspector edits, the code view."""

from __future__ import annotations

import pytest

from tests.ui.helpers import click_node, drop_chain, type_into

pytestmark = pytest.mark.gui


def _wait_code(qtbot, window, text: str) -> None:
    qtbot.waitUntil(lambda: text in window.code_view.source(), timeout=3000)


def test_draw_normalize_and_set_its_dimension_in_the_inspector(window, qtbot):
    names = drop_chain(window, qtbot, ["Input", "Normalize", "Output"])
    qtbot.waitUntil(lambda: window.document.model.analysis().ok)
    _wait_code(qtbot, window, "= F.normalize(x)")
    click_node(window, names[1])
    type_into(qtbot, window.inspector.editors["dim"].widget, "-1")
    _wait_code(qtbot, window, "= F.normalize(x, dim=-1)")


def test_draw_a_comparison_and_pick_its_operator_and_constant(window, qtbot):
    names = drop_chain(window, qtbot, ["Input", "ScalarCompare", "Output"])
    qtbot.waitUntil(lambda: window.document.model.analysis().ok)
    _wait_code(qtbot, window, "= x > 0")
    click_node(window, names[1])
    editors = window.inspector.editors
    qtbot.keyClicks(editors["op"].widget, "ne")
    type_into(qtbot, editors["value"].widget, "0.5")
    _wait_code(qtbot, window, "= x != 0.5")
