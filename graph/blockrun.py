"""Analysing block instances and containers by analysing their bodies.

A block's body is analysed in its own scope: its integer parameters become SymInts, so
that the values inside carry their source (`out_channels * 4`). What comes back out is
translated into the caller's scope, so nested blocks compose.
"""

from __future__ import annotations

from torchcanvas.graph.analysis import Analysis, BlockProblems, Context, analyze
from torchcanvas.graph.autoparams import RULES
from torchcanvas.graph.nesting import MAX_DEPTH, cycle_message, depth_message
from torchcanvas.graph.ports import TensorMeta
from torchcanvas.graph.registry import BLOCK, CONTAINER, INPUT, MODULE, OUTPUT
from torchcanvas.graph.rules import ShapeError
from torchcanvas.graph.symbolic import ExprError, SymInt, evaluate, plain, source_of
from torchcanvas.graph.validate import ERROR


def infer_block(model, node, spec, args: dict, ins: dict, context: Context, path: str):
    """(outputs, parameters, FLOPs, body analysis) of one instance of a definition."""
    block = model.library.get(spec.type)
    _check_nesting(context.blocks, spec.type)
    scope = {p.name: _symbol(p.name, args.get(p.name)) for p in block.params}
    inputs = tuple(_enter(ins.get(port.name), block, port.name) for port in spec.inputs)
    inner = Context(
        inputs, tuple(sorted(scope.items())), path, (), True, (*context.blocks, spec.type)
    )
    analysis = body_analysis(model.library, spec.type, block.graph, inner)
    _raise_inner(analysis, path)
    outer = {p.name: args.get(p.name) for p in block.params}
    outputs = {
        block.graph.node_name(out): _leave(analysis.meta(out), outer) for out in analysis.outputs
    }
    params, flops = _totals(analysis)
    return outputs, params, flops, analysis


def _check_nesting(outer: tuple[str, ...], name: str) -> None:
    """ShapeError when entering block `name` inside the blocks `outer` would never end or
    nest too deep (files are refused on load; this catches definitions built in code)."""
    chain = (*outer, name)
    if name in outer:
        raise ShapeError(cycle_message(chain[outer.index(name) :]))
    if len(chain) > MAX_DEPTH:
        raise ShapeError(depth_message(chain))


def infer_container(model, node, spec, args: dict, ins: dict, context: Context, path: str):
    """(outputs, parameters, FLOPs, body analysis) of an nn.Sequential / nn.ModuleList."""
    body = model.body(node)
    chain = chain_order(body)
    named = bool(args.get("named"))
    present = [n for n in chain if _present(body, n, dict(context.args))]
    labels = tuple((n, body.node_name(n) if named else str(i)) for i, n in enumerate(present))
    inner = Context(
        (ins.get("input"),), context.args, path, labels, context.symbolic, context.blocks
    )
    analysis = analyze(body, inner)
    _raise_inner(analysis, path)
    problems = _chain_problems(body, chain)
    if problems:
        raise BlockProblems([(f"{path}: {text}", ERROR, ()) for text in problems], analysis)
    outputs = {"output": analysis.meta(analysis.outputs[0])} if analysis.outputs else {}
    params, flops = _totals(analysis)
    return outputs, params, flops, analysis


def _present(body, node: str, scope: dict) -> bool:
    """Whether a child is in the container here (its `when` holds); nn.Sequential numbers
    only the children that are there."""
    when = body.when(node)
    if when is None:
        return True
    try:
        return bool(evaluate(when.text, scope))
    except ExprError:
        return True  # the child's own analysis reports the bad condition


def chain_order(body) -> list[str]:
    """The children of a container body, first to last (Input and Output left out)."""
    kinds = (INPUT, OUTPUT)
    order = []
    inputs = body.nodes_of_kind(INPUT)
    node = inputs[0] if inputs else None
    seen = set()
    while node is not None and node not in seen:
        seen.add(node)
        if body.spec(node).kind not in kinds:
            order.append(node)
        following = [e.dst for e in body.outputs(node)]
        node = following[0] if len(following) == 1 else None
    return order


def _chain_problems(body, chain: list[str]) -> list[str]:
    texts = []
    inside = [n for n in body.nodes() if body.spec(n).kind not in (INPUT, OUTPUT)]
    if len(body.nodes_of_kind(INPUT)) != 1 or len(body.nodes_of_kind(OUTPUT)) != 1:
        texts.append("a container holds one chain: one Input and one Output inside it")
    elif set(chain) != set(inside):
        texts.append("a container holds one chain of layers; take branches into a block instead")
    for node in chain:
        if body.spec(node).kind not in (MODULE, BLOCK, CONTAINER):
            texts.append(
                f"{body.node_name(node)} ({body.node_type(node)}) is not a layer module and "
                f"cannot go in a container; use a block for it"
            )
    return texts


def body_analysis(library, name: str, graph, context: Context) -> Analysis:
    """A definition's body analysed for one instance, cached until a definition changes."""
    return library.analyses.get(library.revision, (name, context), lambda: analyze(graph, context))


def _symbol(name: str, value):
    if isinstance(value, int) and not isinstance(value, bool):
        return SymInt.param(name, int(value))
    return plain(value)


def _enter(meta: TensorMeta | None, block, port: str) -> TensorMeta | None:
    """The value on a block input in the block's own scope: the dims that auto parameters
    read become those parameters (in_channels); the others are plain numbers."""
    if meta is None:
        return None
    shape = [plain(d) for d in meta.shape]
    for param in block.params:
        if param.auto and (param.auto_port or _first_port(block)) == port:
            index = _rule_index(param.auto, meta)
            if index is not None and shape[index] is not None:
                shape[index] = SymInt.param(param.name, shape[index])
    return TensorMeta(tuple(shape), meta.dtype)


def _first_port(block) -> str:
    inputs = block.graph.nodes_of_kind(INPUT)
    return block.graph.node_name(inputs[0]) if inputs else ""


def _rule_index(rule: str, meta: TensorMeta) -> int | None:
    positions = [i for i, d in enumerate(meta.shape) if d is not None]
    if not positions or rule not in RULES:
        return None
    return positions[0] if rule == "channels" else positions[-1]


def _leave(meta: TensorMeta | None, outer: dict) -> TensorMeta | None:
    """A value leaving a block, in the caller's scope: inner parameters replaced by the
    values (or the caller's own expressions) the instance was given."""
    if meta is None:
        return None
    return TensorMeta(tuple(_translate(d, outer) for d in meta.shape), meta.dtype)


def _translate(dim, outer: dict):
    source = source_of(dim)
    if source is None:
        return plain(dim)
    try:
        return evaluate(source, outer)
    except ExprError:
        return plain(dim)


def _raise_inner(analysis: Analysis, path: str) -> None:
    problems = []
    for problem in analysis.problems:
        if problem.severity != ERROR or problem.node is None:
            continue
        trail = (problem.node, *problem.trail)
        if problem.trail:  # already qualified by the block it came from
            problems.append((problem.message, ERROR, trail))
            continue
        facts = analysis.facts.get(problem.node)
        where = facts.path if facts else analysis.context.path_of(problem.node, problem.name)
        problems.append((f"{where}: {problem.message}", ERROR, trail))
    unplaced = [p for p in analysis.errors if p.node is None]
    problems += [(f"{path}: {p.message}", ERROR, ()) for p in unplaced]
    if problems:
        raise BlockProblems(problems, analysis)


def _totals(analysis: Analysis) -> tuple[int, int]:
    live = [analysis.facts[n] for n in analysis.order if n in analysis.live and n in analysis.facts]
    return sum(plain(f.params) for f in live), sum(plain(f.flops) for f in live)


def standalone_context(block) -> Context:
    """How a definition is analysed on its own: its Inputs' example shapes, and each
    parameter at its default (auto ones read off those shapes)."""
    graph = block.graph
    metas = {}
    for node in graph.nodes_of_type("Input"):
        params = graph.params(node)
        shape, dtype = params.get("shape", (1,)), params.get("dtype", "float32")
        metas[graph.node_name(node)] = TensorMeta.sample(shape, dtype)
    scope = {}
    for param in block.params:
        if param.auto:
            port = param.auto_port or _first_port(block)
            meta = metas.get(port)
            value = RULES[param.auto].value(meta) if meta is not None else 1
        else:
            value = param.default if not param.required else param.initial
        scope[param.name] = _symbol(param.name, value)
    inputs = tuple(
        _enter(metas.get(graph.node_name(n)), block, graph.node_name(n))
        for n in graph.nodes_of_type("Input")
    )
    return Context(inputs, tuple(sorted(scope.items())), "", (), True, (block.name,))
