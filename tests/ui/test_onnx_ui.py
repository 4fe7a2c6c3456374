"""File ▸ Export ONNX… as a user uses it: the file chooser, the progress, the result."""

from __future__ import annotations

import numpy as np
import onnxruntime
import pytest
from PySide6.QtCore import QPointF

from tests.ui.helpers import drop_chain, drop_layer
from torchcanvas.app import worker


def menu_action(window, menu_title: str, text: str):
    """The action called `text` in the menu bar's `menu_title` menu."""
    for menu_action_ in window.menuBar().actions():
        if menu_action_.text().replace("&", "") == menu_title:
            for action in menu_action_.menu().actions():
                if action.text().replace("&", "") == text:
                    return action
    raise AssertionError(f"no {menu_title} ▸ {text}")


@pytest.mark.slow
def test_export_onnx_from_the_file_menu(window, qtbot, tmp_path):
    drop_chain(window, qtbot, ["Input", "Flatten", "Linear", "Output"])
    out = tmp_path / "digits.onnx"
    window.dialogs.save_paths.append(str(out))
    menu_action(window, "File", "Export ONNX…").trigger()
    run = window.onnx_export
    follow = run.process.processEnvironment().value(worker.PARENT_ENV)
    assert follow == worker.parent_variable()[1]  # the export ends if the window is killed
    with qtbot.waitSignal(run.finished, timeout=120_000) as done:
        pass
    assert done.args[0], done.args[1]
    shown = window.statusBar().currentMessage()
    assert "opset" in shown and "freshly initialized" in shown
    session = onnxruntime.InferenceSession(str(out))
    x = np.random.default_rng(0).standard_normal((3, 1, 28, 28)).astype(np.float32)
    (got,) = session.run(None, {session.get_inputs()[0].name: x})
    assert got.shape == (3, 10)  # a batch other than the one traced
    assert window.dialogs.errors == []


def test_a_design_with_problems_is_not_exported(window, qtbot, tmp_path):
    window.dialogs.save_paths.append(str(tmp_path / "never.onnx"))  # not even asked for
    drop_layer(window, "Input", QPointF(95, 0))
    drop_layer(window, "Output", QPointF(95, 200))  # not connected: "has no input"
    menu_action(window, "File", "Export ONNX…").trigger()
    assert window.dialogs.errors and window.dialogs.errors[0][0] == "Cannot export yet"
    assert not list(tmp_path.glob("**/*.onnx"))
    assert window.dialogs.save_paths == [str(tmp_path / "never.onnx")]  # never asked
