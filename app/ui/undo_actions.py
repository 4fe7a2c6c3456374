"""Edit ▸ Undo and Redo, bound to the Document's plain undo stack.

They say what they would undo or redo ("Undo Add Conv2d"), as QUndoStack's actions did,
and are enabled only when there is a step to take and the design is not locked.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QStyle


def undo_actions(window) -> tuple[QAction, QAction]:
    """The Undo and Redo actions of `window`, kept in step with its document."""
    document, style = window.document, window.style()
    sp, keys = QStyle.StandardPixmap, QKeySequence.StandardKey
    undo = QAction("Undo", window)
    undo.setShortcut(QKeySequence(keys.Undo))
    undo.setIcon(style.standardIcon(sp.SP_ArrowBack))
    redo = QAction("Redo", window)
    redo.setIcon(style.standardIcon(sp.SP_ArrowForward))
    redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence(keys.Redo)])
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
