"""Quitting and files: what is typed is kept (or discarded) cleanly at Quit, file choosers
never start inside the installed program, the import dialog remembers the last import, and
the view's check marks follow the open project."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.conftest import ROOT
from tests.ui.conftest import close_window, make_window
from tests.ui.helpers import click_node, press
from torchcanvas.app.editing.examples import EXAMPLES
from torchcanvas.app.ui import dialogs as dialogs_module
from torchcanvas.app.ui.dialogs import Dialogs, is_installed_folder
from torchcanvas.app.ui.import_dialog import ImportDialog

CTRL = Qt.KeyboardModifier.ControlModifier
CTRL_SHIFT = CTRL | Qt.KeyboardModifier.ShiftModifier
MODULES = ROOT / "tests" / "fixtures" / "modules"


def test_quit_commits_the_field_being_typed_then_discard_closes_cleanly(window, qtbot):
    """A name typed without Enter counts as a change: Quit asks; Discard closes without
    an exception (the fixture fails the test on one escaping a slot)."""
    window.document.open_example("digits_cnn")
    click_node(window, "fc1")
    field = window.inspector.name_edit
    field.setFocus()
    field.selectAll()
    qtbot.keyClicks(field, "hidden")
    asked = []
    window.dialogs.ask_save = lambda label: asked.append(label) or "discard"
    window.close()
    assert asked == ["digits_cnn.json (example)"]
    assert not window.isVisible()
    for _ in range(3):  # the deferred deletions of the form and the window
        QApplication.processEvents()


class Parent:
    """A window with a document at `path`."""

    def __init__(self, path) -> None:
        self.document = type("Doc", (), {"path": path})()


def test_file_choosers_never_start_in_the_installed_program(tmp_path, monkeypatch):
    """An example opened from the install, or a last folder there: Save starts in
    Documents (or home), not where it would write into the program."""
    monkeypatch.setenv("HOME", str(tmp_path))
    documents = tmp_path / "Documents"
    example = EXAMPLES / "digits_cnn.json"
    assert is_installed_folder(EXAMPLES) and is_installed_folder(
        Path(dialogs_module.__file__).parent
    )
    dialogs = Dialogs(Parent(example))
    dialogs.last_folder = str(EXAMPLES)
    assert dialogs.start_folder() == str(tmp_path)  # no Documents folder: home
    documents.mkdir()
    assert dialogs.start_folder() == str(documents)
    dialogs.last_folder = str(tmp_path / "work")
    (tmp_path / "work").mkdir()
    assert dialogs.start_folder() == str(tmp_path / "work")  # the folder last used
    mine = tmp_path / "mine" / "net.json"
    mine.parent.mkdir()
    assert Dialogs(Parent(mine)).start_folder() == str(mine.parent)  # the project's own


def test_the_import_dialog_remembers_the_last_import(qtbot, tmp_path, monkeypatch):
    """File, class, shapes (and the rest) come back the next time, in a new window too."""
    monkeypatch.setenv("TORCHCANVAS_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(ImportDialog, "start", lambda self: None)  # no import process
    window = make_window(qtbot)
    press(window, Qt.Key.Key_I, CTRL)
    dialog = window.import_dialog
    qtbot.keyClicks(dialog.path, str(MODULES / "handwritten.py"))
    dialog.class_name.setCurrentText("TutorialNet")
    dialog.shapes.selectAll()
    qtbot.keyClicks(dialog.shapes, "3x32x32")
    dialog.import_button.click()
    dialog.reject()
    close_window(window)

    again = make_window(qtbot)
    press(again, Qt.Key.Key_I, CTRL)
    dialog = again.import_dialog
    assert dialog.path.text() == str(MODULES / "handwritten.py")
    assert dialog.class_name.currentText() == "TutorialNet"
    assert dialog.class_name.findText("TutorialNet") >= 0  # the file's classes listed
    assert dialog.shapes.text() == "3x32x32"
    assert dialog.from_file.isChecked()
    dialog.reject()
    close_window(again)


def test_view_options_follow_the_open_project(window):
    """After a left-to-right project, the next one (top down) shows no check mark, and the
    first Ctrl+Shift+L lays it out left to right, not a spurious "Top Down"."""
    layout_right = window.actions_by_name["layout_right"]
    window.open_example("digits_cnn")
    press(window, Qt.Key.Key_L, CTRL_SHIFT)
    assert layout_right.isChecked() and window.document.direction == "right"
    window.document.undo.set_clean()
    for reopen in (lambda: window.open_example("mlp"), window.new_project):
        reopen()
        assert window.document.direction == "down"
        assert not layout_right.isChecked()
        press(window, Qt.Key.Key_L, CTRL_SHIFT)
        assert window.document.undo.undo_text() == "Lay Out Left to Right"
        assert window.document.direction == "right" and layout_right.isChecked()
        window.document.undo.set_clean()
