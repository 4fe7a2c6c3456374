"""The Training panel's Starting weights: choose and clear the project's weights_file (undo
steps), a note that says which weights Train starts from, and a run that does."""

from __future__ import annotations

import pytest
import torch
from PySide6.QtCore import Qt

from tests.ui.helpers import node, press, type_into
from torchcanvas.codegen.build import build_model

CTRL = Qt.KeyboardModifier.ControlModifier
LONG = 60_000  # ms; the first run spawns a process that imports torch


def saved_digits(window, tmp_path):
    """The digits example saved as tmp_path/p.json, on the CPU, and its panel."""
    window.document.open_example("digits_cnn")
    for key, value in {"device": "cpu", "epochs": 1}.items():
        assert window.document.set_training(key, value) is None
    window.document.save(tmp_path / "p.json")
    window.training.refresh_settings()
    return window.training_panel


def start_file(window, path, seed: int = 5) -> dict:
    """A state_dict of the design other than the seed's, written to `path`."""
    torch.manual_seed(seed)
    state = {k: v.clone() for k, v in build_model(window.document.model).state_dict().items()}
    torch.save(state, path)
    return state


def test_choose_undo_clear_and_the_note_says_where_train_starts(window, tmp_path):
    panel = saved_digits(window, tmp_path)
    field = panel.fields["weights_file"]
    assert field.text() == "" and "fresh weights" in panel.start_note.text()
    assert not panel.clear_start_button.isEnabled()
    (tmp_path / "weights").mkdir()
    start_file(window, tmp_path / "weights" / "start.pt")
    window.dialogs.open_paths = [str(tmp_path / "weights" / "start.pt")]
    panel.choose_start_button.click()
    assert window.document.project.training["weights_file"] == "weights/start.pt"
    assert field.text() == "weights/start.pt" and panel.clear_start_button.isEnabled()
    assert "starting weights, weights/start.pt" in panel.start_note.text()
    press(window, Qt.Key.Key_Z, CTRL)  # one undo step takes the choice back
    assert window.document.project.training["weights_file"] == ""
    assert field.text() == "" and "fresh weights" in panel.start_note.text()
    press(window, Qt.Key.Key_Z, CTRL | Qt.KeyboardModifier.ShiftModifier)
    assert field.text() == "weights/start.pt"

    (tmp_path / "not.pt").write_bytes(b"text, not weights")
    window.dialogs.open_paths = [str(tmp_path / "not.pt")]
    panel.choose_start_button.click()  # refused, with one message; the choice stays
    assert len(window.dialogs.errors) == 1 and "not.pt" in window.dialogs.errors[0][1]
    assert field.text() == "weights/start.pt"

    (tmp_path / "weights" / "start.pt").rename(tmp_path / "elsewhere.pt")
    panel.train_button.click()  # one message, and no run
    assert not window.training.running
    assert "starting weights" in panel.status.text() and "missing" in panel.status.text()
    assert "missing" in panel.start_note.text()

    panel.clear_start_button.click()
    assert window.document.project.training["weights_file"] == ""
    assert "fresh weights" in panel.start_note.text()
    window.training.use_weights(tmp_path / "elsewhere.pt")  # current weights, in memory
    panel.start_from_weights.click()
    assert "current weights" in panel.start_note.text()


@pytest.mark.slow
def test_train_starts_from_the_chosen_file(window, qtbot, tmp_path):
    panel = saved_digits(window, tmp_path)
    assert window.document.set_frozen([node(window, "conv1")], True) is None
    start = start_file(window, tmp_path / "start.pt")
    window.dialogs.open_paths = [str(tmp_path / "start.pt")]
    panel.choose_start_button.click()
    assert panel.fields["weights_file"].text() == "start.pt"
    panel.train_button.click()
    assert not panel.choose_start_button.isEnabled()  # not while a run trains
    qtbot.waitUntil(lambda: not window.training.running, timeout=LONG)
    assert window.training.session.final["type"] == "finished"
    trained = torch.load(window.training.weights_path, weights_only=True)
    for key in ("conv1.weight", "conv1.bias"):  # frozen: as the file has them
        assert torch.equal(trained[key], start[key]), key
    assert not torch.equal(trained["conv2.weight"], start["conv2.weight"])
    assert panel.choose_start_button.isEnabled()


def test_unfreeze_at_epoch_is_a_setting_of_the_project(window, qtbot, tmp_path):
    panel = saved_digits(window, tmp_path)
    box = panel.fields["unfreeze_epoch"]
    assert box.text() == "never"
    type_into(qtbot, box, "3")
    assert window.document.project.training["unfreeze_epoch"] == 3
    type_into(qtbot, box, "0")
    assert window.document.project.training["unfreeze_epoch"] == 0 and box.text() == "never"
