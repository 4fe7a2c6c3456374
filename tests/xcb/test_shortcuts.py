"""Every key of Help ▸ Keyboard Shortcuts, pressed on a real X server, does its job; the
list the window shows is the README's."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel

from tests.conftest import ROOT
from tests.xcb.xhelpers import keys, type_text
from torchcanvas.app.ui.actions import GESTURES, shortcut_rows
from torchcanvas.app.ui.dialogs import Dialogs
from torchcanvas.graph.layout import RIGHT


def ids(win, *names):
    return [win.document.graph.id_of(n) for n in names]


def select(win, *names):
    win.scene.select_nodes(ids(win, *names))


def names(win):
    return set(win.document.graph.names().values())


def count(win):
    return len(win.document.graph.nodes())


def with_block(win):
    """conv1 and bn1 made into the block ConvBN; its instance selected."""
    assert win.document.blocks.make_block(ids(win, "conv1", "bn1"), "ConvBN", []) is None
    win.scene.select_nodes([win.document.last_added])
    return win.document.last_added


def case_arrange(win, tmp):
    before = win.document.undo.undo_text()
    keys("Ctrl+L")
    assert win.document.undo.undo_text() != before


def case_back_up(win, tmp):
    assert win.document.navigator.enter(with_block(win))
    keys("Escape")
    assert win.document.navigator.depth == 0


def case_copy_paste(win, tmp):
    select(win, "fc1")
    keys("Ctrl+C")
    assert QApplication.clipboard().mimeData().formats()
    before = count(win)
    keys("Ctrl+V")
    assert count(win) == before + 1


def case_cut(win, tmp):
    select(win, "dropout")
    keys("Ctrl+X")
    assert "dropout" not in names(win)


def case_delete(win, tmp):
    select(win, "dropout")
    keys("Del")
    assert "dropout" not in names(win)


def case_delete_chain(win, tmp):
    edges = len(win.document.graph.edges())
    select(win, "dropout")
    keys("Shift+Del")
    assert "dropout" not in names(win)
    assert len(win.document.graph.edges()) == edges - 1  # relu3 -> fc2 joined


def case_duplicate(win, tmp):
    select(win, "fc1")
    before = count(win)
    keys("Ctrl+D")
    assert count(win) == before + 1


def case_expand(win, tmp):
    node = with_block(win)
    keys("E")
    assert node in win.scene.expanded


def case_export(win, tmp):
    win.dialogs.save_paths.append(str(tmp / "net.py"))
    keys("Ctrl+E")
    assert "class " in (tmp / "net.py").read_text()


def case_find(win, tmp):
    keys("Ctrl+F")
    popup = win.editing.popup
    assert popup.isVisible()
    type_text("fc2")
    keys("Return")
    assert [i.node for i in win.scene.selected_nodes()] == ids(win, "fc2")


def case_fit(win, tmp):
    win.view.zoom_by(4)
    before = win.view.transform().m11()
    keys("F")
    assert win.view.transform().m11() < before


def case_import(win, tmp):
    keys("Ctrl+I")
    dialog = win.import_dialog
    assert dialog.isVisible()
    dialog.reject()


def case_layout_right(win, tmp):
    keys("Ctrl+Shift+L")
    assert win.document.direction == RIGHT
    assert win.document.undo.undo_text() == "Lay Out Left to Right"


def case_make_block(win, tmp):
    select(win, "conv1", "bn1")
    keys("Ctrl+G")
    dialog = win.blocks.dialog
    assert dialog.isVisible()
    dialog.reject()


def case_new(win, tmp):
    keys("Ctrl+N")
    assert sorted(win.document.graph.node_type(n) for n in win.document.graph.nodes()) == [
        "Input",
        "Output",
    ]


def case_open(win, tmp):
    path = tmp / "saved.json"
    win.document.save(path)
    win.document.open_example("mlp")
    win.dialogs.open_paths.append(str(path))
    keys("Ctrl+O")
    assert win.document.path == path


def case_open_block(win, tmp):
    with_block(win)
    keys("Return")
    assert win.document.navigator.depth == 1


def case_redo(win, tmp):
    select(win, "dropout")
    keys("Del")
    for redo in ("Ctrl+Shift+Z", "Ctrl+Y"):  # each after an undo
        keys("Ctrl+Z")
        assert "dropout" in names(win)
        keys(redo)
        assert "dropout" not in names(win), redo


def case_repeat(win, tmp):
    node = with_block(win)
    win.dialogs.int_answers.append(3)
    keys("Ctrl+R")
    assert node not in win.document.graph.nodes()
    assert win.document.graph.node_type(win.document.last_added) == "Sequential"


def case_save(win, tmp):
    win.dialogs.save_paths.append(str(tmp / "a.json"))
    keys("Ctrl+S")
    assert (tmp / "a.json").is_file() and not win.document.dirty


def case_save_as(win, tmp):
    win.dialogs.save_paths.append(str(tmp / "b.json"))
    keys("Ctrl+Shift+S")
    assert (tmp / "b.json").is_file()


def case_select_all(win, tmp):
    keys("Ctrl+A")
    assert len(win.scene.selected_nodes()) == count(win)


def case_train(win, tmp, monkeypatch):
    started = []
    monkeypatch.setattr(win.training, "start", lambda: started.append(True))
    keys("Ctrl+T")
    assert started == [True]


def case_undo(win, tmp):
    select(win, "dropout")
    keys("Del")
    keys("Ctrl+Z")
    assert "dropout" in names(win)


def case_ungroup(win, tmp):
    node = with_block(win)
    keys("Ctrl+Shift+G")
    assert node not in win.document.graph.nodes()
    assert {"conv1", "bn1"} <= set(names(win))


def case_zoom_in(win, tmp):
    before = win.view.transform().m11()
    keys("Ctrl+=")
    assert win.view.transform().m11() > before


def case_zoom_out(win, tmp):
    before = win.view.transform().m11()
    keys("Ctrl+-")
    assert win.view.transform().m11() < before


def case_quick_add(win, tmp):
    select(win, "fc2")
    before = count(win)
    keys("Tab")
    type_text("relu")
    keys("Return")
    assert count(win) == before + 1


CASES = {  # Help's action name: how its key is tested (Quit: test_quit.py)
    "Auto-arrange": case_arrange,
    "Back Up": case_back_up,
    "Copy": case_copy_paste,
    "Paste": case_copy_paste,
    "Cut": case_cut,
    "Delete": case_delete,
    "Delete, Keeping the Chain": case_delete_chain,
    "Duplicate": case_duplicate,
    "Expand in Place": case_expand,
    "Export Python": case_export,
    "Find Node": case_find,
    "Fit": case_fit,
    "Import Model": case_import,
    "Lay Out Left to Right": case_layout_right,
    "Make Block": case_make_block,
    "New": case_new,
    "Open": case_open,
    "Open Block": case_open_block,
    "Redo": case_redo,
    "Repeat": case_repeat,
    "Save": case_save,
    "Save As": case_save_as,
    "Select All": case_select_all,
    "Train": case_train,
    "Undo": case_undo,
    "Ungroup": case_ungroup,
    "Zoom In": case_zoom_in,
    "Zoom Out": case_zoom_out,
    "Add a layer: type a few letters, Enter": case_quick_add,
}
TESTED_ELSEWHERE = {"Quit": "tests/xcb/test_quit.py"}


@pytest.mark.parametrize(
    "case", sorted(set(CASES.values()), key=lambda f: f.__name__), ids=lambda f: f.__name__[5:]
)
def test_key(window, tmp_path, monkeypatch, case):
    """The key does what Help says it does (a real key press on xcb)."""
    if "monkeypatch" in case.__code__.co_varnames[: case.__code__.co_argcount]:
        case(window, tmp_path, monkeypatch)
    else:
        case(window, tmp_path)


def test_every_listed_key_is_tested(window):
    """Help ▸ Keyboard Shortcuts lists nothing untested (on xcb, as Linux users see it)."""
    actions = {what for keys_, what in shortcut_rows(window) if (keys_, what) not in GESTURES}
    assert actions - set(CASES) - set(TESTED_ELSEWHERE) == set()
    assert set(CASES) - actions == {"Add a layer: type a few letters, Enter"}


def readme_keys() -> list[tuple[str, str]]:
    """The rows of the README's table of keys (between its markers)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("<!-- keys -->")[1].split("<!-- /keys -->")[0]
    rows = re.findall(r"^\| `([^|]+)` \| ([^|]+) \|$", table, re.MULTILINE)
    return [(k.replace("` or `", " or "), what.strip()) for k, what in rows]


def test_readme_lists_the_same_keys(window):
    """The README's table of keys is what Help ▸ Keyboard Shortcuts shows on Linux (after
    an edit too: "Undo", not "Undo Delete")."""
    select(window, "dropout")
    keys("Del")
    shown = [row for row in shortcut_rows(window) if row not in GESTURES]
    assert readme_keys() == shown


def test_the_shortcuts_box_fits_the_screen(window, qtbot):
    """Help ▸ Keyboard Shortcuts, as a user opens it, fits a 1280×720 screen."""
    window.dialogs = Dialogs(window)
    seen = {}

    def look() -> None:
        box = QApplication.activeModalWidget()
        seen["frame"] = box.frameGeometry()
        seen["text"] = box.findChild(QLabel).text()
        box.accept()

    QTimer.singleShot(500, look)
    window.actions_by_name["shortcuts"].trigger()
    area = window.screen().availableGeometry()
    assert area.contains(seen["frame"]), (seen["frame"], area)
    assert seen["frame"].height() < area.height() * 0.8  # room for a title bar and more keys
    assert "Ctrl+Shift+Z or Ctrl+Y" in seen["text"]
