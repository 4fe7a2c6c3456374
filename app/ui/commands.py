"""Undo commands: every edit the window makes goes through one of these, which call the model."""

from __future__ import annotations

from PySide6.QtGui import QUndoCommand

from torchcanvas.graph.model import ModelGraph, NodeRecord

MOVE_ID = 1001


class AddNodeCommand(QUndoCommand):
    """Add one node (from the palette or a drop)."""

    def __init__(self, model: ModelGraph, type_name: str, pos, params=None, name=None):
        super().__init__(f"Add {type_name}")
        self.model, self.type_name, self.pos, self.params = model, type_name, pos, params
        self.name = name

    def redo(self) -> None:
        self.name = self.model.add_node(self.type_name, self.name, self.params, self.pos)

    def undo(self) -> None:
        self.model.remove_node(self.name)


class RemoveCommand(QUndoCommand):
    """Delete nodes (with their edges) and single edges."""

    def __init__(self, model: ModelGraph, nodes: list[str], edges=(), text: str = "Delete"):
        super().__init__(text)
        self.model, self.nodes, self.edges = model, list(nodes), list(edges)
        self.records: list[NodeRecord] = []
        self.removed_edges: list[tuple[str, str, int]] = []

    def redo(self) -> None:
        self.removed_edges = []
        for src, dst, port in sorted(self.edges, key=lambda e: -e[2]):
            if src in self.model and dst in self.model and (src, port) in self.model.inputs(dst):
                self.model.disconnect(src, dst, port)
                self.removed_edges.append((src, dst, port))
        self.records = [self.model.remove_node(name) for name in self.nodes]

    def undo(self) -> None:
        # Exact reverse order, so merge nodes get their ports back in the same places.
        for record in reversed(self.records):
            self.model.restore_node(record)
        for src, dst, port in reversed(self.removed_edges):
            self.model.connect(src, dst, port, allow_cycles=True)


class ConnectCommand(QUndoCommand):
    """Connect an output to an input port, replacing what that port had."""

    def __init__(
        self,
        model: ModelGraph,
        src: str,
        dst: str,
        port: int | None,
        replaced: tuple[str, int] | None = None,
    ):
        super().__init__(f"Connect {src} to {dst}")
        self.model, self.src, self.dst, self.port, self.replaced = model, src, dst, port, replaced

    def redo(self) -> None:
        if self.replaced:
            self.model.disconnect(self.replaced[0], self.dst, self.replaced[1])
        self.port = self.model.connect(self.src, self.dst, self.port)

    def undo(self) -> None:
        self.model.disconnect(self.src, self.dst, self.port)
        if self.replaced:
            self.model.connect(self.replaced[0], self.dst, self.replaced[1])


class DisconnectCommand(QUndoCommand):
    """Remove one edge."""

    def __init__(self, model: ModelGraph, src: str, dst: str, port: int):
        super().__init__(f"Disconnect {src} from {dst}")
        self.model, self.src, self.dst, self.port = model, src, dst, port

    def redo(self) -> None:
        self.model.disconnect(self.src, self.dst, self.port)

    def undo(self) -> None:
        self.model.connect(self.src, self.dst, self.port)


class MoveCommand(QUndoCommand):
    """Move nodes; one command per drag (the model already moved live while dragging)."""

    def __init__(self, model: ModelGraph, old: dict, new: dict, text: str = "Move"):
        super().__init__(text)
        self.model, self.old, self.new = model, dict(old), dict(new)

    def redo(self) -> None:
        for name, pos in self.new.items():
            if name in self.model:
                self.model.move(name, pos)

    def undo(self) -> None:
        for name, pos in self.old.items():
            if name in self.model:
                self.model.move(name, pos)


class SetParamCommand(QUndoCommand):
    """Change (or unpin, with None) one parameter."""

    def __init__(self, model: ModelGraph, name: str, key: str, value):
        super().__init__(f"Set {name}.{key}")
        self.model, self.name, self.key, self.value = model, name, key, value
        self.old = model.params(name).get(key)

    def redo(self) -> None:
        self.model.set_param(self.name, self.key, self.value)

    def undo(self) -> None:
        spec = self.model.spec(self.name).param(self.key)
        old = self.old if self.old is not None or spec.auto else spec.default
        self.model.set_param(self.name, self.key, old)


class RenameCommand(QUndoCommand):
    """Rename a node."""

    def __init__(self, model: ModelGraph, old: str, new: str):
        super().__init__(f"Rename {old} to {new}")
        self.model, self.old, self.new = model, old, new

    def redo(self) -> None:
        self.model.rename(self.old, self.new)

    def undo(self) -> None:
        self.model.rename(self.new, self.old)


class RenameModelCommand(QUndoCommand):
    """Rename the model class."""

    def __init__(self, model: ModelGraph, new: str):
        super().__init__(f"Rename model to {new}")
        self.model, self.old, self.new = model, model.name, new

    def redo(self) -> None:
        self.model.set_name(self.new)

    def undo(self) -> None:
        self.model.set_name(self.old)


class PasteCommand(QUndoCommand):
    """Add copied nodes and the edges between them, under fresh names."""

    def __init__(self, model: ModelGraph, nodes: list[dict], edges: list[dict], offset):
        super().__init__("Paste" if len(nodes) != 1 else f"Paste {nodes[0]['type']}")
        self.model, self.nodes, self.edges, self.offset = model, nodes, edges, offset
        self.names: dict[str, str] = {}

    def redo(self) -> None:
        self.names = {}
        for node in self.nodes:
            wanted = self.names.get(node["id"]) or self.model.unique_node_name(node["id"])
            pos = (node["pos"][0] + self.offset[0], node["pos"][1] + self.offset[1])
            self.names[node["id"]] = self.model.add_node(node["type"], wanted, node["params"], pos)
        for edge in self.edges:
            src, dst = self.names.get(edge["from"]), self.names.get(edge["to"])
            if src and dst:
                self.model.connect(src, dst, edge.get("port", 0))

    def undo(self) -> None:
        for name in reversed(list(self.names.values())):
            self.model.remove_node(name)
