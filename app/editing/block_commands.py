"""Undo commands for blocks: grouping, ungrouping, repeats, definitions and bindings.

Structural edits (Make Block, Ungroup, Repeat, placing a block from the library) replace
some nodes by others and may add definitions. The first redo runs the operation; undo and
every later redo replay the node records, so node ids and definition objects stay the
same and the commands after it on the stack keep working.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from torchcanvas.app.editing.undo import Command
from torchcanvas.graph.library import BlockDef, Library
from torchcanvas.graph.model import ModelGraph, NodeRecord


@dataclass
class Change:
    """What a structural edit did: the nodes it took out, the ones it made, the blocks it added."""

    removed: list[NodeRecord] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    blocks: list[BlockDef] = field(default_factory=list)


class StructureCommand(Command):
    """Replace nodes by nodes in one graph, adding definitions first.

    Built after the operation ran (so a refused operation never reaches the stack): the
    first redo, which UndoStack.push calls, has nothing left to do.
    """

    def __init__(self, text: str, graph: ModelGraph, change: Change) -> None:
        super().__init__(text)
        self.graph, self.change = graph, change
        self._done = True
        self._added: list[NodeRecord] = []

    @property
    def library(self) -> Library:
        return self.graph.library

    def redo(self) -> None:
        if self._done:
            self._done = False
            return
        for block in self.change.blocks:
            self.library.add(block)
        for record in self.change.removed:
            self.graph.remove_node(record.id)
        for record in self._added:
            self.graph.restore_node(record)

    def undo(self) -> None:
        # Reverse order both ways: a record holds the edges to nodes still there when it
        # was taken, so the last one taken goes back first.
        self._added = [self.graph.remove_node(n) for n in reversed(self.change.added)][::-1]
        for record in reversed(self.change.removed):
            self.graph.restore_node(record)
        for block in reversed(self.change.blocks):
            self.library.remove(block.name)


class SetBlockParamsCommand(Command):
    """Replace a definition's constructor parameters (add, remove, defaults)."""

    def __init__(self, library: Library, name: str, params: tuple, text: str) -> None:
        super().__init__(text)
        self.library, self.name, self.new = library, name, tuple(params)
        self.old = library.get(name).params

    def redo(self) -> None:
        self.library.set_params(self.name, self.new)

    def undo(self) -> None:
        self.library.set_params(self.name, self.old)


class SetWhenCommand(Command):
    """Make a node inside a block conditional (or unconditional again)."""

    def __init__(self, graph: ModelGraph, node: str, text: str | None) -> None:
        super().__init__(f"Condition of {graph.node_name(node)}")
        self.graph, self.node, self.new = graph, node, text
        old = graph.when(node)
        self.old = old.text if old is not None else None

    def redo(self) -> None:
        self.graph.set_when(self.node, self.new)

    def undo(self) -> None:
        self.graph.set_when(self.node, self.old)


class SetBodyCommand(Command):
    """Give a container another body (a different repeat count)."""

    def __init__(self, graph: ModelGraph, node: str, body: ModelGraph, text: str) -> None:
        super().__init__(text)
        self.graph, self.node, self.new = graph, node, body
        self.old = graph.body(node)

    def redo(self) -> None:
        self.graph.set_body(self.node, self.new)

    def undo(self) -> None:
        self.graph.set_body(self.node, self.old)


class RemoveBlockCommand(Command):
    """Take a definition out (already done when pushed); undo puts it back."""

    def __init__(self, library: Library, block: BlockDef) -> None:
        super().__init__(f"Remove block {block.name}")
        self.library, self.block, self._done = library, block, True

    def redo(self) -> None:
        if self._done:
            self._done = False
        else:
            self.library.remove(self.block.name)

    def undo(self) -> None:
        self.library.add(self.block)
