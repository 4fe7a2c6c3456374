"""Keys typed in the Inspector that belong to the whole editor.

Undo and Redo undo the graph, not the text of the field: the edit in progress is committed
first, then undone like any other. Enter commits the field and gives the keyboard back to
the canvas, so that the next Tab adds the next layer.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QLineEdit

from torchcanvas.app.ui.undo_actions import REDO_KEYS, UNDO_KEY

_GRAPH_KEYS = tuple(QKeySequence(key) for key in (UNDO_KEY, *REDO_KEYS))


class InspectorKeys(QObject):
    """An application event filter for the keys of the window's Inspector."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        QApplication.instance().installEventFilter(self)
        window.destroyed.connect(lambda: QApplication.instance().removeEventFilter(self))

    def eventFilter(self, watched, event) -> bool:
        kind = event.type()
        if kind not in (
            QEvent.Type.ShortcutOverride,
            QEvent.Type.KeyPress,
            QEvent.Type.FocusIn,
        ):
            return False
        textual = isinstance(watched, (QLineEdit, QAbstractSpinBox))
        if not textual or not self._in_inspector(watched):
            return False
        if kind == QEvent.Type.FocusIn:
            if event.reason() == Qt.FocusReason.MouseFocusReason:
                _select_after_click(watched)
            return False
        if kind == QEvent.Type.ShortcutOverride and _is_graph_key(event):
            commit(watched)
            return True  # not taken by the field: the window's Undo or Redo runs
        if kind == QEvent.Type.KeyPress and event.text() in ("\r", "\n"):
            QTimer.singleShot(0, self._back_to_canvas)  # after the field commits
        return False

    def _in_inspector(self, widget) -> bool:
        inspector = getattr(self.window, "inspector", None)
        return inspector is not None and inspector.isAncestorOf(widget)

    def _back_to_canvas(self) -> None:
        if self.window.isVisible():
            self.window.view.setFocus()


def _select_after_click(field) -> None:
    """A click that gives a field the keyboard selects its text, as Tab does, so that
    typing 32 into "16" gives 32, not 1632 (later clicks place the cursor as usual)."""
    # After the press: the press itself puts the cursor where the click was.
    QTimer.singleShot(0, lambda: shiboken6.isValid(field) and field.selectAll())


def _is_graph_key(event) -> bool:
    combo = QKeySequence(event.keyCombination())
    return any(combo.matches(key) == QKeySequence.SequenceMatch.ExactMatch for key in _GRAPH_KEYS)


def commit(field) -> None:
    """Commit what is typed in `field` (a line, a spin box or its line) as Enter would."""
    spin = field if isinstance(field, QAbstractSpinBox) else field.parentWidget()
    if isinstance(spin, QAbstractSpinBox):
        spin.interpretText()
    elif field.isModified():
        field.setModified(False)
        field.editingFinished.emit()
