"""While training, the design is read-only and says so; the end of the run unlocks it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from tests.ui.helpers import click_node, drag, node, press, wire
from tests.ui.test_training_ui import LONG, open_digits


@pytest.mark.slow
def test_the_design_is_read_only_while_a_run_trains(window, qtbot):
    open_digits(window, epochs=200)
    graph = window.document.graph
    before = graph.names(), {n: graph.pos(n) for n in graph.nodes()}, len(graph.edges())
    QTest.mouseClick(window.training_panel.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.training.running, timeout=LONG)
    assert window.lock_banner.isVisible() and "read-only" in window.lock_banner.text()
    assert not window.inspector.isEnabled() and not window.palette.isEnabled()
    click_node(window, "relu1")  # selecting, to watch a layer, still works
    relu1 = node(window, "relu1")
    assert [i.node for i in window.scene.selected_nodes()] == [relu1]
    press(window, Qt.Key.Key_Delete)
    press(window, Qt.Key.Key_Right)
    card = window.scene.nodes[node(window, "conv2")]
    drag(window, card.scenePos() + QPointF(60, 20), card.scenePos() + QPointF(300, 20))
    wire(window, "input", "fc2")
    press(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    press(window, Qt.Key.Key_Tab, widget=window.view)
    assert not window.editing.popup.isVisible()
    after = graph.names(), {n: graph.pos(n) for n in graph.nodes()}, len(graph.edges())
    assert after == before
    QTest.mouseClick(window.training_panel.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.training.running, timeout=LONG)
    assert not window.lock_banner.isVisible() and window.inspector.isEnabled()
    QTest.qWait(200)  # the run's last events (results, curves) are drawn before the user acts
    click_node(window, "relu1")
    qtbot.waitUntil(lambda: [i.node for i in window.scene.selected_nodes()] == [relu1])
    press(window, Qt.Key.Key_Delete)  # editable again
    assert "relu1" not in graph.names().values()
