"""The designer as a user drives it: palette drops, wiring, inspector edits, undo, files."""

from __future__ import annotations

import json
import subprocess
import sys

from PySide6.QtCore import QPointF, Qt

from tests.conftest import EXAMPLES
from tests.ui.helpers import click_node, drag, drop_layer, wire

CHAIN = [("Input", 0), ("Conv2d", 1), ("ReLU", 2), ("Flatten", 3), ("Linear", 4), ("Output", 5)]


def build_chain(window, qtbot) -> list[str]:
    """Drop the chain from the palette and wire it by dragging between ports."""
    window.document.model.clear()
    window.document.undo.clear()
    for type_name, row in CHAIN:
        drop_layer(window, type_name, QPointF(95, row * 130))
    model = window.document.model
    names = model.nodes()
    assert [model.node_type(n) for n in names] == [t for t, _ in CHAIN]
    window.view.fit()
    for src, dst in zip(names, names[1:]):
        wire(window, src, dst)
    qtbot.waitUntil(
        lambda: window.scene.edges and all(e.label for e in window.scene.edges.values())
    )
    return names


def test_drop_from_the_palette_adds_a_node_where_dropped(window):
    drop_layer(window, "Conv2d", QPointF(300, 200))
    model = window.document.model
    assert model.nodes() == ["conv1"]
    x, y = model.pos("conv1")
    assert abs(x + 95 - 300) < 2 and abs(y + 11 - 200) < 2  # card top centre at the cursor
    assert "conv1" in window.scene.nodes


def test_double_click_in_the_palette_adds_at_the_centre(window, qtbot):
    palette = window.palette
    item = palette.item_for("ReLU")
    palette.tree.scrollToItem(item)
    rect = palette.tree.visualItemRect(item)
    from PySide6.QtTest import QTest

    viewport = palette.tree.viewport()
    QTest.mouseClick(
        viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center()
    )
    QTest.mouseDClick(
        viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, rect.center()
    )
    assert window.document.model.nodes_of_type("ReLU") == ["relu1"]


def test_palette_search_filters_and_tooltips_hold_the_doc(window, qtbot):
    qtbot.keyClicks(window.palette.search, "norm")
    visible = [i.text(0) for i in window.palette.items() if not i.isHidden()]
    # ResidualBlock matches too: its doc mentions batch-norm.
    assert visible == ["BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm", "ResidualBlock"]
    assert "convolution" in window.palette.item_for("Conv2d").toolTip(0)


def test_wire_a_network_see_shapes_edit_and_undo_redo(window, qtbot):
    names = build_chain(window, qtbot)
    model = window.document.model
    assert model.analysis().ok, model.analysis().problems
    labels = {e.key(): e.label for e in window.scene.edges.values()}
    assert labels[("input", "conv1", 0)] == "1×28×28"
    assert labels[("conv1", "relu1", 0)] == "16×26×26"
    assert labels[("flatten1", "fc1", 0)] == "10816"
    assert "self.fc1 = nn.Linear(10816, 10)" in window.code_view.source() or _wait_code(
        qtbot, window, "nn.Linear(10816, 10)"
    )

    click_node(window, "conv1")
    assert window.inspector.node == "conv1"
    field = window.inspector.editors["kernel_size"].widget
    field.selectAll()
    qtbot.keyClicks(field, "5")
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert model.params("conv1")["kernel_size"] == 5
    qtbot.waitUntil(lambda: window.scene.edges[("conv1", "relu1", 0)].label == "16×24×24")
    _wait_code(qtbot, window, "nn.Conv2d(1, 16, kernel_size=5)")
    _wait_code(qtbot, window, "nn.Linear(9216, 10)")

    undo = window.document.undo
    steps = undo.count()
    assert steps == len(CHAIN) + len(CHAIN) - 1 + 1  # adds, connections, the edit
    while undo.canUndo():
        undo.undo()
    assert len(model) == 0 and not window.scene.nodes
    while undo.canRedo():
        undo.redo()
    assert model.nodes() == names and len(model.edges()) == len(names) - 1
    assert model.params("conv1")["kernel_size"] == 5


def _wait_code(qtbot, window, text: str) -> bool:
    qtbot.waitUntil(lambda: text in window.code_view.source(), timeout=3000)
    return True


def test_code_panel_keeps_the_last_valid_code_and_says_why(window, qtbot):
    window.document.open_example("small_cnn")
    window.code_view.refresh()
    good = window.code_view.source()
    window.document.set_param("fc", "in_features", 5)
    window.code_view.refresh()
    assert window.code_view.source() == good
    assert "fc: expects 5 input features" in window.code_view.status.text()
    assert not window.code_view.export_button.isEnabled()


def test_invalid_connection_is_refused_with_a_reason(window, qtbot):
    names = build_chain(window, qtbot)
    wire(window, names[3], names[1])  # flatten -> conv1 would make a cycle
    assert "cycle" in window.statusBar().currentMessage()
    assert ("flatten1", "conv1", 0) not in window.document.model.edges()


def test_connecting_onto_a_used_port_replaces_the_edge(window, qtbot):
    build_chain(window, qtbot)
    wire(window, "input", "relu1")
    assert window.document.model.inputs("relu1") == [("input", 0)]
    window.document.undo.undo()
    assert window.document.model.inputs("relu1") == [("conv1", 0)]


def test_problem_nodes_turn_red_with_a_tooltip(window, qtbot):
    build_chain(window, qtbot)
    window.document.set_param("fc1", "in_features", 7)
    qtbot.waitUntil(lambda: window.scene.nodes["fc1"].severity == "error")
    assert "expects 7 input features" in window.scene.nodes["fc1"].toolTip()
    problems = [window.problems.item(i).text() for i in range(window.problems.count())]
    assert any("fc1: expects 7 input features" in p for p in problems)
    window.problems.itemClicked.emit(window.problems.item(0))
    assert [n.name for n in window.scene.selected_nodes()] == ["fc1"]


def test_move_is_one_undo_step_per_drag(window, qtbot):
    drop_layer(window, "ReLU", QPointF(95, 11))
    window.view.fit()
    item = window.scene.nodes["relu1"]
    start = item.scenePos() + QPointF(60, 30)
    drag(window, start, start + QPointF(120, 80))
    model = window.document.model
    assert model.pos("relu1") != (0.0, 0.0)
    assert window.document.undo.undoText() == "Move"
    window.document.undo.undo()
    assert model.pos("relu1") == (0.0, 0.0) and item.pos() == QPointF(0, 0)


def test_delete_copy_paste_duplicate_and_rename(window, qtbot):
    build_chain(window, qtbot)
    window.scene.select_nodes(["conv1", "relu1"])
    window.duplicate()
    model = window.document.model
    assert {"conv1_2", "relu1_2"} <= set(model.nodes())
    assert ("conv1_2", "relu1_2", 0) in model.edges()
    window.delete_selection()
    assert "conv1_2" not in model
    window.scene.select_nodes(["relu1"])
    window.cut()
    assert "relu1" not in model
    window.paste()
    assert "relu1" in model
    click_node(window, "fc1")
    window.inspector.name_edit.setText("classifier")
    window.inspector.name_edit.editingFinished.emit()
    assert "classifier" in model and "fc1" not in model
    window.inspector.name_edit.setText("class")
    window.inspector.name_edit.editingFinished.emit()
    assert "keyword" in window.inspector.error.text()


def test_save_reopen_and_export(window, qtbot, tmp_path):
    build_chain(window, qtbot)
    assert window.isWindowModified()
    window.dialogs.save_paths = [str(tmp_path / "net")]
    assert window.save_project()
    saved = tmp_path / "net.json"
    assert saved.exists() and not window.isWindowModified()
    assert "net.json" in window.windowTitle()
    window.document.new()
    assert window.open_project(str(saved))
    assert window.document.model.nodes() == ["input", "conv1", "relu1", "flatten1", "fc1", "output"]
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


def test_unsaved_changes_prompt_and_cancel_keeps_everything(window, qtbot):
    drop_layer(window, "ReLU", QPointF(0, 0))
    window.dialogs.save_answers = ["cancel"]
    window.new_project()
    assert window.document.model.nodes() == ["relu1"]
    window.dialogs.save_answers = ["discard"]
    window.new_project()
    assert window.document.model.nodes() == ["input", "output"]


def test_autosave_and_recovery(window, tmp_path, qtbot):
    drop_layer(window, "Tanh", QPointF(0, 0))
    window.autosave()
    recovery = window.recovery_path()
    assert json.loads(recovery.read_text())["nodes"][0]["type"] == "Tanh"
    window.document.new()
    window.dialogs.ask_answers = [True]
    assert window.offer_recovery()
    assert window.document.model.nodes_of_type("Tanh") and window.document.dirty


def test_pin_an_auto_value_in_the_inspector(window, qtbot):
    window.document.open_example("small_cnn")
    window.scene.select_nodes(["fc"])
    inspector = window.inspector
    assert inspector.auto_labels["in_features"].text() == "auto (3136)"
    inspector.pins["in_features"].setChecked(True)
    assert window.document.model.params("fc")["in_features"] == 3136
    inspector.pins["in_features"].setChecked(False)
    assert "in_features" not in window.document.model.params("fc")


def test_examples_open_and_draw(window, qtbot):
    for path in sorted(EXAMPLES.glob("*.json")):
        window.open_example(path.stem)
        assert len(window.scene.nodes) == len(window.document.model)
        assert window.document.model.analysis().ok


def test_start_up_without_bundled_examples_opens_an_empty_project(window, monkeypatch):
    from torchcanvas.app.ui import document, launch

    monkeypatch.setattr(document, "DEFAULT_EXAMPLE", "no_such_example")
    assert launch.open_initial(window, None, offer_recovery=False)
    assert window.document.model.nodes() == ["input", "output"]


def test_a_clipboard_that_does_not_fit_is_refused_and_changes_nothing(window):
    window.document.open_example("small_cnn")
    before, steps = window.document.model.edges(), window.document.undo.count()
    text = json.dumps(
        {
            "format": "torchcanvas-nodes",
            "nodes": [
                {"id": "a", "type": "ReLU", "params": {}, "pos": [0, 0]},
                {"id": "b", "type": "ReLU", "params": {}, "pos": [0, 90]},
            ],
            "edges": [{"from": "a", "to": "b", "port": 3}],
        }
    )
    result = window.document.paste(text)
    assert isinstance(result, str) and result.startswith("Cannot paste: b has no input port 3")
    assert window.document.model.edges() == before
    assert window.document.undo.count() == steps
    assert window.document.paste("not json") == "The clipboard holds no TorchCanvas nodes."
