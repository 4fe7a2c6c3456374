"""File ▸ Export Training Script… as a user uses it: a train.py for the open design."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.ui.test_onnx_ui import menu_action


@pytest.mark.slow
def test_export_a_training_script_from_the_file_menu_and_run_it(window, tmp_path):
    window.open_example("wine_mlp")  # its data file is relative to the examples folder
    out = tmp_path / "train_wine.py"
    window.dialogs.save_paths.append(str(out))
    menu_action(window, "File", "Export Training Script…").trigger()
    assert window.dialogs.errors == []
    assert "torchrun --nproc_per_node=N train_wine.py" in window.statusBar().currentMessage()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, out, "--epochs", "2", "--out", tmp_path / "run"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "rank 0/1: 142 of 142 samples per epoch" in done.stdout
    assert (tmp_path / "run" / "model.pt").exists()


def test_an_unfinished_design_gets_the_reason_and_nothing_is_written(window, tmp_path):
    QTest.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)  # File ▸ New
    graph = window.document.model
    (source,) = graph.nodes_of_type("Input")
    window.document.delete([], graph.outputs(source))  # the Input no longer feeds the Output
    window.dialogs.save_paths.append(str(tmp_path / "train.py"))
    menu_action(window, "File", "Export Training Script…").trigger()
    assert window.dialogs.errors[0][0] == "Cannot export yet"  # the Output is not wired
    assert not (tmp_path / "train.py").exists()
