"""Edit ▸ Undo and Redo follow the Document's plain undo stack and its lock; one edit, even
a gesture of several changes, redraws the canvas once."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.ui.helpers import drop_layer, node, press


def test_undo_and_redo_say_what_they_take_back_and_follow_the_lock(window, qtbot):
    window.document.open_example("mlp")
    actions = window.actions_by_name
    undo, redo = actions["undo"], actions["redo"]
    assert undo.text() == "Undo" and not undo.isEnabled() and not redo.isEnabled()
    assert window.document.rename(node(window, "fc1"), "first") is None
    assert undo.text() == "Undo Rename fc1 to first" and undo.isEnabled()
    assert window.isWindowModified()
    press(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert "fc1" in window.document.graph.names().values()
    assert redo.text() == "Redo Rename fc1 to first" and redo.isEnabled()
    assert not window.isWindowModified()  # back at the state it was opened in
    window.document.run.begin()
    assert not undo.isEnabled() and not redo.isEnabled() and window.lock_banner.isVisible()
    assert window.document.rename(node(window, "fc1"), "x") == window.lock_banner.text()
    window.document.run.end()
    assert redo.isEnabled() and not window.lock_banner.isVisible()
    shift_ctrl = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    press(window, Qt.Key.Key_Z, shift_ctrl)
    assert "first" in window.document.graph.names().values()


def test_a_gesture_of_several_changes_is_one_step_and_one_redraw(window, qtbot):
    window.document.open_example("mlp")
    qtbot.wait(50)
    edge = next(e for e in window.scene.edges.values() if e.edge.dst == node(window, "fc2"))
    redraws = []
    window.scene.analysis_updated.connect(redraws.append)
    steps = window.document.undo.count()
    drop_layer(window, "Dropout", edge.path().pointAtPercent(0.5))  # add, cut, wire, wire
    qtbot.waitUntil(lambda: len(redraws) == 1)
    qtbot.wait(100)
    assert len(redraws) == 1 and window.document.undo.count() == steps + 1
    assert window.document.undo.undo_text() == "Insert Dropout"
