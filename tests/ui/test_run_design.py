"""A run belongs to its design: weights know the design they were trained on, and another
project starts clean."""

from __future__ import annotations

import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.ui.helpers import click_node, press, type_into
from tests.ui.test_training_ui import LONG, _digits_state, open_digits


def load_digits_weights(window, tmp_path) -> None:
    torch.save(_digits_state(), tmp_path / "w.pt")
    window.dialogs.weights_answers = ["strict"]
    assert window.training.load_weights(str(tmp_path / "w.pt"))


def test_weights_of_an_earlier_design_are_not_saved_or_exported_silently(window, qtbot, tmp_path):
    open_digits(window)
    load_digits_weights(window, tmp_path)
    click_node(window, "conv1")
    type_into(qtbot, window.inspector.editors["out_channels"].widget.lineEdit(), "8")
    window.dialogs.save_paths = [str(tmp_path / "saved.pt")]
    window.dialogs.ask_answers = [False]  # "Save them anyway?" No.
    QTest.mouseClick(window.training_panel.save_weights_button, Qt.MouseButton.LeftButton)
    assert not (tmp_path / "saved.pt").exists()
    window.dialogs.save_paths = [str(tmp_path / "digits.py")]
    assert window.export_python()
    assert (tmp_path / "digits.py").exists() and not (tmp_path / "digits.pt").exists()
    title, text = window.dialogs.infos[-1]
    assert title == "Weights not exported" and "conv1: nn.Conv2d(1, 16," in text
    assert "bn1" in text and "conv2" in text  # every module whose tensors no longer fit
    press(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # the design they fit
    window.dialogs.save_paths = [str(tmp_path / "saved.pt")]
    QTest.mouseClick(window.training_panel.save_weights_button, Qt.MouseButton.LeftButton)
    assert (tmp_path / "saved.pt").exists()  # no question asked this time


@pytest.mark.slow
def test_a_run_keeps_its_design_and_another_project_starts_clean(window, qtbot, tmp_path):
    open_digits(window, epochs=1)
    QTest.mouseClick(window.training_panel.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.training.weights_path is not None, timeout=LONG)
    qtbot.waitUntil(lambda: not window.training.running, timeout=LONG)
    assert window.training.weights_changes() == []
    assert window.results.has_results() and window.curves.point_count() > 0
    click_node(window, "fc1")
    type_into(qtbot, window.inspector.editors["out_features"].widget.lineEdit(), "32")
    assert window.training.weights_changes()[0].startswith("fc1: nn.Linear(512, 64)")
    window.training_panel.start_from_weights.setChecked(True)
    window.dialogs.ask_answers = [False]  # "Start from the current weights anyway?" No.
    QTest.mouseClick(window.training_panel.train_button, Qt.MouseButton.LeftButton)
    assert not window.training.running
    window.dialogs.save_answers = ["discard"]  # the edit above is not kept
    window.open_example("mlp")  # File ▸ Open Example
    assert window.training.weights_path is None
    assert not window.training_panel.start_from_weights.isEnabled()
    assert not window.training_panel.start_from_weights.isChecked()
    assert window.curves.point_count() == 0 and not window.results.has_results()
    assert (
        "Mlp" in window.code_view.text.toPlainText() or "MLP" in window.code_view.text.toPlainText()
    )


@pytest.mark.slow
def test_export_with_a_run_s_weights_carries_its_preprocess(window, qtbot, tmp_path):
    open_digits(window, epochs=1)
    QTest.mouseClick(window.training_panel.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.training.weights_path is not None, timeout=LONG)
    qtbot.waitUntil(lambda: not window.training.running, timeout=LONG)
    window.dialogs.save_paths = [str(tmp_path / "digits.py")]
    window.dialogs.ask_answers = [True]  # the weights too
    press(window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert "preprocess()" in window.statusBar().currentMessage()
    namespace: dict = {}
    exec((tmp_path / "digits.py").read_text(), namespace)
    model = namespace["DigitsCNN"]()
    model.load_state_dict(torch.load(tmp_path / "digits.pt", weights_only=True))
    raw = torch.randint(0, 17, (5, 1, 8, 8)).float()  # digits' raw pixels: 0..16
    batch = namespace["preprocess"](raw)
    assert batch.shape == raw.shape and abs(float(batch.mean())) < 3
    with torch.no_grad():
        assert torch.equal(model.eval()(batch), window.training.predict(batch))


def test_file_new_does_not_show_the_previous_projects_code(window, qtbot):
    window.open_example("digits_cnn")
    assert "class DigitsCNN" in window.code_view.text.toPlainText()
    QTest.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)  # File ▸ New
    shown = window.code_view.text.toPlainText()  # a new project: Input wired to Output
    assert "DigitsCNN" not in shown and "class Model(nn.Module)" in shown
    assert "last valid graph" not in window.code_view.status.text()
