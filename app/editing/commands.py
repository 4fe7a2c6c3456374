"""Undo commands: every edit of a Document goes through one of these, which call the model.

Commands refer to nodes by id, which never changes, so undoing a rename and then editing
the node keeps working.
"""

from __future__ import annotations

from torchcanvas.app.editing.undo import Command
from torchcanvas.graph.flags import TRAINING_FLAGS
from torchcanvas.graph.graphjson import MAX_NODES, load_body
from torchcanvas.graph.model import Edge, ModelGraph, NodeRecord


class AddNodeCommand(Command):
    """Add one node (from the palette or a drop)."""

    def __init__(self, model: ModelGraph, type_name: str, pos, params=None, name=None):
        super().__init__(f"Add {type_name}")
        self.model, self.type_name, self.pos, self.params = model, type_name, pos, params
        self.name = name
        self.node: str | None = None  # the id, fixed by the first redo

    def redo(self) -> None:
        self.node = self.model.add_node(self.type_name, self.name, self.params, self.pos, self.node)
        self.name = self.model.node_name(self.node)

    def undo(self) -> None:
        self.model.remove_node(self.node)


class RemoveCommand(Command):
    """Delete nodes (with their edges) and single edges."""

    def __init__(self, model: ModelGraph, nodes: list[str], edges=(), text: str = "Delete"):
        super().__init__(text)
        self.model, self.nodes, self.edges = model, list(nodes), [Edge(*e) for e in edges]
        self.records: list[NodeRecord] = []
        self.removed_edges: list[Edge] = []

    def redo(self) -> None:
        self.removed_edges = []
        for edge in sorted(self.edges, key=_slot_order, reverse=True):
            if edge.dst in self.model and edge in self.model.inputs(edge.dst):
                self.model.disconnect(edge)
                self.removed_edges.append(edge)
        self.records = [self.model.remove_node(node) for node in self.nodes]

    def undo(self) -> None:
        # Exact reverse order, so merge nodes get their slots back in the same places.
        for record in reversed(self.records):
            self.model.restore_node(record)
        for edge in reversed(self.removed_edges):
            self.model.connect(*_args(edge), allow_cycles=True)


class ConnectCommand(Command):
    """Connect an output port to an input port, replacing what that port had."""

    def __init__(self, model: ModelGraph, edge: Edge, replaced: Edge | None = None):
        super().__init__(f"Connect {model.node_name(edge.src)} to {model.node_name(edge.dst)}")
        self.model, self.edge, self.replaced = model, edge, replaced

    def redo(self) -> None:
        if self.replaced:
            self.model.disconnect(self.replaced)
        self.edge = self.model.connect(*_args(self.edge))

    def undo(self) -> None:
        self.model.disconnect(self.edge)
        if self.replaced:
            self.model.connect(*_args(self.replaced))


class MoveCommand(Command):
    """Move nodes; one command per drag (the model already moved live while dragging)."""

    def __init__(self, model: ModelGraph, old: dict, new: dict, text: str = "Move"):
        super().__init__(text)
        self.model, self.old, self.new = model, dict(old), dict(new)

    def redo(self) -> None:
        for node, pos in self.new.items():
            if node in self.model:
                self.model.move(node, pos)

    def undo(self) -> None:
        for node, pos in self.old.items():
            if node in self.model:
                self.model.move(node, pos)


class SetParamCommand(Command):
    """Change (or unpin, with None) one parameter."""

    def __init__(self, model: ModelGraph, node: str, key: str, value):
        super().__init__(f"Set {model.node_name(node)}.{key}")
        self.model, self.node, self.key, self.value = model, node, key, value
        self.old = model.params(node).get(key)

    def redo(self) -> None:
        self.model.set_param(self.node, self.key, self.value)

    def undo(self) -> None:
        param = self.model.spec(self.node).param(self.key)
        old = self.old if self.old is not None or param.auto else param.default
        self.model.set_param(self.node, self.key, old)


class RenameCommand(Command):
    """Rename a node (its id stays)."""

    def __init__(self, model: ModelGraph, node: str, new: str):
        self.old = model.node_name(node)
        super().__init__(f"Rename {self.old} to {new}")
        self.model, self.node, self.new = model, node, new

    def redo(self) -> None:
        self.model.rename(self.node, self.new)

    def undo(self) -> None:
        self.model.rename(self.node, self.old)


class RenameModelCommand(Command):
    """Rename the model class."""

    def __init__(self, model: ModelGraph, new: str):
        super().__init__(f"Rename model to {new}")
        self.model, self.old, self.new = model, model.name, new

    def redo(self) -> None:
        self.model.set_name(self.new)

    def undo(self) -> None:
        self.model.set_name(self.old)


class PasteCommand(Command):
    """Add copied nodes and the edges between them, under fresh ids and names."""

    def __init__(self, model: ModelGraph, nodes: list[dict], edges: list[dict], offset):
        super().__init__("Paste" if len(nodes) != 1 else f"Paste {nodes[0]['type']}")
        self.model, self.nodes, self.edges, self.offset = model, nodes, edges, offset
        self.ids: dict[str, str] = {}  # copied id -> new id, fixed by the first redo
        self.records: list[NodeRecord] = []  # what undo took out; later redos put it back

    def redo(self) -> None:
        if self.records:
            for record in self.records:
                self.model.restore_node(record)
            return
        for node in self.nodes:
            wanted = self.model.unique_node_name(node["name"])
            pos = (node["pos"][0] + self.offset[0], node["pos"][1] + self.offset[1])
            new = self.model.add_node(node["type"], wanted, node["params"], pos)
            self.ids[node["id"]] = new
            load_body(self.model, new, node, f"clipboard {wanted}", [MAX_NODES])
            if node.get("when"):
                self.model.set_when(new, node["when"])
            for key in TRAINING_FLAGS:  # a copied frozen layer stays frozen
                if node.get(key) is not None:
                    self.model.set_flag(new, key, node[key])
        for edge in self.edges:
            src, dst = self.ids.get(edge["from"]), self.ids.get(edge["to"])
            if src and dst:
                self.model.connect(src, dst, edge["from_port"], edge["to_port"])

    def undo(self) -> None:
        taken = [self.model.remove_node(n) for n in reversed(list(self.ids.values()))]
        self.records = taken[::-1]


def _args(edge: Edge) -> tuple[str, str, str, str]:
    """connect()'s positional arguments for an edge."""
    return edge.src, edge.dst, edge.src_port, edge.dst_port


def _slot_order(edge: Edge) -> int:
    return int(edge.dst_port) if edge.dst_port.isdigit() else -1


class DirectionCommand(Command):
    """Lay the canvas out the other way (down or right) and auto-arrange it, as one step."""

    def __init__(self, document, direction: str, arrange) -> None:
        super().__init__("Lay Out Left to Right" if direction == "right" else "Lay Out Top Down")
        self.document, self.direction = document, direction
        self.before = document.project.direction
        self.arrange = arrange  # () -> new positions, worked out once the cards have turned
        self.old = {n: document.graph.pos(n) for n in document.graph.nodes()}
        self.new: dict | None = None

    def redo(self) -> None:
        self.document.turn(self.direction)
        if self.new is None:
            self.new = self.arrange()
        for node, pos in self.new.items():
            if node in self.document.graph:
                self.document.graph.move(node, pos)

    def undo(self) -> None:
        self.document.turn(self.before)
        for node, pos in self.old.items():
            if node in self.document.graph:
                self.document.graph.move(node, pos)


class SettingsCommand(Command):
    """Change training settings (one or several that belong together) as one step."""

    def __init__(self, document, new: dict, text: str) -> None:
        super().__init__(text)
        self.document, self.new = document, dict(new)
        self.old = {key: document.project.training.get(key) for key in new}

    def redo(self) -> None:
        self.document.apply_training(self.new)

    def undo(self) -> None:
        self.document.apply_training(self.old)
