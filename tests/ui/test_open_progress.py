"""Opening a big project: a progress dialog whose Cancel leaves the project shown as it was."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QProgressDialog, QPushButton

from tests.ui.helpers import click_node, press
from torchcanvas.app.ui import open_progress


def write_merges(path, adds: int, fan_in: int = 1024) -> None:
    """A project of `adds` Add nodes with `fan_in` inputs each (a flood of edges)."""
    nodes = [{"id": "x", "name": "inp", "type": "Input", "params": {"shape": [4]}}]
    edges, last = [], "x"
    for index in range(adds):
        nodes.append({"id": f"a{index}", "name": f"add{index}", "type": "Add", "params": {}})
        reads = [last] + ["x"] * (fan_in - 1)
        edges += [{"from": s, "to": f"a{index}", "to_port": i} for i, s in enumerate(reads)]
        last = f"a{index}"
    nodes.append({"id": "o", "name": "out", "type": "Output", "params": {}})
    edges.append({"from": last, "to": "o"})
    document = {"format": "torchcanvas", "version": 3, "name": "Merges"}
    path.write_text(json.dumps({**document, "nodes": nodes, "edges": edges}))


def test_cancel_while_a_big_project_is_read_keeps_the_project_shown(
    window, qtbot, tmp_path, monkeypatch
):
    monkeypatch.setattr(open_progress, "SHOW_AFTER_MS", 0)  # shown at once, on any machine
    window.document.open_example("small_cnn")
    model = window.document.model
    relu = model.id_of("relu")
    click_node(window, "relu")
    press(window, Qt.Key.Key_Delete)
    nodes, edges, title = model.nodes(), model.edges(), window.windowTitle()
    assert window.document.dirty and window.document.undo.can_undo()
    big = tmp_path / "big.json"
    write_merges(big, 16)
    pressed = []

    def press_cancel() -> None:
        dialog = window.findChild(QProgressDialog)
        if dialog is not None and dialog.isVisible():
            assert dialog.labelText() == "Reading big.json…"
            qtbot.mouseClick(dialog.findChild(QPushButton), Qt.MouseButton.LeftButton)
            pressed.append(dialog.value())
        else:
            QTimer.singleShot(10, press_cancel)

    QTimer.singleShot(0, press_cancel)
    window.dialogs.save_answers = ["discard"]
    assert not window.open_project(str(big))
    assert pressed and pressed[0] < 700  # while reading, before any drawing
    assert model.nodes() == nodes and model.edges() == edges
    assert window.windowTitle() == title and window.document.dirty
    assert set(window.scene.nodes) == set(nodes)
    assert window.statusBar().currentMessage() == (
        "Opening cancelled; the project shown is unchanged."
    )
    assert (
        window.findChild(QProgressDialog) is None
        or not window.findChild(QProgressDialog).isVisible()
    )
    window.document.undo.undo()  # the deleted layer comes back: the history was kept
    assert relu in model.nodes()
    assert window.dialogs.errors == []
