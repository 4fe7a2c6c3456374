"""Frozen layers and learning-rate factors in the window: the card's menu and the Training
menu, the card, the Inspector, the Summary counts, undo and the exported code."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication

from tests.ui.helpers import click_node, node, press, type_into
from tests.ui.test_editor_menus import pick, right_click
from tests.ui.test_onnx_ui import menu_action
from tests.ui.test_summary_ui import click_tab
from torchcanvas.graph.summary import summarize, totals

CTRL = Qt.KeyboardModifier.ControlModifier


def _open_digits(window, qtbot) -> None:
    window.open_example("digits_cnn")
    qtbot.waitUntil(lambda: "conv2" in window.document.graph.names().values())
    window.view.fit()
    click_tab(window, "Summary")  # a tab behind Problems: it follows edits once shown
    qtbot.waitUntil(window.summary.table.isVisible)


def _card(window, name: str):
    return window.scene.nodes[node(window, name)]


def _frozen_text(window) -> str:
    window.scene.refresh_analysis()
    return window.summary.totals.text()


@pytest.mark.slow
def test_freeze_by_the_menus_shows_on_the_card_in_the_summary_and_in_the_code(window, qtbot):
    _open_digits(window, qtbot)
    click_node(window, "conv2")
    assert [item.node for item in window.scene.selected_nodes()] == [node(window, "conv2")]
    card = _card(window, "conv2")
    menu = right_click(window, card.scenePos() + QPointF(60, 30))
    pick(menu, "Freeze")
    # Offscreen, the closed menu stays the active window (and would take Ctrl+Z) until gone.
    menu.deleteLater()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is not menu)
    assert card.frozen and window.document.graph.flag(card.node, "frozen") is True
    total = totals(summarize(window.document.graph))[0]
    assert f"({total - 4640:,} trainable, 4,640 frozen)" in _frozen_text(window)
    qtbot.waitUntil(lambda: "self.conv2.requires_grad_(False)" in window.code_view.source())

    menu_action(window, "Training", "Unfreeze").trigger()
    assert not card.frozen and "frozen)" not in _frozen_text(window)
    press(window, Qt.Key.Key_Z, CTRL)  # undo the Unfreeze: frozen again
    assert card.frozen and window.document.graph.flag(card.node, "frozen") is True
    press(window, Qt.Key.Key_Z, CTRL)
    assert not card.frozen

    click_node(window, "fc1")
    menu_action(window, "Training", "Freeze Everything Before This Node").trigger()
    frozen = [n for n in ("conv1", "bn1", "conv2", "bn2", "pool") if _card(window, n).frozen]
    assert frozen == ["conv1", "bn1", "conv2", "bn2", "pool"] and not _card(window, "fc1").frozen
    assert "4,896 frozen)" in _frozen_text(window)
    qtbot.waitUntil(lambda: "self.bn1.eval()" in window.code_view.source())


@pytest.mark.slow
def test_the_inspector_sets_frozen_and_the_factor_and_the_lock_disables_it(window, qtbot):
    _open_digits(window, qtbot)
    click_node(window, "fc2")
    rows = window.inspector.flag_rows
    assert rows is not None and "batch-norm" in rows.frozen.toolTip()
    rows.frozen.click()
    card = _card(window, "fc2")
    assert card.frozen
    type_into(qtbot, rows.scale, "10")
    assert window.document.graph.flag(card.node, "lr_scale") == 10.0 and card.scale_text == "lr ×10"
    qtbot.waitUntil(lambda: 'lr_scales = {"fc2": 10.0}' in window.code_view.source())
    type_into(qtbot, rows.scale, "0")
    assert "greater than 0" in window.inspector.error.text()
    assert window.document.graph.flag(card.node, "lr_scale") == 10.0 and rows.scale.text() == "10"
    rows.scale.selectAll()
    qtbot.keyClick(rows.scale, Qt.Key.Key_Delete)  # an empty field: the run's own rate
    qtbot.keyClick(rows.scale, Qt.Key.Key_Return)
    assert card.scale_text == "" and window.document.graph.flag(card.node, "lr_scale") is None

    window.document.run.begin()
    assert not menu_action(window, "Training", "Freeze").isEnabled()
    window.document.run.end()
    assert menu_action(window, "Training", "Freeze").isEnabled()


@pytest.mark.slow
def test_a_block_frozen_by_the_menu_trains_unchanged_then_unfreezes_and_undoes(window, qtbot):
    """The whole flow: make a block of digits' first conv, batch norm and ReLU, freeze the
    instance by its card's menu, see it on the card and in the Summary, train, check the run
    left every tensor inside it bit-identical (the batch-norm statistics too), unfreeze, undo."""
    import torch

    from tests.ui.test_blocks_ui import make_block_by_keyboard
    from tests.ui.test_training_ui import LONG, open_digits
    from torchcanvas.app.train.core.loop import build_model
    from torchcanvas.codegen.build import compile_source
    from torchcanvas.codegen.emit import emit_module

    open_digits(window, epochs=2)
    window.view.fit()
    click_tab(window, "Summary")
    qtbot.waitUntil(window.summary.table.isVisible)
    make_block_by_keyboard(window, qtbot, ["conv1", "bn1", "relu1"], "Stem", [])
    block = next(
        n for n in window.document.graph.nodes() if window.document.graph.node_type(n) == "Stem"
    )
    card = window.scene.nodes[block]
    name = window.document.graph.node_name(block)
    window.view.fit()
    click_node(window, name)
    menu = right_click(window, card.scenePos() + QPointF(60, 30))
    pick(menu, "Freeze")
    menu.deleteLater()  # offscreen, the closed menu stays the active window until gone
    qtbot.waitUntil(lambda: QApplication.activeWindow() is not menu)
    assert card.frozen and "frozen)" in _frozen_text(window)
    result = emit_module(window.document.graph)
    cls = compile_source(result.source, result.class_name, "<start>")
    start = build_model(cls, 0, torch.device("cpu")).state_dict()  # the run's seeded start

    window.training_panel.train_button.click()
    qtbot.waitUntil(lambda: not window.training.running, timeout=4 * LONG)  # a busy machine
    assert window.training.session.final["type"] == "finished"
    trained = torch.load(window.training.weights_path, weights_only=True)
    inside = [k for k in start if k.startswith(f"{name}.")]
    assert any("running_mean" in k for k in inside)
    assert all(torch.equal(trained[k], start[k]) for k in inside)
    assert not torch.equal(trained["fc2.weight"], start["fc2.weight"])

    click_tab(window, "Summary")  # the run brought its own tabs forward
    click_node(window, name)
    menu_action(window, "Training", "Unfreeze").trigger()
    assert not card.frozen and "frozen)" not in _frozen_text(window)
    press(window, Qt.Key.Key_Z, CTRL)
    assert card.frozen and window.document.graph.flag(block, "frozen") is True
