"""External: a layer kept as its own torch or torchvision class (imported models).

An import meets small modules the registry does not declare (torchvision's LayerNorm2d,
Permute). Such a node holds the class path and its constructor arguments; its shapes come
from building it on the meta device. Only classes under `torch.` and `torchvision.` are
accepted, so opening a project never imports anything else.
"""

from __future__ import annotations

import functools
import importlib
import re

from torchcanvas.graph.expr import Call, literal
from torchcanvas.graph.layers.common import sample
from torchcanvas.graph.params import ARGS, STR, Arguments, Param
from torchcanvas.graph.ports import ANY, PortSpec
from torchcanvas.graph.registry import MODULE, LayerSpec, register
from torchcanvas.graph.rules import ShapeError

TRUSTED = re.compile(r"^(torch|torchvision)(\.[A-Za-z_][A-Za-z0-9_]*)+$")


def split_path(path: str) -> tuple[str, str]:
    """('torchvision.models.convnext', 'LayerNorm2d'); ShapeError for an untrusted path."""
    if not isinstance(path, str) or not TRUSTED.match(path) or len(path) > 200:
        raise ShapeError(
            f"cls {str(path)[:60]!r} is not a class under torch. or torchvision.; only "
            f"those can be kept as External layers"
        )
    module, _, name = path.rpartition(".")
    return module, name


@functools.lru_cache(maxsize=256)
def _build(path: str, arguments: Arguments):
    import torch

    module_name, name = split_path(path)
    try:
        cls = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError):
        raise ShapeError(f"there is no class {path}") from None
    if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
        raise ShapeError(f"{path} is not an nn.Module class")
    try:
        with torch.device("meta"):
            return cls(**_kwargs(arguments)).eval()
    except Exception as error:
        raise ShapeError(f"{name}({_text(arguments)}) cannot be built: {error}") from None


def _kwargs(arguments: Arguments) -> dict:
    return {name: list(value) if isinstance(value, tuple) else value for name, value in arguments}


def _text(arguments: Arguments) -> str:
    return ", ".join(f"{name}={value!r}" for name, value in arguments)


def _infer(args: dict, ins: dict) -> dict:
    import torch

    from torchcanvas.graph.meta import BATCH, _meta_of

    module = _build(args["cls"], args["arguments"])
    x = ins["input"]
    tensor = torch.empty(x.concrete(BATCH), dtype=getattr(torch, x.dtype), device="meta")
    try:
        result = module(tensor)
    except Exception as error:
        raise ShapeError(f"{args['cls']} refuses a {x.text()} input: {error}") from None
    if not isinstance(result, torch.Tensor):
        raise ShapeError(f"{args['cls']} returns {type(result).__name__}, not one tensor")
    return {"output": _meta_of(result)}


def _count(args: dict) -> int:
    module = _build(args["cls"], args["arguments"])
    return sum(p.numel() for p in module.parameters())


def class_and_import(args: dict) -> tuple[str, str]:
    """(`LayerNorm2d`, `from torchvision.models.convnext import LayerNorm2d`)."""
    module, name = split_path(args["cls"])
    return name, f"from {module} import {name}"


def _constructor(args: dict) -> tuple[Call, str]:
    """`LayerNorm2d(normalized_shape=(6,), eps=1e-06)` and its import line."""
    name, line = class_and_import(args)
    pairs = tuple(f"{key}={literal(value)}" for key, value in args["arguments"])
    return Call(name, pairs), line


register(
    LayerSpec(
        "External",
        "Blocks",
        "A torch or torchvision layer kept as its own class (from an import); not editable inside.",
        "layer",
        MODULE,
        params=(
            Param(
                "cls",
                STR,
                "The class: module path and name, under torch. or torchvision.",
                required=True,
                initial="torch.nn.Identity",
            ),
            Param(
                "arguments",
                ARGS,
                "Constructor arguments by name.",
                required=True,
                initial=Arguments(()),
            ),
        ),
        inputs=(PortSpec("input", dtypes=ANY),),
        infer=_infer,
        count=_count,
        torch_class="External",
        constructor=_constructor,
        key_params=("cls",),
        examples=(
            ({"input": sample(4)}, {"cls": "torch.nn.Softsign", "arguments": Arguments(())}),
            (
                {"input": sample(6, 3, 3)},
                {
                    "cls": "torchvision.models.convnext.LayerNorm2d",
                    "arguments": Arguments((("normalized_shape", (6,)), ("eps", 1e-6))),
                },
            ),
        ),
    )
)
