"""Freeze, Unfreeze and Freeze Everything Before This Node: the window's training-flag
actions on the selection, and the inspector's Frozen and learning-rate rows, through the
Document (which refuses them while a run trains)."""

from __future__ import annotations

from PySide6.QtGui import QAction

FLAG_ACTIONS = ("freeze", "unfreeze", "freeze_before")


def _selected(window) -> list[str]:
    return [item.node for item in window.scene.selected_nodes()]


def _report(window, error: str | None) -> None:
    if error:
        window.statusBar().showMessage(error, 8000)


def freeze_before(window) -> None:
    """Freeze the ancestors of the one selected node."""
    nodes = _selected(window)
    if len(nodes) != 1:
        _report(window, "Select one node to freeze everything before it")
        return
    _report(window, window.document.freeze_before(nodes[0]))


def flag_actions(window) -> dict[str, QAction]:
    """The actions, keyed by name (the Training menu and the card's menu show them)."""
    doc = window.document
    entries = {
        "freeze": (
            "&Freeze",
            lambda: _report(window, doc.set_frozen(_selected(window), True)),
            "Keep the selected layers' weights and batch-norm statistics in training",
        ),
        "unfreeze": (
            "&Unfreeze",
            lambda: _report(window, doc.set_frozen(_selected(window), False)),
            "Train the selected layers again",
        ),
        "freeze_before": (
            "Freeze Everything &Before This Node",
            lambda: freeze_before(window),
            "Freeze every layer that feeds the selected one (a pretrained backbone)",
        ),
    }
    actions = {}
    for name, (text, slot, tip) in entries.items():
        action = QAction(text, window)
        action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False, slot=slot: slot())
        actions[name] = action
    return actions


def connect_inspector(window) -> None:
    """Send the inspector's Frozen box and factor field to the Document."""
    window.inspector.flag_requested.connect(lambda *args: _on_flag(window, *args))


def _on_flag(window, node: str, key: str, value) -> None:
    doc, inspector = window.document, window.inspector
    if key == "frozen":
        error = doc.set_frozen([node], bool(value))
    else:
        error = doc.set_lr_scale(node, value)
    inspector.show_error(f"{key}: {error}" if error else "")
    if error:
        inspector.refresh_values()
