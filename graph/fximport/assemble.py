"""From the scope tree to graphs: the model, block definitions and container bodies.

Scopes are built from the innermost out. An nn.Sequential becomes a container node; any
other module becomes an instance of a definition. Instances of one class whose bodies
have the same structure share a definition; the values that differ between them (an
`out_channels`, a `stride`) become the definition's parameters, bound inside.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field

from torch import nn

from torchcanvas.graph.fximport.ir import Op, Problem, Ref
from torchcanvas.graph.fximport.scopes import Scope, is_sequential
from torchcanvas.graph.graphjson import graph_to_dict
from torchcanvas.graph.layout import layered_positions
from torchcanvas.graph.library import BlockDef, Library, block_param
from torchcanvas.graph.model import GraphError, ModelGraph
from torchcanvas.graph.naming import (
    class_name_problem,
    identifier_problem,
    key_problem,
    unique_name,
)
from torchcanvas.graph.params import BOOL, CHOICE, FLOAT, INT, SIZE
from torchcanvas.graph.registry import BLOCK, get_spec, has_spec
from torchcanvas.graph.symbolic import Bound

EXPOSABLE = (INT, FLOAT, BOOL, CHOICE)


class AssemblyError(Exception):
    """A part of the hierarchy that cannot become a graph; the message says which."""


@dataclass
class Built:
    """How a scope appears in its parent: a node type, its values, its ports."""

    type: str
    params: dict
    in_ports: list[str]
    out_ports: list[str]
    body: ModelGraph | None = None  # containers carry their body


@dataclass
class _Instance:
    scope: Scope
    body: ModelGraph
    in_shapes: list[tuple]


@dataclass
class Assembler:
    """Builds the graphs of one import."""

    top: Scope
    ops: list[Op]
    shapes: dict[Ref, object]  # recorded Shape of each value
    class_name: str
    library: Library = field(default_factory=Library)
    built: dict[str, Built] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def run(self) -> ModelGraph:
        """The model graph, with its definitions in `library`."""
        levels: dict[int, list[Scope]] = {}
        for scope in self.top.walk():
            if scope is not self.top:
                levels.setdefault(scope.height(), []).append(scope)
        for height in sorted(levels):
            self._level(levels[height])
        model = ModelGraph(self.class_name, self.library)
        self._fill(model, self.top, root=True)
        for graph in _all_graphs(model):
            for node, pos in layered_positions(graph).items():
                graph.move(node, pos)
        return model

    # ----- one level of the hierarchy ---------------------------------------------------
    def _level(self, scopes: list[Scope]) -> None:
        groups: dict[tuple, list[_Instance]] = {}
        for scope in scopes:
            if is_sequential(scope.module):
                self.built[scope.key] = self._container(scope)
                continue
            body = ModelGraph(type(scope.module).__name__, self.library)
            self._fill(body, scope)
            shapes = [self.shapes[ref].shape[1:] for ref in scope.inputs]
            key = (type(scope.module), _signature(body))
            groups.setdefault(key, []).append(_Instance(scope, body, shapes))
        for (cls, _), instances in groups.items():
            self._define(cls, instances)

    def _container(self, scope: Scope) -> Built:
        """An nn.Sequential: a chain of its children."""
        if len(scope.inputs) != 1 or len(scope.outputs) != 1:
            raise AssemblyError(f"{scope.path}: an nn.Sequential takes and gives one tensor")
        return self._chain("Sequential", scope.path, scope.elements, scope.inputs[0])

    def _chain(self, kind: str, where: str, elements: list, ref: Ref) -> Built:
        """A container of `elements`, each reading the one before (the first reads `ref`)."""
        keys = [_element_attribute(e) for e in elements]
        named = keys != [str(i) for i in range(len(keys))]
        body = ModelGraph("Body", self.library)
        last = body.add_node("Input", "input", _input_params(self.shapes[ref]))
        last_port, previous = "output", [ref]
        for key, element in zip(keys, elements):
            if named and key_problem(key):
                raise AssemblyError(
                    f"{where}: the child name {key!r} cannot be a layer name ({key_problem(key)})"
                )
            taken = set(body.names().values())
            name = key if named else unique_name(f"{_prefix(element, self)}{key}", taken)
            node, (in_ports, out_ports) = self._place(body, element, name)
            if _reads(element) != previous:
                raise AssemblyError(
                    f"{where}.{key}: each child of an {kind} must read the output of the one "
                    f"before, and nothing else"
                )
            body.connect(last, node, last_port, in_ports[0])
            last, last_port, previous = node, out_ports[0], _writes(element)[:1]
        body.connect(last, body.add_node("Output", "output"), last_port)
        return Built(kind, {"named": True} if named else {}, ["input"], ["output"], body)

    def _define(self, cls: type, instances: list[_Instance]) -> None:
        template = instances[0].body
        name = self._class_name(cls.__name__)
        exposed = _exposed(template, [i.body for i in instances])
        params = _auto_params(template, instances) + [
            _exposed_param(label, kind, values[0]) for label, kind, values, _ in exposed
        ]
        for label, _, _, places in exposed:
            for graph, node, key in places:
                graph.set_param(node, key, Bound(label))
        template.set_name(name)
        self.library.add(BlockDef(name, template, tuple(params), _doc(cls)))
        ins = [template.node_name(n) for n in template.nodes_of_type("Input")]
        outs = [template.node_name(n) for n in template.nodes_of_type("Output")]
        for index, instance in enumerate(instances):
            values = {label: values[index] for label, _, values, _ in exposed}
            self.built[instance.scope.key] = Built(name, values, ins, outs)

    def _class_name(self, wanted: str) -> str:
        base = wanted if not class_name_problem(wanted) else "Block"
        name, index = base, 2
        while name in self.library or has_spec(name) or name == self.class_name:
            name, index = f"{base}_{index}", index + 1
        return name

    # ----- filling a graph --------------------------------------------------------------
    def _fill(self, graph: ModelGraph, scope: Scope, root: bool = False) -> None:
        sources: dict[Ref, tuple[str, str]] = {}
        if not root:
            names = _argument_names(scope.module, len(scope.inputs))
            for ref, name in zip(scope.inputs, names):
                node = graph.add_node("Input", name, _input_params(self.shapes[ref]))
                sources[ref] = (node, "output")
        for element in _grouped(scope):
            self._add(graph, element, sources)
        if not root:
            for index, ref in enumerate(scope.outputs):
                node = graph.add_node("Output", "output" if index == 0 else f"output{index + 1}")
                graph.connect(sources[ref][0], node, sources[ref][1])

    def _add(self, graph: ModelGraph, element, sources: dict) -> None:
        if isinstance(element, ListGroup):
            built = self._chain(
                "ModuleList", element.attribute, element.elements, _reads(element)[0]
            )
            node = graph.add_node(
                "ModuleList", unique_name_exact(element.attribute, set(graph.names().values()))
            )
            graph.set_body(node, built.body)
            ref = _reads(element)[0]
            graph.connect(sources[ref][0], node, sources[ref][1], "input")
            sources[_writes(element)[0]] = (node, "output")
            return
        taken = set(graph.names().values())
        wanted = (
            element.name
            if isinstance(element, Op) and element.type in ("Input", "Output")
            else _element_attribute(element)
        )
        name = unique_name_exact(
            wanted if not isinstance(element, Op) or element.module else element.name, taken
        )
        node, (in_ports, out_ports) = self._place(graph, element, name)
        if isinstance(element, Op):
            for port, ref in element.inputs.items():
                graph.connect(sources[ref][0], node, sources[ref][1], port)
            for port in graph.output_ports(node):
                sources[Ref(element.id, port)] = (node, port)
            return
        for ref, port in zip(element.inputs, in_ports):
            graph.connect(sources[ref][0], node, sources[ref][1], port)
        for ref, port in zip(element.outputs, out_ports):
            sources[ref] = (node, port)

    def _place(self, graph: ModelGraph, element, name: str):
        """Add the node for an op or a child scope; returns it and its (in, out) ports."""
        if isinstance(element, Op):
            node = graph.add_node(element.type, name, element.params)
            spec = get_spec(element.type)
            return node, ([p.name for p in spec.inputs], graph.output_ports(node))
        built = self.built[element.key]
        node = graph.add_node(built.type, name, built.params)
        if built.body is not None:
            graph.set_body(node, built.body)
        return node, (built.in_ports, built.out_ports)


def unique_name_exact(wanted: str, taken: set[str]) -> str:
    """`wanted` itself when it is a free valid name (case kept: it is an attribute)."""
    if not identifier_problem(wanted) and wanted not in taken:
        return wanted
    return unique_name(wanted, taken)


def _element_attribute(element) -> str:
    path = element.path if isinstance(element, Scope) else (element.module or element.name)
    return path.rpartition(".")[2]


def _prefix(element, assembler: Assembler) -> str:
    if isinstance(element, Op):
        return get_spec(element.type).prefix
    built = assembler.built[element.key]
    return "block" if not has_spec(built.type) else get_spec(built.type).prefix


@dataclass
class ListGroup:
    """Children of an nn.ModuleList run one after another: one ModuleList container."""

    attribute: str
    elements: list


def _grouped(scope: Scope) -> list:
    """The scope's elements; children of an nn.ModuleList come as one ListGroup."""
    out: list = []
    for element in scope.elements:
        path = element.path if isinstance(element, Scope) else element.module
        rel = path[len(scope.path) + 1 :] if scope.path and path else path
        parts = rel.split(".") if rel else []
        if len(parts) <= 1:
            out.append(element)
            continue
        holder = getattr(scope.module, parts[0], None)
        if len(parts) != 2 or not isinstance(holder, nn.ModuleList):
            raise AssemblyError(
                f"{path}: reached through {type(holder).__name__} {parts[0]!r}; only "
                f"nn.ModuleList children run one after another can be imported this way"
            )
        if out and isinstance(out[-1], ListGroup) and out[-1].attribute == parts[0]:
            out[-1].elements.append(element)
        else:
            out.append(ListGroup(parts[0], [element]))
    return out


def _reads(element) -> list[Ref]:
    if isinstance(element, ListGroup):
        return _reads(element.elements[0])
    if isinstance(element, Scope):
        return list(element.inputs)
    return list(element.inputs.values())


def _writes(element) -> list[Ref]:
    if isinstance(element, ListGroup):
        return _writes(element.elements[-1])
    if isinstance(element, Scope):
        return list(element.outputs)
    spec = get_spec(element.type)
    return [Ref(element.id, p.name) for p in spec.outputs]


def _input_params(shape) -> dict:
    dtype = str(shape.dtype).removeprefix("torch.")
    params = {"shape": list(shape.shape[1:]) or [1]}
    if dtype != "float32":
        params["dtype"] = dtype
    return params


def _argument_names(module: nn.Module, count: int) -> list[str]:
    """forward()'s own argument names when they fit, else x, x2, ..."""
    try:
        names = [
            p.name
            for p in inspect.signature(type(module).forward).parameters.values()
            if p.name != "self" and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        names = []
    names = [n for n in names if not identifier_problem(n)]
    if len(names) >= count and len(set(names[:count])) == count:
        return names[:count]
    return ["input"] + [f"input{i + 1}" for i in range(1, count)]


def _signature(graph: ModelGraph):
    """The structure of a body: types, names, wiring and the values that cannot vary."""
    nodes = []
    for node in graph.nodes():
        spec = graph.spec(node)
        params = {}
        for key, value in graph.params(node).items():
            param = spec.param(key)
            if spec.type == "Input" and key == "shape":
                continue
            params[key] = "*" if _exposable(param, value) else repr(value)
        body = graph.body(node)
        nodes.append(
            (
                node,
                graph.node_name(node),
                spec.type,
                tuple(sorted(params.items())),
                _signature(body) if body is not None else None,
            )
        )
    edges = tuple(tuple(e) for e in graph.edges())
    return tuple(nodes), edges


def _exposable(param, value) -> bool:
    return (
        param.ctor
        and not param.auto
        and (param.kind in EXPOSABLE or (param.kind == SIZE and isinstance(value, int)))
    )


def _exposed(template: ModelGraph, bodies: list[ModelGraph]) -> list[tuple]:
    """(parameter name, kind, value per instance, places to bind) for each value that
    differs between instances; places with the same values share one parameter."""
    varying: dict[tuple, list] = {}
    for path, key, values, kind in _differences(template, bodies):
        varying.setdefault((key, tuple(values), kind), []).append(path + (key,))
    counts: dict[str, int] = {}
    for key, _, _ in varying:
        counts[key] = counts.get(key, 0) + 1
    out, taken = [], set()
    for (key, values, kind), places in varying.items():
        graph, node, _ = places[0]
        label = key if counts[key] == 1 else f"{graph.node_name(node)}_{key}"
        label = unique_name(label, taken)
        taken.add(label)
        out.append((label, kind, list(values), places))
    return out


def _differences(template: ModelGraph, bodies: list[ModelGraph], graphs=None):
    graphs = graphs or bodies
    for node in template.nodes():
        spec = template.spec(node)
        for param in spec.params:
            values = [g.params(node).get(param.name, param.default) for g in graphs]
            if len(set(map(repr, values))) > 1 and all(_exposable(param, v) for v in values):
                kind = INT if param.kind == SIZE else param.kind
                yield (template, node), param.name, values, kind
        body = template.body(node)
        if body is not None:
            yield from _differences(body, bodies, [g.body(node) for g in graphs])


def _auto_params(template: ModelGraph, instances: list[_Instance]) -> list:
    """in_channels / in_features for the inputs whose sizes differ between instances."""
    params = []
    for index, node in enumerate(template.nodes_of_type("Input")):
        sizes = {tuple(i.in_shapes[index]) for i in instances}
        first = instances[0].in_shapes[index]
        if len(sizes) < 2 or not first or len({s[0] for s in sizes}) < 2:
            continue
        rule = "channels" if len(first) in (2, 3, 4) else "features"  # (C, L) to (C, D, H, W)
        label = ("in_channels" if rule == "channels" else "in_features") + (
            str(index + 1) if index else ""
        )
        param = block_param(label, INT, auto=rule, positional=True)
        params.append(_with_port(param, template.node_name(node)))
    return params


def _with_port(param, port: str):
    from dataclasses import replace

    return replace(param, auto_port=port)


def _exposed_param(label: str, kind: str, first):
    """Sizes are positional and required, as in `BasicBlock(64, 128)`; the rest keep the
    first instance's value as their default."""
    if kind == INT:
        return block_param(label, kind, required=True, positional=True)
    return block_param(label, kind, first)


def _doc(cls: type) -> str:
    text = (cls.__dict__.get("__doc__") or "").strip().splitlines()
    line = text[0].strip() if text else ""
    return (
        line if line and len(line) <= 200 else f"Imported from {cls.__module__}.{cls.__qualname__}."
    )


def _all_graphs(model: ModelGraph):
    found = [model] + [b.graph for b in model.library]
    index = 0
    while index < len(found):
        graph = found[index]
        found += [graph.body(n) for n in graph.nodes() if graph.body(n) is not None]
        index += 1
    return found


__all__ = ["Assembler", "AssemblyError", "Built", "BLOCK", "GraphError", "graph_to_dict"]
