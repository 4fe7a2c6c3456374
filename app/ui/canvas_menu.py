"""Right-click menus on the canvas, a card, an edge and a port: the actions that apply there."""

from __future__ import annotations

from PySide6.QtWidgets import QMenu

from torchcanvas.app.ui.canvas.edge_item import EdgeItem
from torchcanvas.app.ui.canvas.node_item import NodeItem, PortItem


def show_menu(window, target, pos, screen) -> QMenu:
    """Build and pop up the menu for `target` (None: the canvas) at `screen`."""
    menu = QMenu(window)
    refusal = window.document.refusal()
    if refusal:  # a run is training: nothing here may change the design
        menu.addAction(refusal).setEnabled(False)
    elif isinstance(target, PortItem):
        _port_entries(window, menu, target, pos)
    elif isinstance(target, NodeItem):
        _node_entries(window, menu, target)
    elif isinstance(target, EdgeItem):
        _edge_entries(window, menu, target, pos)
    else:
        _canvas_entries(window, menu, pos)
    menu.popup(screen)
    window.context_menu = menu  # kept while open (and for tests)
    return menu


def _add(menu: QMenu, text: str, slot) -> None:
    menu.addAction(text).triggered.connect(lambda _checked=False: slot())


def _canvas_entries(window, menu: QMenu, pos) -> None:
    _add(menu, "Add Layer Here…", lambda: window.editing.quick_add_at(pos))
    actions = window.actions_by_name
    menu.addSeparator()
    for name in ("paste", "select_all", None, "arrange", "fit"):
        if name is None:
            menu.addSeparator()
        else:
            menu.addAction(actions[name])


def _node_entries(window, menu: QMenu, card: NodeItem) -> None:
    if not card.isSelected():
        window.scene.select_nodes([card.node])
    actions = window.actions_by_name
    if card.openable:
        menu.addAction(actions["open_block"])
    _add(menu, "Replace With…", lambda: window.editing.ask_replace(card.node))
    menu.addSeparator()
    for name in ("cut", "copy", "duplicate", "delete", "delete_chain"):
        menu.addAction(actions[name])
    menu.addSeparator()
    menu.addAction(actions["make_block"])
    menu.addSeparator()
    for name in ("freeze", "unfreeze", "freeze_before"):
        menu.addAction(actions[name])


def _edge_entries(window, menu: QMenu, edge: EdgeItem, pos) -> None:
    editing = window.editing
    _add(
        menu,
        "Insert Layer…",
        lambda: editing.ask(
            "Insert a layer", editing.layer_entries(), lambda k: editing.insert(k, edge.edge, pos)
        ),
    )
    _add(menu, "Delete Connection", lambda: window.document.delete([], [edge.edge]))


def _port_entries(window, menu: QMenu, port: PortItem, pos) -> None:
    text = "Add a Layer Reading This…" if port.kind == "out" else "Add a Layer Feeding This…"
    _add(
        menu,
        text,
        lambda: window.editing.quick_add_from_port(port.node.node, port.name, port.kind, pos),
    )
