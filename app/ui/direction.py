"""View ▸ Lay Out Left to Right: the canvas's flow direction, saved in the project."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction

from torchcanvas.graph.layout import DOWN, RIGHT


def add_direction_action(window) -> QAction:
    """A checkable View action that turns the layout (one undo step), kept in step with the
    document: undo, redo and opening a project check or uncheck it."""
    action = QAction("Lay Out &Left to Right", window)
    action.setCheckable(True)
    action.setShortcut("Ctrl+Shift+L")
    action.setStatusTip("Data flows left to right: ports on the cards' sides (auto-arranges)")
    document, scene = window.document, window.scene

    def chosen(checked: bool) -> None:
        document.set_direction(RIGHT if checked else DOWN, scene.card_sizes)

    def follow(direction: str) -> None:
        scene.set_direction(direction)
        window.view.minimap.schedule()
        QTimer.singleShot(0, window.view.show_top)  # the start of the network in sight
        action.blockSignals(True)
        action.setChecked(direction == RIGHT)
        action.blockSignals(False)

    action.toggled.connect(chosen)
    document.direction_changed.connect(follow)
    document.replaced.connect(lambda: follow(document.direction))
    window.view_menu.addSeparator()
    window.view_menu.addAction(action)
    window.actions_by_name["layout_right"] = action
    return action
