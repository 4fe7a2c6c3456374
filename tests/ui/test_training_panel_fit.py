"""The Training panel agrees with itself: a task brings a loss that fits it (one undo step),
rows that do not apply to the data source are hidden, missing MNIST files block Train with
the files named, and Train, Stop and the progress stay in sight above the scrolled settings."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.ui.helpers import press, type_into
from tests.ui.test_training_view import choose

CTRL = Qt.KeyboardModifier.ControlModifier


def shown(panel, key: str) -> bool:
    """Whether the settings row of `key` is shown."""
    return panel.fields[key].isVisibleTo(panel)


def test_choosing_a_task_sets_a_loss_that_fits_in_one_undo_step(window):
    window.open_example("digits_cnn")
    panel, document = window.training_panel, window.document
    assert panel.fields["loss"].currentData() == "CrossEntropyLoss"
    steps = document.undo.index()
    choose(panel.fields["task"], "regression")
    assert panel.fields["loss"].currentData() == "MSELoss"
    assert document.project.training["loss"] == "MSELoss"
    assert "is a classification loss" not in panel.status.text()
    assert document.undo.index() == steps + 1
    press(window, Qt.Key.Key_Z, CTRL)
    assert panel.fields["task"].currentData() == "classification"
    assert panel.fields["loss"].currentData() == "CrossEntropyLoss"
    assert document.project.training["loss"] == "CrossEntropyLoss"
    press(window, Qt.Key.Key_Z, CTRL | Qt.KeyboardModifier.ShiftModifier)
    assert panel.fields["task"].currentData() == "regression"
    assert panel.fields["loss"].currentData() == "MSELoss"


def test_a_classifier_ending_in_log_softmax_gets_nll_loss(window):
    window.open_example("digit_classifier")
    panel = window.training_panel
    choose(panel.fields["task"], "regression")
    assert panel.fields["loss"].currentData() == "MSELoss"
    choose(panel.fields["task"], "classification")
    assert panel.fields["loss"].currentData() == "NLLLoss"


def test_rows_that_do_not_apply_to_the_source_are_hidden(window):
    window.open_example("digits_cnn")
    panel = window.training_panel
    assert shown(panel, "augment") and not shown(panel, "data_path")
    assert not shown(panel, "download") and not shown(panel, "data_root")
    choose(panel.fields["data"], "csv")
    assert not shown(panel, "augment"), "crop and flip mean nothing for a table"
    assert shown(panel, "data_path") and shown(panel, "targets") and shown(panel, "features")
    assert not shown(panel, "data_root")
    choose(panel.fields["data"], "mnist")
    assert shown(panel, "download") and shown(panel, "data_root") and shown(panel, "augment")
    assert not shown(panel, "data_path")


def test_missing_mnist_files_are_named_and_block_train_until_download(window, qtbot, tmp_path):
    window.open_example("small_cnn")
    panel = window.training_panel
    choose(panel.fields["data"], "mnist")
    type_into(qtbot, panel.fields["data_root"], str(tmp_path / "empty"))
    assert not panel.train_button.isEnabled()
    text = panel.status.text()
    assert "MNIST is not in" in text and str(tmp_path / "empty" / "MNIST" / "raw") in text
    assert "train-images-idx3-ubyte" in text and "Download" in text
    assert panel.status.text() != "Ready to train."
    panel.fields["download"].click()
    assert panel.train_button.isEnabled() and panel.status.text() == "Ready to train."
    panel.fields["download"].click()
    raw = tmp_path / "empty" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        (raw / name).write_bytes(b"")
    window.training.refresh_preview()
    assert not panel.train_button.isEnabled()
    assert "t10k-images-idx3-ubyte" in panel.status.text()
    assert "train-images-idx3-ubyte" not in panel.status.text()


def test_a_table_of_four_features_offers_an_input_of_4(window, tmp_path):
    table = tmp_path / "iris.csv"
    rows = ["a,b,c,d,kind"] + [f"{i},{i + 1},{i % 3},{i * 2},k{i % 3}" for i in range(30)]
    table.write_text("\n".join(rows) + "\n")
    window.open_example("digits_cnn")
    panel = window.training_panel
    choose(panel.fields["data"], "csv")
    panel.fields["data_path"].setText(str(table))
    panel.fields["data_path"].editingFinished.emit()
    assert not panel.train_button.isEnabled()
    assert panel.fit_input_button.isVisibleTo(panel)
    assert panel.fit_input_button.text() == "Set the Input to 4"


def test_train_stop_and_progress_stay_above_the_scrolled_settings(window):
    window.resize(1280, 720)
    window.open_example("digits_cnn")
    window.docks["training"].raise_()
    panel = window.training_panel
    area = panel.settings_area
    for widget in (panel.train_button, panel.stop_button, panel.progress, panel.status):
        assert not area.isAncestorOf(widget)
        assert widget.isVisibleTo(window)
    area.verticalScrollBar().setValue(area.verticalScrollBar().maximum())
    assert panel.stop_button.mapTo(panel, panel.stop_button.rect().topLeft()).y() < 60
    assert area.isAncestorOf(panel.fields["epochs"])
