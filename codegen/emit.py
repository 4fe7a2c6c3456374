"""Graph to readable Python: one nn.Module class, written the way a person would."""

from __future__ import annotations

from dataclasses import dataclass, field
from keyword import iskeyword

from torchcanvas.codegen.pyformat import INDENT, ListArg, assign_call, assign_sum, literal
from torchcanvas.graph.naming import class_name_problem, sanitize
from torchcanvas.graph.registry import ADD, BLOCK, CONCAT, INPUT, OUTPUT, get_spec
from torchcanvas.graph.shapes import Analysis

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
    """The generated source and where each node appears in it."""

    source: str
    class_name: str
    node_lines: dict[int, str] = field(default_factory=dict)  # 1-based line -> node name


def emit_module(
    model, class_name: str | None = None, analysis: Analysis | None = None
) -> EmitResult:
    """Generate the module for `model`; CodegenError if the graph has errors."""
    analysis = analysis or model.analysis()
    if not analysis.ok:
        raise CodegenError(analysis.errors)
    class_name = class_name or model.name
    problem = class_name_problem(class_name)
    if problem:
        raise CodegenError([problem])
    order = [n for n in analysis.order if n in analysis.live]
    writer = _Writer()
    _header(writer, model, class_name, analysis, order)
    writer.add(f"class {class_name}(nn.Module):")
    writer.add(f'{_I1}"""{_class_doc(model, analysis, order)}"""')
    writer.blank()
    _init(writer, model, analysis, order)
    writer.blank()
    _forward(writer, model, analysis, order)
    writer.blank(2)
    _main(writer, class_name, analysis.shapes[order[0]])
    return EmitResult(writer.text(), class_name, writer.node_lines)


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.node_lines: dict[int, str] = {}

    def add(self, *lines: str, node: str | None = None) -> None:
        for line in lines:
            self.lines.append(line)
            if node:
                self.node_lines[len(self.lines)] = node

    def blank(self, count: int = 1) -> None:
        self.lines += [""] * count

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _header(writer: _Writer, model, class_name, analysis: Analysis, order) -> None:
    writer.add(f'"""{class_name}: a PyTorch model designed in {GENERATOR}."""')
    writer.blank()
    writer.add("import torch", "from torch import nn")
    writer.blank(2)
    emitted = set()
    for name in order:
        spec = model.spec(name)
        if spec.kind == BLOCK and spec.type not in emitted:
            emitted.add(spec.type)
            writer.add(*spec.block_source.rstrip("\n").split("\n"))
            writer.blank(2)


def _class_doc(model, analysis: Analysis, order) -> str:
    source = analysis.shapes[order[0]]
    result = analysis.shapes[order[-1]]
    return f"Input {_shape_text(source)} -> output {_shape_text(result)}, per sample."


def _shape_text(shape) -> str:
    return f"({shape[0]},)" if len(shape) == 1 else f"({', '.join(map(str, shape))})"


def _init(writer: _Writer, model, analysis: Analysis, order) -> None:
    writer.add(f"{_I1}def __init__(self):", f"{_I2}super().__init__()")
    for name in order:
        spec = model.spec(name)
        if spec.kind not in (BLOCK, "module"):
            continue
        func = spec.type if spec.kind == BLOCK else f"nn.{spec.type}"
        args = constructor_args(spec.type, analysis.resolved[name])
        writer.add(*assign_call(_I2, f"self.{name}", func, args), node=name)


def constructor_args(type_name: str, resolved: dict) -> list[str]:
    """Positional then keyword arguments, keywords only where they differ from defaults."""
    spec = get_spec(type_name)
    args = []
    for param in spec.params:
        if param.name not in resolved:
            continue
        value = resolved[param.name]
        if param.name == "normalized_shape" and len(value) == 1:
            value = value[0]
        if param.positional:
            args.append(literal(value))
        elif param.required or param.auto or value != param.default:
            args.append(f"{param.name}={literal(value)}")
    return args


def _forward(writer: _Writer, model, analysis: Analysis, order) -> None:
    writer.add(f"{_I1}def forward(self, x):")
    _ForwardWriter(writer, model, order).run()


class _ForwardWriter:
    """Straight-line forward(): a chain reuses `x`, a kept branch gets a named variable."""

    def __init__(self, writer: _Writer, model, order: list[str]) -> None:
        self.writer, self.model, self.order = writer, model, order
        live = set(order)
        self.remaining = {n: sum(1 for v, _ in model.outputs(n) if v in live) for n in order}
        self.var: dict[str, str] = {}
        self.reserved = {"self", "torch", "nn", "F", "ResidualBlock"}

    def run(self) -> None:
        for name in self.order:
            spec = self.model.spec(name)
            sources = [src for src, _ in self.model.inputs(name)]
            if spec.kind == INPUT:
                self.var[name] = "x"
            elif spec.kind == OUTPUT:
                self.writer.add(f"{_I2}return {self.var[sources[0]]}", node=name)
            else:
                self._statement(name, spec, sources)

    def _statement(self, name: str, spec, sources: list[str]) -> None:
        args = [self.var[src] for src in sources]
        for src in sources:
            self.remaining[src] -= 1
        target = self._target(name, sources)
        if spec.kind == ADD:
            lines = assign_sum(_I2, target, args)
        elif spec.kind == CONCAT:
            dim = self.model.params(name)["dim"]
            lines = assign_call(_I2, target, "torch.cat", [ListArg(args), f"dim={dim}"])
        else:
            lines = assign_call(_I2, target, f"self.{name}", args)
        self.writer.add(*lines, node=name)
        self.var[name] = target

    def _target(self, name: str, sources: list[str]) -> str:
        for src in sources:
            if self.remaining[src] == 0:
                return self.var[src]
        first = sources[0]
        if self.var[first] != "x":
            return self._fresh(name)
        # `x` is still needed later: keep it under a name, and let the chain go on in `x`.
        later = [v for v, _ in self.model.outputs(first) if v != name and v in self.remaining]
        feeds_add = any(self._merge_kind(v) == ADD for v in later)
        keep = self._fresh("identity" if feeds_add else "skip")
        self.writer.add(f"{_I2}{keep} = x")
        self.var[first] = keep
        return "x"

    def _fresh(self, wanted: str) -> str:
        """A name no live value holds; names of dead values are reused."""
        live = {self.var[n] for n, count in self.remaining.items() if count > 0 and n in self.var}
        taken = live | self.reserved | {"x"}
        candidate, index = sanitize(wanted, fallback="v"), 2
        base = candidate if not iskeyword(candidate) else f"{candidate}_"
        candidate = base
        while candidate in taken:
            candidate, index = f"{base}_{index}", index + 1
        return candidate

    def _merge_kind(self, node: str) -> str:
        """Kind of the merge node that a single-file chain starting at `node` ends in."""
        spec = self.model.spec(node)
        while spec.kind not in (ADD, CONCAT, OUTPUT):
            outputs = [v for v, _ in self.model.outputs(node) if v in self.remaining]
            if len(outputs) != 1:
                return spec.kind
            node = outputs[0]
            spec = self.model.spec(node)
        return spec.kind


def _main(writer: _Writer, class_name: str, input_shape) -> None:
    dims = ", ".join(str(d) for d in (1, *input_shape))
    writer.add(
        'if __name__ == "__main__":',
        f"{_I1}model = {class_name}()",
        f"{_I1}model.eval()",
        f"{_I1}with torch.no_grad():",
        f"{_I2}output = model(torch.randn({dims}))",
        f'{_I1}print("output shape:", tuple(output.shape))',
        f'{_I1}print("parameters:", sum(p.numel() for p in model.parameters()))',
    )
