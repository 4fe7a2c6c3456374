"""Leaf modules: which classes become one node, and the constructor arguments of each.

A class the registry declares becomes its registry node; its arguments are read from the
module's attributes and checked by building the layer again and comparing the state_dict
shapes. A small module from torch or torchvision that the registry lacks (no children)
becomes an External node: its class path and the arguments recovered from its attributes.
"""

from __future__ import annotations

import functools
import inspect
import re

import torch
from torch import nn

from torchcanvas.graph.meta import build_module, module_class
from torchcanvas.graph.params import ParamError
from torchcanvas.graph.registry import MODULE, all_specs

TRUSTED = re.compile(r"^(torch|torchvision)(\.[A-Za-z_][A-Za-z0-9_]*)+$")
_SKIPPED_ARGS = {"self", "device", "dtype"}
_PLAIN = (int, float, bool, str, type(None))


class LeafError(ValueError):
    """A leaf module whose arguments cannot be recovered; the message says which."""


@functools.lru_cache(maxsize=1)
def registry_classes() -> dict[type, str]:
    """nn.Module class -> registry type, for every module layer the registry declares."""
    found = {}
    for spec in all_specs():
        if spec.kind == MODULE and spec.type != "External":
            try:
                found[module_class(spec)] = spec.type
            except (LookupError, ImportError, AttributeError):
                continue
    return found


def registry_type(module: nn.Module) -> str | None:
    """The registry type of `module`: its class's, or that of a torch/torchvision base class
    it only configures (torchvision's Conv3DSimple is an nn.Conv3d with its own __init__
    and no method of Conv3d overridden), so that it is written as the base class."""
    found = registry_classes()
    cls = type(module)
    if cls in found:
        return found[cls]
    if not TRUSTED.match(class_path(cls)):
        return None
    for base in cls.__mro__[1:]:
        if base in found:
            overridden = [
                name
                for klass in cls.__mro__[: cls.__mro__.index(base)]
                for name, value in vars(klass).items()
                if callable(value) and name != "__init__" and hasattr(base, name)
            ]
            return None if overridden else found[base]
    return None


def class_path(cls: type) -> str:
    """`torchvision.models.convnext.LayerNorm2d` for a class."""
    return f"{cls.__module__}.{cls.__qualname__}"


def is_leaf(module: nn.Module) -> bool:
    """Whether tracing keeps `module` as one node instead of tracing its forward."""
    if registry_type(module) is not None:
        return True
    if isinstance(module, (nn.Sequential, nn.ModuleList, nn.ModuleDict)):
        return False
    return not list(module.children()) and bool(TRUSTED.match(class_path(type(module))))


def registry_args(module: nn.Module, spec) -> dict:
    """The registry parameters of a leaf module (auto ones left out), checked by rebuilding."""
    args = {}
    for param in spec.params:
        if not param.ctor or param.auto:
            continue
        value = _read(module, spec.type, param.name)
        if value is _MISSING:
            continue
        try:
            args[param.name] = param.coerce(value)
        except ParamError as error:
            raise LeafError(f"{param.name}: {error}") from None
    for key, wanted in spec.fixed_kwargs:
        if getattr(module, key, wanted) != wanted:
            raise LeafError(
                f"{key}={getattr(module, key)!r} is not supported: TorchCanvas writes "
                f"{key}={wanted!r}; construct the layer with {key}={wanted!r}"
            )
    if spec.type in STACKS:
        check_stack(module, spec.type)
    kwargs = _full_kwargs(module, spec, args)
    build = (lambda: build_module(spec, kwargs)) if spec.constructor else None
    _check_rebuild(module, module_class(spec), kwargs, build)
    return args


_MISSING = object()


def _read(module: nn.Module, type_name: str, name: str):
    """One constructor argument, read back from the module's attributes."""
    special = _SPECIAL.get((type_name, name)) or _SPECIAL.get(("*", name))
    if special is not None:
        return special(module)
    value = getattr(module, name, _MISSING)
    if isinstance(value, torch.Tensor):
        return value is not None
    return value


def _bias(module: nn.Module) -> bool:
    return getattr(module, "bias", None) is not None


_LAYER_READS = {
    "d_model": lambda m: m.self_attn.embed_dim,
    "nhead": lambda m: m.self_attn.num_heads,
    "dim_feedforward": lambda m: m.linear1.out_features,
    "dropout": lambda m: m.dropout.p,
    "layer_norm_eps": lambda m: m.norm1.eps,
    "activation": lambda m: _activation_name(m.activation),
    "bias": lambda m: m.linear1.bias is not None,
}
STACKS = {
    "TransformerEncoder": "TransformerEncoderLayer",
    "TransformerDecoder": "TransformerDecoderLayer",
}


def _first_layer(name: str):
    """A stack's argument, read from its first layer (check_stack compares the others)."""
    return lambda m: _read(m.layers[0], _layer_type(m), name)


def _layer_type(stack: nn.Module) -> str:
    decoder = isinstance(stack, nn.TransformerDecoder)
    return STACKS["TransformerDecoder" if decoder else "TransformerEncoder"]


_SPECIAL = {
    ("*", "bias"): _bias,
    ("MultiheadAttention", "bias"): lambda m: m.in_proj_bias is not None,
    ("RNN", "bias"): lambda m: m.bias,
    ("LSTM", "bias"): lambda m: m.bias,
    ("GRU", "bias"): lambda m: m.bias,
    ("PReLU", "init"): lambda m: _MISSING,  # the weights carry the value
    **{(layer, name): read for layer in STACKS.values() for name, read in _LAYER_READS.items()},
    **{
        (stack, name): _first_layer(name)
        for stack in STACKS
        for name in (*_LAYER_READS, "norm_first")
    },
    **{(stack, "norm"): lambda m: m.norm is not None for stack in STACKS},
}


def _activation_name(activation) -> str:
    name = getattr(activation, "__name__", type(activation).__name__).lower()
    return "gelu" if "gelu" in name else "relu"


def _full_kwargs(module: nn.Module, spec, args: dict) -> dict:
    """`args` plus the auto arguments, read from the module, for the rebuild check."""
    kwargs = dict(args)
    for param in spec.params:
        if param.ctor and param.auto and param.name not in kwargs:
            value = _read(module, spec.type, param.name)
            if value is not _MISSING:
                kwargs[param.name] = param.coerce(value)
    kwargs.update(spec.fixed_kwargs)
    return kwargs


def check_stack(module: nn.Module, type_name: str) -> None:
    """A TransformerEncoder/Decoder is drawn as one layer repeated: every layer must be the
    first one's twin, batch first, with relu or gelu, and the final norm the layers' own."""
    layer_type = STACKS[type_name]
    layer_class = getattr(nn, layer_type)
    first = {name: _read(module.layers[0], layer_type, name) for name in _LAYER_READS}
    for index, layer in enumerate(module.layers):
        if type(layer) is not layer_class:
            raise LeafError(f"layers.{index} is a {type(layer).__name__}, not an nn.{layer_type}")
        if not layer.self_attn.batch_first:
            raise LeafError(
                "batch_first=False is not supported: construct the layer with batch_first=True"
            )
        if not _plain_activation(layer.activation):
            raise LeafError(f"layers.{index}: only relu and gelu activations can be drawn")
        again = {name: _read(layer, layer_type, name) for name in _LAYER_READS}
        again["norm_first"] = layer.norm_first
        if again != {**first, "norm_first": module.layers[0].norm_first}:
            raise LeafError(f"layers.{index} is configured unlike layers.0; all must be the same")
    norm = module.norm
    if norm is not None and not (
        type(norm) is nn.LayerNorm
        and norm.normalized_shape == (first["d_model"],)
        and norm.eps == first["layer_norm_eps"]
        and norm.elementwise_affine
        and (norm.bias is not None) == first["bias"]
    ):
        raise LeafError(
            f"norm must be nn.LayerNorm({first['d_model']}) with the layers' eps and bias; "
            f"it is {norm}"
        )


def _plain_activation(activation) -> bool:
    import torch.nn.functional as F

    if activation in (F.relu, F.gelu):
        return True
    if isinstance(activation, nn.GELU):
        return activation.approximate == "none"
    return type(activation) is nn.ReLU


def _check_rebuild(module: nn.Module, cls: type, kwargs: dict, build=None) -> None:
    """Build the layer again from `kwargs` (or by `build`); its state_dict must have the
    same shapes."""
    try:
        with torch.device("meta"):
            again = build() if build is not None else cls(**kwargs)
    except Exception as error:
        raise LeafError(f"rebuilding {cls.__name__}({_text(kwargs)}) failed: {error}") from None
    want = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in again.state_dict().items()}
    if want != got:
        diff = sorted(set(want.items()) ^ set(got.items()))[:3]
        raise LeafError(
            f"rebuilt as {cls.__name__}({_text(kwargs)}), its tensors differ: "
            + ", ".join(f"{k} {list(s)}" for k, s in diff)
        )


def external_args(module: nn.Module) -> dict:
    """Constructor arguments of a torch/torchvision module the registry lacks, recovered
    from its attributes by the names in its __init__ signature; checked by rebuilding."""
    cls = type(module)
    try:
        signature = inspect.signature(cls.__init__)
    except (TypeError, ValueError):
        raise LeafError(f"{cls.__name__}: its constructor cannot be inspected") from None
    kwargs = {}
    for name, param in signature.parameters.items():
        if name in _SKIPPED_ARGS or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        value = getattr(module, name, _MISSING)
        if isinstance(value, torch.Tensor) or (value is None and isinstance(param.default, bool)):
            value = value is not None if isinstance(param.default, bool) else _MISSING
        if value is _MISSING or not _plain(value):
            if param.default is param.empty:
                raise LeafError(
                    f"{cls.__name__}: the constructor argument {name!r} cannot be read back "
                    f"from the module"
                )
            continue
        if param.default is param.empty or value != param.default:
            kwargs[name] = list(value) if isinstance(value, tuple) else value
    _check_rebuild(module, cls, kwargs)
    return kwargs


def _plain(value) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    return isinstance(value, _PLAIN)


def _text(kwargs: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
