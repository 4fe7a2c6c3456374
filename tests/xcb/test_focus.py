"""Focus follows the user: selecting a node brings the Inspector to the front (not during
a run), a click into a number field selects its text, and typing lands where it shows."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from tests.xcb.xhelpers import click, click_node, keys, type_text


def in_front(win, name: str) -> bool:
    """Whether dock `name` is the tab shown (Qt keeps the others "visible", off-screen)."""
    return not win.docks[name].visibleRegion().isEmpty()


class RunningSession:
    """A session that is running (the design locked, no worker needed)."""

    running = True

    def set_capture(self, *args) -> None:
        pass

    def kill(self) -> None:
        self.running = False


def param(win, name, key):
    return win.document.graph.params(win.document.graph.id_of(name))[key]


def test_selecting_a_node_after_a_run_shows_the_inspector(window, qtbot):
    """After a run the Training tab is in front; a click on a card brings the Inspector
    back, and a click into a field and typing edits that field, not the Training panel."""
    window.show_training_views()  # as a finished run leaves the right dock
    qtbot.waitUntil(lambda: in_front(window, "training"))
    settings = dict(window.document.project.training)
    click_node(window, "conv1")
    qtbot.waitUntil(lambda: in_front(window, "inspector"), timeout=3000)
    assert not in_front(window, "training")
    box = window.inspector.editors["out_channels"].widget
    click(box.lineEdit())
    qtbot.waitUntil(lambda: box.lineEdit().selectedText() == "16", timeout=3000)
    type_text("32")
    keys("Return")
    assert param(window, "conv1", "out_channels") == 32  # not 1632
    assert dict(window.document.project.training) == settings


def test_tab_into_a_number_field_selects_it(window, qtbot):
    """Typing into a field and Tab to the next selects the next one's text (the edit
    committed on the way must not redraw the field and drop the selection)."""
    click_node(window, "conv1")
    qtbot.waitUntil(lambda: in_front(window, "inspector"), timeout=3000)
    editors = window.inspector.editors
    click(editors["out_channels"].widget.lineEdit())
    box = editors["out_channels"].widget
    qtbot.waitUntil(lambda: box.lineEdit().selectedText() == "16", timeout=3000)
    type_text("32")
    keys("Tab")
    focused = QApplication.focusWidget()
    print(
        focused, focused.parentWidget(), [k for k, e in editors.items() if e.isAncestorOf(focused)]
    )
    line = focused.lineEdit() if hasattr(focused, "lineEdit") else focused
    assert line.selectedText() == line.text() != ""
    assert line.text() == "3"  # kernel_size
    type_text("5")
    keys("Return")
    assert param(window, "conv1", "out_channels") == 32
    assert param(window, "conv1", "kernel_size") in (5, [5, 5], (5, 5))


def test_adding_a_node_shows_the_inspector(window, qtbot):
    """Quick-add after a run: the new layer is selected and its Inspector shown."""
    window.show_training_views()
    click_node(window, "fc2")
    window.show_training_views()
    window.view.setFocus()
    keys("Tab")
    type_text("relu")
    keys("Return")
    qtbot.waitUntil(lambda: in_front(window, "inspector"), timeout=3000)
    assert window.inspector.name_edit.text().startswith("relu")


def test_during_a_run_the_training_tab_stays(window, qtbot):
    """While training, selecting a node keeps Stop and the progress in sight."""
    window.training.session = RunningSession()
    try:
        window.show_training_views()
        qtbot.waitUntil(lambda: in_front(window, "training"))
        click_node(window, "conv1")
        QApplication.processEvents()
        assert in_front(window, "training")
        assert not in_front(window, "inspector")
    finally:
        window.training.session = None


def test_clicking_the_card_still_selected_after_a_run_shows_the_inspector(window, qtbot):
    """The card selected before the run is still selected after it: a click on it (no
    change of selection) brings the Inspector back too."""
    click_node(window, "conv1")
    window.show_training_views()
    qtbot.waitUntil(lambda: in_front(window, "training"))
    click_node(window, "conv1")
    qtbot.waitUntil(lambda: in_front(window, "inspector"), timeout=3000)


def test_undo_and_both_redo_keys_in_an_inspector_field(window, qtbot):
    """In a field, Ctrl+Z commits what is typed and undoes it; Ctrl+Y and Ctrl+Shift+Z
    redo it (the window's keys, not the field's own text undo)."""
    click_node(window, "conv1")
    qtbot.waitUntil(lambda: in_front(window, "inspector"), timeout=3000)
    box = window.inspector.editors["out_channels"].widget
    click(box.lineEdit())
    qtbot.waitUntil(lambda: box.lineEdit().selectedText() == "16", timeout=3000)
    type_text("32")
    keys("Ctrl+Z")
    assert param(window, "conv1", "out_channels") == 16
    for redo in ("Ctrl+Y", "Ctrl+Shift+Z"):
        window.inspector.editors["out_channels"].widget.setFocus()
        keys(redo)
        assert param(window, "conv1", "out_channels") == 32, redo
        keys("Ctrl+Z")
        assert param(window, "conv1", "out_channels") == 16
