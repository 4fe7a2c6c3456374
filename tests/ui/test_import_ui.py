"""File ▸ Import Model… as a user does it: pick a file and a class, import, edit, export."""

from __future__ import annotations

import sys

import pytest
import torch
from PySide6.QtCore import Qt

from tests.conftest import ROOT
from tests.ui.helpers import click_node, press, type_into
from torchcanvas.app.ui.import_dialog import ImportDialog
from torchcanvas.codegen.build import compile_model

MODULES = ROOT / "tests" / "fixtures" / "modules"
CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.mark.slow
def test_import_a_file_opens_an_editable_graph_whose_export_takes_the_weights(window, qtbot):
    press(window, Qt.Key.Key_I, CTRL)
    dialog = window.findChild(ImportDialog)
    qtbot.waitUntil(dialog.isVisible)
    qtbot.keyClicks(dialog.path, str(MODULES / "handwritten.py"))
    assert dialog.class_name.findText("TutorialNet") >= 0  # read from the file, not run
    dialog.class_name.setFocus()
    dialog.class_name.lineEdit().selectAll()
    qtbot.keyClicks(dialog.class_name.lineEdit(), "TutorialNet")
    dialog.shapes.selectAll()
    qtbot.keyClicks(dialog.shapes, "3x32x32")
    dialog.import_button.click()
    qtbot.waitUntil(lambda: window.document.model.name == "TutorialNet", timeout=30_000)
    assert "imported" in window.windowTitle() and window.isWindowModified()
    assert "checked: the exported class loads the weights" in dialog.report.toPlainText()

    # The graph is an ordinary, editable design.
    window.view.fit()
    click_node(window, "fc3")
    type_into(qtbot, window.inspector.editors["out_features"].widget, "7")
    qtbot.waitUntil(lambda: "nn.Linear(84, 7)" in window.code_view.source())
    window.document.undo.undo()

    # Its export takes the original module's weights strictly and computes the same.
    state = torch.load(window.training.weights_path, weights_only=True)
    cls, _ = compile_model(window.document.model)
    exported = cls().eval()
    exported.load_state_dict(state, strict=True)
    sys.path.insert(0, str(MODULES))
    import handwritten

    original = handwritten.TutorialNet().eval()
    original.load_state_dict(state, strict=True)
    sample = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(exported(sample), original(sample))


@pytest.mark.slow
def test_a_module_that_cannot_be_traced_shows_the_report_and_keeps_the_project(window, qtbot):
    window.document.open_example("mlp")
    before = window.document.model.nodes()
    press(window, Qt.Key.Key_I, CTRL)
    dialog = window.findChild(ImportDialog)
    qtbot.waitUntil(dialog.isVisible)
    qtbot.keyClicks(dialog.path, str(MODULES / "handwritten.py"))
    dialog.class_name.lineEdit().selectAll()
    qtbot.keyClicks(dialog.class_name.lineEdit(), "DataDependent")
    dialog.shapes.selectAll()
    qtbot.keyClicks(dialog.shapes, "4")
    dialog.import_button.click()
    qtbot.waitUntil(lambda: "control flow" in dialog.report.toPlainText(), timeout=30_000)
    assert "handwritten.py:88" in dialog.report.toPlainText()
    assert dialog.isVisible() and window.document.model.nodes() == before
    dialog.reject()


def test_an_import_that_never_finishes_is_cancelled_and_the_window_stays_usable(window, qtbot):
    window.document.open_example("mlp")
    before = window.document.model.nodes()
    press(window, Qt.Key.Key_I, CTRL)
    dialog = window.findChild(ImportDialog)
    qtbot.waitUntil(dialog.isVisible)
    qtbot.keyClicks(dialog.path, str(MODULES / "forever.py"))
    dialog.shapes.selectAll()
    qtbot.keyClicks(dialog.shapes, "4")
    dialog.import_button.click()
    run = dialog._run
    qtbot.waitUntil(lambda: run._process.is_alive(), timeout=10_000)
    qtbot.wait(300)  # the window keeps answering while the file runs
    assert dialog.progress.isVisible() and window.document.model.nodes() == before
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible() and not run._process.is_alive()
    assert window.document.model.nodes() == before
