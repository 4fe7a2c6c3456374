"""The training-flag edits of a Document: freeze, unfreeze and learning-rate factors.

Each method checks first (the lock too) and pushes one undoable step (several nodes are
one step); it returns an error message, or None when done.
"""

from __future__ import annotations

import networkx as nx

from torchcanvas.app.editing.lock import refused_while_locked
from torchcanvas.app.editing.undo import Command
from torchcanvas.graph.flags import flag_problem
from torchcanvas.graph.model import ModelGraph
from torchcanvas.graph.registry import BLOCK, CONTAINER, MODULE, PARAMETER

# What a flag acts on: layers that are attributes of the class. Inputs and expressions in
# forward() (x + y, a reshape) hold nothing to freeze, so "everything before" skips them.
HOLDERS = (MODULE, BLOCK, CONTAINER, PARAMETER)


class SetFlagCommand(Command):
    """Set (or clear, with None) one training flag on several nodes of a graph."""

    def __init__(self, model: ModelGraph, nodes: list[str], key: str, value, text: str):
        super().__init__(text)
        self.model, self.nodes, self.key, self.value = model, list(nodes), key, value
        self.old = {node: model.flag(node, key) for node in self.nodes}

    def redo(self) -> None:
        for node in self.nodes:
            self.model.set_flag(node, self.key, self.value)

    def undo(self) -> None:
        for node in reversed(self.nodes):
            self.model.set_flag(node, self.key, self.old[node])


class FlagEdits:
    """Mixed into Document: it provides `graph`, `undo` and `check_editable`."""

    @refused_while_locked
    def set_frozen(self, nodes, value: bool | None) -> str | None:
        """Freeze (True), unfreeze (False) or let follow (None) the nodes, as one step."""
        nodes = [n for n in nodes if n in self.graph]
        if not nodes:
            return "no node to freeze" if value else "no node to unfreeze"
        if value is not None and not isinstance(value, bool):
            return flag_problem("frozen", value)
        # Unfreezing a top-level node clears the key: absent and false mean the same there,
        # and an absent key keeps the saved file as it was before the node was frozen.
        stored = value if value or self.graph is not self.model else None
        changing = [n for n in nodes if self.graph.flag(n, "frozen") != stored]
        if changing:
            verb = "Freeze" if value else "Unfreeze"
            self._push_flag(changing, "frozen", stored, verb)
        return None

    @refused_while_locked
    def set_lr_scale(self, node: str, value) -> str | None:
        """Set a node's learning-rate factor (a number > 0; None or 1 at the top clears)."""
        if node not in self.graph:
            return "that node was deleted"
        value = _scale_value(value)
        problem = flag_problem("lr_scale", value)
        if problem:
            return problem
        if value == 1 and self.graph is self.model:
            value = None  # the run's own rate: no key in the file
        if self.graph.flag(node, "lr_scale") != value:
            text = "Clear" if value is None else f"Set lr ×{value:g} on"
            self._push_flag([node], "lr_scale", value, text)
        return None

    @refused_while_locked
    def freeze_before(self, node: str) -> str | None:
        """Freeze every layer that feeds `node` (its ancestors that hold an attribute), as one
        step."""
        if node not in self.graph:
            return "that node was deleted"
        graph = self.graph
        before = [
            n
            for n in nx.ancestors(graph.nx_graph, node)
            if graph.spec(n).kind in HOLDERS and graph.flag(n, "frozen") is not True
        ]
        if not before:
            return f"nothing before {graph.node_name(node)} to freeze"
        before.sort(key=graph.node_name)
        text = f"Freeze Everything Before {graph.node_name(node)}"
        self.undo.push(SetFlagCommand(graph, before, "frozen", True, text))
        return None

    def _push_flag(self, nodes: list[str], key: str, value, verb: str) -> None:
        names = self.graph.node_name(nodes[0]) if len(nodes) == 1 else f"{len(nodes)} nodes"
        self.undo.push(SetFlagCommand(self.graph, nodes, key, value, f"{verb} {names}"))


def _scale_value(value):
    """A typed factor as a number (text from a field: "" means none), else unchanged."""
    if isinstance(value, str):
        text = value.strip().lstrip("×x*").strip()
        if not text:
            return None
        try:
            return float(text)
        except ValueError:
            return value
    return value
