"""The graph's state and every way to read it; ModelGraph (graph.model) adds the edits.

Nodes are keyed by a stable id (`n1`, `n2`, ...) that never changes; the node's name (the
Python attribute) is a field. An edge joins (node, output port) to (node, input port);
the MultiDiGraph keys it by `(src_port, dst_port)`.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import networkx as nx

from torchcanvas.graph.events import ModelEvents
from torchcanvas.graph.naming import identifier_problem, unique_name
from torchcanvas.graph.ports import is_slot
from torchcanvas.graph.registry import LayerSpec, get_spec, has_spec
from torchcanvas.graph.symbolic import Bound


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
    body: GraphBase | None = None  # a ModelGraph
    flags: dict[str, Any] = field(default_factory=dict)  # frozen, lr_scale (TRAINING_FLAGS)


class GraphBase:
    """A network of layer nodes over `networkx.MultiDiGraph`: its state and its reads."""

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
        self._slots: dict[str, int] = {}  # id -> edges into numbered slots (a merge's inputs)
        self._ports: dict[str, list[str]] = {}  # id -> output_ports(), cached
        self._name_from: dict[str, int] = {}  # prefix -> first number that may be free

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
        try:  # one registry lookup, not two: every pass asks for every node's spec
            return get_spec(type_name)
        except KeyError:
            raise GraphError(f"unknown layer type {type_name!r}") from None

    def has_type(self, type_name: str) -> bool:
        """Whether `type_name` is a registry layer or a definition of the library."""
        return has_spec(type_name) or (self.library is not None and type_name in self.library)

    def when(self, node: str) -> Bound | None:
        """The condition a node inside a block exists under (None: always)."""
        return self._node(node).get("when")

    def flag(self, node: str, key: str) -> Any:
        """A training flag the node sets explicitly ("frozen", "lr_scale"), or None (it
        follows the node that holds it; at the top, trainable at the run's rate)."""
        return self._node(node).get("flags", {}).get(key)

    def flags(self, node: str) -> dict[str, Any]:
        """The training flags the node sets explicitly."""
        return dict(self._node(node).get("flags", {}))

    def body(self, node: str) -> GraphBase | None:
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

    def slot_count(self, node: str) -> int:
        """How many numbered slots (a merge's inputs) of `node` are connected."""
        self._node(node)
        return self._slots.get(node, 0)

    def inputs(self, node: str) -> list[Edge]:
        """Edges into `node`, in port order (slots by number)."""
        return list(self._ordered_in(node))

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
        return (
            self._ends_problem(src, dst, src_port)
            or self._cycle_problem(src, dst)
            or self._port_problem(dst, dst_port, replacing)
        )

    def free_input_port(self, node: str) -> str:
        """The first unconnected input port of `node` (the next slot of a merge)."""
        self._node(node)
        used = self._in[node]
        for port in self.spec(node).inputs:
            if port.variadic:
                return str(self._slots.get(node, 0))
            if port.name not in used:
                return port.name
        raise GraphError(f"every input of {self.node_name(node)} is connected")

    def unique_node_name(self, wanted: str) -> str:
        """`wanted` if free, else a free variant of it (used by paste)."""
        if wanted not in self._ids and not identifier_problem(wanted):
            return wanted
        return unique_name(wanted, self._ids)

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

    # ----- internals the reads use ----------------------------------------------------
    def _ends_problem(self, src: str, dst: str, src_port: str | None) -> str | None:
        """Why `src` cannot feed `dst` at all (missing nodes, ports, itself), or None."""
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
        return None

    def _cycle_problem(self, src: str, dst: str) -> str | None:
        if nx.has_path(self._g, dst, src):
            return f"connecting {self.node_name(src)} to {self.node_name(dst)} would make a cycle"
        return None

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
            slots = self._slots.get(dst, 0)
            if int(dst_port) > slots:
                return f"{name} has {slots} inputs; connect to input {slots} or lower"
            return None
        if not replacing and self.input_edge(dst, dst_port):
            return f"{name} input {dst_port} is already connected; disconnect it first"
        return None

    def _node(self, node: str) -> dict:
        try:
            return self._data[node]
        except KeyError:
            raise GraphError(f"there is no node {node!r}") from None

    def _ordered_in(self, node: str) -> list[Edge]:
        """inputs() without the copy; the editing methods keep it in step (never change it)."""
        edges = self._sorted_in.get(node)
        if edges is None:
            order = {p.name: i for i, p in enumerate(self.spec(node).inputs)}
            edges = sorted(self._in[node].values(), key=lambda e: _port_key(e.dst_port, order))
            self._sorted_in[node] = edges
        return edges

    def _has(self, edge: Edge) -> bool:
        return self._in.get(edge.dst, {}).get(edge.dst_port) == edge


@contextmanager
def gc_paused() -> Iterator[None]:
    """No automatic garbage collection during one pass over a big graph."""
    # A pass makes many objects and no cycles, and each automatic full collection walks the
    # whole heap: in a window showing 10,000 nodes they took a third of the time to open it.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _port_key(port: str, order: dict[str, int]) -> tuple[int, int]:
    if is_slot(port):
        return (len(order), int(port))
    return (order.get(port, len(order) + 1), 0)


def _slot(port: str) -> int:
    return int(port) if is_slot(port) else -1
