"""The tutorial DigitClassifier built from a new project with quick-add and auto-connect,
counting the user's actions (the README quotes the count)."""

from __future__ import annotations

import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.ui.helpers import click_node, node, press, wire
from tests.ui.test_editor_gestures import choose
from torchcanvas.app.editing.examples import EXAMPLES
from torchcanvas.codegen.build import build_model
from torchcanvas.graph.project import load_project

ACTIONS_TARGET = 15


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

    def wire(self, src: str, dst: str) -> None:
        wire(self.window, src, dst)
        self.count += 1


@pytest.mark.smoke
def test_digit_classifier_from_a_new_project_in_at_most_15_actions(window, qtbot):
    user = Actions(window, qtbot)
    user.new_project()  # an Input (1x28x28) and an Output
    user.click("input")
    user.quick_add("conv2d")
    user.set_field("padding", "1")
    user.quick_add("relu")
    user.quick_add("maxpool2d")
    user.quick_add("conv2d")
    user.set_field("out_channels", "32")
    user.set_field("padding", "1")
    user.quick_add("relu")
    user.quick_add("maxpool2d")
    user.quick_add("flatten")
    user.quick_add("linear")
    user.quick_add("logsoftmax")
    graph = window.document.graph
    (last,) = graph.nodes_of_type("LogSoftmax")
    user.wire(graph.node_name(last), "output")
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
