"""The graph edits of a Document: add, connect, delete, move, set, rename, turn, arrange.

Each method checks first (the lock too) and pushes one undoable step; it returns an error
message, or None when done. The graph edited is the one on the canvas (`Document.graph`).
"""

from __future__ import annotations

from torchcanvas.app.editing import commands as cmd
from torchcanvas.app.editing.lock import refused_while_locked
from torchcanvas.graph.hints import value_problem
from torchcanvas.graph.layout import layered_positions
from torchcanvas.graph.model import Edge
from torchcanvas.graph.naming import class_name_problem, identifier_problem
from torchcanvas.graph.params import ParamError
from torchcanvas.graph.registry import has_spec
from torchcanvas.graph.symbolic import Bound


class DesignEdits:
    """Mixed into Document: it provides `graph`, `model`, `project`, `undo`, `navigator`,
    `blocks`, `direction_changed` and `check_editable`."""

    @refused_while_locked
    def add_node(self, type_name: str, pos, params: dict | None = None) -> str | None:
        """Add a layer at `pos`; its id is `last_added` afterwards."""
        if not has_spec(type_name):
            return self.blocks.place(type_name, (pos[0], pos[1]))
        command = cmd.AddNodeCommand(self.graph, type_name, (pos[0], pos[1]), params)
        self.undo.push(command)
        self.last_added = command.node
        return None

    @refused_while_locked
    def connect(
        self, src: str, dst: str, src_port: str | None = None, dst_port: str | None = None
    ) -> str | None:
        """Connect two ports, replacing the edge already on a single input port.

        Without `dst_port` (a drop on the card), the first free required input is used,
        else the first input is replaced.
        """
        model = self.graph
        if src not in model or dst not in model:
            return "Cannot connect: both ends must be nodes of this graph"
        ports = model.output_ports(src)
        src_port = src_port or (ports[0] if ports else "output")
        dst_port = dst_port or self._drop_port(dst)
        if dst_port is None:
            return f"Cannot connect: {model.node_name(dst)} takes no inputs"
        port = model.spec(dst).input_port(dst_port)
        replaced = model.input_edge(dst, dst_port) if port and not port.variadic else None
        if replaced and (replaced.src, replaced.src_port) == (src, src_port):
            return None
        problem = model.connection_problem(
            src, dst, src_port, dst_port, replacing=replaced is not None
        ) or self._value_problem(src, src_port, dst, dst_port)
        if problem:
            return f"Cannot connect: {problem}"
        self.undo.push(cmd.ConnectCommand(model, Edge(src, src_port, dst, dst_port), replaced))
        return None

    def _drop_port(self, dst: str) -> str | None:
        spec, model = self.graph.spec(dst), self.graph
        used = {edge.dst_port for edge in model.inputs(dst)}
        for port in spec.inputs:
            if port.variadic:
                return str(sum(1 for p in used if p.isdigit()))
            if not port.optional and port.name not in used:
                return port.name
        return spec.inputs[0].name if spec.inputs else None

    def _value_problem(self, src: str, src_port: str, dst: str, dst_port: str) -> str | None:
        """A value the target port cannot take (a float into an Embedding, ...), or None."""
        meta = self.navigator.analysis().meta(src, src_port)
        if meta is None:
            return None
        problem = value_problem(self.graph, self.graph.spec(dst), dst_port, meta, src)
        return f"{self.graph.node_name(dst)} {problem}" if problem else None

    @refused_while_locked
    def delete(self, nodes: list[str], edges=()) -> str | None:
        """Delete nodes and edges in one undoable step."""
        edges = [e for e in edges if e[0] not in nodes and e[2] not in nodes]
        if nodes or edges:
            self.undo.push(cmd.RemoveCommand(self.graph, nodes, edges))
        return None

    @refused_while_locked
    def moved(self, old: dict, new: dict) -> str | None:
        """Record a finished drag (the model already moved)."""
        self.undo.push(cmd.MoveCommand(self.graph, old, new))
        return None

    @refused_while_locked
    def set_param(self, node: str, key: str, value, allow_bound: bool = False) -> str | None:
        """Change a parameter after checking it (a bound one stays bound unless allowed)."""
        if node not in self.graph:
            return "that node was deleted"
        param = self.graph.spec(node).param(key)
        if isinstance(self.graph.params(node).get(key), Bound) and not allow_bound:
            return f"{key} is bound to an expression; clear the expression to set a number"
        if value is not None or not param.auto:
            try:
                if value is not None or not param.optional:
                    value = param.coerce(value if value is not None else param.default)
            except ParamError as error:
                return str(error)
        current = self.graph.params(node).get(key, None if param.auto else param.default)
        if current == value:
            return None
        self.undo.push(cmd.SetParamCommand(self.graph, node, key, value))
        return None

    @refused_while_locked
    def rename(self, node: str, new: str) -> str | None:
        """Rename a node after checking the name."""
        if node not in self.graph:
            return "that node was deleted"
        problem = identifier_problem(new)
        if problem:
            return problem
        if self.graph.find(new) not in (None, node):
            return f"a node called '{new}' already exists"
        if self.graph.node_name(node) != new:
            self.undo.push(cmd.RenameCommand(self.graph, node, new))
        return None

    @refused_while_locked
    def rename_model(self, new: str) -> str | None:
        """Rename the model class."""
        problem = class_name_problem(new)
        if problem:
            return problem
        self.undo.push(cmd.RenameModelCommand(self.model, new))
        return None

    @property
    def direction(self) -> str:
        """Which way the canvas lays the data out: "down" or "right" (saved in the project)."""
        return self.project.direction

    @refused_while_locked
    def set_direction(self, direction: str, sizes) -> str | None:
        """Turn the layout (and auto-arrange in it) as one undo step; `sizes()` gives the
        cards' sizes once they have turned."""
        if direction != self.project.direction:
            arrange = lambda: layered_positions(self.graph, sizes(), direction)  # noqa: E731
            self.undo.push(cmd.DirectionCommand(self, direction, arrange))
        return None

    def turn(self, direction: str) -> None:
        """Set the direction (for DirectionCommand); views follow `direction_changed`."""
        self.project.direction = direction
        self.direction_changed.emit(direction)

    @refused_while_locked
    def arrange(self, sizes: dict | None = None) -> str | None:
        """Auto-arrange (layered, in the canvas's direction) as one undoable step; `sizes` of
        the cards."""
        old = {n: self.graph.pos(n) for n in self.graph.nodes()}
        new = layered_positions(self.graph, sizes, self.project.direction)
        if old != new:
            self.undo.push(cmd.MoveCommand(self.graph, old, new, "Auto-arrange"))
        return None
