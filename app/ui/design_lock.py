"""While a run trains, the design is read-only: what trains is what the weights will fit.

Every way to edit goes quiet (palette, inspector, editing actions and keys, dragging cards
and wires, quick-add, menus) and a line over the canvas says why; Stop (or the end of the
run) gives it all back. Opening blocks and selecting nodes, to watch them, still work.
"""

from __future__ import annotations

from PySide6.QtWidgets import QGraphicsItem, QLabel

EDITING_ACTIONS = (
    "undo", "redo", "cut", "paste", "duplicate", "delete", "delete_chain", "arrange",
    "make_block", "ungroup", "repeat", "import",
)  # fmt: skip
READ_ONLY = "Training: the design is read-only until the run ends or you press Stop."


def banner() -> QLabel:
    """The line shown over the canvas while the design is locked."""
    label = QLabel(READ_ONLY)
    label.setStyleSheet("background: #fff3e0; color: #6d4c00; padding: 4px 8px;")
    label.hide()
    return label


def set_locked(window, locked: bool) -> None:
    """Lock (or unlock) every way of editing the design in `window`."""
    window.design_locked = locked
    window.lock_banner.setVisible(locked)
    window.palette.setEnabled(not locked)
    window.inspector.setEnabled(not locked)
    window.inspector.setToolTip(READ_ONLY if locked else "")
    actions = window.actions_by_name
    for name in EDITING_ACTIONS:
        if name in actions:
            actions[name].setEnabled(not locked)
    if not locked:  # the stack's own state again
        actions["undo"].setEnabled(window.document.undo.canUndo())
        actions["redo"].setEnabled(window.document.undo.canRedo())
    movable = QGraphicsItem.GraphicsItemFlag.ItemIsMovable
    for item in window.scene.nodes.values():
        item.setFlag(movable, not locked)
    window.scene.locked = locked
