"""The Training panel with the user's own data: task, file, targets, a preview that checks
them, and a TensorBoard log, used as a user uses them."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.ui.helpers import type_into
from tests.ui.test_training_ui import LONG


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
