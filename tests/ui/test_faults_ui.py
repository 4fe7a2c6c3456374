"""Faults a user meets in the window: each is told once, in the window, and nothing is lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
import torch
from PySide6.QtCore import QPointF, Qt

from tests.conftest import EXAMPLES
from tests.ui.conftest import close_window, make_window
from tests.ui.helpers import drop_layer, press
from torchcanvas.app.ui import launch
from torchcanvas.codegen.build import build_model
from torchcanvas.graph.project import load_project, save_project

CTRL = Qt.KeyboardModifier.ControlModifier

CRASHING_WINDOW = """
import os, signal, sys
from torchcanvas.app.recovery import RecoveryStore
from torchcanvas.graph.project import load_project, project_to_dict
project = load_project(sys.argv[2])
project.model.add_node("Tanh")
store = RecoveryStore(sys.argv[1])
store.write(project_to_dict(project), sys.argv[3] or None, "work.json")
os.kill(os.getpid(), signal.SIGKILL)
"""


def crash_with_unsaved_work(home, path: str | None) -> None:
    """A window process that autosaved a Tanh into the mlp example, then was killed."""
    args = [str(home / "recovery"), str(EXAMPLES / "mlp.json"), path or ""]
    done = subprocess.run([sys.executable, "-c", CRASHING_WINDOW, *args], timeout=120)
    assert done.returncode == -signal.SIGKILL


@pytest.mark.slow
def test_two_windows_keep_separate_recovery_files_and_a_save_removes_only_its_own(window, qtbot):
    other = make_window(qtbot)
    try:
        drop_layer(window, "Tanh", QPointF(0, 0))
        drop_layer(other, "Sigmoid", QPointF(0, 0))
        window.autosave()
        other.autosave()
        assert window.recovery_path() != other.recovery_path()
        assert window.recovery_path().exists() and other.recovery_path().exists()
        window.dialogs.save_paths = [str(window.home / "mine.json")]
        press(window, Qt.Key.Key_S, CTRL)
        assert not window.recovery_path().exists() and other.recovery_path().exists()
        # The other window is alive: its work is not offered to anyone.
        assert window.recovery.others() == 0
    finally:
        close_window(other)


def test_a_crashed_windows_work_is_offered_at_start_with_its_file_path(window, tmp_path):
    saved = tmp_path / "work.json"
    save_project(load_project(EXAMPLES / "mlp.json"), saved)
    crash_with_unsaved_work(window.home, str(saved))
    window.dialogs.ask_answers = [True]
    assert launch.open_initial(window, str(saved)) is None
    assert window.document.path == saved and window.document.dirty
    assert window.document.model.nodes_of_type("Tanh")
    assert "work.json" in window.windowTitle()
    # Saving writes to the original file; the orphan is gone only now.
    press(window, Qt.Key.Key_S, CTRL)
    assert load_project(saved).model.nodes_of_type("Tanh")
    assert window.recovery.others() == 0


@pytest.mark.slow
def test_work_of_two_crashed_windows_is_recovered_one_after_the_other(window, qtbot):
    crash_with_unsaved_work(window.home, None)
    crash_with_unsaved_work(window.home, None)
    window.dialogs.ask_answers = [True]
    assert launch.open_initial(window, None) is None
    assert window.document.model.nodes_of_type("Tanh")
    assert window.recovery.others() == 1  # the second is kept, and the status bar says so
    assert "File ▸ Recover Unsaved Work" in window.statusBar().currentMessage()
    second = make_window(qtbot)
    try:
        second.dialogs.ask_answers = [True]
        second.actions_by_name["recover"].trigger()
        assert second.document.model.nodes_of_type("Tanh") and second.document.dirty
    finally:
        close_window(second)


def test_an_autosave_that_cannot_be_written_is_told_once(window, qtbot):
    (window.home / "recovery").rmdir() if (window.home / "recovery").is_dir() else None
    (window.home / "recovery").write_text("a file where the folder should be")
    drop_layer(window, "Tanh", QPointF(0, 0))
    window.autosave()
    window.autosave()
    assert [title for title, _ in window.dialogs.errors] == ["Autosave failed"]
    assert "not being backed up" in window.statusBar().currentMessage()


def test_save_weights_into_an_unwritable_place_shows_a_dialog(window, qtbot, tmp_path):
    window.document.open_example("mlp")
    weights = tmp_path / "w.pt"
    torch.save(build_model(window.document.model).state_dict(), weights)
    window.dialogs.open_paths = [str(weights)]
    window.dialogs.weights_answers = ["strict"]
    window.training.panel.load_weights_button.click()
    (tmp_path / "file").write_text("")
    window.dialogs.save_paths = [str(tmp_path / "file" / "w.pt")]
    window.training.panel.save_weights_button.click()
    assert window.dialogs.errors[-1][0] == "Cannot save weights"


def test_load_weights_of_meta_tensors_shows_a_dialog(window, tmp_path):
    window.document.open_example("mlp")
    state = build_model(window.document.model).state_dict()
    torch.save({k: torch.empty_like(v, device="meta") for k, v in state.items()}, tmp_path / "m.pt")
    window.dialogs.open_paths = [str(tmp_path / "m.pt")]
    window.training.panel.load_weights_button.click()
    title, text = window.dialogs.errors[-1]
    assert title == "Cannot load weights" and "is a meta tensor" in text


def test_opening_dev_zero_or_a_pipe_is_refused_with_a_dialog(window, tmp_path):
    before = window.document.model.nodes()
    os.mkfifo(tmp_path / "pipe.json")
    window.dialogs.open_paths = ["/dev/zero", str(tmp_path / "pipe.json")]
    press(window, Qt.Key.Key_O, CTRL)
    press(window, Qt.Key.Key_O, CTRL)
    assert [text for _, text in window.dialogs.errors] == [
        "zero: not a regular file (a character device)",
        "pipe.json: not a regular file (a pipe)",
    ]
    assert window.document.model.nodes() == before


def test_the_launcher_opens_the_window_on_a_bad_file_and_says_why(window, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json")
    problem = launch.open_initial(window, str(bad))
    assert problem.startswith("bad.json: not valid JSON")
    assert len(window.document.model) > 0  # the window has a project to work on
