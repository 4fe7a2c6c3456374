"""Analysis as an interpreter: one pass runs every node on TensorMetas.

It fills each port's shape and dtype, the auto parameters, parameter counts and FLOPs,
and collects every problem. It never raises for a registered type, whatever the wiring.
Block instances and containers are analysed by analysing their bodies (graph.blockrun).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from torchcanvas.graph import hints
from torchcanvas.graph.autoparams import RULES
from torchcanvas.graph.bounds import expansion_problem, parameter_problem
from torchcanvas.graph.graphbase import gc_paused
from torchcanvas.graph.memory import activation_problems
from torchcanvas.graph.params import INTEGER_KINDS
from torchcanvas.graph.ports import TensorMeta
from torchcanvas.graph.registry import BLOCK, CONTAINER, INPUT, OUTPUT, LayerSpec
from torchcanvas.graph.rules import ShapeError
from torchcanvas.graph.symbolic import Bound, ExprError, evaluate, plain
from torchcanvas.graph.validate import (
    ERROR,
    WARNING,
    Problem,
    execution_order,
    live_nodes,
    structural_problems,
)


@dataclass(frozen=True)
class Context:
    """How a graph is analysed: on its own (the model), or as the body of one instance."""

    inputs: tuple[TensorMeta | None, ...] = ()  # the values fed to its Input nodes, in order
    args: tuple[tuple[str, Any], ...] = ()  # the enclosing block's parameter values
    path: str = ""  # the module path of the body: "layer2.0"
    labels: tuple[tuple[str, str], ...] = ()  # node id -> path label ("0", "1" in a Sequential)
    symbolic: bool = False  # inside a block: integers carry their source (graph.symbolic)
    blocks: tuple[str, ...] = ()  # the definitions being analysed, outermost first

    def path_of(self, node: str, name: str) -> str:
        """The module path of a node of this graph."""
        label = self.label_of.get(node, name)
        return f"{self.path}.{label}" if self.path else label

    @functools.cached_property
    def label_of(self) -> dict[str, str]:
        """`labels` as a dict, made once: a body of n children asks n times."""
        return dict(self.labels)


class BlockProblems(Exception):
    """Problems inside a block or container; each becomes a problem on its node."""

    def __init__(self, problems: list[tuple[str, str, tuple[str, ...]]], analysis=None) -> None:
        super().__init__(problems[0][0] if problems else "")
        self.problems = problems  # (message, severity, trail of inner node ids)
        self.analysis = analysis  # the body's analysis, so the editor can show it anyway


@dataclass
class NodeFacts:
    """What one node receives and makes."""

    inputs: dict[str, TensorMeta]
    outputs: dict[str, TensorMeta]
    args: dict  # every parameter, auto ones filled in, bindings evaluated
    params: int = 0
    flops: int = 0
    path: str = ""  # its module path in the whole model: "layer2.0.conv1"
    disabled: bool = False  # its `when` condition is false: it passes its input on
    inner: Analysis | None = None  # a block's or container's body, analysed
    failed: bool = False  # a block with problems inside: `inner` shows where, no outputs


@dataclass
class Analysis:
    """Everything the editor, codegen and training need to know about a graph."""

    order: list[str]
    facts: dict[str, NodeFacts]
    problems: list[Problem]
    live: set[str]
    names: dict[str, str]
    inputs: list[str] = field(default_factory=list)  # Input ids, in forward() order
    outputs: list[str] = field(default_factory=list)  # Output ids, in return order
    context: Context = field(default_factory=Context)
    by_node: dict[str, list[Problem]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for problem in self.problems:
            self.by_node.setdefault(problem.node, []).append(problem)

    @property
    def ok(self) -> bool:
        """True when nothing is an error (warnings are allowed)."""
        return not self.errors

    @property
    def errors(self) -> list[Problem]:
        """The problems that block export and training."""
        return [p for p in self.problems if p.severity == ERROR]

    def problems_for(self, node: str) -> list[Problem]:
        """Problems attached to `node`."""
        return self.by_node.get(node, [])

    def meta(self, node: str, port: str | None = None) -> TensorMeta | None:
        """The value on an output port (default: the first); an Output's value is its input."""
        facts = self.facts.get(node)
        if facts is None or facts.failed:
            return None
        values = facts.outputs or facts.inputs
        if port is None:
            return next(iter(values.values()), None)
        return values.get(port)

    def resolved(self, node: str) -> dict:
        """Every parameter of `node` with auto values filled in ({} when unknown)."""
        facts = self.facts.get(node)
        return facts.args if facts else {}


def analyze(model, context: Context | None = None) -> Analysis:
    """Infer every port's value and collect every problem; never raises for a bad graph."""
    context = context or Context()
    if not context.path:  # a model or a definition on its own: bound what it unfolds to
        too_large = expansion_problem(model)
        if too_large is not None:
            return _refused(model, context, too_large)
    with gc_paused():
        return _analyze(model, context)


def _refused(model, context: Context, problem: Problem) -> Analysis:
    """The analysis of a design too large to analyse: that problem, and the Inputs (the data
    preview reads their shapes) but nothing behind them."""
    inputs = model.nodes_of_kind(INPUT)
    facts = {}
    for node in inputs:
        try:
            facts[node] = _run(model, node, {}, {}, context, _fed_inputs(inputs, context))[0]
        except ShapeError:
            continue
    return Analysis(
        execution_order(model),
        facts,
        [problem],
        live_nodes(model),
        model.names(),
        model.nodes_of_kind(INPUT),
        model.nodes_of_kind(OUTPUT),
        context,
    )


def _analyze(model, context: Context) -> Analysis:
    order = execution_order(model)
    live = live_nodes(model)
    problems = structural_problems(model, order, live)
    blocked = {p.node for p in problems if p.severity == ERROR and p.node}
    names = model.names()
    inputs = model.nodes_of_kind(INPUT)
    feeds = _fed_inputs(inputs, context)
    env: dict[tuple[str, str], TensorMeta] = {}
    facts: dict[str, NodeFacts] = {}
    for node in order:
        if node in blocked:
            continue
        ins = _gather(model, node, env)
        if ins is None:
            continue  # something upstream is unknown; its own problem says why
        try:
            facts[node], warning = _run(model, node, ins, env, context, feeds)
        except ShapeError as error:
            problems.append(Problem(node, str(error), ERROR, names[node]))
            continue
        except BlockProblems as error:
            problems += [Problem(node, m, s, names[node], t) for m, s, t in error.problems]
            if error.analysis is not None:
                path = context.path_of(node, names[node])
                facts[node] = NodeFacts(ins, {}, {}, path=path, inner=error.analysis, failed=True)
            continue
        except Exception as error:  # a bug must become a message on the node, never a crash
            text = f"could not be analysed ({type(error).__name__}: {str(error)[:160]})"
            problems.append(Problem(node, text, ERROR, names[node]))
            continue
        if warning:
            problems.append(Problem(node, warning, WARNING, names[node]))
        for port, meta in facts[node].outputs.items():
            env[(node, port)] = meta
    problems += _inplace_problems(model, facts, live, names)
    labelled = context.label_of
    problems += [
        Problem(
            node,
            f"'{name}' has a dash, which only a child of a named nn.Sequential may "
            f"have (it is just a key there); rename it",
            ERROR,
            name,
        )
        for node, name in names.items()
        if "-" in name and node not in labelled
    ]
    outputs = model.nodes_of_kind(OUTPUT)
    analysis = Analysis(order, facts, problems, live, names, inputs, outputs, context)
    if not context.path and not context.blocks:  # the whole model, not a block's body
        too_many = parameter_problem(analysis)
        for problem in [*activation_problems(analysis), *([too_many] if too_many else [])]:
            analysis.problems.append(problem)
            analysis.by_node.setdefault(problem.node, []).append(problem)
    return analysis


def _gather(model, node: str, env) -> dict[str, TensorMeta] | None:
    ins = {}
    for edge in model.inputs(node):
        meta = env.get((edge.src, edge.src_port))
        if meta is None:
            return None
        ins[edge.dst_port] = meta
    return ins


def _fed_inputs(inputs: list[str], context: Context) -> dict[str, TensorMeta | None]:
    """Input node -> the value the enclosing instance feeds it (a body's Inputs only)."""
    return dict(zip(inputs, context.inputs))


def _run(model, node: str, ins: dict, env: dict, context: Context, feeds: dict):
    spec = model.spec(node)
    for port_name, meta in ins.items():
        problem = hints.port_problem(model, node, spec, port_name, meta)
        if problem:
            raise ShapeError(problem)
    scope = dict(context.args)
    path = context.path_of(node, model.node_name(node))
    args = _resolve(model, node, spec, ins, env, scope)
    if spec.kind == INPUT and node in feeds:
        given = feeds[node]
        if given is not None:
            return NodeFacts(ins, {"output": given}, args, path=path), ""
    if spec.kind == OUTPUT:
        return NodeFacts(ins, {}, args, path=path), ""
    if _disabled(model, node, scope):
        outputs = _passed_on(model, node, ins)
        inner = _body_for_code(model, node, spec, args, ins, context, path)
        return NodeFacts(ins, outputs, args, path=path, disabled=True, inner=inner), ""
    if spec.kind in (BLOCK, CONTAINER):
        outputs, count, flops, inner = _body_run(spec)(model, node, spec, args, ins, context, path)
        return NodeFacts(ins, outputs, args, count, flops, path, inner=inner), ""
    if context.symbolic:  # values that carry their source must not come from the cache
        outputs, count, flops, warning = _infer(spec, args, ins)
    else:
        outputs, count, flops, warning = infer_node(spec.type, _freeze(args), _freeze(ins))
    return NodeFacts(ins, dict(outputs), args, count, flops, path), warning


def _body_run(spec):
    from torchcanvas.graph.blockrun import infer_block, infer_container

    return infer_block if spec.kind == BLOCK else infer_container


def _body_for_code(model, node, spec, args, ins, context, path):
    """The body of a block or container whose condition is false here: the class still
    needs its code, so it is analysed as if it were there (None if it does not fit)."""
    if spec.kind not in (BLOCK, CONTAINER):
        return None
    try:
        return _body_run(spec)(model, node, spec, args, ins, context, path)[3]
    except (ShapeError, BlockProblems):
        return None


def _passed_on(model, node: str, ins: dict) -> dict:
    """What a node whose `when` is false gives: its first input, through its first output
    (the export writes `out = x` before the `if`, so no other output has a value)."""
    if not ins:
        raise ShapeError("its `when` condition is false, but it has no input to pass on")
    first = model.output_ports(node)[0]
    for edge in model.outputs(node):
        if edge.src_port != first:
            raise ShapeError(
                f"its `when` condition is false here, so it passes its input on through "
                f"output {first} only, but output {edge.src_port} is read by "
                f"{model.node_name(edge.dst)}: read only its first output, or change the "
                f"condition so that it holds"
            )
    return {first: next(iter(ins.values()))}


def _disabled(model, node: str, scope: dict) -> bool:
    when = model.when(node)
    if when is None:
        return False
    try:
        return not evaluate(when.text, scope)
    except ExprError as error:
        raise ShapeError(f"when: {error}") from None


def _resolve(model, node: str, spec: LayerSpec, ins: dict, env: dict, scope: dict) -> dict:
    """Every parameter's value: explicit, bound, default, or read off the incoming tensor."""
    params = model.params(node)
    args = {}
    for param in spec.params:
        value = params.get(param.name)
        if isinstance(value, Bound):
            args[param.name] = _bound(param, value, scope)
        elif param.auto:
            port = param.auto_port or spec.inputs[0].name
            rule, meta = RULES[param.auto], ins.get(port)
            if value is not None and meta is not None and not rule.fits(value, meta):
                raise ShapeError(hints.pinned_message(model, node, param, value, meta, port, env))
            if value is None and meta is not None and rule.value(meta) is None:
                raise ShapeError(
                    f"{param.name} is read from the {rule.label}, but the incoming "
                    f"{meta.text()} has no dimension per sample; keep one (keepdim, Unsqueeze)"
                )
            args[param.name] = value if value is not None else rule.value(meta) if meta else None
        elif value is not None or param.name in params:
            args[param.name] = value
        elif param.required:
            raise ShapeError(f"{param.name} is not set; give it a value in the inspector.")
        else:
            args[param.name] = param.default
    return args


def _bound(param, value: Bound, scope: dict):
    """A bound parameter's value in this scope, checked like a typed value."""
    from torchcanvas.graph.params import ParamError

    try:
        result = evaluate(value.text, scope)
        param.coerce(plain(result))
    except (ExprError, ParamError) as error:
        raise ShapeError(f"{param.name} = {value.text}: {error}") from None
    if param.kind in INTEGER_KINDS and _has_float(result):
        # coerce() takes 5.0 for an int, but the generated code would pass the float on
        raise ShapeError(
            f"{param.name} = {value.text} gives {plain(result)}, but {param.name} takes "
            f"integers; use // to divide and integer constants"
        )
    return result


def _has_float(value) -> bool:
    if isinstance(value, (tuple, list)):
        return any(_has_float(item) for item in value)
    return isinstance(value, float)


def _freeze(mapping: dict) -> tuple:
    return tuple(sorted(mapping.items()))


@functools.lru_cache(maxsize=16384)
def infer_node(type_name: str, frozen_args: tuple, frozen_ins: tuple):
    """(outputs, parameter count, FLOPs per sample, warning) of one layer, cached."""
    from torchcanvas.graph.registry import get_spec

    outputs, count, flops, warning = _infer(
        get_spec(type_name), dict(frozen_args), dict(frozen_ins)
    )
    return tuple(outputs.items()), count, flops, warning


def _infer(spec: LayerSpec, args: dict, ins: dict):
    from torchcanvas.graph.meta import meta_count, meta_infer
    from torchcanvas.graph.registry import MODULE

    outputs = spec.infer(args, ins) if spec.infer else meta_infer(spec, args, ins)
    warning = outputs.pop("_warning", "")
    if spec.count:
        count = spec.count(args)
    else:
        count = meta_count(spec, args) if spec.kind in (MODULE, BLOCK) else 0
    flops = spec.flops(args, ins, outputs) if spec.flops else 0
    return outputs, plain(count), plain(flops), warning


def _inplace_problems(model, facts: dict, live: set, names: dict) -> list[Problem]:
    """An inplace layer must not overwrite a value that another node still reads."""
    problems = []
    readers = _Readers(model, live)
    for node, fact in facts.items():
        if not fact.args.get("inplace") or node not in live:
            continue
        for edge in model.inputs(node):
            other = readers.other_than(node, (edge.src, edge.src_port))
            if other is not None:
                problems.append(
                    Problem(
                        node,
                        f"inplace=True would overwrite the output of "
                        f"{names[edge.src]}, which {names[other]} also reads; turn "
                        f"inplace off",
                        ERROR,
                        names[node],
                    )
                )
    return problems


class _Readers:
    """The first two live readers of each value, found once per value: scanning a value's
    readers for each of its n inplace readers would be quadratic."""

    def __init__(self, model, live: set) -> None:
        self.model, self.live = model, live
        self.found: dict[tuple[str, str], list[str]] = {}

    def other_than(self, node: str, value: tuple[str, str]) -> str | None:
        """The first live reader of `value` (in edge order) that is not `node`."""
        first = self.found.get(value)
        if first is None:
            first = self.found[value] = self._first_two(value)
        return next((reader for reader in first if reader != node), None)

    def _first_two(self, value: tuple[str, str]) -> list[str]:
        src, port = value
        first: list[str] = []
        for edge in self.model.outputs(src):
            if edge.src_port == port and edge.dst in self.live and edge.dst not in first:
                first.append(edge.dst)
                if len(first) == 2:
                    break
        return first


__all__ = ["Analysis", "Context", "NodeFacts", "Problem", "WARNING", "ERROR", "analyze"]
