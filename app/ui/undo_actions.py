"""Edit ▸ Undo and Redo, bound to the Document's plain undo stack.

They say what they would undo or redo ("Undo Add Conv2d"), as QUndoStack's actions did,
and are enabled only when there is a step to take and the design is not locked.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QStyle

# Spelled out, not StandardKey.Redo: on xcb that *is* Ctrl+Shift+Z, and one key bound twice
# to one action is an ambiguous shortcut that Qt refuses to run (offscreen it is Ctrl+Y).
UNDO_KEY = "Ctrl+Z"
REDO_KEYS = ("Ctrl+Shift+Z", "Ctrl+Y")


def undo_actions(window) -> tuple[QAction, QAction]:
    """The Undo and Redo actions of `window`, kept in step with its document."""
    document, style = window.document, window.style()
    sp = QStyle.StandardPixmap
    undo = QAction("Undo", window)
    undo.setShortcut(QKeySequence(UNDO_KEY))
    undo.setIcon(style.standardIcon(sp.SP_ArrowBack))
    redo = QAction("Redo", window)
    redo.setIcon(style.standardIcon(sp.SP_ArrowForward))
    redo.setShortcuts([QKeySequence(key) for key in REDO_KEYS])
    for action, name in ((undo, "Undo"), (redo, "Redo")):
        action.setProperty("help_text", name)  # Help lists "Undo", not "Undo Add Conv2d"
    undo.triggered.connect(lambda _checked=False: _step(window, document.undo.undo))
    redo.triggered.connect(lambda _checked=False: _step(window, document.undo.redo))

    def sync(*_args) -> None:
        stack, free = document.undo, not document.locked
        undo.setEnabled(free and stack.can_undo())
        redo.setEnabled(free and stack.can_redo())
        undo.setText(_label("Undo", stack.undo_text()))
        redo.setText(_label("Redo", stack.redo_text()))

    document.undo.changed.connect(sync)
    document.lock_changed.connect(sync)
    sync()
    return undo, redo


def _label(verb: str, text: str) -> str:
    return f"{verb} {text}" if text else verb


def _step(window, step) -> None:
    """Undo or redo, or say in the status bar why not (a shortcut may beat the sync)."""
    problem = window.document.refusal()
    if problem:
        window.statusBar().showMessage(problem, 5000)
        return
    step()
