"""The digits CNN from File ▸ New in a handful of raw events: quick-add takes arguments and
a chain, a new project's Input fits its data and is wired to the Output."""

from __future__ import annotations

import torch
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.ui.helpers import click_node, press
from torchcanvas.codegen.build import build_model

CTRL = Qt.KeyboardModifier.ControlModifier
EVENTS_TARGET = 15  # issue 21: one click, one key chord, or one string ended by Enter
DIGITS_CNN = [
    ("Input", {"shape": (1, 8, 8)}),
    ("Conv2d", {"in_channels": 1, "out_channels": 16, "kernel_size": 3, "padding": 1}),
    ("ReLU", {}),
    ("MaxPool2d", {"kernel_size": 2}),
    ("Conv2d", {"in_channels": 16, "out_channels": 32, "kernel_size": 3, "padding": 1}),
    ("ReLU", {}),
    ("MaxPool2d", {"kernel_size": 2}),
    ("Flatten", {}),
    ("Linear", {"in_features": 128, "out_features": 10}),
    ("Output", {}),
]


class Events:
    """Raw user events, counted as the issue counts them."""

    def __init__(self, window, qtbot) -> None:
        self.window, self.qtbot, self.count = window, qtbot, 0

    def chord(self, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
        """A key (with modifiers) where the keyboard is: on the canvas."""
        press(self.window, key, modifier, widget=self.window.view)
        self.count += 1

    def click(self, name: str) -> None:
        click_node(self.window, name)
        self.count += 1

    def type_line(self, text: str) -> None:
        """Type into the quick-add box and end with Enter."""
        popup = self.window.editing.popup
        self.qtbot.waitUntil(popup.isVisible)
        QTest.keyClicks(popup.line, text)
        QTest.keyClick(popup.line, Qt.Key.Key_Return)
        self.count += 1


def chain_from(graph, start: str) -> list[tuple[str, dict]]:
    """Types and parameters (auto ones as the shapes fill them) from `start` along the only
    outgoing edges."""
    found, node, analysis = [], start, graph.analysis()
    while True:
        resolved = analysis.resolved(node)
        params = {k: resolved[k] for k in graph.params(node)}  # the set ones
        params |= {p.name: resolved[p.name] for p in graph.spec(node).params if p.auto}
        found.append((graph.node_type(node), params))
        readers = graph.outputs(node)
        if not readers:
            return found
        assert len(readers) == 1
        node = readers[0].dst


def test_the_digits_cnn_from_file_new_in_at_most_15_raw_events(window, qtbot):
    window.document.open_example("small_cnn")
    user = Events(window, qtbot)
    user.chord(Qt.Key.Key_N, CTRL)  # File ▸ New: Input 1×8×8 wired to the Output
    user.click("input")
    user.chord(Qt.Key.Key_Tab)
    user.type_line("conv 16 k3 p1, relu, pool 2, conv 32 k3 p1, relu, pool 2, flatten, linear 10")
    assert user.count <= EVENTS_TARGET and user.count == 4  # the README quotes 4

    graph = window.document.model
    (start,) = graph.nodes_of_type("Input")
    assert chain_from(graph, start) == DIGITS_CNN
    assert not graph.analysis().errors
    with torch.no_grad():
        logits = build_model(graph, seed=0).eval()(torch.rand(3, 1, 8, 8))
    assert logits.shape == (3, 10)

    user.chord(Qt.Key.Key_Z, CTRL)  # the whole chain is one step
    assert [graph.node_type(n) for n in graph.nodes()] == ["Input", "Output"]
    assert graph.outputs(start)[0].dst in graph.nodes_of_type("Output")


def test_a_comma_at_the_end_keeps_the_box_open_and_the_chain_wired(window, qtbot):
    user = Events(window, qtbot)
    user.chord(Qt.Key.Key_N, CTRL)
    user.click("input")
    user.chord(Qt.Key.Key_Tab)
    steps = ("conv2d 16 k=3 p=1,", "relu,", "pool 2,", "Conv2d 32 3 p=1,", "relu,", "maxpool2d 2,")
    for text in (*steps, "flatten,"):
        user.type_line(text)  # a comma at the end: the box opens again for the next layer
    user.type_line("linear 10")  # no comma: the box closes
    assert not window.editing.popup.isVisible()
    assert user.count <= EVENTS_TARGET and user.count == 11  # the README quotes 11
    graph = window.document.model
    (start,) = graph.nodes_of_type("Input")
    assert chain_from(graph, start) == DIGITS_CNN


def test_bad_arguments_are_refused_in_the_box_and_nothing_changes(window, qtbot):
    window.document.new()
    click_node(window, "input")
    press(window, Qt.Key.Key_Tab, widget=window.view)
    popup = window.editing.popup
    qtbot.waitUntil(popup.isVisible)
    QTest.keyClicks(popup.line, "conv 16 k0, relu")
    QTest.keyClick(popup.line, Qt.Key.Key_Return)
    assert popup.isVisible() and popup.message.isVisible()
    assert popup.message.text().startswith("conv 16 k0: kernel_size must be an integer from 1")
    assert len(window.document.model.nodes()) == 2 and not window.document.undo.can_undo()
    QTest.keyClick(popup.line, Qt.Key.Key_Escape)
    assert not popup.isVisible()
