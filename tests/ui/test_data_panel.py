"""The Training panel with the user's own data: task, file, targets, a preview that checks
them, and a TensorBoard log, used as a user uses them."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.ui.helpers import type_into
from tests.ui.test_training_ui import LONG


@pytest.mark.slow
def test_a_csv_is_previewed_checked_and_trained_with_a_tensorboard_log(window, qtbot):
    window.open_example("wine_mlp")
    panel = window.training_panel
    assert panel.fields["data_path"].text() == "data/wine.csv"
    qtbot.waitUntil(lambda: "178 samples" in panel.preview.text())
    assert "3 classes: class_0, class_1, class_2" in panel.preview.text()
    type_into(qtbot, panel.fields["targets"], "nope")
    assert "no target column 'nope'" in panel.preview.text()
    assert "alcohol" in panel.preview.text()  # the columns there are
    type_into(qtbot, panel.fields["targets"], "cultivar")
    assert "3 classes" in panel.preview.text()
    for key, value in {"epochs": 2, "device": "cpu"}.items():
        window.document.set_training(key, value)
    window.training.refresh_settings()
    QTest.mouseClick(panel.tensorboard, Qt.MouseButton.LeftButton)
    assert panel.tensorboard.isChecked()
    QTest.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.training.weights_path is not None, timeout=LONG)
    qtbot.waitUntil(lambda: not window.training.running, timeout=LONG)
    assert "Finished" in panel.status.text(), panel.status.text()
    run = window.training.weights_path.parent
    assert list((run / "tensorboard").glob("events.out.tfevents.*"))
    assert window.results.classes == ["class_0", "class_1", "class_2"]


def test_a_file_the_preview_refuses_disables_train_until_it_is_fixed(window, qtbot, tmp_path):
    window.open_example("wine_mlp")
    panel = window.training_panel
    qtbot.waitUntil(lambda: "178 samples" in panel.preview.text())
    assert panel.train_button.isEnabled()
    type_into(qtbot, panel.fields["targets"], "nope")
    assert not panel.train_button.isEnabled()
    assert "Cannot train on this data" in panel.status.text()
    assert "no target column 'nope'" in panel.status.text()
    type_into(qtbot, panel.fields["targets"], "cultivar")
    assert panel.train_button.isEnabled() and "Cannot train" not in panel.status.text()


def test_typing_an_npy_file_picks_the_array_source_and_its_pair(window, qtbot, tmp_path):
    window.open_example("wine_mlp")
    panel = window.training_panel
    rng = np.random.default_rng(0)
    np.save(tmp_path / "x_wine.npy", rng.normal(size=(30, 13)).astype(np.float32))
    np.save(tmp_path / "y_wine.npy", np.arange(30) % 3)
    targets = panel.fields["targets"]
    targets.setFocus()
    targets.selectAll()
    qtbot.keyClick(targets, Qt.Key.Key_Backspace)
    qtbot.keyClick(targets, Qt.Key.Key_Return)
    type_into(qtbot, panel.fields["data_path"], str(tmp_path / "x_wine.npy"))
    assert panel.fields["data"].currentData() == "npz"
    assert window.document.project.training["data"] == "npz"
    assert "30 samples" in panel.preview.text() and "3 classes" in panel.preview.text()
    assert panel.train_button.isEnabled()
    (tmp_path / "y_wine.npy").unlink()
    type_into(qtbot, panel.fields["data_path"], str(tmp_path / "x_wine.npy"))
    assert "no targets file y.npy" in panel.preview.text()
    assert not panel.train_button.isEnabled()


def test_a_new_project_fits_its_data_and_offers_the_shape_again(window, qtbot):
    QTest.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)  # File ▸ New
    panel = window.training_panel
    graph = window.document.model
    (source,) = [n for n in graph.nodes() if graph.node_type(n) == "Input"]
    assert graph.params(source)["shape"] == (1, 8, 8)  # the digits, offline
    assert not panel.fit_input_button.isVisible()
    assert window.document.set_param(source, "shape", (1, 28, 28)) is None
    qtbot.waitUntil(panel.fit_input_button.isVisible)
    assert panel.fit_input_button.text() == "Set the Input to 1×8×8"
    QTest.mouseClick(panel.fit_input_button, Qt.MouseButton.LeftButton)
    assert graph.params(source)["shape"] == (1, 8, 8)
    qtbot.waitUntil(lambda: not panel.fit_input_button.isVisible())
    QTest.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert graph.params(source)["shape"] == (1, 28, 28)
    qtbot.waitUntil(panel.fit_input_button.isVisible)


def test_a_table_offers_its_feature_count_for_the_input(window, qtbot):
    window.open_example("wine_mlp")
    panel = window.training_panel
    qtbot.waitUntil(lambda: "178 samples" in panel.preview.text())
    assert not panel.fit_input_button.isVisible()
    type_into(qtbot, panel.fields["features"], "alcohol, ash")
    assert "gives 2 feature values per row" in panel.preview.text()
    assert panel.fit_input_button.text() == "Set the Input to 2"
    QTest.mouseClick(panel.fit_input_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.train_button.isEnabled())
    assert "178 samples" in panel.preview.text() and "each 2" in panel.preview.text()
