"""ModelGraph: the network as a networkx graph, and the only code that changes it.

The state and the reads are in graph.graphbase; this module adds every edit. Each edit
keeps the indexes in step, bumps `revision` and signals what changed.
"""

from __future__ import annotations

import re
from typing import Any

import networkx as nx

from torchcanvas.graph.flags import flag_problem
from torchcanvas.graph.graphbase import Edge, GraphBase, GraphError, NodeRecord, _slot
from torchcanvas.graph.naming import (
    class_name_problem,
    key_problem,
    next_numbered,
)
from torchcanvas.graph.params import ParamError
from torchcanvas.graph.ports import is_slot
from torchcanvas.graph.registry import CONTAINER, INPUT, OUTPUT, LayerSpec
from torchcanvas.graph.symbolic import Bound, ExprError

_ID = re.compile(r"^n(\d+)$")


class ModelGraph(GraphBase):
    """A network of layer nodes: GraphBase's reads, plus the only code that edits."""

    # ----- editing -------------------------------------------------------------------
    def set_name(self, name: str) -> None:
        """Rename the model class."""
        problem = class_name_problem(name)
        if problem:
            raise GraphError(problem)
        self._name = name
        self._touch()
        self.events.name_changed.emit(name)
        self.events.changed.emit()

    def add_node(
        self,
        type_name: str,
        name: str | None = None,
        params: dict | None = None,
        pos: tuple[float, float] = (0.0, 0.0),
        node_id: str | None = None,
    ) -> str:
        """Add a node of `type_name`; returns its id."""
        spec = self.type_spec(type_name)
        name = self._new_name(spec) if name is None else self._check_new_name(name)
        node_id = self._new_id(node_id)
        values = spec.start_params()
        for key, value in (params or {}).items():
            self._store_param(spec, values, key, value)
        self._g.add_node(node_id, name=name, type=type_name, params=values, pos=_point(pos))
        self._data[node_id] = self._g.nodes[node_id]
        self._in[node_id], self._out[node_id] = {}, {}
        self._ids[name] = node_id
        if spec.kind == CONTAINER:
            self._attach_body(node_id, _empty_body(self.library))
        self._touch()
        self.events.node_added.emit(node_id)
        self.events.changed.emit()
        return node_id

    def remove_node(self, node: str) -> NodeRecord:
        """Remove `node` and its edges; the record lets undo restore it."""
        data = self._node(node)
        edges = self.inputs(node) + self.outputs(node)
        record = NodeRecord(
            node,
            data["name"],
            data["type"],
            dict(data["params"]),
            data["pos"],
            edges,
            data.get("when"),
            data.get("body"),
            dict(data.get("flags", {})),
        )
        # Highest slots first: closing a merge node's gap must not renumber edges still to go
        # (and each is then the last input, which keeps the merge's cached order valid).
        for edge in sorted(edges, key=lambda e: -_slot(e.dst_port)):
            if self._has(edge):
                self._disconnect(edge)
        self._detach_body(node)
        self._g.remove_node(node)
        self._forget_name(data["name"])
        for index in (self._data, self._in, self._out, self._sorted_in, self._slots, self._ports):
            index.pop(node, None)
        self._touch()
        self.events.node_removed.emit(node)
        self.events.changed.emit()
        return record

    def restore_node(self, record: NodeRecord) -> None:
        """Put back a node removed by `remove_node`, with its edges."""
        self.add_node(record.type, record.name, record.params, record.pos, record.id)
        if record.when is not None:
            self._data[record.id]["when"] = record.when
        if record.flags:
            self._data[record.id]["flags"] = dict(record.flags)
        if record.body is not None:
            self._detach_body(record.id)
            self._attach_body(record.id, record.body)
        for edge in sorted(record.edges, key=lambda e: _slot(e.dst_port)):
            if edge.src in self._g and edge.dst in self._g:
                self.connect(edge.src, edge.dst, edge.src_port, edge.dst_port, allow_cycles=True)

    def connect(
        self,
        src: str,
        dst: str,
        src_port: str | None = None,
        dst_port: str | None = None,
        *,
        allow_cycles: bool = False,
    ) -> Edge:
        """Connect `src`'s output to `dst`'s input (first free ones if None); returns the edge."""
        problem = self._ends_problem(src, dst, src_port)
        if problem is None and not allow_cycles:
            problem = self._cycle_problem(src, dst)
        if problem is None:
            problem = self._port_problem(dst, dst_port, False)
            # connection_problem reports a cycle before a port problem, and a cycle is
            # allowed here: search for one only then (a restore connects many edges).
            if problem and allow_cycles and self._cycle_problem(src, dst):
                problem = None
        if problem:
            raise GraphError(problem)
        src_port = src_port or self.output_ports(src)[0]
        dst_port = dst_port or self.free_input_port(dst)
        if self.spec(dst).input_port(dst_port).variadic and self.input_edge(dst, dst_port):
            self._shift_slots(dst, int(dst_port), +1)
        edge = Edge(src, src_port, dst, dst_port)
        self._add_edge(edge)
        self._touch()
        self.events.edge_added.emit(edge)
        self.events.changed.emit()
        return edge

    def disconnect(self, edge: Edge) -> None:
        """Remove `edge`; a merge node closes the gap in its slots."""
        if not self._has(edge):
            raise GraphError(
                f"{self.node_name(edge.src)} is not connected to "
                f"{self.node_name(edge.dst)} input {edge.dst_port}"
            )
        self._disconnect(edge)
        self.events.changed.emit()

    def set_param(self, node: str, key: str, value: Any) -> None:
        """Set parameter `key` of `node`; None unpins an auto parameter."""
        data = self._node(node)
        params = dict(data["params"])
        self._store_param(self.type_spec(data["type"]), params, key, value)
        if params == data["params"]:
            return
        data["params"] = params
        self._ports.pop(node, None)
        self._touch()
        self.events.param_changed.emit(node, key)
        self.events.changed.emit()

    def set_when(self, node: str, text: str | None) -> None:
        """Make a node inside a block exist only when `text` holds (None: always)."""
        data = self._node(node)
        try:
            when = Bound(text) if text else None
        except ExprError as error:
            raise GraphError(str(error)) from None
        if when != data.get("when"):
            if when is None:
                data.pop("when", None)
            else:
                data["when"] = when
            self._touch()
            self.events.param_changed.emit(node, "when")
            self.events.changed.emit()

    def set_flag(self, node: str, key: str, value) -> None:
        """Set a training flag on a node ("frozen": bool, "lr_scale": a number > 0), or
        clear it with None; GraphError names what is wrong with the value."""
        problem = flag_problem(key, value)
        if problem:
            raise GraphError(problem)
        flags = self._node(node).setdefault("flags", {})
        if flags.get(key) == value and (value is not None or key not in flags):
            return
        if value is None:
            flags.pop(key, None)
        else:
            flags[key] = float(value) if key == "lr_scale" else value
        self._touch()
        self.events.param_changed.emit(node, key)
        self.events.changed.emit()

    def set_body(self, node: str, body: ModelGraph) -> ModelGraph:
        """Give a container node another body; returns the old one (for undo)."""
        old = self.body(node)
        self._detach_body(node)
        self._attach_body(node, body)
        self._touch()
        self.events.param_changed.emit(node, "body")
        self.events.changed.emit()
        return old

    def rename(self, node: str, new: str) -> None:
        """Give `node` another name; its id, edges and place stay."""
        data = self._node(node)
        old = data["name"]
        if new == old:
            return
        self._check_new_name(new)
        data["name"] = new
        self._forget_name(old)
        self._ids[new] = node
        self._touch()
        self.events.node_renamed.emit(node, old, new)
        self.events.changed.emit()

    def move(self, node: str, pos: tuple[float, float]) -> None:
        """Move `node` on the canvas (does not change the network)."""
        data = self._node(node)
        point = _point(pos)
        if point != data["pos"]:
            data["pos"] = point
            self.events.node_moved.emit(node, point)

    def clear(self) -> None:
        """Remove every node and edge."""
        self._g = nx.MultiDiGraph()
        self._ids = {}
        self._reset_indexes()
        self._touch()
        self.events.reset.emit()
        self.events.changed.emit()

    def replace_with(self, other: ModelGraph) -> None:
        """Take over `other`'s name, nodes and edges (opening a file)."""
        for node in list(self._data):
            self._detach_body(node)
        self._g = nx.MultiDiGraph()
        self._reset_indexes()
        self.library = other.library
        for node, data in other._data.items():
            self._g.add_node(node, **{k: v for k, v in data.items() if k != "body"})
            self._data[node] = self._g.nodes[node]
            self._data[node]["params"] = dict(data["params"])
            if "flags" in data:  # its own dict: a copy's set_flag must not reach the original
                self._data[node]["flags"] = dict(data["flags"])
            self._in[node], self._out[node] = {}, {}
            if data.get("body") is not None:
                self._attach_body(node, data["body"].copy())
        for edge in other.edges():
            self._add_edge(edge)
        self._ids = dict(other._ids)
        self._next_id = other._next_id
        self._name = other._name
        self._touch()
        self.events.reset.emit()
        self.events.changed.emit()

    def take_over(self, other: ModelGraph) -> None:
        """Like replace_with, but move `other`'s nodes and edges rather than copy them, and
        leave `other` empty (a graph just read from a file: copying half a million edges
        cost as much as reading them)."""
        for node in list(self._data):
            self._detach_body(node)
        self._g, other._g = other._g, nx.MultiDiGraph()
        for key in ("_data", "_in", "_out", "_sorted_in", "_slots", "_ports", "_name_from"):
            setattr(self, key, getattr(other, key))
        self._ids, other._ids = other._ids, {}
        other._reset_indexes()
        self.library = other.library
        for node, data in self._data.items():
            body = data.get("body")
            if body is not None:
                body.events.changed.disconnect(other._on_body_changed)
                self._attach_body(node, body)
        self._next_id, self._name = other._next_id, other._name
        self._touch()
        self.events.reset.emit()
        self.events.changed.emit()

    def copy(self) -> ModelGraph:
        """An independent copy, container bodies included (no subscribers)."""
        twin = ModelGraph(self._name, self.library)
        twin.replace_with(self)
        return twin

    # ----- internals -----------------------------------------------------------------
    def add_edge_unchecked(self, edge: Edge) -> None:
        """Add an edge without any check (a file being loaded: cycles and gaps become
        problems in the analysis rather than a refusal). Emits nothing."""
        self._add_edge(edge)
        self._touch()

    def _add_edge(self, edge: Edge) -> None:
        self._g.add_edge(edge.src, edge.dst, key=(edge.src_port, edge.dst_port))
        self._in[edge.dst][edge.dst_port] = edge
        self._out[edge.src][edge] = None
        dst, port = edge.dst, edge.dst_port
        cached = self._sorted_in.get(dst)
        if is_slot(port):
            self._slots[dst] = self._slots.get(dst, 0) + 1
            # A merge fills its slots in order: extend the cached order rather than sort
            # it again for every input (slots sort after every named port).
            if cached and is_slot(cached[-1].dst_port) and int(port) > int(cached[-1].dst_port):
                cached.append(edge)
                return
        self._sorted_in.pop(dst, None)

    def _remove_edge(self, edge: Edge) -> None:
        self._g.remove_edge(edge.src, edge.dst, key=(edge.src_port, edge.dst_port))
        del self._in[edge.dst][edge.dst_port]
        del self._out[edge.src][edge]
        if is_slot(edge.dst_port):
            self._slots[edge.dst] -= 1
        cached = self._sorted_in.get(edge.dst)
        if cached and cached[-1] == edge:
            cached.pop()  # removing a merge's inputs from the last one down stays linear
        else:
            self._sorted_in.pop(edge.dst, None)

    def _disconnect(self, edge: Edge) -> None:
        """disconnect() without the `changed` signal (remove_node sends one for all)."""
        self._remove_edge(edge)
        self.events.edge_removed.emit(edge)
        if is_slot(edge.dst_port):
            self._shift_slots(edge.dst, int(edge.dst_port) + 1, -1)
        self._touch()

    def _touch(self) -> None:
        self.revision += 1

    def _attach_body(self, node: str, body: ModelGraph) -> None:
        body.library = self.library
        body.events.changed.connect(self._on_body_changed)
        self._data[node]["body"] = body

    def _detach_body(self, node: str) -> None:
        body = self._data[node].get("body")
        if body is not None:
            body.events.changed.disconnect(self._on_body_changed)
            del self._data[node]["body"]

    def _on_body_changed(self) -> None:
        """An edit inside a container changes this graph's analysis and code too."""
        self._touch()
        self.events.changed.emit()

    def _new_id(self, wanted: str | None) -> str:
        if wanted is None:
            while f"n{self._next_id}" in self._g:
                self._next_id += 1
            wanted = f"n{self._next_id}"
        elif wanted in self._g:
            raise GraphError(f"a node with id {wanted!r} already exists")
        match = _ID.match(wanted)
        if match:
            self._next_id = max(self._next_id, int(match.group(1)) + 1)
        return wanted

    def _new_name(self, spec: LayerSpec) -> str:
        if spec.kind in (INPUT, OUTPUT) and spec.prefix not in self._ids:
            return spec.prefix
        # Numbers below the last one handed out stay taken until a name goes (see
        # _forget_name): start there, or adding n layers of one type would be quadratic.
        name, number = next_numbered(spec.prefix, self._ids, self._name_from.get(spec.prefix, 1))
        self._name_from[spec.prefix] = number
        return name

    def _forget_name(self, name: str) -> None:
        """A name goes (removed or renamed): its number may be free again."""
        del self._ids[name]
        self._name_from.clear()

    def _check_new_name(self, name: str) -> str:
        problem = key_problem(name)
        if problem:
            raise GraphError(problem)
        if name in self._ids:
            raise GraphError(f"a node called '{name}' already exists")
        return name

    @staticmethod
    def _store_param(spec: LayerSpec, params: dict, key: str, value: Any) -> None:
        if key not in spec.param_index:
            raise GraphError(f"{spec.type} has no parameter {key!r}")
        param = spec.param(key)
        if value is None and param.auto:
            params.pop(key, None)
            return
        if isinstance(value, dict) and set(value) == {"bind"}:
            value = value["bind"]
            try:
                value = Bound(value)
            except ExprError as error:
                raise GraphError(f"{key}: {error}") from None
        if isinstance(value, Bound):
            params[key] = value  # checked when the block is analysed, against its parameters
            return
        try:
            value = param.coerce(value)
        except ParamError as error:
            raise GraphError(str(error)) from None
        if not param.required and not param.auto and value == param.default:
            params.pop(key, None)
        else:
            params[key] = value

    def _shift_slots(self, dst: str, start: int, step: int) -> None:
        moved = []
        # From the end of the ordered inputs back to the first slot below `start`: closing
        # the gap after the last input costs nothing (slots sort after named ports).
        for edge in reversed(self._ordered_in(dst)):
            if is_slot(edge.dst_port):
                if int(edge.dst_port) < start:
                    break
                moved.append(edge)
        moved.reverse()
        for edge in moved:
            self._remove_edge(edge)
            self.events.edge_removed.emit(edge)
        for edge in moved:
            shifted = edge._replace(dst_port=str(int(edge.dst_port) + step))
            self._add_edge(shifted)
            self.events.edge_added.emit(shifted)


def _empty_body(library) -> ModelGraph:
    """A container's body before anything is put in it: Input straight to Output."""
    body = ModelGraph("Body", library)
    first = body.add_node("Input", "input", {"shape": [1]}, (0.0, 0.0))
    body.connect(first, body.add_node("Output", "output", None, (0.0, 120.0)))
    return body


def _point(pos) -> tuple[float, float]:
    x, y = pos
    return (round(float(x), 1), round(float(y), 1))
