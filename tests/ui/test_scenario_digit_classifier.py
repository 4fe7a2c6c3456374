"""The tutorial DigitClassifier (MNIST, 1×28×28) built from a new project with a quick-add
chain, counting the user's actions (the README quotes the count)."""

from __future__ import annotations

import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.ui.helpers import click_node, node, press
from tests.ui.test_editor_gestures import choose
from torchcanvas.app.editing.examples import EXAMPLES
from torchcanvas.codegen.build import build_model
from torchcanvas.graph.project import load_project

ACTIONS_TARGET = 5  # File ▸ New, a click, the shape, the chain, logsoftmax


class Actions:
    """What the user does, one gesture each, counted."""

    def __init__(self, window, qtbot) -> None:
        self.window, self.qtbot, self.count = window, qtbot, 0

    def new_project(self) -> None:
        press(self.window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
        self.count += 1

    def click(self, name: str) -> None:
        click_node(self.window, name)
        self.count += 1

    def quick_add(self, text: str) -> None:
        """Tab, a few letters, Enter: one gesture."""
        press(self.window, Qt.Key.Key_Tab, widget=self.window.view)
        choose(self.window, self.qtbot, text)
        self.count += 1

    def set_field(self, key: str, text: str) -> None:
        """Click an Inspector field, type, Enter (which hands the keys back to the canvas)."""
        field = self.window.inspector.editors[key].widget
        line = field.lineEdit() if hasattr(field, "lineEdit") else field
        QTest.mouseClick(line, Qt.MouseButton.LeftButton)
        line.selectAll()
        QTest.keyClicks(line, text)
        QTest.keyClick(line, Qt.Key.Key_Return)
        self.qtbot.waitUntil(lambda: self.window.view.hasFocus())
        self.count += 1


@pytest.mark.smoke
def test_digit_classifier_from_a_new_project_in_5_actions(window, qtbot):
    user = Actions(window, qtbot)
    user.new_project()  # an Input (1×8×8, for the digits) wired to an Output
    user.click("input")
    user.set_field("shape", "1, 28, 28")  # MNIST
    user.quick_add("conv 16 k3 p1, relu, pool 2, conv 32 k3 p1, relu, pool 2, flatten, linear 10")
    user.quick_add("logsoftmax")  # after the last one added, before the Output
    graph = window.document.graph
    assert user.count <= ACTIONS_TARGET, user.count

    assert not graph.analysis().errors
    built = build_model(graph, seed=0)
    tutorial = build_model(load_project(EXAMPLES / "digit_classifier.json").model, seed=1)
    ours, theirs = built.state_dict(), tutorial.state_dict()
    assert [t.shape for t in ours.values()] == [t.shape for t in theirs.values()]
    built.load_state_dict(dict(zip(ours, theirs.values())), strict=True)
    x = torch.randn(4, 1, 28, 28)
    assert torch.equal(built.eval()(x), tutorial.eval()(x))
    assert node(window, "output") in graph.nodes()
