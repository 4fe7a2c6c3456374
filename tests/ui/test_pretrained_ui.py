"""File ▸ Import Model… with pretrained weights: the choice, and the same import as the CLI."""

from __future__ import annotations

import pytest
import torch
import torchvision
from PySide6.QtCore import Qt

from tests.ui.helpers import press
from torchcanvas.app import pretrained
from torchcanvas.app.ui.import_dialog import NO_WEIGHTS, ImportDialog

CTRL = Qt.KeyboardModifier.ControlModifier


def open_dialog(window, qtbot) -> ImportDialog:
    press(window, Qt.Key.Key_I, CTRL)
    dialog = window.findChild(ImportDialog)
    qtbot.waitUntil(dialog.isVisible)
    return dialog


def test_the_weights_choice_lists_the_models_weights_and_sets_the_shape(window, qtbot):
    dialog = open_dialog(window, qtbot)
    assert not dialog.pretrained.isEnabled()  # a file's class has no pretrained weights
    dialog.torchvision.setCurrentText("inception_v3")
    assert dialog.from_torchvision.isChecked() and dialog.pretrained.isEnabled()
    items = [dialog.pretrained.itemText(i) for i in range(dialog.pretrained.count())]
    assert items == [NO_WEIGHTS, "DEFAULT", "IMAGENET1K_V1"]
    assert dialog.weights_name() is None
    dialog.pretrained.setCurrentText("DEFAULT")
    assert dialog.weights_name() == "DEFAULT" and dialog.shapes.text() == "3x299x299"
    dialog.from_file.setChecked(True)
    assert not dialog.pretrained.isEnabled() and dialog.weights_name() is None
    dialog.reject()


@pytest.mark.slow
def test_importing_pretrained_weights_adopts_those_tensors(window, qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))  # the import process inherits it
    monkeypatch.setenv(pretrained.OFFLINE_ENV, "1")
    folder = tmp_path / "torch" / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    torch.manual_seed(3)
    state = torchvision.models.squeezenet1_1().state_dict()
    torch.save(state, folder / "squeezenet1_1-b8a52dc0.pth")
    dialog = open_dialog(window, qtbot)
    dialog.torchvision.setCurrentText("squeezenet1_1")
    dialog.pretrained.setCurrentText("IMAGENET1K_V1")
    dialog.import_button.click()
    qtbot.waitUntil(lambda: window.document.model.name == "SqueezeNet", timeout=60_000)
    written = torch.load(window.training.weights_path, weights_only=True)
    assert all(torch.equal(written[key], value) for key, value in state.items())
    project = window.document.project
    assert len(project.classes) == 1000 and project.preprocess["crop"] == [224]
    assert project.training["weights_file"] == str(window.training.weights_path)
