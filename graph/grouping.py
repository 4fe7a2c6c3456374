"""Make Block, Ungroup and Repeat: the graph operations behind the editor's commands.

Each returns what undo needs; the window wraps them in undo commands.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from torchcanvas.graph.autoparams import RULES
from torchcanvas.graph.library import BlockDef
from torchcanvas.graph.model import Edge, GraphError, ModelGraph, NodeRecord
from torchcanvas.graph.naming import class_name_problem, unique_name
from torchcanvas.graph.params import BOOL, CHOICE, FLOAT, INT, SIZE, Param
from torchcanvas.graph.registry import INPUT, OUTPUT
from torchcanvas.graph.symbolic import Bound, evaluate, plain


@dataclass(frozen=True)
class Exposed:
    """An inner parameter that becomes a parameter of the new block."""

    node: str  # id, in the graph being grouped
    param: str
    name: str  # the block parameter's name


@dataclass
class Grouping:
    """What Make Block did, for undo."""

    block: BlockDef
    instance: str
    records: list[NodeRecord] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)  # the instance's new edges


def candidates(model: ModelGraph, nodes: list[str]) -> list[Exposed]:
    """Parameters of the selection that could become block parameters, with proposed names.

    A name is the parameter's own (`out_channels`) where only one node has it, else
    prefixed with the node's name (`conv1_out_channels`).
    """
    found = []
    chosen = set(nodes)
    for node in [n for n in model.analysis().order if n in chosen]:  # in the order they run
        spec, values = model.spec(node), model.analysis().resolved(node)
        for param in spec.params:
            if not param.ctor or param.auto:
                continue
            single = param.kind == SIZE and isinstance(plain(values.get(param.name)), int)
            if param.kind in (INT, FLOAT, BOOL, CHOICE) or single:
                found.append((node, param.name))
    counts: dict[str, int] = {}
    for _, name in found:
        counts[name] = counts.get(name, 0) + 1
    return [
        Exposed(node, name, name if counts[name] == 1 else f"{model.node_name(node)}_{name}")
        for node, name in found
    ]


def make_block(
    model: ModelGraph, nodes: list[str], name: str, exposed: list[Exposed], pos=None
) -> Grouping:
    """Move `nodes` into a new definition `name` and put one instance in their place."""
    problem = _grouping_problem(model, nodes, name)
    if problem:
        raise GraphError(problem)
    chosen = set(nodes)
    incoming = [e for n in nodes for e in model.inputs(n) if e.src not in chosen]
    outgoing = [e for n in nodes for e in model.outputs(n) if e.dst not in chosen]
    ins = list(dict.fromkeys((e.src, e.src_port) for e in incoming))
    outs = list(dict.fromkeys((e.src, e.src_port) for e in outgoing))
    analysis = model.analysis()
    body = ModelGraph(name, model.library)
    _copy_nodes(model, body, nodes, exposed)
    in_names = _boundary(body, analysis, ins, incoming, "input", INPUT)
    _boundary(body, analysis, outs, outgoing, "output", OUTPUT)
    params = _auto_params(analysis, ins, in_names) + _exposed_params(model, analysis, exposed)
    block = BlockDef(name, body, tuple(params))
    model.library.add(block)
    centre = pos or _centre(model, nodes)
    records = [model.remove_node(n) for n in nodes]
    values = {p.name: p for p in params}
    instance = model.add_node(
        name, None, {e.name: _value(analysis, e) for e in exposed if e.name in values}, centre
    )
    edges = _rewire(model, instance, ins, outs, incoming, outgoing, in_names, body)
    return Grouping(block, instance, records, edges)


def _grouping_problem(model: ModelGraph, nodes: list[str], name: str) -> str | None:
    if not nodes:
        return "select the nodes to put in the block first"
    problem = class_name_problem(name)
    if problem:
        return problem
    if model.library is None:
        return "this graph has no block library"
    if name in model.library or model.has_type(name):
        return f"there is already a block or layer type called {name}"
    if any(model.spec(n).kind in (INPUT, OUTPUT) for n in nodes):
        return "Inputs and Outputs stay outside a block; leave them out of the selection"
    return None


def _copy_nodes(model: ModelGraph, body: ModelGraph, nodes: list[str], exposed) -> None:
    bound = {(e.node, e.param): Bound(e.name) for e in exposed}
    for node in nodes:
        params = {k: bound.get((node, k), v) for k, v in model.params(node).items()}
        params.update({k: v for (n, k), v in bound.items() if n == node})
        body.add_node(model.node_type(node), model.node_name(node), params, model.pos(node), node)
        if model.when(node) is not None:
            body.set_when(node, model.when(node).text)
        if model.body(node) is not None:
            body.set_body(node, model.body(node).copy())
    for node in nodes:
        for edge in model.inputs(node):
            if edge.src in body:
                body.add_edge_unchecked(edge)


def _boundary(body, analysis, values, edges, base: str, kind: str) -> list[str]:
    """Input (or Output) nodes for the values that cross the selection's border."""
    names = []
    for index, (src, port) in enumerate(values):
        name = unique_name(base, set(body.names().values())) if index else base
        if kind == INPUT:
            meta = analysis.meta(src, port)
            shape = list(meta.per_sample) if meta is not None else [1]
            dtype = meta.dtype if meta is not None else "float32"
            node = body.add_node("Input", name, {"shape": shape or [1], "dtype": dtype})
            for edge in edges:
                if (edge.src, edge.src_port) == (src, port):
                    body.connect(node, edge.dst, None, edge.dst_port)
        else:
            node = body.add_node("Output", name)
            body.connect(src, node, port)
        names.append(name)
    return names


def _auto_params(analysis, ins, names) -> list[Param]:
    """A block parameter for each input's channels (images) or features (vectors)."""
    params = []
    for index, ((src, port), name) in enumerate(zip(ins, names)):
        meta = analysis.meta(src, port)
        if meta is None or not meta.batched or meta.batch_dim != 0 or not meta.is_float:
            continue
        rule = "channels" if meta.rank in (2, 3) else "features"
        label = "in_channels" if rule == "channels" else "in_features"
        label = label if index == 0 else f"{label}{index + 1}"
        params.append(
            Param(
                label,
                INT,
                f"{RULES[rule].label.capitalize()} of {name}.",
                required=True,
                initial=1,
                minimum=1,
                maximum=1 << 20,
                positional=True,
                auto=rule,
                auto_port=name,
            )
        )
    return params


def _exposed_params(model, analysis, exposed) -> list[Param]:
    params = []
    for item in exposed:
        inner = model.spec(item.node).param(item.param)
        params.append(
            Param(
                item.name,
                INT if inner.kind == SIZE else inner.kind,  # kernel_size=3 as an int
                inner.doc,
                plain(_value(analysis, item)),
                choices=() if inner.kind == SIZE else inner.choices,
                minimum=inner.minimum,
                maximum=inner.maximum,
                positional=inner.required,
            )
        )
    return params


def _value(analysis, item: Exposed):
    return plain(analysis.resolved(item.node).get(item.param))


def _centre(model, nodes) -> tuple[float, float]:
    """Where the instance goes: where the first of the grouped layers was."""
    points = [model.pos(n) for n in nodes]
    return min(points, key=lambda p: (p[1], p[0]))


def _rewire(model, instance, ins, outs, incoming, outgoing, in_names, body) -> list[Edge]:
    edges = []
    for (src, port), name in zip(ins, in_names):
        edges.append(model.connect(src, instance, port, name))
    out_names = [body.node_name(n) for n in body.nodes_of_type("Output")]
    for edge in outgoing:
        name = out_names[outs.index((edge.src, edge.src_port))]
        edges.append(model.connect(instance, edge.dst, name, edge.dst_port))
    return edges


def undo_block(model: ModelGraph, grouping: Grouping) -> None:
    """Put the grouped nodes back and remove the definition."""
    model.remove_node(grouping.instance)
    for record in grouping.records:
        model.add_node(record.type, record.name, record.params, record.pos, record.id)
        if record.when is not None:
            model.set_when(record.id, record.when.text)
        if record.body is not None:
            model.set_body(record.id, record.body)
    for record in grouping.records:
        for edge in record.edges:
            if (
                edge.src in model
                and edge.dst in model
                and not model.input_edge(edge.dst, edge.dst_port)
            ):
                model.connect(edge.src, edge.dst, edge.src_port, edge.dst_port, allow_cycles=True)
    model.library.remove(grouping.block.name)


def ungroup(model: ModelGraph, node: str) -> tuple[NodeRecord, list[str]]:
    """Replace a block instance by its definition's layers, with the instance's values
    written in; returns the instance's record and the new nodes (for undo)."""
    spec = model.spec(node)
    block = model.library.get(spec.type) if model.library is not None else None
    if block is None:
        raise GraphError(f"{model.node_name(node)} is not a block instance")
    facts = model.analysis().facts.get(node)
    if facts is None or facts.inner is None:
        raise GraphError(f"fix the problems of {model.node_name(node)} before ungrouping it")
    scope = {p.name: plain(facts.args.get(p.name)) for p in block.params}
    flat = block.graph.copy()
    concretize(flat, scope)
    record = model.remove_node(node)
    return record, _paste(model, flat, record)


def concretize(graph: ModelGraph, scope: dict) -> None:
    """Write a block's parameter values into its layers: bindings become numbers, and a
    node whose condition is false is taken out (its input goes on to its readers)."""
    for node in list(graph.nodes()):
        body = graph.body(node)
        if body is not None:
            concretize(body, scope)
        for key, value in graph.params(node).items():
            if isinstance(value, Bound):
                graph.set_param(node, key, plain(evaluate(value.text, scope)))
        when = graph.when(node)
        if when is not None:
            if evaluate(when.text, scope):
                graph.set_when(node, None)
            else:
                _bypass(graph, node)


def _bypass(graph: ModelGraph, node: str) -> None:
    feeding = graph.inputs(node)
    readers = graph.outputs(node)
    graph.remove_node(node)
    if feeding:
        for edge in readers:
            graph.connect(feeding[0].src, edge.dst, feeding[0].src_port, edge.dst_port)


def _paste(model: ModelGraph, flat: ModelGraph, record: NodeRecord) -> list[str]:
    """Add `flat`'s layers where the instance was, wired to what the instance was wired to."""
    mapping: dict[str, str] = {}
    taken = set(model.names().values())
    for node in flat.nodes():
        if flat.spec(node).kind in (INPUT, OUTPUT):
            continue
        name = (
            unique_name(flat.node_name(node), taken)
            if flat.node_name(node) in taken
            else (flat.node_name(node))
        )
        taken.add(name)
        x, y = flat.pos(node)
        mapping[node] = model.add_node(
            flat.node_type(node), name, flat.params(node), (record.pos[0] + x, record.pos[1] + y)
        )
        if flat.body(node) is not None:
            model.set_body(mapping[node], flat.body(node).copy())
    outside = {e.dst_port: (e.src, e.src_port) for e in record.edges if e.dst == record.id}
    for edge in flat.edges():
        if edge.dst not in mapping:
            continue
        if edge.src in mapping:
            model.connect(mapping[edge.src], mapping[edge.dst], edge.src_port, edge.dst_port)
        elif flat.node_name(edge.src) in outside:
            src, port = outside[flat.node_name(edge.src)]
            model.connect(src, mapping[edge.dst], port, edge.dst_port)
    for edge in record.edges:
        if edge.src == record.id and edge.dst in model:
            out = next(
                n for n in flat.nodes_of_type("Output") if flat.node_name(n) == edge.src_port
            )
            feeding = flat.inputs(out)[0]
            src, port = (
                (mapping[feeding.src], feeding.src_port)
                if feeding.src in mapping
                else outside[flat.node_name(feeding.src)]
            )
            model.connect(src, edge.dst, port, edge.dst_port)
    return list(mapping.values())


def repeat(model: ModelGraph, node: str, count: int) -> tuple[NodeRecord, str]:
    """Wrap a block instance in a Sequential of `count` copies of it (a ResNet stage: the
    copies after the first keep every parameter except stride, which is 1)."""
    if not 1 <= count <= 64:
        raise GraphError("repeat between 1 and 64 times")
    spec = model.spec(node)
    if model.library is None or spec.type not in model.library:
        raise GraphError("only a block instance can be repeated")
    params, pos, name = model.params(node), model.pos(node), model.node_name(node)
    record = model.remove_node(node)
    container = model.add_node("Sequential", name, None, pos)
    body = ModelGraph("Body", model.library)
    last = body.add_node("Input", "input", {"shape": [1]}, (0.0, 0.0))
    for index in range(count):
        copy = dict(params)
        if index and "stride" in copy:
            copy.pop("stride")
        block = body.add_node(spec.type, f"block{index}", copy, (0.0, 110.0 * (index + 1)))
        body.connect(last, block)
        last = block
    body.connect(last, body.add_node("Output", "output", None, (0.0, 110.0 * (count + 1))))
    model.set_body(container, body)
    for edge in record.edges:
        src = container if edge.src == node else edge.src
        dst = container if edge.dst == node else edge.dst
        src_port = "output" if edge.src == node else edge.src_port
        dst_port = "input" if edge.dst == node else edge.dst_port
        model.connect(src, dst, src_port, dst_port)
    return record, container
