"""Windows and input for the real-X lane: a fresh home, focus given explicitly (Xvfb has
no window manager), keys typed into the focused widget so they go through the shortcut map."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests.ui.conftest import ScriptedDialogs, close_window  # noqa: F401  (re-exported)


def open_window(qtbot, scripted: bool = True):
    """A MainWindow as `torchcanvas` opens it (its remembered geometry, if any), shown,
    active, with the canvas focused; its dialogs scripted unless `scripted` is False."""
    from torchcanvas.app.ui.main_window import MainWindow

    win = MainWindow()
    if scripted:
        win.dialogs = ScriptedDialogs()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    activate(qtbot, win)
    win.view.setFocus()
    return win


def activate(qtbot, win) -> None:
    """Give `win` the keyboard (no window manager would)."""
    win.activateWindow()
    win.raise_()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win, timeout=3000)


def keys(sequence: str) -> None:
    """Press `sequence` ("Ctrl+Shift+Z") as the keyboard does: through the active window's
    QWindow, so Qt routes it (shortcut map, focus widget) as it routes an X key event."""
    window = QApplication.activeWindow()
    assert window is not None, "no window has the keyboard"
    combo = QKeySequence(sequence)[0]
    QTest.keyClick(window.windowHandle(), combo.key(), combo.keyboardModifiers())


def type_text(text: str) -> None:
    """Type `text` into the focused widget, key by key, through the active window."""
    for char in text:
        keys(char)


def click(widget, point=None) -> None:
    """A left click on `widget` (at its centre, or `point`)."""
    point = point if point is not None else widget.rect().center()
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)


def click_node(win, name: str) -> None:
    """Select a node by clicking its card."""
    item = win.scene.nodes[win.document.graph.id_of(name)]
    point = win.view.mapFromScene(item.scenePos() + QPointF(40, 20))
    click(win.view.viewport(), point)
