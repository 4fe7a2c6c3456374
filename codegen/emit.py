"""Graph to readable Python: the model class, and one class per block definition it uses."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from torchcanvas.codegen.flags import freeze_lines, scales_lines, train_lines
from torchcanvas.codegen.forward import FUNCTIONAL_IMPORT, ForwardWriter
from torchcanvas.codegen.init import InitWriter
from torchcanvas.codegen.pyformat import FORMATTED, INDENT, statement_nodes
from torchcanvas.graph.expr import Call, literal
from torchcanvas.graph.graphbase import gc_paused
from torchcanvas.graph.naming import LOCAL_NAMES, class_name_problem
from torchcanvas.graph.ports import TensorMeta
from torchcanvas.graph.registry import BLOCK, CONTAINER
from torchcanvas.graph.symbolic import Bound

GENERATOR = "TorchCanvas"
_I1, _I2 = INDENT, INDENT * 2


class CodegenError(ValueError):
    """The graph cannot be exported yet; `problems` says why."""

    def __init__(self, problems) -> None:
        self.problems = list(problems)
        listed = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"the graph has problems:\n{listed}")


@dataclass
class EmitResult:
    """The generated source, and where each node appears in it."""

    raw: str  # one statement a line, as codegen writes it; `source` is it laid out by ruff
    class_name: str
    raw_nodes: dict[int, str] = field(default_factory=dict)  # raw line -> node, as below
    labels: dict[str, str] = field(default_factory=dict)  # node_lines value -> node name
    arguments: list[str] = field(default_factory=list)  # forward()'s parameters
    inputs: list[TensorMeta] = field(default_factory=list)  # what each argument takes
    outputs: list[TensorMeta] = field(default_factory=list)  # what forward() returns

    # Formatted on first use: analysis after each edit never needs the text, the code
    # panel and an export need it once (ruff runs in a process of its own).
    @cached_property
    def source(self) -> str:
        """The module as `ruff format` lays it out."""
        return FORMATTED.format(self.raw)

    @cached_property
    def node_lines(self) -> dict[int, str]:
        """1-based line of `source` -> the node written there: its id in the model, or
        "Block:id" in a block (every line of a statement split over several)."""
        return statement_nodes(self.raw, self.raw_nodes, self.source)


class EmitCache:
    """The last few results by analysis: the same analysis object means an unchanged
    graph, so the code panel and an export right after it share one generation."""

    def __init__(self, limit: int = 4) -> None:
        self.limit = limit
        self._entries: list[tuple[object, str | None, EmitResult]] = []

    def get(self, analysis, class_name: str | None) -> EmitResult | None:
        """The result for exactly this analysis object and class name, or None."""
        for found, name, result in self._entries:
            if found is analysis and name == class_name:
                return result
        return None

    def put(self, analysis, class_name: str | None, result: EmitResult) -> None:
        """Remember `result`, forgetting the oldest beyond `limit`."""
        self._entries = [(analysis, class_name, result), *self._entries][: self.limit]

    def clear(self) -> None:
        """Forget every result."""
        self._entries.clear()


EMITTED = EmitCache()


@dataclass
class _Class:
    """One class, written: its lines, and which node each line belongs to."""

    lines: list[tuple[str, str | None]]
    arguments: list[str]
    imports: set[str]


def emit_module(model, class_name: str | None = None, analysis=None) -> EmitResult:
    """Generate the module for `model`; CodegenError if the graph has errors."""
    if analysis is not None:
        with gc_paused():
            return _emit(model, class_name, analysis)
    # From the graph's own cached analysis (see EmitCache).
    analysis = model.analysis()
    result = EMITTED.get(analysis, class_name)
    if result is None:
        with gc_paused():
            result = _emit(model, class_name, analysis)
        EMITTED.put(analysis, class_name, result)
    return result


def _emit(model, class_name: str | None, analysis) -> EmitResult:
    if not analysis.ok:
        raise CodegenError(analysis.errors)
    class_name = class_name or model.name
    problem = class_name_problem(class_name)
    if problem:
        raise CodegenError([problem])
    instances = _instances(model, analysis)
    if class_name in instances:
        raise CodegenError([f"the model and one of its blocks are both called {class_name}"])
    names = {class_name, *instances, *LOCAL_NAMES}
    blocks = [
        (name, _block_class(model.library, name, found, names))
        for name, found in _in_dependency_order(model, instances)
    ]
    inputs = [analysis.meta(n) for n in analysis.inputs]
    outputs = [analysis.meta(n) for n in analysis.outputs]
    arguments = [analysis.names[n] for n in analysis.inputs]
    main = _class(model, analysis, class_name, names, _class_doc(arguments, inputs, outputs), None)
    writer = _Writer()
    imports = set().union(main.imports, *(c.imports for _, c in blocks))
    imports |= {line for n in analysis.live for line in model.spec(n).imports}
    _header(writer, class_name, imports)
    for name, written in blocks:
        writer.add_class(written, prefix=f"{name}:")
        writer.blank(2)
    writer.add_class(main)
    writer.blank(2)
    _main(writer, model, class_name, analysis, inputs, len(outputs))
    labels = dict(analysis.names)
    for name, _ in blocks:
        labels.update({f"{name}:{n}": v for n, v in model.library.get(name).graph.names().items()})
    return EmitResult(
        writer.text(), class_name, writer.node_lines, labels, main.arguments, inputs, outputs
    )


def _class(model, analysis, name: str, reserved: set, doc: str, signature) -> _Class:
    """The lines of one class: docstring, __init__ and forward."""
    init = InitWriter(model, analysis, _I2, set(signature or ()) | reserved)
    init_lines = init.run()
    forward = ForwardWriter(model, analysis, reserved | set(signature or ()))
    statements = forward.run()
    lines: list[tuple[str, str | None]] = [
        (f"class {name}(nn.Module):", None),
        (f'{_I1}"""{doc}"""', None),
        ("", None),
    ]
    # Each class carries the training flags of its own graph (a block's, for every instance).
    lines += [(_definition("__init__", ["self", *(signature or [])]), None)]
    lines += [(f"{_I2}super().__init__()", None)]
    lines += [(line, node) for node, block in init_lines for line in block]
    lines += [(line, None) for line in freeze_lines(model, analysis)]
    lines += [(line, None) for line in scales_lines(model, analysis)]
    lines += [("", None)]
    lines += [(line, None) for line in train_lines(model, analysis)]
    lines += [(_definition("forward", ["self", *forward.arguments]), None)]
    lines += [(line, node) for node, block in statements for line in block]
    return _Class(lines, forward.arguments, init.imports | forward.imports)


def _definition(name: str, params: list[str]) -> str:
    return f"{_I1}def {name}({', '.join(params)}):"


def _instances(model, analysis) -> dict[str, list]:
    """Every analysed instance of every definition the model uses, nested ones included."""
    found: dict[str, list] = {}

    def walk(graph, graph_analysis) -> None:
        for node in graph_analysis.order:
            facts = graph_analysis.facts.get(node)
            if facts is None or facts.inner is None or node not in graph_analysis.live:
                continue
            spec = graph.spec(node)
            if spec.kind == BLOCK:
                found.setdefault(spec.type, []).append((facts.path, facts.inner))
                walk(graph.library.get(spec.type).graph, facts.inner)
            elif spec.kind == CONTAINER:
                walk(graph.body(node), facts.inner)

    walk(model, analysis)
    return found


def _in_dependency_order(model, instances: dict) -> list[tuple[str, list]]:
    order = model.library.order() if model.library is not None else []
    return [(name, instances[name]) for name in order if name in instances]


def _block_class(library, name: str, instances: list, reserved: set) -> _Class:
    """A definition's class, written from the instance with the most of its optional parts
    present; it must compute every other instance's values too."""
    block = library.get(name)
    path, template = max(instances, key=lambda item: _present(item[1]))
    for other_path, other in instances:
        mismatch = _mismatch(block.graph, template, other)
        if mismatch:
            raise CodegenError([_disagreement(name, path, other_path, mismatch)])
    doc = block.doc or f"The block {name}."
    return _class(block.graph, template, name, reserved, doc, _signature(block))


def _present(analysis) -> int:
    """How many nodes (containers' contents included) are there, not switched off."""
    count = 0
    for facts in analysis.facts.values():
        if not facts.disabled:
            count += 1 + (_present(facts.inner) if facts.inner is not None else 0)
    return count


def _mismatch(graph, template, other) -> str | None:
    """A constructor argument the template's expressions get wrong for `other`, if any."""
    from torchcanvas.graph.symbolic import ExprError, evaluate, plain, source_of

    scope = dict(other.context.args)
    for node, facts in other.facts.items():
        if facts.disabled or node not in template.facts:
            continue
        spec = graph.spec(node)
        for param in spec.ctor_params:
            want, got = template.facts[node].args.get(param.name), facts.args.get(param.name)
            raw = graph.params(node).get(param.name)
            if isinstance(raw, Bound):  # floats, flags and choices carry no source of their own
                source = raw.text
            else:
                source = source_of(want) if not isinstance(want, tuple) else None
            try:
                expected = evaluate(source, scope) if source else want
            except ExprError:
                expected = want
            if plain(expected) != plain(got):
                return f"{facts.path}.{param.name} is {plain(got)} here"
        inner = template.facts[node].inner
        if facts.inner is not None and inner is not None and spec.kind == CONTAINER:
            found = _mismatch(graph.body(node), inner, facts.inner)
            if found:
                return found
    return None


def _signature(block) -> list[str]:
    """`in_channels, out_channels=64, stride=1`: required parameters first."""
    required = [p.name for p in block.params if p.auto or p.required]
    optional = [
        f"{p.name}={literal(p.default)}" for p in block.params if not (p.auto or p.required)
    ]
    return required + optional


def _disagreement(name: str, first: str, other: str, mismatch: str) -> str:
    return (
        f"{mismatch}, which the class {name} (written for {first}) cannot compute from its "
        f"parameters; bind the value to one of {name}'s parameters"
    )


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.node_lines: dict[int, str] = {}

    def add(self, *lines: str, node: str | None = None) -> None:
        for line in lines:
            self.lines.append(line)
            if node:
                self.node_lines[len(self.lines)] = node

    def add_class(self, written: _Class, prefix: str = "") -> None:
        for line, node in written.lines:
            self.add(line, node=f"{prefix}{node}" if node else None)

    def blank(self, count: int = 1) -> None:
        self.lines += [""] * count

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _header(writer: _Writer, class_name: str, imports: set[str]) -> None:
    writer.add(f'"""{class_name}: a PyTorch model designed in {GENERATOR}."""')
    writer.blank()
    stdlib = sorted(line for line in imports if line.startswith("from collections"))
    if stdlib:
        writer.add(*stdlib)
        writer.blank()
    writer.add("import torch")
    if FUNCTIONAL_IMPORT in imports:
        writer.add(FUNCTIONAL_IMPORT)
    writer.add("from torch import nn")
    extra = sorted(line for line in imports if line not in stdlib and line != FUNCTIONAL_IMPORT)
    if extra:
        writer.add(*extra)
    writer.blank(2)


def _class_doc(arguments: list[str], inputs, outputs) -> str:
    if len(inputs) == 1 and len(outputs) == 1:
        return f"Input {_meta_text(inputs[0])} -> output {_meta_text(outputs[0])}, per sample."
    if len(inputs) == 1:
        named = [_meta_text(inputs[0])]
    else:
        named = [f"{name} {_meta_text(meta)}" for name, meta in zip(arguments, inputs)]
    ins = f"Input{'s' if len(named) > 1 else ''} {_and(named)}"
    outs = f"output{'s' if len(outputs) > 1 else ''} {_and([_meta_text(m) for m in outputs])}"
    return f"{ins} -> {outs}, per sample."


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _meta_text(meta: TensorMeta) -> str:
    dims = meta.per_sample
    shape = f"({dims[0]},)" if len(dims) == 1 else f"({', '.join(map(str, dims))})"
    if meta.batch_dim not in (0, None):
        shape = "(" + ", ".join("N" if d is None else str(d) for d in meta.shape) + ")"
    return shape if meta.dtype == "float32" else f"{shape} {meta.dtype}"


# ----- the __main__ check -----------------------------------------------------------------
def _main(writer: _Writer, model, class_name: str, analysis, inputs, outputs: int) -> None:
    samples = tuple(_sample(model, node, meta) for node, meta in zip(analysis.inputs, inputs))
    result = "output" if outputs == 1 else "outputs"
    writer.add(
        'if __name__ == "__main__":',
        f"{_I1}model = {class_name}()",
        f"{_I1}model.eval()",
        f"{_I1}with torch.no_grad():",
        f"{_I2}{result} = {Call('model', samples)}",
    )
    if outputs == 1:
        writer.add(f'{_I1}print("output shape:", tuple(output.shape))')
    else:
        writer.add(
            f"{_I1}for output in outputs:", f'{_I2}print("output shape:", tuple(output.shape))'
        )
    writer.add(f'{_I1}print("parameters:", sum(p.numel() for p in model.parameters()))')


def _sample(model, node: str, meta: TensorMeta) -> Call:
    dims = tuple(str(d) for d in meta.concrete(1))
    if meta.dtype == "bool":
        return Call("torch.zeros", dims, (("dtype", "torch.bool"),))
    if meta.dtype in ("int64", "int32"):
        extra = (("dtype", "torch.int32"),) if meta.dtype == "int32" else ()
        size = f"({dims[0]},)" if len(dims) == 1 else f"({', '.join(dims)})"
        return Call("torch.randint", ("0", str(_id_limit(model, node)), size), extra)
    extra = (("dtype", f"torch.{meta.dtype}"),) if meta.dtype != "float32" else ()
    return Call("torch.randn", dims, extra)


def _id_limit(model, node: str) -> int:
    """Token ids below every Embedding the Input feeds (2 when it feeds none)."""
    analysis = model.analysis()
    limits = [
        analysis.resolved(edge.dst)[model.spec(edge.dst).id_limit]
        for edge in model.outputs(node)
        if model.spec(edge.dst).id_limit and analysis.resolved(edge.dst)
    ]
    return min(limits, default=2)


__all__ = ["CodegenError", "EmitResult", "emit_module"]
