"""Graph to readable Python: one nn.Module class, written the way a person would."""

from __future__ import annotations

from dataclasses import dataclass, field

from torchcanvas.codegen.forward import ForwardWriter
from torchcanvas.codegen.pyformat import INDENT, assign, statement
from torchcanvas.graph.expr import Call, literal
from torchcanvas.graph.naming import class_name_problem
from torchcanvas.graph.params import DIMS
from torchcanvas.graph.ports import TensorMeta
from torchcanvas.graph.registry import BLOCK, MODULE, PARAMETER, LayerSpec

GENERATOR = "TorchCanvas"
_I1, _I2 = INDENT, INDENT * 2
_WEIGHT_INITS = {
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


class CodegenError(ValueError):
    """The graph cannot be exported yet; `problems` says why."""

    def __init__(self, problems) -> None:
        self.problems = list(problems)
        listed = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"the graph has problems:\n{listed}")


@dataclass
class EmitResult:
    """The generated source, and where each node appears in it."""

    source: str
    class_name: str
    node_lines: dict[int, str] = field(default_factory=dict)  # 1-based line -> node id
    arguments: list[str] = field(default_factory=list)  # forward()'s parameters
    inputs: list[TensorMeta] = field(default_factory=list)  # what each argument takes
    outputs: list[TensorMeta] = field(default_factory=list)  # what forward() returns


def emit_module(model, class_name: str | None = None, analysis=None) -> EmitResult:
    """Generate the module for `model`; CodegenError if the graph has errors."""
    analysis = analysis or model.analysis()
    if not analysis.ok:
        raise CodegenError(analysis.errors)
    class_name = class_name or model.name
    problem = class_name_problem(class_name)
    if problem:
        raise CodegenError([problem])
    live = [n for n in analysis.order if n in analysis.live]
    specs = {n: model.spec(n) for n in live}
    blocks = _block_specs(specs.values())
    forward = ForwardWriter(model, analysis, {class_name, *(b.type for b in blocks)})
    statements = forward.run()
    inputs = [analysis.meta(n) for n in analysis.inputs]
    outputs = [analysis.meta(n) for n in analysis.outputs]
    writer = _Writer()
    _header(writer, class_name, specs.values(), blocks)
    writer.add(f"class {class_name}(nn.Module):")
    writer.add(f'{_I1}"""{_class_doc(analysis, forward.arguments, inputs, outputs)}"""')
    writer.blank()
    _init(writer, model, analysis, live)
    writer.blank()
    writer.add(f"{_I1}def forward(self, {', '.join(forward.arguments)}):")
    for node, lines in statements:
        writer.add(*lines, node=node)
    writer.blank(2)
    _main(writer, model, class_name, analysis, inputs, len(outputs))
    return EmitResult(
        writer.text(), class_name, writer.node_lines, forward.arguments, inputs, outputs
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

    def blank(self, count: int = 1) -> None:
        self.lines += [""] * count

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _block_specs(specs) -> list[LayerSpec]:
    seen: dict[str, LayerSpec] = {}
    for spec in specs:
        if spec.kind == BLOCK:
            seen.setdefault(spec.type, spec)
    return list(seen.values())


def _header(writer: _Writer, class_name: str, specs, blocks: list[LayerSpec]) -> None:
    writer.add(f'"""{class_name}: a PyTorch model designed in {GENERATOR}."""')
    writer.blank()
    writer.add("import torch", "from torch import nn")
    extra = sorted({line for spec in specs for line in spec.imports})
    if extra:
        writer.add(*extra)
    writer.blank(2)
    for spec in blocks:
        writer.add(*spec.block_source.rstrip("\n").split("\n"))
        writer.blank(2)


def _class_doc(analysis, arguments: list[str], inputs, outputs) -> str:
    if len(inputs) == 1 and len(outputs) == 1:
        return f"Input {_meta_text(inputs[0])} -> output {_meta_text(outputs[0])}, per sample."
    named = [f"{name} {_meta_text(meta)}" for name, meta in zip(arguments, inputs)]
    if len(inputs) == 1:
        named = [_meta_text(inputs[0])]
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


# ----- __init__ ---------------------------------------------------------------------------
def _init(writer: _Writer, model, analysis, live: list[str]) -> None:
    writer.add(f"{_I1}def __init__(self):", f"{_I2}super().__init__()")
    for node in live:
        spec = model.spec(node)
        name, args = analysis.names[node], analysis.resolved(node)
        if spec.kind in (MODULE, BLOCK):
            call = Call(spec.torch_class, tuple(constructor_args(spec, args)))
            writer.add(*assign(_I2, f"self.{name}", call), node=node)
            writer.add(*_weight_init_lines(name, args), node=node)
        elif spec.kind == PARAMETER:
            writer.add(*_parameter_lines(name, args), node=node)


def constructor_args(spec: LayerSpec, args: dict) -> list[str]:
    """Positional then keyword arguments, keywords only where they differ from defaults."""
    out = []
    for param in spec.ctor_params:
        if param.name not in args:
            continue
        value = args[param.name]
        if isinstance(value, tuple) and len(value) == 1 and param.kind in ("shape", DIMS):
            value = value[0]  # LayerNorm(64), Upsample(size=7)
        if param.positional:
            out.append(literal(value))
        elif param.required or param.auto or value != param.default:
            out.append(f"{param.name}={literal(value)}")
    return out + [f"{key}={literal(value)}" for key, value in spec.fixed_kwargs]


def _weight_init_lines(name: str, args: dict) -> list[str]:
    lines = []
    scheme = args.get("weight_init", "default")
    if scheme != "default":
        func, kwargs = _WEIGHT_INITS[scheme]
        lines += statement(_I2, "", Call(f"nn.init.{func}", (f"self.{name}.weight",), kwargs))
    bias = args.get("bias_init", "default")
    if bias != "default" and args.get("bias", True):
        func, kwargs = _WEIGHT_INITS[bias]
        lines += statement(_I2, "", Call(f"nn.init.{func}", (f"self.{name}.bias",), kwargs))
    return lines


def _parameter_lines(name: str, args: dict) -> list[str]:
    dims = tuple(str(d) for d in args["shape"])
    init, std = args["init"], literal(float(args["std"]))
    makers = {
        "zeros": Call("torch.zeros", dims),
        "ones": Call("torch.ones", dims),
        "constant": Call("torch.full", (literal(tuple(args["shape"])), literal(args["value"]))),
        "normal": Call(f"torch.empty({', '.join(dims)}).normal_", (), (("std", std),)),
        "trunc_normal": Call("torch.empty", dims),
        "uniform": Call("torch.rand", dims),
    }
    lines = assign(_I2, f"self.{name}", Call("nn.Parameter", (makers[init],)))
    if init == "trunc_normal":
        call = Call("nn.init.trunc_normal_", (f"self.{name}",), (("std", std),))
        lines += statement(_I2, "", call)
    return lines


# ----- the __main__ check -----------------------------------------------------------------
def _main(writer: _Writer, model, class_name: str, analysis, inputs, outputs: int) -> None:
    samples = tuple(_sample(model, node, meta) for node, meta in zip(analysis.inputs, inputs))
    result = "output" if outputs == 1 else "outputs"
    writer.add(
        'if __name__ == "__main__":',
        f"{_I1}model = {class_name}()",
        f"{_I1}model.eval()",
        f"{_I1}with torch.no_grad():",
        *assign(_I2, result, Call("model", samples)),
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
        return Call(
            "torch.randint",
            (
                "0",
                str(_id_limit(model, node)),
                f"({', '.join(dims)},)" if len(dims) == 1 else f"({', '.join(dims)})",
            ),
            extra,
        )
    extra = (("dtype", f"torch.{meta.dtype}"),) if meta.dtype != "float32" else ()
    return Call("torch.randn", dims, extra)


def _id_limit(model, node: str) -> int:
    """Token ids below every Embedding the Input feeds (2 when it feeds none)."""
    limits = [
        model.analysis().resolved(edge.dst)["num_embeddings"]
        for edge in model.outputs(node)
        if model.node_type(edge.dst) == "Embedding" and model.analysis().resolved(edge.dst)
    ]
    return min(limits, default=2)
