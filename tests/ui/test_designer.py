"""The designer as a user drives it: palette drops, wiring ports, inspector edits, undo, files."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from tests.conftest import EXAMPLES
from tests.ui.helpers import click_node, drag, drop_layer, node, press, type_into, wire
from torchcanvas.graph.model import Edge

CHAIN = [("Input", 0), ("Conv2d", 1), ("ReLU", 2), ("Flatten", 3), ("Linear", 4), ("Output", 5)]
CTRL = Qt.KeyboardModifier.ControlModifier


def build_chain(window, qtbot) -> list[str]:
    """Drop the chain from the palette and wire it by dragging between ports; returns names."""
    window.document.model.clear()
    window.document.undo.clear()
    for type_name, row in CHAIN:
        drop_layer(window, type_name, QPointF(95, row * 130))
    model = window.document.model
    names = [model.node_name(n) for n in model.nodes()]
    assert [model.node_type(n) for n in model.nodes()] == [t for t, _ in CHAIN]
    window.view.fit()
    for src, dst in zip(names, names[1:]):
        wire(window, src, dst)
    qtbot.waitUntil(
        lambda: window.scene.edges and all(e.label for e in window.scene.edges.values())
    )
    return names


def edge_label(window, src: str, dst: str) -> str:
    return next(
        item.label
        for edge, item in window.scene.edges.items()
        if (edge.src, edge.dst) == (node(window, src), node(window, dst))
    )


def test_drop_from_the_palette_adds_a_node_where_dropped(window):
    drop_layer(window, "Conv2d", QPointF(300, 200))
    model = window.document.model
    (conv,) = model.nodes()
    assert model.node_name(conv) == "conv1"
    x, y = model.pos(conv)
    assert abs(x + 95 - 300) < 2 and abs(y + 11 - 200) < 2  # card top centre at the cursor
    assert conv in window.scene.nodes


def test_double_click_in_the_palette_adds_at_the_centre(window, qtbot):
    palette = window.palette
    item = palette.item_for("ReLU")
    palette.tree.scrollToItem(item)
    rect = palette.tree.visualItemRect(item)
    viewport = palette.tree.viewport()
    QTest.mouseClick(
        viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center()
    )
    QTest.mouseDClick(
        viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center()
    )
    model = window.document.model
    assert [model.node_name(n) for n in model.nodes_of_type("ReLU")] == ["relu1"]


def test_palette_search_filters_and_tooltips_hold_the_doc(window, qtbot):
    qtbot.keyClicks(window.palette.search, "norm")
    visible = {i.text(0) for i in window.palette.items() if not i.isHidden()}
    assert {"BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm", "InstanceNorm2d"} <= visible
    assert "Conv2d" not in visible
    assert "convolution" in window.palette.item_for("Conv2d").toolTip(0)


@pytest.mark.smoke
def test_wire_a_network_see_shapes_edit_and_undo_redo(window, qtbot):
    names = build_chain(window, qtbot)
    model = window.document.model
    assert model.analysis().ok, model.analysis().problems
    assert edge_label(window, "input", "conv1") == "1×28×28"
    assert edge_label(window, "conv1", "relu1") == "16×26×26"
    assert edge_label(window, "flatten1", "fc1") == "10816"
    _wait_code(qtbot, window, "self.fc1 = nn.Linear(10816, 10)")

    click_node(window, "conv1")
    assert window.inspector.node == node(window, "conv1")
    field = window.inspector.editors["kernel_size"].widget
    type_into(qtbot, field, "5")
    assert model.params(node(window, "conv1"))["kernel_size"] == 5
    qtbot.waitUntil(lambda: edge_label(window, "conv1", "relu1") == "16×24×24")
    _wait_code(qtbot, window, "nn.Conv2d(1, 16, kernel_size=5)")
    _wait_code(qtbot, window, "nn.Linear(9216, 10)")

    undo = window.document.undo
    assert undo.count() == len(CHAIN) + len(CHAIN) - 1 + 1  # adds, connections, the edit
    while undo.can_undo():
        undo.undo()
    assert len(model) == 0 and not window.scene.nodes
    while undo.can_redo():
        undo.redo()
    assert [model.node_name(n) for n in model.nodes()] == names
    assert len(model.edges()) == len(names) - 1
    assert model.params(node(window, "conv1"))["kernel_size"] == 5


def _wait_code(qtbot, window, text: str) -> None:
    qtbot.waitUntil(lambda: text in window.code_view.source(), timeout=3000)


def test_wire_a_second_output_port(window, qtbot):
    window.document.open_example("text_lstm")
    model = window.document.model
    lstm, last = node(window, "lstm"), node(window, "last_step")
    assert list(window.scene.nodes[lstm].out_ports) == ["output", "h_n", "c_n"]
    window.view.fit()
    wire(window, "lstm", "last_step", src_port="h_n")  # replaces the edge from `output`
    assert [(e.src, e.src_port) for e in model.inputs(last)] == [(lstm, "h_n")]
    assert "1×N×128" in window.scene.nodes[lstm].out_ports["h_n"].toolTip()
    # h_n is (layers, N, hidden): the last layer is index -1 along dim 0.
    click_node(window, "last_step")
    type_into(qtbot, window.inspector.editors["dim"].widget, "0")
    qtbot.waitUntil(lambda: model.analysis().ok)
    _wait_code(qtbot, window, "_, (h_n, _) = self.lstm(x)")
    _wait_code(qtbot, window, "x = h_n[-1]")


def test_wire_q_k_v_from_one_node_and_from_three(window, qtbot):
    window.document.model.clear()
    for type_name, y in (("Input", 0), ("MultiheadAttention", 300), ("Output", 500)):
        drop_layer(window, type_name, QPointF(95, y))
    model = window.document.model
    window.view.fit()
    click_node(window, "input")
    type_into(qtbot, window.inspector.editors["shape"].widget, "10, 16")
    for port in ("query", "key", "value"):
        wire(window, "input", "attn1", dst_port=port)
    wire(window, "attn1", "output")
    qtbot.waitUntil(lambda: model.analysis().ok)
    _wait_code(qtbot, window, "x, _ = self.attn1(x, x, x, need_weights=False)")
    drop_layer(window, "Linear", QPointF(395, 150))
    drop_layer(window, "Linear", QPointF(695, 150))
    for name in ("fc1", "fc2"):
        click_node(window, name)
        type_into(qtbot, window.inspector.editors["out_features"].widget, "16")
    wire(window, "input", "fc1")
    wire(window, "input", "fc2")
    wire(window, "fc1", "attn1", dst_port="key")
    wire(window, "fc2", "attn1", dst_port="value")
    attn = node(window, "attn1")
    assert [model.node_name(e.src) for e in model.inputs(attn)] == ["input", "fc1", "fc2"]
    qtbot.waitUntil(lambda: model.analysis().ok)
    _wait_code(qtbot, window, "self.attn1(x, fc1, fc2, need_weights=False)")


def test_a_float_tensor_into_an_embedding_is_refused_with_the_reason(window, qtbot):
    window.document.model.clear()
    drop_layer(window, "Input", QPointF(95, 0))
    drop_layer(window, "Embedding", QPointF(95, 200))
    window.view.fit()
    wire(window, "input", "embedding1")
    message = window.statusBar().currentMessage()
    assert message.startswith("Cannot connect: embedding1 expects integer token ids (int64)")
    assert "feed it token ids from an int64 Input" in message
    assert window.document.model.edges() == []


def test_rename_then_undo_then_edit_keeps_working(window, qtbot):
    build_chain(window, qtbot)
    conv = node(window, "conv1")
    click_node(window, "conv1")
    type_into(qtbot, window.inspector.name_edit, "stem")
    model = window.document.model
    assert model.node_name(conv) == "stem"
    press(window, Qt.Key.Key_Z, CTRL)
    assert model.node_name(conv) == "conv1"
    qtbot.waitUntil(lambda: window.inspector.name_edit.text() == "conv1")
    assert window.inspector.node == conv
    type_into(qtbot, window.inspector.editors["out_channels"].widget, "8")
    assert model.params(conv)["out_channels"] == 8
    _wait_code(qtbot, window, "self.conv1 = nn.Conv2d(1, 8, kernel_size=3)")


def test_code_panel_keeps_the_last_valid_code_and_says_why(window, qtbot):
    window.document.open_example("small_cnn")
    window.code_view.refresh()
    good = window.code_view.source()
    window.document.set_param(node(window, "fc"), "in_features", 5)
    window.code_view.refresh()
    assert window.code_view.source() == good
    assert "fc: expects 5 input features" in window.code_view.status.text()
    assert not window.code_view.export_button.isEnabled()


def test_invalid_connection_is_refused_with_a_reason(window, qtbot):
    names = build_chain(window, qtbot)
    wire(window, names[3], names[1])  # flatten -> conv1 would make a cycle
    assert "cycle" in window.statusBar().currentMessage()
    flatten, conv = node(window, "flatten1"), node(window, "conv1")
    assert not [e for e in window.document.model.edges() if (e.src, e.dst) == (flatten, conv)]


def test_connecting_onto_a_used_port_replaces_the_edge(window, qtbot):
    build_chain(window, qtbot)
    relu = node(window, "relu1")
    wire(window, "input", "relu1", dst_port="card")
    model = window.document.model
    assert [model.node_name(e.src) for e in model.inputs(relu)] == ["input"]
    press(window, Qt.Key.Key_Z, CTRL)
    assert [model.node_name(e.src) for e in model.inputs(relu)] == ["conv1"]


def test_merge_ports_show_their_order(window, qtbot):
    window.document.open_example("two_inputs")
    join = window.scene.nodes[node(window, "join")]
    assert list(join.in_ports) == ["0", "1", "2"]  # two used slots and a spare one
    assert [p.label for p in join.in_ports.values()] == ["0", "1", "2"]


def test_problem_nodes_turn_red_with_a_tooltip(window, qtbot):
    build_chain(window, qtbot)
    fc = node(window, "fc1")
    window.document.set_param(fc, "in_features", 7)
    qtbot.waitUntil(lambda: window.scene.nodes[fc].severity == "error")
    assert "expects 7 input features" in window.scene.nodes[fc].toolTip()
    problems = window.problems
    assert any(
        "fc1: expects 7 input features" in problems.item(i).text() for i in range(problems.count())
    )
    rect = problems.visualItemRect(problems.item(0))
    QTest.mouseClick(
        problems.viewport(),
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
        rect.center(),
    )
    assert [n.node for n in window.scene.selected_nodes()] == [fc]


def test_move_is_one_undo_step_per_drag(window, qtbot):
    drop_layer(window, "ReLU", QPointF(95, 11))
    window.view.fit()
    relu = node(window, "relu1")
    item = window.scene.nodes[relu]
    start = item.scenePos() + QPointF(60, 30)
    drag(window, start, start + QPointF(120, 80))
    model = window.document.model
    assert model.pos(relu) != (0.0, 0.0)
    assert window.document.undo.undo_text() == "Move"
    window.document.undo.undo()
    assert model.pos(relu) == (0.0, 0.0) and item.pos() == QPointF(0, 0)


@pytest.mark.slow
def test_delete_copy_paste_duplicate_and_rename_by_keyboard(window, qtbot):
    build_chain(window, qtbot)
    model = window.document.model
    click_node(window, "conv1")
    click_node(window, "relu1", CTRL)
    press(window, Qt.Key.Key_D, CTRL)
    assert {"conv1_2", "relu1_2"} <= {model.node_name(n) for n in model.nodes()}
    copies = node(window, "conv1_2"), node(window, "relu1_2")
    assert Edge(copies[0], "output", copies[1], "input") in model.edges()
    press(window, Qt.Key.Key_Delete)
    assert model.find("conv1_2") is None
    click_node(window, "relu1")
    press(window, Qt.Key.Key_X, CTRL)
    assert model.find("relu1") is None
    press(window, Qt.Key.Key_V, CTRL)
    assert model.find("relu1") is not None
    click_node(window, "fc1")
    fc = node(window, "fc1")
    type_into(qtbot, window.inspector.name_edit, "classifier")
    assert model.node_name(fc) == "classifier"
    type_into(qtbot, window.inspector.name_edit, "class")
    assert "keyword" in window.inspector.error.text() and model.node_name(fc) == "classifier"


@pytest.mark.slow
def test_save_reopen_and_export(window, qtbot, tmp_path):
    names = build_chain(window, qtbot)
    assert window.isWindowModified()
    window.dialogs.save_paths = [str(tmp_path / "net")]
    assert window.save_project()
    saved = tmp_path / "net.json"
    assert saved.exists() and not window.isWindowModified()
    assert "net.json" in window.windowTitle()
    window.document.new()
    assert window.open_project(str(saved))
    model = window.document.model
    assert [model.node_name(n) for n in model.nodes()] == names
    window.dialogs.save_paths = [str(tmp_path / "model.py")]
    assert window.export_python()
    ran = subprocess.run(
        [sys.executable, str(tmp_path / "model.py")], capture_output=True, text=True, timeout=120
    )
    assert "output shape: (1, 10)" in ran.stdout
    assert str(saved.resolve()) in window.recent_files()


def test_a_broken_file_is_refused_and_the_project_kept(window, tmp_path):
    window.document.open_example("small_cnn")
    before = window.document.model.nodes()
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "torchcanvas", "version": 1, "nodes": [')
    assert not window.open_project(str(bad))
    assert window.dialogs.errors and "not valid JSON" in window.dialogs.errors[0][1]
    assert window.document.model.nodes() == before


def test_a_v1_file_opens_and_saves_as_current(window, tmp_path):
    v1 = EXAMPLES.parent.parent / "tests" / "fixtures" / "v1" / "branches.json"
    assert window.open_project(str(v1))
    model = window.document.model
    assert model.analysis().ok and model.find("cat") is not None
    assert window._save_to(tmp_path / "v2.json")
    assert json.loads((tmp_path / "v2.json").read_text())["version"] == 3


def test_unsaved_changes_prompt_and_cancel_keeps_everything(window, qtbot):
    drop_layer(window, "ReLU", QPointF(0, 0))
    model = window.document.model
    window.dialogs.save_answers = ["cancel"]
    window.new_project()
    assert [model.node_name(n) for n in model.nodes()] == ["relu1"]
    window.dialogs.save_answers = ["discard"]
    window.new_project()
    assert [model.node_name(n) for n in model.nodes()] == ["input", "output"]


def test_autosave_and_recovery(window, tmp_path, qtbot):
    drop_layer(window, "Tanh", QPointF(0, 0))
    window.autosave()
    recovery = window.recovery_path()
    assert json.loads(recovery.read_text())["project"]["nodes"][0]["type"] == "Tanh"
    assert not window.offer_recovery()  # this window's own, live work is not offered
    # The single recovery.json of earlier versions is still offered back.
    legacy = window.home / "recovery.json"
    legacy.write_text(recovery.read_text().split('"project": ', 1)[1][:-1])
    window.document.new()
    window.dialogs.ask_answers = [True]
    assert window.offer_recovery()
    assert window.document.model.nodes_of_type("Tanh") and window.document.dirty
    assert not legacy.exists()


def test_pin_an_auto_value_in_the_inspector(window, qtbot):
    window.document.open_example("small_cnn")
    fc = node(window, "fc")
    click_node(window, "fc")
    inspector = window.inspector
    assert inspector.auto_labels["in_features"].text() == "auto (3136)"
    inspector.pins["in_features"].click()
    assert window.document.model.params(fc)["in_features"] == 3136
    inspector.pins["in_features"].click()
    assert "in_features" not in window.document.model.params(fc)


@pytest.mark.slow
def test_examples_open_and_draw(window, qtbot):
    for path in sorted(EXAMPLES.glob("*.json")):
        window.open_example(path.stem)
        assert len(window.scene.nodes) == len(window.document.model)
        assert window.document.model.analysis().ok


def test_start_up_without_bundled_examples_opens_an_empty_project(window, monkeypatch):
    from torchcanvas.app.editing import examples
    from torchcanvas.app.ui import launch

    monkeypatch.setattr(examples, "DEFAULT_EXAMPLE", "no_such_example")
    assert launch.open_initial(window, None, offer_recovery=False) is None
    model = window.document.model
    assert [model.node_name(n) for n in model.nodes()] == ["input", "output"]


def test_a_clipboard_that_does_not_fit_is_refused_and_changes_nothing(window):
    window.document.open_example("small_cnn")
    before, steps = window.document.model.edges(), window.document.undo.count()
    text = json.dumps(
        {
            "format": "torchcanvas-nodes",
            "nodes": [
                {"id": "a", "name": "a", "type": "ReLU", "params": {}, "pos": [0, 0]},
                {"id": "b", "name": "b", "type": "ReLU", "params": {}, "pos": [0, 90]},
            ],
            "edges": [{"from": "a", "from_port": "output", "to": "b", "to_port": "h_0"}],
        }
    )
    result = window.document.paste(text)
    assert isinstance(result, str) and result.startswith("Cannot paste: b (ReLU) has no input")
    assert window.document.model.edges() == before
    assert window.document.undo.count() == steps
    assert window.document.paste("not json") == "The clipboard holds no TorchCanvas nodes."


def test_the_window_fits_a_1280x720_screen_with_no_stray_tab_bars(window, qtbot):
    from PySide6.QtWidgets import QTabBar

    window.resize(1280, 720)
    qtbot.waitUntil(lambda: window.size().toTuple() == (1280, 720))
    bars = window.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly)
    shown = [tuple(b.tabText(i) for i in range(b.count())) for b in bars if b.isVisible()]
    assert len(shown) == len(set(shown)) == 3  # bottom, inspector/training, code/curves
