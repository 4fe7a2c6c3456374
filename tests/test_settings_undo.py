"""Training settings are edited through the undo stack: one step per edit, several settings
that belong together (a task and its loss) in one step, and undo back to the saved state."""

from __future__ import annotations

from tests.conftest import EXAMPLES
from torchcanvas.app.editing.document import Document
from torchcanvas.app.editing.lock import READ_ONLY
from torchcanvas.app.train.tasks import fitting_loss, gives_log_probs
from torchcanvas.graph.project import load_project


def test_a_task_and_its_loss_are_one_undo_step_and_undo_reaches_the_saved_state(tmp_path):
    doc = Document(home=tmp_path / "home")
    doc.open(EXAMPLES / "digits_cnn.json")
    seen = []
    doc.settings_changed.connect(lambda: seen.append(dict(doc.project.training)))
    assert doc.set_trainings({"task": "regression", "loss": "MSELoss"}, "Set task") is None
    assert doc.undo.count() == 1 and doc.undo.undo_text() == "Set task" and doc.dirty
    doc.undo.undo()
    training = doc.project.training
    assert (training["task"], training["loss"]) == ("classification", "CrossEntropyLoss")
    assert not doc.dirty, "undoing back to the file's settings is clean again"
    assert len(seen) == 2
    doc.undo.redo()
    assert (training["task"], training["loss"]) == ("regression", "MSELoss")


def test_a_refused_value_changes_nothing_and_a_locked_design_refuses(tmp_path):
    doc = Document(home=tmp_path / "home")
    doc.open(EXAMPLES / "digits_cnn.json")
    before = dict(doc.project.training)
    assert doc.set_trainings({"task": "regression", "loss": "NoSuchLoss"}, "Set task")
    assert doc.set_training("epochs", 0)
    assert doc.project.training == before and doc.undo.count() == 0
    assert doc.set_training("epochs", before["epochs"]) is None  # the same value: no step
    assert doc.undo.count() == 0
    doc.run.begin(tmp_path / "run")
    assert doc.set_trainings({"epochs": 3}, "Set epochs") == READ_ONLY


def test_the_loss_a_task_brings():
    assert fitting_loss("regression", "CrossEntropyLoss") == "MSELoss"
    assert fitting_loss("regression", "L1Loss") == "L1Loss"  # it fits: kept
    assert fitting_loss("classification", "MSELoss") == "CrossEntropyLoss"
    assert fitting_loss("classification", "MSELoss", ends_in_log_softmax=True) == "NLLLoss"
    assert fitting_loss("classification", "BCEWithLogitsLoss") == "BCEWithLogitsLoss"
    model = load_project(EXAMPLES / "digit_classifier.json").model
    assert gives_log_probs(model)
    assert not gives_log_probs(load_project(EXAMPLES / "digits_cnn.json").model)
