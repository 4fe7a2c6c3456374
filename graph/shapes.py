"""Per-node output shapes, computed by PyTorch on the meta device, and the full analysis."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from torchcanvas.graph.blocks import block_class
from torchcanvas.graph.registry import ADD, BLOCK, CONCAT, INPUT, OUTPUT, LayerSpec
from torchcanvas.graph.validate import (
    ERROR,
    WARNING,
    Problem,
    execution_order,
    live_nodes,
    structural_problems,
)

Shape = tuple[int, ...]

_AUTO_LABELS = {
    "channels": "input channels",
    "features": "input features",
    "last_dim": "trailing dimensions",
}
# Categories that pass the blame for a wrong size on to the node before them.
_TRANSPARENT = {"Activation", "Regularization", "Reshape", "Normalization", "Pooling"}


class ShapeError(Exception):
    """A node cannot compute its output; the message is shown on the node."""


@dataclass
class Analysis:
    """Everything the editor, codegen and training need to know about a graph."""

    order: list[str]
    shapes: dict[str, Shape | None]
    in_shapes: dict[str, list[Shape]]
    resolved: dict[str, dict]  # every node's full constructor arguments, auto ones filled
    problems: list[Problem]
    live: set[str] = field(default_factory=set)

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
        return [p for p in self.problems if p.node == node]

    def shape_of(self, node: str) -> Shape | None:
        """Output shape of `node`, or None while it is unknown."""
        return self.shapes.get(node)


def format_shape(shape: Shape | None) -> str:
    """A shape the way messages show it: 32x7x7."""
    if shape is None:
        return "?"
    return "x".join(str(d) for d in shape) if shape else "scalar"


def analyze(model) -> Analysis:
    """Infer every node's shape and collect every problem; never raises for a bad graph."""
    order = execution_order(model)
    problems = structural_problems(model, order)
    broken_ports = {p.node for p in problems if p.severity == ERROR and p.node}
    shapes: dict[str, Shape | None] = {name: None for name in model.nodes()}
    in_shapes: dict[str, list[Shape]] = {}
    resolved: dict[str, dict] = {}
    for name in order:
        incoming = [shapes[src] for src, _ in model.inputs(name)]
        if name in broken_ports or any(shape is None for shape in incoming):
            continue
        in_shapes[name] = incoming
        try:
            resolved[name], shapes[name], warning = _infer(model, name, incoming, shapes)
        except ShapeError as error:
            problems.append(Problem(name, str(error)))
            continue
        if warning:
            problems.append(Problem(name, warning, WARNING))
    return Analysis(order, shapes, in_shapes, resolved, problems, live_nodes(model))


def _infer(model, name: str, incoming: list[Shape], shapes) -> tuple[dict, Shape, str]:
    spec = model.spec(name)
    params = model.params(name)
    if spec.kind == INPUT:
        return params, tuple(params["shape"]), ""
    if spec.kind == OUTPUT:
        return params, incoming[0], ""
    if spec.kind == ADD:
        return params, _add_shape(model, name, incoming), ""
    if spec.kind == CONCAT:
        return params, _concat_shape(model, name, params["dim"], incoming), ""
    in_shape = incoming[0]
    _check_rank(model, name, spec, in_shape)
    args = _resolve(model, name, spec, params, shapes)
    out = module_output_shape(spec.type, _freeze(args), in_shape)
    if 0 in out:
        raise ShapeError(
            f"output would be empty ({format_shape(out)}): the input "
            f"{format_shape(in_shape)} is too small; use a smaller kernel_size "
            f"or stride, or remove a pooling layer before it."
        )
    return args, out, _rank_warning(spec, in_shape)


def _resolve(model, name: str, spec: LayerSpec, params: dict, shapes) -> dict:
    """Fill the auto parameters from the incoming shape and check pinned ones."""
    in_shape = shapes[model.inputs(name)[0][0]]
    args = {}
    for param in spec.params:
        if param.auto:
            inferred = _auto_value(param.auto, in_shape)
            pinned = params.get(param.name)
            if pinned is not None and not _pinned_fits(param.auto, pinned, in_shape):
                raise ShapeError(_pinned_message(model, name, param, pinned, inferred, shapes))
            args[param.name] = pinned if pinned is not None else inferred
        elif param.name in params:
            args[param.name] = params[param.name]
        elif param.required:
            raise ShapeError(f"{param.name} is not set; give it a value in the inspector.")
    return args


def _auto_value(rule: str, shape: Shape):
    if rule == "channels":
        return shape[0]
    if rule == "features":
        return shape[-1]
    return (shape[-1],)


def _pinned_fits(rule: str, pinned, shape: Shape) -> bool:
    if rule == "last_dim":
        return tuple(shape[len(shape) - len(pinned) :]) == tuple(pinned) and len(pinned) <= len(
            shape
        )
    return pinned == _auto_value(rule, shape)


def _pinned_message(model, name, param, pinned, inferred, shapes) -> str:
    label = _AUTO_LABELS[param.auto]
    shown = format_shape(pinned) if isinstance(pinned, tuple) else pinned
    got = format_shape(inferred) if isinstance(inferred, tuple) else inferred
    source, detail = _blame(model, name, shapes)
    if detail and len(detail) > 1:
        got = f"{got} ({format_shape(detail)})"
    fix = f"unpin {param.name}" + (f" or change {source}" if source else "")
    return f"expects {shown} {label} but receives {got}; {fix}"


def _blame(model, name: str, shapes) -> tuple[str | None, Shape | None]:
    """The upstream node whose settings decide `name`'s input size, and the shape it makes."""
    node, detail = name, None
    while True:
        inputs = model.inputs(node)
        if not inputs:
            return None, detail
        node = inputs[0][0]
        spec = model.spec(node)
        if spec.type == "Flatten" and detail is None and model.inputs(node):
            detail = shapes.get(model.inputs(node)[0][0])
        if spec.category not in _TRANSPARENT:
            return node, detail


def _check_rank(model, name: str, spec: LayerSpec, shape: Shape) -> None:
    if spec.ranks is None or len(shape) in spec.ranks:
        return
    hint = _rank_hint(model, name, spec, shape)
    raise ShapeError(
        f"expects a {spec.rank_text} input but receives {format_shape(shape)}"
        f" ({len(shape)}-D); {hint}"
    )


def _rank_hint(model, name: str, spec: LayerSpec, shape: Shape) -> str:
    wanted = max(spec.ranks)
    source = model.inputs(name)[0][0]
    if len(shape) < wanted and model.node_type(source) == "Flatten":
        return f"remove {source} or move it after this layer."
    if len(shape) < wanted:
        return "check the Input shape or the layers before it."
    if spec.type == "BatchNorm1d" and len(shape) == 3:
        return "use BatchNorm2d for images."
    return "add a Flatten before it."


def _rank_warning(spec: LayerSpec, shape: Shape) -> str:
    if spec.type == "Linear" and len(shape) > 1:
        total = 1
        for dim in shape:
            total *= dim
        return (
            f"receives a {format_shape(shape)} tensor and acts on its last dimension only; "
            f"add a Flatten before it to use all {total} features."
        )
    return ""


def _add_shape(model, name: str, incoming: list[Shape]) -> Shape:
    first = incoming[0]
    for (src, _), shape in zip(model.inputs(name), incoming):
        if shape != first:
            shapes = " and ".join(format_shape(s) for s in incoming)
            raise ShapeError(
                f"cannot add {shapes}: shapes must match; change {src} "
                f"(or add a 1x1 Conv2d on the shortcut) so they agree."
            )
    return first


def _concat_shape(model, name: str, dim: int, incoming: list[Shape]) -> Shape:
    rank = len(incoming[0])
    if any(len(s) != rank for s in incoming):
        listed = ", ".join(format_shape(s) for s in incoming)
        raise ShapeError(f"cannot concatenate tensors of different ranks ({listed}).")
    axis = dim + rank + 1 if dim < 0 else dim
    if not 0 <= axis <= rank:
        raise ShapeError(
            f"dim={dim} is out of range for {rank}-D samples (batch is dim 0); use 1 to {rank}."
        )
    if axis == 0:
        raise ShapeError("dim=0 would join along the batch; use dim=1 for channels.")
    for shape in incoming[1:]:
        others = [d for i, d in enumerate(shape) if i != axis - 1]
        if others != [d for i, d in enumerate(incoming[0]) if i != axis - 1]:
            listed = " and ".join(format_shape(s) for s in incoming)
            raise ShapeError(
                f"shapes {listed} differ outside dim {dim}; make the other "
                f"dimensions equal (check strides and pooling)."
            )
    total = sum(shape[axis - 1] for shape in incoming)
    out = list(incoming[0])
    out[axis - 1] = total
    return tuple(out)


def _freeze(args: dict) -> tuple:
    return tuple(sorted(args.items()))


@functools.lru_cache(maxsize=8192)
def module_output_shape(type_name: str, frozen_args: tuple, in_shape: Shape) -> Shape:
    """Build the layer on the meta device and run one sample through it."""
    import torch

    from torchcanvas.graph.registry import get_spec

    spec = get_spec(type_name)
    try:
        cls = _module_class(spec)
        with torch.device("meta"):
            module = cls(**dict(frozen_args)).eval()
            out = module(torch.empty((1, *in_shape)))
    except Exception as error:  # torch reports bad arguments with many exception types
        raise ShapeError(explain_torch_error(error, in_shape)) from None
    return tuple(out.shape[1:])


def _module_class(spec: LayerSpec):
    from torch import nn

    if spec.kind == BLOCK:
        return block_class(spec.type, spec.block_source)
    return getattr(nn, spec.type)


def explain_torch_error(error: Exception, in_shape: Shape) -> str:
    """One short sentence from a torch exception, with a fix where we know one."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    lowered = text.lower()
    if "kernel size can't be greater" in lowered or "output size is too small" in lowered:
        return (
            f"the input {format_shape(in_shape)} is too small for this kernel; use a "
            f"smaller kernel_size, add padding, or remove a pooling layer before it."
        )
    if "dimension out of range" in lowered:
        return f"dim is out of range for a {format_shape(in_shape)} sample; {text}"
    text = re.sub(r"^\w+Error: ", "", text)
    return text[:200] if text.endswith(".") else text[:200] + "."
