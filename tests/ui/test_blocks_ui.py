"""Blocks as a user makes and edits them: Ctrl+G, palette drops, opening, repeats, undo."""

from __future__ import annotations

import pytest
import torch
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialogButtonBox

from tests.ui.helpers import (
    click_node,
    double_click_node,
    drop_chain,
    drop_layer,
    node,
    press,
    type_into,
    wire,
)
from torchcanvas.app.ui.make_block_dialog import MakeBlockDialog
from torchcanvas.codegen.build import build_model

CTRL = Qt.KeyboardModifier.ControlModifier
CHAIN = ["Input", "Conv2d", "BatchNorm2d", "ReLU", "Flatten", "Linear", "Output"]


def conv_net(window, qtbot) -> None:
    """Input 1×28×28 → conv1 → bn1 → relu1 → flatten1 → linear1 → output1, by hand."""
    window.document.model.clear()
    window.document.undo.clear()
    drop_chain(window, qtbot, CHAIN)
    click_node(window, "conv1")
    type_into(qtbot, window.inspector.editors["padding"].widget, "1")
    qtbot.waitUntil(lambda: window.document.model.analysis().ok)


def make_block_by_keyboard(window, qtbot, names: list[str], block: str, expose: list[str]):
    """Select `names` by clicking (Ctrl for the rest), press Ctrl+G and fill the dialog."""
    click_node(window, names[0])
    for name in names[1:]:
        click_node(window, name, CTRL)
    assert len(window.scene.selected_nodes()) == len(names)
    press(window, Qt.Key.Key_G, CTRL)
    dialog = window.findChild(MakeBlockDialog)
    qtbot.waitUntil(dialog.isVisible)
    dialog.name.selectAll()
    qtbot.keyClicks(dialog.name, block)
    for text in expose:
        item = dialog.item_for(text)
        rect = dialog.params.visualItemRect(item)
        # The check box sits at the left of the row.
        QTest.mouseClick(
            dialog.params.viewport(),
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
            rect.topLeft() + QPointF(10, rect.height() / 2).toPoint(),
        )
        assert item.checkState() == Qt.CheckState.Checked
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()


def card(window, name: str):
    return window.scene.nodes[node(window, name)]


@pytest.mark.smoke
def test_make_block_place_two_edit_the_definition_undo_and_repeat(window, qtbot):
    conv_net(window, qtbot)
    model, library = window.document.model, window.document.model.library
    qtbot.waitUntil(lambda: "self.conv1" in window.code_view.source())
    code_before = window.code_view.source()
    make_block_by_keyboard(window, qtbot, ["conv1", "bn1", "relu1"], "ConvBlock", ["conv1.out_"])
    assert [model.node_type(n) for n in model.nodes()][1:] == [
        "Flatten",
        "Linear",
        "Output",
        "ConvBlock",
    ]
    assert [p.name for p in library.get("ConvBlock").params] == ["in_channels", "out_channels"]
    assert "ConvBlock" in [i.text(0) for i in window.palette.items()]  # In this project
    steps_before_edits = window.document.undo.index()

    # A second instance from the palette, wired after the first, with 8 output channels.
    drop_layer(window, "ConvBlock", QPointF(420, 300))
    window.view.fit()
    wire(window, "conv_block1", "conv_block2")
    wire(window, "conv_block2", "flatten1")
    click_node(window, "conv_block2")
    type_into(qtbot, window.inspector.editors["out_channels"].widget, "8")
    qtbot.waitUntil(lambda: card(window, "conv_block2").shape_text == "8×28×28")

    # Open the definition by double-clicking an instance; change the kernel size there.
    double_click_node(window, "conv_block1")
    qtbot.waitUntil(lambda: window.blocks.breadcrumb.text() == "Model ▸ ConvBlock")
    assert "changes apply to all 2 instances" in window.blocks.breadcrumb.hint.text()
    click_node(window, "conv1")
    type_into(qtbot, window.inspector.editors["kernel_size"].widget, "5")
    press(window, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: window.blocks.breadcrumb.text() == "Model")
    qtbot.waitUntil(lambda: card(window, "conv_block2").shape_text == "8×24×24")
    assert card(window, "conv_block1").shape_text == "16×26×26"
    qtbot.waitUntil(lambda: "kernel_size=5" in window.code_view.source())
    code = window.code_view.source()
    assert code.count("class ConvBlock(nn.Module):") == 1
    assert "self.conv_block1 = ConvBlock(1, 16)" in code
    assert "self.conv_block2 = ConvBlock(16, 8)" in code

    # Undo everything back to before the block: the layers and the code return.
    while window.document.undo.index() > steps_before_edits - 1:
        press(window, Qt.Key.Key_Z, CTRL)
    assert "ConvBlock" not in library and model.find("conv1") is not None
    qtbot.waitUntil(lambda: "class ConvBlock" not in window.code_view.source())
    assert sorted(model.node_type(n) for n in model.nodes()) == sorted(CHAIN)
    assert window.code_view.source() == code_before
    for _ in range(window.document.undo.count()):
        press(window, Qt.Key.Key_Z, CTRL | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: "kernel_size=5" in window.code_view.source())
    assert model.analysis().ok and card(window, "conv_block2").shape_text == "8×24×24"

    # Repeat the second instance three times: an nn.Sequential of three ConvBlocks.
    window.dialogs.int_answers = [3]
    click_node(window, "conv_block2")
    press(window, Qt.Key.Key_R, CTRL)
    qtbot.waitUntil(lambda: card(window, "conv_block2").count == 3)
    assert model.spec(node(window, "conv_block2")).type == "Sequential"
    qtbot.waitUntil(lambda: model.analysis().ok)
    keys = build_model(model).state_dict()
    for index in range(3):
        assert f"conv_block2.{index}.conv1.weight" in keys
    assert "conv_block2.3.conv1.weight" not in keys
    qtbot.waitUntil(
        lambda: "ConvBlock(16, 8), ConvBlock(8, 8), ConvBlock(8, 8)" in window.code_view.source()
    )


def test_open_a_resnet_stage_then_its_block_and_come_back(window, qtbot):
    window.document.open_example("resnet18")
    qtbot.waitUntil(lambda: len(window.scene.nodes) == 13)
    window.view.fit()
    double_click_node(window, "layer2")
    qtbot.waitUntil(lambda: window.blocks.breadcrumb.text() == "Model ▸ layer2")
    assert card(window, "block0").shape_text == "128×28×28"
    double_click_node(window, "block0")
    qtbot.waitUntil(lambda: window.blocks.breadcrumb.text() == "Model ▸ layer2 ▸ BasicBlock")
    # The shapes inside are those of layer2.0, the instance opened.
    assert card(window, "conv1").shape_text == "128×28×28"
    assert "layer2.0" in window.blocks.breadcrumb.hint.text()
    window.blocks.breadcrumb.buttons[0].click()
    qtbot.waitUntil(lambda: len(window.scene.nodes) == 13)
    assert window.document.graph is window.document.model


def test_a_problem_inside_a_block_opens_the_block_at_the_node(window, qtbot):
    window.document.open_example("resnet18")
    library = window.document.model.library
    inner = library.get("BasicBlock").graph
    window.document.navigator.open_definition("BasicBlock")
    click_node(window, "conv2")
    type_into(qtbot, window.inspector.editors["kernel_size"].widget, "4")
    window.blocks.breadcrumb.buttons[0].click()
    qtbot.waitUntil(lambda: window.problems.count() > 0 and "✖" in window.problems.item(0).text())
    item = window.problems.item(0)
    assert item.text().startswith("✖ layer1.0.add: cannot add 64x55x55 and 64x56x56")
    rect = window.problems.visualItemRect(item)
    QTest.mouseClick(window.problems.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: window.blocks.breadcrumb.text() == "Model ▸ layer1 ▸ BasicBlock")
    selected = [i.node for i in window.scene.selected_nodes()]
    assert selected == [inner.id_of("add")]
    # The shapes are layer1.0's, up to the node in trouble, which is red.
    assert card(window, "conv2").shape_text == "64×55×55"
    assert card(window, "add").severity == "error"


def test_a_built_in_block_from_the_palette_brings_its_definition_and_undo_takes_it(window, qtbot):
    window.document.new()
    library = window.document.model.library
    drop_layer(window, "Bottleneck", QPointF(200, 300))
    assert "Bottleneck" in library
    item = window.scene.nodes[window.document.last_added]
    assert item.openable and window.document.model.node_type(item.node) == "Bottleneck"
    press(window, Qt.Key.Key_Z, CTRL)
    assert "Bottleneck" not in library and len(window.document.model.nodes()) == 2


def test_bind_a_value_and_set_a_condition_in_the_inspector(window, qtbot):
    window.document.open_example("resnet18")
    graph = window.document.model.library.get("BasicBlock").graph
    window.document.navigator.open_definition("BasicBlock")
    click_node(window, "conv2")
    inspector = window.inspector
    inspector.bind_buttons["stride"].click()
    type_into(qtbot, inspector.bindings["stride"].edit, "stride")
    assert graph.params(graph.id_of("conv2"))["stride"].text == "stride"
    type_into(qtbot, inspector.bindings["stride"].edit, "strides")
    assert "strides is not a parameter of BasicBlock" in inspector.error.text()
    type_into(qtbot, inspector.when_edit, "stride == 1")
    assert graph.when(graph.id_of("conv2")).text == "stride == 1"
    inspector.bind_buttons["stride"].click()  # unbind: the value becomes a number again
    assert graph.params(graph.id_of("conv2")).get("stride", 1) == 1


def test_save_a_block_to_my_blocks_and_use_it_in_a_new_project(window, qtbot):
    conv_net(window, qtbot)
    make_block_by_keyboard(window, qtbot, ["conv1", "bn1"], "ConvBN", [])
    window.blocks._on_palette_action("save", "ConvBN")
    assert (window.document.blocks.folder / "ConvBN.json").exists()
    window.document.new()
    assert "ConvBN" not in window.document.model.library
    assert "ConvBN" in [i.text(0) for i in window.palette.items()]  # under My blocks
    drop_layer(window, "ConvBN", QPointF(200, 130))
    assert "ConvBN" in window.document.model.library
    window.view.fit()
    wire(window, "input", "conv_bn1")
    qtbot.waitUntil(lambda: card(window, "conv_bn1").shape_text == "16×8×8")  # new: 1×8×8


def test_expand_in_place_lists_the_layers_inside_with_their_shapes(window, qtbot):
    window.document.open_example("resnet18")
    window.view.fit()
    click_node(window, "layer3")
    press(window, Qt.Key.Key_E)
    item = card(window, "layer3")
    qtbot.waitUntil(lambda: item.inside is not None)
    assert item.inside == [("0", "BasicBlock", "256×14×14"), ("1", "BasicBlock", "256×14×14")]
    press(window, Qt.Key.Key_E)
    qtbot.waitUntil(lambda: item.inside is None)


def test_repeat_count_in_the_inspector_changes_the_stage(window, qtbot):
    window.document.open_example("resnet18")
    click_node(window, "layer4")
    window.inspector.count_row.spin.setFocus()
    window.inspector.count_row.spin.selectAll()
    qtbot.keyClicks(window.inspector.count_row.spin, "3")
    qtbot.keyClick(window.inspector.count_row.spin, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: card(window, "layer4").count == 3)
    model = build_model(window.document.model)
    assert "layer4.2.conv2.weight" in model.state_dict()
    with torch.no_grad():
        assert model(torch.randn(1, 3, 64, 64)).shape == (1, 1000)
    press(window, Qt.Key.Key_Z, CTRL)
    qtbot.waitUntil(lambda: card(window, "layer4").count == 2)


def test_ungroup_by_keyboard_puts_the_layers_back_with_the_instances_values(window, qtbot):
    conv_net(window, qtbot)
    make_block_by_keyboard(window, qtbot, ["conv1", "bn1", "relu1"], "ConvBlock", ["conv1.out_"])
    click_node(window, "conv_block1")
    type_into(qtbot, window.inspector.editors["out_channels"].widget, "12")
    model = window.document.model
    click_node(window, "conv_block1")
    press(window, Qt.Key.Key_G, CTRL | Qt.KeyboardModifier.ShiftModifier)
    assert sorted(model.node_type(n) for n in model.nodes()) == sorted(CHAIN)
    assert model.params(model.id_of("conv1"))["out_channels"] == 12
    qtbot.waitUntil(lambda: card(window, "relu1").shape_text == "12×28×28")
    press(window, Qt.Key.Key_Z, CTRL)
    assert model.find("conv_block1") is not None and model.find("conv1") is None
