"""__init__: one attribute per module, container and Parameter; conditions as `if` blocks."""

from __future__ import annotations

from torchcanvas.codegen.forward import is_call
from torchcanvas.codegen.pyformat import INDENT
from torchcanvas.graph.expr import Call, ListOf, TupleOf, literal
from torchcanvas.graph.params import DIMS, SHAPE
from torchcanvas.graph.registry import BLOCK, CONTAINER, FUNCTION, MODULE, PARAMETER, LayerSpec
from torchcanvas.graph.symbolic import Bound

WEIGHT_INITS = {
    "xavier_uniform": ("xavier_uniform_", ()),
    "xavier_normal": ("xavier_normal_", ()),
    "kaiming_uniform": ("kaiming_uniform_", (("nonlinearity", '"relu"'),)),
    "kaiming_normal": ("kaiming_normal_", (("nonlinearity", '"relu"'),)),
    "orthogonal": ("orthogonal_", ()),
    "normal": ("normal_", (("std", "0.02"),)),
    "trunc_normal": ("trunc_normal_", (("std", "0.02"),)),
    "zeros": ("zeros_", ()),
    "ones": ("ones_", ()),
}


class InitWriter:
    """Writes the body of __init__ for the live nodes of an analysed graph."""

    def __init__(self, model, analysis, indent: str, reserved: set[str]) -> None:
        self.model, self.analysis, self.indent = model, analysis, indent
        self.taken = set(reserved)  # local names (the list a conditional Sequential is built in)
        self.imports: set[str] = set()

    def run(self) -> list[tuple[str, list[str]]]:
        """(node id, lines) for each attribute, in execution order."""
        out = []
        for node in self.analysis.order:
            if node in self.analysis.live:
                lines = self._lines(node)
                if lines:
                    out.append((node, lines))
        return out

    def _lines(self, node: str) -> list[str]:
        spec, name = self.model.spec(node), self.analysis.names[node]
        when, ind = self.model.when(node), self.indent
        if spec.kind == FUNCTION or is_call(spec, self.analysis.resolved(node)):
            return [f"{ind}self.use_{name} = {when.text}"] if when else []
        if spec.kind == PARAMETER:
            return parameter_lines(ind, name, self.analysis.resolved(node))
        if spec.kind not in (MODULE, BLOCK, CONTAINER):
            return []
        inner = ind + INDENT if when else ind
        prelude, expr = self.module_expr(self.model, node, self.analysis.facts[node], inner)
        body = [*prelude, f"{inner}self.{name} = {expr}"]
        body += weight_init_lines(inner, name, self.analysis.resolved(node))
        if when:
            return [f"{ind}self.{name} = None", f"{ind}if {when.text}:", *body]
        return body

    def module_expr(self, model, node: str, facts, indent: str) -> tuple[list[str], object]:
        """(lines that must come first, the expression that builds the module)."""
        spec = model.spec(node)
        self.imports.update(spec.imports)  # StochasticDepth inside a block or a Sequential
        if spec.constructor is not None:
            expr, line = spec.constructor(facts.args)
            if line:  # a stack of torch layers needs no import beyond `nn`
                self.imports.add(line)
            return [], expr
        if spec.kind != CONTAINER:
            args = constructor_args(spec, facts.args, model.params(node))
            return [], Call(spec.torch_class, tuple(args))
        from torchcanvas.graph.blockrun import chain_order

        body = model.body(node)
        inner = facts.inner
        children = chain_order(body)
        prelude: list[str] = []
        parts = []
        for child in children:
            lines, expr = self.module_expr(body, child, inner.facts[child], indent)
            prelude += lines
            parts.append((child, expr))
        if any(body.when(child) for child in children):
            var, lines = self._list_lines(body, model.node_name(node), parts, indent)
            arg = var if spec.loop else f"*{var}"  # nn.ModuleList takes a list
            return prelude + lines, Call(f"nn.{spec.type}", (arg,))
        items = tuple(expr for _, expr in parts)
        if facts.args.get("named"):
            self.imports.add("from collections import OrderedDict")
            pairs = tuple(TupleOf((f'"{body.node_name(c)}"', e)) for c, e in parts)
            return prelude, Call(f"nn.{spec.type}", (Call("OrderedDict", (ListOf(pairs),)),))
        if spec.loop:
            return prelude, Call(f"nn.{spec.type}", (ListOf(items),))
        return prelude, Call("nn.Sequential", items)

    def _list_lines(self, body, name: str, parts, indent: str) -> tuple[str, list[str]]:
        """`layers = []`, then `layers.append(...)`, under `if` where a child has a condition."""
        var = f"{name}_layers"
        while var in self.taken:
            var += "_"
        self.taken.add(var)
        lines = [f"{indent}{var} = []"]
        for child, expr in parts:
            when = body.when(child)
            inner = indent + INDENT if when else indent
            if when:
                lines.append(f"{indent}if {when.text}:")
            lines.append(f"{inner}{var}.append({expr})")
        return var, lines


def constructor_args(spec: LayerSpec, args: dict, raw: dict | None = None) -> list[str]:
    """Positional then keyword arguments; keywords only where they differ from defaults.

    A bound value (`stride=stride`) is written as its expression, always.
    """
    out = []
    raw = raw or {}
    for param in spec.ctor_params:
        if param.name not in args:
            continue
        bound = raw.get(param.name)
        if isinstance(bound, Bound):
            text = bound.text
        else:
            value = args[param.name]
            if param.positional or param.required or param.auto or value != param.default:
                if isinstance(value, tuple) and len(value) == 1 and param.kind in (SHAPE, DIMS):
                    value = value[0]  # LayerNorm(64), Upsample(size=7)
                text = literal(value)
            else:
                continue
        out.append(text if param.positional else f"{param.name}={text}")
    return out + [f"{key}={literal(value)}" for key, value in spec.fixed_kwargs]


def weight_init_lines(indent: str, name: str, args: dict) -> list[str]:
    """`nn.init.xavier_uniform_(self.fc1.weight)` for a chosen initialization."""
    lines = []
    scheme = args.get("weight_init", "default")
    if scheme != "default":
        func, kwargs = WEIGHT_INITS[scheme]
        lines.append(f"{indent}{Call(f'nn.init.{func}', (f'self.{name}.weight',), kwargs)}")
    bias = args.get("bias_init", "default")
    if bias != "default" and args.get("bias", True):
        func, kwargs = WEIGHT_INITS[bias]
        lines.append(f"{indent}{Call(f'nn.init.{func}', (f'self.{name}.bias',), kwargs)}")
    return lines


def parameter_lines(indent: str, name: str, args: dict) -> list[str]:
    """`self.cls_token = nn.Parameter(torch.zeros(1, 1, 64))`, and its initialization."""
    dims = tuple(literal(d) for d in args["shape"]) or ("()",)  # torch.zeros(()): 0-dim
    init, std = args["init"], literal(float(args["std"]))
    makers = {
        "zeros": Call("torch.zeros", dims),
        "ones": Call("torch.ones", dims),
        "constant": Call("torch.full", (literal(tuple(args["shape"])), literal(args["value"]))),
        "normal": Call(f"torch.empty({', '.join(dims)}).normal_", (), (("std", std),)),
        "trunc_normal": Call("torch.empty", dims),
        "uniform": Call("torch.rand", dims),
    }
    lines = [f"{indent}self.{name} = {Call('nn.Parameter', (makers[init],))}"]
    if init == "trunc_normal":
        lines.append(f"{indent}{Call('nn.init.trunc_normal_', (f'self.{name}',), (('std', std),))}")
    return lines
