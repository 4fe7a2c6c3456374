"""Analysis as an interpreter: one pass runs every node on TensorMetas.

It fills each port's shape and dtype, the auto parameters, parameter counts and FLOPs,
and collects every problem. It never raises for a registered type, whatever the wiring.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from torchcanvas.graph import hints
from torchcanvas.graph.autoparams import RULES
from torchcanvas.graph.ports import TensorMeta
from torchcanvas.graph.registry import INPUT, OUTPUT, LayerSpec
from torchcanvas.graph.rules import ShapeError
from torchcanvas.graph.validate import (
    ERROR,
    WARNING,
    Problem,
    execution_order,
    live_nodes,
    structural_problems,
)


@dataclass
class NodeFacts:
    """What one node receives and makes."""

    inputs: dict[str, TensorMeta]
    outputs: dict[str, TensorMeta]
    args: dict  # every parameter, auto ones filled in
    params: int = 0
    flops: int = 0


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
        if facts is None:
            return None
        values = facts.outputs or facts.inputs
        if port is None:
            return next(iter(values.values()), None)
        return values.get(port)

    def resolved(self, node: str) -> dict:
        """Every parameter of `node` with auto values filled in ({} when unknown)."""
        facts = self.facts.get(node)
        return facts.args if facts else {}


def analyze(model) -> Analysis:
    """Infer every port's value and collect every problem; never raises for a bad graph."""
    order = execution_order(model)
    live = live_nodes(model)
    problems = structural_problems(model, order, live)
    blocked = {p.node for p in problems if p.severity == ERROR and p.node}
    names = model.names()
    env: dict[tuple[str, str], TensorMeta] = {}
    facts: dict[str, NodeFacts] = {}
    for node in order:
        if node in blocked:
            continue
        ins = _gather(model, node, env)
        if ins is None:
            continue  # something upstream is unknown; its own problem says why
        try:
            result = _run(model, node, ins, env)
        except ShapeError as error:
            problems.append(Problem(node, str(error), ERROR, names[node]))
            continue
        except Exception as error:  # a bug must become a message on the node, never a crash
            text = f"could not be analysed ({type(error).__name__}: {str(error)[:160]})"
            problems.append(Problem(node, text, ERROR, names[node]))
            continue
        facts[node], warning = result
        if warning:
            problems.append(Problem(node, warning, WARNING, names[node]))
        for port, meta in facts[node].outputs.items():
            env[(node, port)] = meta
    problems += _inplace_problems(model, facts, live, names)
    return Analysis(
        order,
        facts,
        problems,
        live,
        names,
        inputs=model.nodes_of_kind(INPUT),
        outputs=model.nodes_of_kind(OUTPUT),
    )


def _gather(model, node: str, env) -> dict[str, TensorMeta] | None:
    ins = {}
    for edge in model.inputs(node):
        meta = env.get((edge.src, edge.src_port))
        if meta is None:
            return None
        ins[edge.dst_port] = meta
    return ins


def _run(model, node: str, ins: dict, env: dict) -> tuple[NodeFacts, str]:
    spec = model.spec(node)
    for port_name, meta in ins.items():
        problem = hints.port_problem(model, node, spec, port_name, meta)
        if problem:
            raise ShapeError(problem)
    args = _resolve(model, node, spec, ins, env)
    if spec.kind == OUTPUT:
        return NodeFacts(ins, {}, args), ""
    outputs, count, flops, warning = infer_node(spec.type, _freeze(args), _freeze(ins))
    return NodeFacts(ins, dict(outputs), args, count, flops), warning


def _resolve(model, node: str, spec: LayerSpec, ins: dict, env: dict) -> dict:
    """Every parameter's value: explicit, default, or read off the incoming tensor."""
    params = model.params(node)
    args = {}
    for param in spec.params:
        if param.auto:
            port = param.auto_port or spec.inputs[0].name
            rule, meta = RULES[param.auto], ins.get(port)
            pinned = params.get(param.name)
            if pinned is not None and meta is not None and not rule.fits(pinned, meta):
                raise ShapeError(hints.pinned_message(model, node, param, pinned, meta, port, env))
            args[param.name] = pinned if pinned is not None else rule.value(meta) if meta else None
        elif param.name in params:
            args[param.name] = params[param.name]
        elif param.required:
            raise ShapeError(f"{param.name} is not set; give it a value in the inspector.")
        else:
            args[param.name] = param.default
    return args


def _freeze(mapping: dict) -> tuple:
    return tuple(sorted(mapping.items()))


@functools.lru_cache(maxsize=16384)
def infer_node(type_name: str, frozen_args: tuple, frozen_ins: tuple):
    """(outputs, parameter count, FLOPs per sample, warning) of one layer, cached."""
    from torchcanvas.graph.meta import meta_count, meta_infer
    from torchcanvas.graph.registry import BLOCK, MODULE, get_spec

    spec = get_spec(type_name)
    args, ins = dict(frozen_args), dict(frozen_ins)
    outputs = spec.infer(args, ins) if spec.infer else meta_infer(spec, args, ins)
    warning = outputs.pop("_warning", "")
    if spec.count:
        count = spec.count(args)
    else:
        count = meta_count(spec, args) if spec.kind in (MODULE, BLOCK) else 0
    flops = spec.flops(args, ins, outputs) if spec.flops else 0
    return tuple(outputs.items()), count, flops, warning


def _inplace_problems(model, facts: dict, live: set, names: dict) -> list[Problem]:
    """An inplace layer must not overwrite a value that another node still reads."""
    problems = []
    for node, fact in facts.items():
        if not fact.args.get("inplace") or node not in live:
            continue
        for edge in model.inputs(node):
            readers = [
                e.dst
                for e in model.outputs(edge.src)
                if e.src_port == edge.src_port and e.dst != node and e.dst in live
            ]
            if readers:
                problems.append(
                    Problem(
                        node,
                        f"inplace=True would overwrite the output of "
                        f"{names[edge.src]}, which {names[readers[0]]} also reads; turn "
                        f"inplace off",
                        ERROR,
                        names[node],
                    )
                )
    return problems


__all__ = ["Analysis", "NodeFacts", "Problem", "WARNING", "ERROR", "analyze", "infer_node"]
