"""ModelGraph: the network as a networkx graph, and the only code that changes it.

Nodes are keyed by a stable id (`n1`, `n2`, ...) that never changes; the node's name (the
Python attribute) is a field. An edge joins (node, output port) to (node, input port);
the MultiDiGraph keys it by `(src_port, dst_port)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import networkx as nx

from torchcanvas.graph.events import ModelEvents
from torchcanvas.graph.naming import class_name_problem, identifier_problem, numbered_name
from torchcanvas.graph.params import ParamError
from torchcanvas.graph.ports import is_slot
from torchcanvas.graph.registry import CONTAINER, INPUT, OUTPUT, LayerSpec, get_spec, has_spec
from torchcanvas.graph.symbolic import Bound, ExprError

_ID = re.compile(r"^n(\d+)$")


class GraphError(ValueError):
    """An edit the graph refuses; the message says why, for the status bar."""


class Edge(NamedTuple):
    """A connection from an output port to an input port."""

    src: str
    src_port: str
    dst: str
    dst_port: str


@dataclass
class NodeRecord:
    """Everything needed to put a removed node back exactly as it was."""

    id: str
    name: str
    type: str
    params: dict[str, Any]
    pos: tuple[float, float]
    edges: list[Edge] = field(default_factory=list)
    when: Bound | None = None
    body: ModelGraph | None = None


class ModelGraph:
    """A network of layer nodes over `networkx.MultiDiGraph`."""

    def __init__(self, name: str = "Model", library=None) -> None:
        self._g = nx.MultiDiGraph()
        self._ids: dict[str, str] = {}  # name -> id
        self._reset_indexes()
        self.library = library  # the project's block definitions (graph.library.Library)
        self._next_id = 1
        self._name = name
        self.events = ModelEvents()
        self.revision = 0  # bumped on every change that can alter shapes or code
        self._analysis = None
        self._analysis_revision = -1

    def _reset_indexes(self) -> None:
        # Kept in step with the networkx graph by the editing methods, so that reads are
        # O(1): analysis and codegen ask for a node's edges many times per pass.
        self._data: dict[str, dict] = {}  # id -> the node's attributes (shared with networkx)
        self._in: dict[str, dict[str, Edge]] = {}  # id -> input port -> edge
        self._out: dict[str, dict[Edge, None]] = {}  # id -> edges out, in order
        self._sorted_in: dict[str, list[Edge]] = {}  # id -> inputs(), cached
        self._ports: dict[str, list[str]] = {}  # id -> output_ports(), cached

    @property
    def library(self):
        """The project's block definitions (graph.library.Library), shared by its bodies."""
        return self._library

    @library.setter
    def library(self, library) -> None:
        self._library = library
        for data in self._data.values():
            if data.get("body") is not None:
                data["body"].library = library

    # ----- reading -------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The model's class name."""
        return self._name

    @property
    def nx_graph(self) -> nx.MultiDiGraph:
        """The underlying graph; read it, never change it directly."""
        return self._g

    def nodes(self) -> list[str]:
        """Node ids in insertion order."""
        return list(self._data)

    def __contains__(self, node: object) -> bool:
        return node in self._data

    def __len__(self) -> int:
        return len(self._data)

    def node_name(self, node: str) -> str:
        """The name (Python attribute) of node `node`."""
        return self._node(node)["name"]

    def find(self, name: str) -> str | None:
        """The id of the node called `name`, or None."""
        return self._ids.get(name)

    def id_of(self, name: str) -> str:
        """The id of the node called `name`; GraphError if there is none."""
        try:
            return self._ids[name]
        except KeyError:
            raise GraphError(f"there is no node called {name!r}") from None

    def names(self) -> dict[str, str]:
        """id -> name for every node."""
        return {node: data["name"] for node, data in self._data.items()}

    def node_type(self, node: str) -> str:
        """The layer type of `node`."""
        return self._node(node)["type"]

    def spec(self, node: str) -> LayerSpec:
        """The LayerSpec of `node` (a registry layer, or a block definition's instances)."""
        return self.type_spec(self._node(node)["type"])

    def type_spec(self, type_name: str) -> LayerSpec:
        """The LayerSpec of a type name; GraphError if neither registry nor library has it."""
        if self.library is not None:
            found = self.library.spec(type_name)
            if found is not None:
                return found
        if has_spec(type_name):
            return get_spec(type_name)
        raise GraphError(f"unknown layer type {type_name!r}")

    def has_type(self, type_name: str) -> bool:
        """Whether `type_name` is a registry layer or a definition of the library."""
        return has_spec(type_name) or (self.library is not None and type_name in self.library)

    def when(self, node: str) -> Bound | None:
        """The condition a node inside a block exists under (None: always)."""
        return self._node(node).get("when")

    def body(self, node: str) -> ModelGraph | None:
        """The chain inside a container node (Sequential, ModuleList), or None."""
        return self._node(node).get("body")

    def params(self, node: str) -> dict[str, Any]:
        """A copy of the explicitly set parameters of `node` (auto ones absent)."""
        return dict(self._node(node)["params"])

    def pos(self, node: str) -> tuple[float, float]:
        """The canvas position of `node`."""
        return self._node(node)["pos"]

    def output_ports(self, node: str) -> list[str]:
        """The output ports `node` has with its current parameters."""
        ports = self._ports.get(node)
        if ports is None:
            data = self._node(node)
            ports = self.spec(node).output_names(data["params"] | self._defaults(node))
            if data["type"] not in (self.library or ()):  # a block's ports can change
                self._ports[node] = ports
        return ports

    def input_ports(self, node: str) -> list[str]:
        """The input ports of `node`: named ones, and the used slots of a variadic port."""
        names = []
        used = {edge.dst_port for edge in self.inputs(node)}
        for port in self.spec(node).inputs:
            if port.variadic:
                names += sorted((p for p in used if is_slot(p)), key=int)
            else:
                names.append(port.name)
        return names

    def inputs(self, node: str) -> list[Edge]:
        """Edges into `node`, in port order (slots by number)."""
        edges = self._sorted_in.get(node)
        if edges is None:
            order = {p.name: i for i, p in enumerate(self.spec(node).inputs)}
            edges = sorted(self._in[node].values(), key=lambda e: _port_key(e.dst_port, order))
            self._sorted_in[node] = edges
        return list(edges)

    def input_edge(self, node: str, port: str) -> Edge | None:
        """The edge into input `port` of `node`, if connected."""
        self._node(node)
        return self._in[node].get(port)

    def outputs(self, node: str) -> list[Edge]:
        """Edges out of `node`."""
        self._node(node)
        return list(self._out[node])

    def edges(self) -> list[Edge]:
        """Every edge, ordered by target node then port."""
        return [edge for node in self._data for edge in self.inputs(node)]

    def nodes_of_type(self, type_name: str) -> list[str]:
        """Ids of the nodes whose layer type is `type_name`."""
        return [n for n, data in self._data.items() if data["type"] == type_name]

    def nodes_of_kind(self, kind: str) -> list[str]:
        """Ids of the nodes of one kind (INPUT, OUTPUT, ...), in order."""
        return [n for n in self._data if self.spec(n).kind == kind]

    def analysis(self, context=None):
        """Values and problems of the graph (cached until it or a definition changes).

        `context` (graph.analysis.Context) analyses the graph as the body of one block
        instance: its inputs, parameter values and place in the model.
        """
        key = (self.revision, self.library.revision if self.library is not None else None, context)
        if self._analysis_revision != key:
            from torchcanvas.graph.analysis import analyze

            self._analysis = analyze(self, context)
            self._analysis_revision = key
        return self._analysis

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
        )
        # Highest slots first: closing a merge node's gap must not renumber edges still to go.
        for edge in sorted(edges, key=lambda e: -_slot(e.dst_port)):
            if self._has(edge):
                self.disconnect(edge)
        self._detach_body(node)
        self._g.remove_node(node)
        del self._ids[data["name"]]
        for index in (self._data, self._in, self._out, self._sorted_in, self._ports):
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
        if record.body is not None:
            self._detach_body(record.id)
            self._attach_body(record.id, record.body)
        for edge in sorted(record.edges, key=lambda e: _slot(e.dst_port)):
            if edge.src in self._g and edge.dst in self._g:
                self.connect(edge.src, edge.dst, edge.src_port, edge.dst_port, allow_cycles=True)

    def connection_problem(
        self,
        src: str,
        dst: str,
        src_port: str | None = None,
        dst_port: str | None = None,
        *,
        replacing: bool = False,
    ) -> str | None:
        """Why `src -> dst` cannot be connected, or None when it can.

        With `replacing`, the edge already on that port is to be swapped out: only the port's
        occupancy is then ignored (edges into `dst` cannot make a path from `dst` to `src`).
        """
        if src not in self._g or dst not in self._g:
            return "both ends must be nodes of this graph"
        src_name, dst_name = self.node_name(src), self.node_name(dst)
        if not self.spec(src).has_outputs:
            return f"{src_name} is an Output and has nothing to pass on"
        if not self.spec(dst).inputs:
            return f"{dst_name} is an {self.node_type(dst)} and takes no inputs"
        src_port = src_port or self.output_ports(src)[0]
        if src_port not in self.output_ports(src):
            return f"{src_name} has no output {src_port!r}"
        if src == dst:
            return f"{src_name} cannot feed itself"
        if nx.has_path(self._g, dst, src):
            return f"connecting {src_name} to {dst_name} would make a cycle"
        return self._port_problem(dst, dst_port, replacing)

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
        problem = self.connection_problem(src, dst, src_port, dst_port)
        if problem and not (allow_cycles and "cycle" in problem):
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
        self._remove_edge(edge)
        self.events.edge_removed.emit(edge)
        if is_slot(edge.dst_port):
            self._shift_slots(edge.dst, int(edge.dst_port) + 1, -1)
        self._touch()
        self.events.changed.emit()

    def free_input_port(self, node: str) -> str:
        """The first unconnected input port of `node` (the next slot of a merge)."""
        used = {edge.dst_port for edge in self.inputs(node)}
        for port in self.spec(node).inputs:
            if port.variadic:
                return str(sum(1 for p in used if is_slot(p)))
            if port.name not in used:
                return port.name
        raise GraphError(f"every input of {self.node_name(node)} is connected")

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
        del self._ids[old]
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

    def copy(self) -> ModelGraph:
        """An independent copy, container bodies included (no subscribers)."""
        twin = ModelGraph(self._name, self.library)
        twin.replace_with(self)
        return twin

    def unique_node_name(self, wanted: str) -> str:
        """`wanted` if free, else a free variant of it (used by paste)."""
        from torchcanvas.graph.naming import unique_name

        if wanted not in self._ids and not identifier_problem(wanted):
            return wanted
        return unique_name(wanted, set(self._ids))

    # ----- internals -----------------------------------------------------------------
    def _node(self, node: str) -> dict:
        try:
            return self._data[node]
        except KeyError:
            raise GraphError(f"there is no node {node!r}") from None

    def _has(self, edge: Edge) -> bool:
        return self._in.get(edge.dst, {}).get(edge.dst_port) == edge

    def add_edge_unchecked(self, edge: Edge) -> None:
        """Add an edge without any check (a file being loaded: cycles and gaps become
        problems in the analysis rather than a refusal). Emits nothing."""
        self._add_edge(edge)
        self._touch()

    def _add_edge(self, edge: Edge) -> None:
        self._g.add_edge(edge.src, edge.dst, key=(edge.src_port, edge.dst_port))
        self._in[edge.dst][edge.dst_port] = edge
        self._out[edge.src][edge] = None
        self._sorted_in.pop(edge.dst, None)

    def _remove_edge(self, edge: Edge) -> None:
        self._g.remove_edge(edge.src, edge.dst, key=(edge.src_port, edge.dst_port))
        del self._in[edge.dst][edge.dst_port]
        del self._out[edge.src][edge]
        self._sorted_in.pop(edge.dst, None)

    def _defaults(self, node: str) -> dict:
        spec = self.spec(node)
        params = self._node(node)["params"]
        return {p.name: p.default for p in spec.params if p.name not in params}

    def _port_problem(self, dst: str, dst_port: str | None, replacing: bool) -> str | None:
        spec, name = self.spec(dst), self.node_name(dst)
        if dst_port is None:
            try:
                self.free_input_port(dst)
            except GraphError as error:
                return None if replacing else f"{error}; disconnect one first"
            return None
        port = spec.input_port(dst_port)
        if port is None:
            return f"{name} ({spec.type}) has no input {dst_port!r}"
        if port.variadic:
            slots = sum(1 for e in self.inputs(dst) if is_slot(e.dst_port))
            if int(dst_port) > slots:
                return f"{name} has {slots} inputs; connect to input {slots} or lower"
            return None
        if not replacing and self.input_edge(dst, dst_port):
            return f"{name} input {dst_port} is already connected; disconnect it first"
        return None

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
        taken = set(self._ids)
        if spec.kind in (INPUT, OUTPUT) and spec.prefix not in taken:
            return spec.prefix
        return numbered_name(spec.prefix, taken)

    def _check_new_name(self, name: str) -> str:
        problem = identifier_problem(name)
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
        moved = [e for e in self.inputs(dst) if is_slot(e.dst_port) and int(e.dst_port) >= start]
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


def _port_key(port: str, order: dict[str, int]) -> tuple[int, int]:
    if is_slot(port):
        return (len(order), int(port))
    return (order.get(port, len(order) + 1), 0)


def _slot(port: str) -> int:
    return int(port) if is_slot(port) else -1


def _point(pos) -> tuple[float, float]:
    x, y = pos
    return (round(float(x), 1), round(float(y), 1))
