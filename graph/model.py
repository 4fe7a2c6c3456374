"""ModelGraph: the network as a networkx graph, and the only code that changes it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from torchcanvas.graph.events import ModelEvents
from torchcanvas.graph.naming import class_name_problem, identifier_problem, numbered_name
from torchcanvas.graph.params import ParamError
from torchcanvas.graph.registry import INPUT, OUTPUT, LayerSpec, get_spec, has_spec


class GraphError(ValueError):
    """An edit the graph refuses; the message says why, for the status bar."""


@dataclass
class NodeRecord:
    """Everything needed to put a removed node back exactly as it was."""

    name: str
    type: str
    params: dict[str, Any]
    pos: tuple[float, float]
    edges: list[tuple[str, str, int]] = field(default_factory=list)


class ModelGraph:
    """A network of layer nodes over `networkx.MultiDiGraph`; edges are keyed by input port."""

    def __init__(self, name: str = "Model") -> None:
        self._g = nx.MultiDiGraph()
        self._name = name
        self.events = ModelEvents()
        self.revision = 0  # bumped on every change that can alter shapes or code
        self._analysis = None
        self._analysis_revision = -1

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
        """Node names in insertion order."""
        return list(self._g.nodes)

    def __contains__(self, name: object) -> bool:
        return name in self._g

    def __len__(self) -> int:
        return self._g.number_of_nodes()

    def node_type(self, name: str) -> str:
        """The layer type of node `name`."""
        return self._node(name)["type"]

    def spec(self, name: str) -> LayerSpec:
        """The LayerSpec of node `name`."""
        return get_spec(self.node_type(name))

    def params(self, name: str) -> dict[str, Any]:
        """A copy of the explicitly set parameters of `name` (auto ones absent)."""
        return dict(self._node(name)["params"])

    def pos(self, name: str) -> tuple[float, float]:
        """The canvas position of `name`."""
        return self._node(name)["pos"]

    def inputs(self, name: str) -> list[tuple[str, int]]:
        """(source, port) pairs feeding `name`, by port."""
        return sorted(
            ((u, k) for u, _, k in self._g.in_edges(name, keys=True)), key=lambda item: item[1]
        )

    def outputs(self, name: str) -> list[tuple[str, int]]:
        """(target, port) pairs fed by `name`."""
        return [(v, k) for _, v, k in self._g.out_edges(name, keys=True)]

    def edges(self) -> list[tuple[str, str, int]]:
        """Every (source, target, port), ordered by target then port."""
        return [(u, name, port) for name in self._g.nodes for u, port in self.inputs(name)]

    def nodes_of_type(self, type_name: str) -> list[str]:
        """Names of the nodes whose layer type is `type_name`."""
        return [n for n, data in self._g.nodes(data=True) if data["type"] == type_name]

    def analysis(self):
        """Shapes and problems of the current graph (cached until the next change)."""
        if self._analysis_revision != self.revision:
            from torchcanvas.graph.shapes import analyze

            self._analysis = analyze(self)
            self._analysis_revision = self.revision
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
    ) -> str:
        """Add a node of `type_name`; returns its (possibly generated) name."""
        if not has_spec(type_name):
            raise GraphError(f"unknown layer type {type_name!r}")
        spec = get_spec(type_name)
        name = self._new_name(spec) if name is None else self._check_new_name(name)
        values = spec.start_params()
        for key, value in (params or {}).items():
            self._store_param(spec, values, key, value)
        self._g.add_node(name, type=type_name, params=values, pos=_point(pos))
        self._touch()
        self.events.node_added.emit(name)
        self.events.changed.emit()
        return name

    def remove_node(self, name: str) -> NodeRecord:
        """Remove `name` and its edges; the record lets undo restore it."""
        data = self._node(name)
        edges = [(u, name, k) for u, k in self.inputs(name)]
        edges += [(name, v, k) for v, k in self.outputs(name)]
        record = NodeRecord(name, data["type"], dict(data["params"]), data["pos"], edges)
        # Highest ports first: closing a merge node's gap must not renumber edges still to go.
        for src, dst, port in sorted(edges, key=lambda e: -e[2]):
            if self._g.has_edge(src, dst, key=port):
                self.disconnect(src, dst, port)
        self._g.remove_node(name)
        self._touch()
        self.events.node_removed.emit(name)
        self.events.changed.emit()
        return record

    def restore_node(self, record: NodeRecord) -> None:
        """Put back a node removed by `remove_node`, with its edges."""
        self.add_node(record.type, record.name, record.params, record.pos)
        for src, dst, port in sorted(record.edges, key=lambda e: e[2]):
            if src in self._g and dst in self._g:
                self.connect(src, dst, port, allow_cycles=True)

    def connection_problem(
        self, src: str, dst: str, port: int | None = None, *, replacing: bool = False
    ) -> str | None:
        """Why `src -> dst` cannot be connected, or None when it can.

        With `replacing`, the edge already on that port is to be swapped out: only the port's
        occupancy is then ignored (edges into `dst` cannot make a path from `dst` to `src`).
        """
        if src not in self._g or dst not in self._g:
            return "both ends must be nodes of this graph"
        src_spec, dst_spec = self.spec(src), self.spec(dst)
        if not src_spec.has_outputs:
            return f"{src} is an Output and has nothing to pass on"
        if dst_spec.max_inputs == 0:
            return f"{dst} is an Input and takes no inputs"
        if src == dst:
            return f"{src} cannot feed itself"
        if nx.has_path(self._g, dst, src):
            return f"connecting {src} to {dst} would make a cycle"
        if dst_spec.variadic:
            return None
        if port is not None and not 0 <= port < dst_spec.max_inputs:
            return f"{dst} has no input port {port}"
        if replacing:
            return None
        if port is None and len(self.inputs(dst)) >= dst_spec.max_inputs:
            return f"{dst} already has its input; disconnect it first"
        if port is not None and any(k == port for _, k in self.inputs(dst)):
            return f"{dst} input {port} is already connected; disconnect it first"
        return None

    def connect(
        self, src: str, dst: str, port: int | None = None, *, allow_cycles: bool = False
    ) -> int:
        """Connect `src` to input `port` of `dst` (first free port if None); returns the port."""
        problem = self.connection_problem(src, dst, port)
        if problem and not (allow_cycles and "cycle" in problem):
            raise GraphError(problem)
        spec = self.spec(dst)
        used = [k for _, k in self.inputs(dst)]
        if port is None:
            port = len(used) if spec.variadic else min(set(range(spec.max_inputs)) - set(used))
        elif spec.variadic and port in used:
            self._shift_ports(dst, port, +1)
        self._g.add_edge(src, dst, key=port)
        self._touch()
        self.events.edge_added.emit(src, dst, port)
        self.events.changed.emit()
        return port

    def disconnect(self, src: str, dst: str, port: int) -> None:
        """Remove the edge into input `port` of `dst`; merge nodes close the gap."""
        if not self._g.has_edge(src, dst, key=port):
            raise GraphError(f"{src} is not connected to {dst} input {port}")
        self._g.remove_edge(src, dst, key=port)
        self.events.edge_removed.emit(src, dst, port)
        if self.spec(dst).variadic:
            self._shift_ports(dst, port + 1, -1)
        self._touch()
        self.events.changed.emit()

    def set_param(self, name: str, key: str, value: Any) -> None:
        """Set parameter `key` of `name`; None unpins an auto parameter."""
        data = self._node(name)
        params = dict(data["params"])
        self._store_param(get_spec(data["type"]), params, key, value)
        if params == data["params"]:
            return
        data["params"] = params
        self._touch()
        self.events.param_changed.emit(name, key)
        self.events.changed.emit()

    def rename(self, old: str, new: str) -> None:
        """Rename node `old` to `new`, keeping its edges and its place in the order."""
        self._node(old)
        if new == old:
            return
        self._check_new_name(new)
        order = {node: (new if node == old else node) for node in self._g.nodes}
        renamed = nx.MultiDiGraph()
        renamed.add_nodes_from((order[n], d) for n, d in self._g.nodes(data=True))
        renamed.add_edges_from((order[u], order[v], k) for u, v, k in self._g.edges(keys=True))
        self._g = renamed
        self._touch()
        self.events.node_renamed.emit(old, new)
        self.events.changed.emit()

    def move(self, name: str, pos: tuple[float, float]) -> None:
        """Move `name` on the canvas (does not change the network)."""
        data = self._node(name)
        point = _point(pos)
        if point != data["pos"]:
            data["pos"] = point
            self.events.node_moved.emit(name, point)

    def clear(self) -> None:
        """Remove every node and edge."""
        self._g = nx.MultiDiGraph()
        self._touch()
        self.events.reset.emit()
        self.events.changed.emit()

    def replace_with(self, other: ModelGraph) -> None:
        """Take over `other`'s name, nodes and edges (opening a file)."""
        self._g = other._g.copy()
        self._name = other._name
        self._touch()
        self.events.reset.emit()
        self.events.changed.emit()

    def unique_node_name(self, wanted: str) -> str:
        """`wanted` if free, else a free variant of it (used by paste)."""
        from torchcanvas.graph.naming import unique_name

        taken = set(self._g.nodes)
        return (
            wanted
            if wanted not in taken and not identifier_problem(wanted)
            else unique_name(wanted, taken)
        )

    # ----- internals -----------------------------------------------------------------
    def _node(self, name: str) -> dict:
        try:
            return self._g.nodes[name]
        except KeyError:
            raise GraphError(f"there is no node called {name!r}") from None

    def _touch(self) -> None:
        self.revision += 1

    def _new_name(self, spec: LayerSpec) -> str:
        taken = set(self._g.nodes)
        if spec.kind in (INPUT, OUTPUT) and spec.prefix not in taken:
            return spec.prefix
        return numbered_name(spec.prefix, taken)

    def _check_new_name(self, name: str) -> str:
        problem = identifier_problem(name)
        if problem:
            raise GraphError(problem)
        if name in self._g:
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
        try:
            value = param.coerce(value)
        except ParamError as error:
            raise GraphError(str(error)) from None
        if not param.required and not param.auto and value == param.default:
            params.pop(key, None)
        else:
            params[key] = value

    def _shift_ports(self, dst: str, start: int, step: int) -> None:
        moved = [(u, k) for u, k in self.inputs(dst) if k >= start]
        for u, k in moved:
            self._g.remove_edge(u, dst, key=k)
            self.events.edge_removed.emit(u, dst, k)
        for u, k in moved:
            self._g.add_edge(u, dst, key=k + step)
            self.events.edge_added.emit(u, dst, k + step)


def _point(pos) -> tuple[float, float]:
    x, y = pos
    return (round(float(x), 1), round(float(y), 1))
