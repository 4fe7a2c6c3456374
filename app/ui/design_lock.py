"""How the window shows the Document's lock: while a run trains, the design is read-only.

The Document refuses every edit while it is locked (see `torchcanvas.app.editing.lock`);
this makes the ways to edit go quiet too (palette, inspector, editing actions, dragging
cards) and shows a line over the canvas that says why. Opening blocks and selecting nodes,
to watch them, still work.
"""

from __future__ import annotations

from PySide6.QtWidgets import QGraphicsItem, QLabel

from torchcanvas.app.editing.lock import READ_ONLY

# Undo and Redo are not here: they follow the lock themselves (see undo_actions).
EDITING_ACTIONS = (
    "cut", "paste", "duplicate", "delete", "delete_chain", "arrange", "layout_right",
    "make_block", "ungroup", "repeat", "import", "freeze", "unfreeze", "freeze_before",
)  # fmt: skip


def banner() -> QLabel:
    """The line shown over the canvas while the design is locked."""
    label = QLabel(READ_ONLY)
    label.setStyleSheet("background: #fff3e0; color: #6d4c00; padding: 4px 8px;")
    label.hide()
    return label


def follow_lock(window) -> None:
    """Show the document's lock in `window` from now on."""
    window.document.lock_changed.connect(lambda locked: show_lock(window, locked))


def show_lock(window, locked: bool) -> None:
    """Make every way of editing in `window` quiet (or active again)."""
    window.lock_banner.setVisible(locked)
    window.palette.setEnabled(not locked)
    window.inspector.setEnabled(not locked)
    window.inspector.setToolTip(READ_ONLY if locked else "")
    actions = window.actions_by_name
    for name in EDITING_ACTIONS:
        if name in actions:
            actions[name].setEnabled(not locked)
    movable = QGraphicsItem.GraphicsItemFlag.ItemIsMovable
    for item in window.scene.nodes.values():
        item.setFlag(movable, not locked)
