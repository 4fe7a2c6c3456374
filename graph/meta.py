"""The fallback for layer types without a shape rule: build the module on the meta device."""

from __future__ import annotations

import functools
import importlib

from torchcanvas.graph.ports import TensorMeta
from torchcanvas.graph.registry import LayerSpec
from torchcanvas.graph.rules import ShapeError

BATCH = 4099  # an unusual batch size, so that the batch dimension can be found in the output


def module_class(spec: LayerSpec) -> type:
    """The nn.Module class a MODULE spec builds."""
    if spec.torch_class.startswith("nn."):
        from torch import nn

        return getattr(nn, spec.torch_class[3:])
    for line in spec.imports:  # "from torchvision.ops import StochasticDepth"
        words = line.split()
        if words[:1] == ["from"] and words[-1] == spec.torch_class:
            return getattr(importlib.import_module(words[1]), spec.torch_class)
    raise LookupError(f"{spec.type}: cannot find class {spec.torch_class}")


def constructor_kwargs(spec: LayerSpec, args: dict) -> dict:
    """The keyword arguments that build the module (tuples where PyTorch wants them)."""
    kwargs = {p.name: args[p.name] for p in spec.params if p.ctor and p.name in args}
    kwargs.update(spec.fixed_kwargs)
    return kwargs


def build_module(spec: LayerSpec, args: dict):
    """The module a MODULE spec writes: its own constructor expression where it has one
    (a TransformerEncoder wraps its layer), else its class called with its arguments."""
    if spec.constructor is None:
        return module_class(spec)(**constructor_kwargs(spec, args))
    from torch import nn

    expr, line = spec.constructor(args)
    namespace: dict = {"nn": nn}
    if line:
        exec(line, namespace)  # an import line the spec declares, never user text
    return eval(str(expr), namespace)  # built from typed, coerced parameter values


@functools.lru_cache(maxsize=1024)
def _meta_module(type_name: str, frozen_args: tuple):
    import torch

    from torchcanvas.graph.registry import get_spec

    spec = get_spec(type_name)
    with torch.device("meta"):
        return build_module(spec, dict(frozen_args)).eval()


def meta_count(spec: LayerSpec, args: dict) -> int:
    """Parameter count of the module built with `args` (on meta: nothing is allocated)."""
    try:
        module = _meta_module(spec.type, tuple(sorted(args.items())))
    except Exception as error:  # torch refuses bad arguments with many exception types
        raise ShapeError(_first_line(error)) from None
    return sum(p.numel() for p in module.parameters())


def meta_infer(spec: LayerSpec, args: dict, ins: dict) -> dict:
    """Run the module on meta tensors and read the outputs' shapes back."""
    import torch

    tensors = {
        port: torch.empty(meta.concrete(BATCH), dtype=getattr(torch, meta.dtype), device="meta")
        for port, meta in ins.items()
    }
    try:
        module = _meta_module(spec.type, tuple(sorted(args.items())))
        result = module(*call_args(spec, tensors), **call_kwargs(spec, tensors, set()))
    except Exception as error:
        raise ShapeError(_first_line(error)) from None
    outputs: dict = {}
    _unpack(spec.returns, result, outputs)
    return {port: _meta_of(value) for port, value in outputs.items() if value is not None}


def call_args(spec: LayerSpec, values: dict) -> list:
    """Positional arguments of the module's forward() from values by port."""
    args = []
    for item in spec.call.args:
        if isinstance(item, tuple):
            if any(port in values for port in item):
                args.append(tuple(values.get(port) for port in item))
        elif item in values:
            args.append(values[item])
    return args


def call_kwargs(spec: LayerSpec, values: dict, used_outputs: set | None) -> dict:
    """Keyword arguments of forward(); flags are False for unused outputs."""
    kwargs = {key: values[port] for key, port in spec.call.kwargs if port in values}
    if used_outputs is not None:
        for key, port in spec.call.flags:
            if port not in used_outputs:
                kwargs[key] = False
    return kwargs


def _unpack(structure, value, out: dict) -> None:
    if isinstance(structure, str):
        out[structure] = value
        return
    for part, item in zip(structure, value):
        _unpack(part, item, out)


def _meta_of(tensor) -> TensorMeta:
    shape = list(tensor.shape)
    if shape.count(BATCH) == 1:
        shape[shape.index(BATCH)] = None
    return TensorMeta(tuple(shape), str(tensor.dtype).removeprefix("torch."))


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:200]
