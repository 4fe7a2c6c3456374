"""The functions and tensor methods the importer maps, each to a registry node or a value.

A handler gets the Converter and the fx node and returns what the node stands for: a Ref
(an op's output), a tuple of them, a plain value (a size, a flag), a Batch (the batch size
read off a tensor) or ZERO_STATE. Anything else raises Unmapped with the reason.
"""

from __future__ import annotations

import builtins
import math
import operator

import torch
import torch.nn.functional as F

from torchcanvas.graph.fximport.ir import Ref


class Unmapped(Exception):
    """This call has no TorchCanvas counterpart; the message says what and why."""


class Downstream(Unmapped):
    """Something this node needs was not mapped; that node's own problem says why."""


class ShapeOf(tuple):
    """`x.shape` / `x.size()`: the recorded sizes, remembering the tensor."""

    tensor: Ref


def _shape_of(ref: Ref, sizes) -> ShapeOf:
    shape = ShapeOf(sizes)
    shape.tensor = ref
    return shape


def _get(node, index: int, name: str, default=None):
    """Argument `name` of a call, given by position `index` or by keyword."""
    if len(node.args) > index:
        return node.args[index]
    return node.kwargs.get(name, default)


def _plain(conv, node, index: int, name: str, default=None):
    """A non-tensor argument's value (a Batch counts as its number)."""
    from torchcanvas.graph.fximport.ops import Batch

    value = conv.value(_get(node, index, name, default))
    if isinstance(value, Batch):
        return value.value
    if isinstance(value, Ref):
        raise Unmapped(f"{name} is computed from a tensor's values, which cannot be drawn")
    return value


def _is_tensor(value) -> bool:
    return isinstance(value, Ref)


# ----- arithmetic: on tensors an op, on numbers a value ------------------------------------
def _binary(type_name: str):
    def handler(conv, node):
        left, right = conv.value(node.args[0]), conv.value(node.args[1])
        if _is_tensor(left) and _is_tensor(right):
            if type_name in ("Add", "Mul"):
                return conv.add(node, type_name, {}, {"0": left, "1": right})
            return conv.add(node, type_name, {}, {"input": left, "other": right})
        if _is_tensor(left) or _is_tensor(right):
            raise Unmapped(
                f"{type_name.lower()} of a tensor and a constant has no TorchCanvas node; "
                f"fold the constant into a layer or a Parameter"
            )
        if "alpha" in node.kwargs:
            raise Unmapped("add with alpha= has no TorchCanvas node")
        return conv.recorded(node)

    return handler


def _number(conv, node):
    """Arithmetic and comparisons on plain values: the recorded result."""
    for arg in node.args:
        if _is_tensor(conv.value(arg)):
            raise Unmapped(
                f"{getattr(node.target, '__name__', node.target)} on a tensor has no "
                f"TorchCanvas node"
            )
    return conv.recorded(node)


def _dropped(conv, node):
    return None  # checks such as torch._assert: nothing to draw


def _alias(conv, node):
    return conv.tensor(node.args[0])


# ----- shapes and sizes ---------------------------------------------------------------------
def _size(conv, node):
    from torchcanvas.graph.fximport.ops import Batch

    ref = conv.tensor(node.args[0])
    recorded = conv.recorded(node)
    dim = _get(node, 1, "dim")
    if dim is None:
        return _shape_of(ref, recorded)
    if dim == 0 or (dim < 0 and dim + len(conv.recorded(node.args[0]).shape) == 0):
        return Batch(ref, recorded)
    return recorded


def _getattr(conv, node):
    value = conv.value(node.args[0])
    attribute = node.args[1]
    if _is_tensor(value) and attribute == "shape":
        return _shape_of(value, conv.recorded(node))
    if _is_tensor(value) and attribute in ("device", "dtype", "ndim"):
        return conv.recorded(node)
    raise Unmapped(f"reading .{attribute} has no TorchCanvas counterpart")


def _getitem(conv, node):
    from torchcanvas.graph.fximport.ops import Batch

    container, index = conv.value(node.args[0]), conv.value(node.args[1])
    if isinstance(container, ShapeOf):
        if index == 0:
            return Batch(container.tensor, container[0])
        return container[index]
    if isinstance(container, (tuple, list)):
        return container[index]
    if _is_tensor(container):
        return _index(conv, node, container, index)
    return conv.recorded(node)


def _index(conv, node, ref: Ref, index):
    """x[:, -1], x[:, 1:], x[..., 0]: one Select or Slice per indexed dimension."""
    rank = len(conv.recorded(node.args[0]).shape)
    items = list(index) if isinstance(index, tuple) else [index]
    if any(item is Ellipsis for item in items):
        at = items.index(Ellipsis)
        items[at : at + 1] = [slice(None)] * (rank - len(items) + 1)
    steps = []
    for dim, item in enumerate(items):
        if isinstance(item, slice) and item == slice(None):
            continue
        if dim == 0:
            raise Unmapped("indexing the batch dimension has no TorchCanvas node")
        if isinstance(item, int):
            steps.append(("Select", {"dim": dim, "index": item}))
        elif isinstance(item, slice) and all(
            v is None or isinstance(v, int) for v in (item.start, item.stop, item.step)
        ):
            steps.append(
                (
                    "Slice",
                    {"dim": dim, "start": item.start, "end": item.stop, "step": item.step or 1},
                )
            )
        else:
            raise Unmapped(f"indexing with {item!r:.40} has no TorchCanvas node")
    removed = 0
    for type_name, params in steps:  # a Select drops its dimension: later dims move up
        params = dict(params, dim=params["dim"] - removed)
        ref = conv.add(node, type_name, params, {"input": ref})
        removed += type_name == "Select"
    return ref


def _reshape(conv, node):
    from torchcanvas.graph.fximport.ops import Batch

    ref = conv.tensor(node.args[0])
    sizes = [conv.value(a) for a in node.args[1:]]
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = list(sizes[0])
    first = sizes[0] if sizes else None
    before, after = conv.recorded(node.args[0]), conv.recorded(node)
    if not (isinstance(first, Batch) or first == -1) or after.shape[0] != before.shape[0]:
        raise Unmapped(
            "a reshape must keep the batch first: write x.view(x.size(0), ...) or "
            "x.reshape(-1, ...) with the per-sample sizes after it"
        )
    return conv.add(node, "Reshape", {"shape": list(after.shape[1:])}, {"input": ref})


def _flatten(conv, node):
    start, end = _plain(conv, node, 1, "start_dim", 0), _plain(conv, node, 2, "end_dim", -1)
    if start == 0:
        raise Unmapped("flatten from dim 0 merges the batch; use torch.flatten(x, 1)")
    params = {"start_dim": start, "end_dim": end, "functional": True}
    return conv.add(node, "Flatten", params, {"input": conv.tensor(node.args[0])})


def _dims_of(conv, node, start: int, name: str) -> list[int]:
    rest = [conv.value(a) for a in node.args[start:]]
    if len(rest) == 1 and isinstance(rest[0], (tuple, list)):
        return list(rest[0])
    if not rest and name in node.kwargs:
        value = conv.value(node.kwargs[name])
        return list(value) if isinstance(value, (tuple, list)) else [value]
    return rest


def _permute(conv, node):
    dims = _dims_of(conv, node, 1, "dims")
    return conv.add(node, "Permute", {"dims": dims}, {"input": conv.tensor(node.args[0])})


def _transpose(conv, node):
    params = {"dim0": _plain(conv, node, 1, "dim0"), "dim1": _plain(conv, node, 2, "dim1")}
    return conv.add(node, "Transpose", params, {"input": conv.tensor(node.args[0])})


def _one_dim(type_name: str):
    def handler(conv, node):
        dim = _plain(conv, node, 1, "dim")
        if dim is None:
            raise Unmapped(f"{type_name.lower()} without dim= has no TorchCanvas node")
        return conv.add(node, type_name, {"dim": dim}, {"input": conv.tensor(node.args[0])})

    return handler


def _reduce(type_name: str):
    def handler(conv, node):
        dims = _plain(conv, node, 1, "dim")
        if dims is None:
            raise Unmapped(f"{type_name.lower()} over every dimension mixes samples")
        dims = list(dims) if isinstance(dims, (tuple, list)) else [dims]
        params = {"dim": dims, "keepdim": bool(_plain(conv, node, 2, "keepdim", False))}
        return conv.add(node, type_name, params, {"input": conv.tensor(node.args[0])})

    return handler


def _chunk(conv, node):
    chunks, dim = _plain(conv, node, 1, "chunks"), _plain(conv, node, 2, "dim", 0)
    ref = conv.add(
        node, "Chunk", {"chunks": chunks, "dim": dim}, {"input": conv.tensor(node.args[0])}
    )
    return tuple(Ref(ref.op, str(i)) for i in range(len(conv.recorded(node))))


def _split(conv, node):
    dim = _plain(conv, node, 2, "dim", 0)
    sizes = [piece.shape[dim] for piece in conv.recorded(node)]
    params = {"split_size_or_sections": sizes, "dim": dim}
    ref = conv.add(node, "Split", params, {"input": conv.tensor(node.args[0])})
    return tuple(Ref(ref.op, str(i)) for i in range(len(sizes)))


def _expand(conv, node):
    from torchcanvas.graph.fximport.ops import Batch

    sizes = _dims_of(conv, node, 1, "size")
    if not sizes or not isinstance(sizes[0], Batch) or any(s != -1 for s in sizes[1:]):
        raise Unmapped(
            "expand is imported only as x.expand(batch, -1, ...): a token over the batch"
        )
    inputs = {"input": conv.tensor(node.args[0]), "like": sizes[0].tensor}
    return conv.add(node, "Expand", {}, inputs)


def _concat(conv, node):
    tensors = conv.value(_get(node, 0, "tensors"))
    dim = _plain(conv, node, 1, "dim", 0)
    if not all(_is_tensor(t) for t in tensors):
        raise Unmapped("torch.cat of something that is not a list of tensors")
    if len(tensors) == 1:
        return tensors[0]
    return conv.add(node, "Concat", {"dim": dim}, {str(i): t for i, t in enumerate(tensors)})


_CASTS = {
    "float": "float32",
    "double": "float64",
    "half": "float16",
    "long": "int64",
    "int": "int32",
    "bool": "bool",
}


def _cast(conv, node):
    return conv.add(
        node, "Cast", {"dtype": _CASTS[node.target]}, {"input": conv.tensor(node.args[0])}
    )


def _to(conv, node):
    for arg in list(node.args[1:]) + list(node.kwargs.values()):
        value = conv.value(arg)
        if isinstance(value, torch.dtype):
            name = str(value).removeprefix("torch.")
            return conv.add(node, "Cast", {"dtype": name}, {"input": conv.tensor(node.args[0])})
    value = conv.value(node.args[0])
    from torchcanvas.graph.fximport.ops import ZERO_STATE

    return value if value is ZERO_STATE else conv.tensor(node.args[0])  # .to(device)


def _zeros(conv, node):
    from torchcanvas.graph.fximport.ops import ZERO_STATE

    return ZERO_STATE  # only a recurrent layer's initial state may take it


# ----- layers written as functions -----------------------------------------------------------
def _layer(type_name: str, *names: str, defaults: dict | None = None):
    """A function call that is a layer: F.relu(x, inplace=True) -> ReLU(inplace=True)."""

    def handler(conv, node):
        params = {}
        for index, name in enumerate(names, start=1):
            value = _plain(conv, node, index, name, (defaults or {}).get(name))
            if value is not None:
                params[name] = list(value) if isinstance(value, tuple) else value
        if "Pool" in type_name and params.get("stride") in (None, []):
            params.pop("stride", None)  # F's stride=None means the kernel size
        params["functional"] = True  # written as the call it was
        ref = conv.tensor(node.args[0])
        return conv.add(node, type_name, params, {"input": ref})

    return handler


def _dropout(conv, node):
    p = _plain(conv, node, 1, "p", 0.5)
    params = {"p": p, "functional": True}
    return conv.add(node, "Dropout", params, {"input": conv.tensor(node.args[0])})


def _attention(conv, node):
    from torchcanvas.graph.fximport.attention import scaled_dot_product_attention  # its own file

    return scaled_dot_product_attention(conv, node)


def _interpolate(conv, node):
    params = {}
    for index, name in enumerate(("size", "scale_factor", "mode", "align_corners"), start=1):
        value = _plain(conv, node, index, name)
        if value is not None:
            params[name] = value
    return conv.add(node, "Upsample", params, {"input": conv.tensor(node.args[0])})


_ACTIVATIONS = {
    "ReLU": ((F.relu, torch.relu), ("inplace",)),
    "Sigmoid": ((F.sigmoid, torch.sigmoid), ()),
    "Tanh": ((F.tanh, torch.tanh), ()),
    "GELU": ((F.gelu,), ("approximate",)),
    "SiLU": ((F.silu,), ("inplace",)),
    "Hardswish": ((F.hardswish,), ("inplace",)),
    "Hardsigmoid": ((F.hardsigmoid,), ("inplace",)),
    "ReLU6": ((F.relu6,), ("inplace",)),
    "LeakyReLU": ((F.leaky_relu,), ("negative_slope", "inplace")),
    "ELU": ((F.elu,), ("alpha", "inplace")),
    "Softmax": ((F.softmax, torch.softmax), ("dim",)),
    "LogSoftmax": ((F.log_softmax, torch.log_softmax), ("dim",)),
    "Mish": ((F.mish,), ("inplace",)),
}

FUNCTIONS: dict = {
    operator.add: _binary("Add"),
    operator.iadd: _binary("Add"),
    torch.add: _binary("Add"),
    operator.mul: _binary("Mul"),
    operator.imul: _binary("Mul"),
    torch.mul: _binary("Mul"),
    operator.sub: _binary("Sub"),
    operator.isub: _binary("Sub"),
    torch.sub: _binary("Sub"),
    operator.matmul: _binary("MatMul"),
    torch.matmul: _binary("MatMul"),
    operator.getitem: _getitem,
    builtins.getattr: _getattr,
    torch._assert: _dropped,
    torch.cat: _concat,
    torch.concat: _concat,
    torch.flatten: _flatten,
    torch.reshape: _reshape,
    torch.permute: _permute,
    torch.transpose: _transpose,
    torch.squeeze: _one_dim("Squeeze"),
    torch.unsqueeze: _one_dim("Unsqueeze"),
    torch.mean: _reduce("Mean"),
    torch.sum: _reduce("Sum"),
    torch.chunk: _chunk,
    torch.zeros: _zeros,
    torch.zeros_like: _zeros,
    F.dropout: _dropout,
    F.adaptive_avg_pool2d: _layer("AdaptiveAvgPool2d", "output_size"),
    F.adaptive_avg_pool1d: _layer("AdaptiveAvgPool1d", "output_size"),
    F.adaptive_avg_pool3d: _layer("AdaptiveAvgPool3d", "output_size"),
    F.adaptive_max_pool2d: _layer("AdaptiveMaxPool2d", "output_size"),
    F.avg_pool2d: _layer(
        "AvgPool2d", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"
    ),
    F.max_pool2d: _layer("MaxPool2d", "kernel_size", "stride", "padding", "dilation", "ceil_mode"),
    F.avg_pool1d: _layer(
        "AvgPool1d", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"
    ),
    F.max_pool1d: _layer("MaxPool1d", "kernel_size", "stride", "padding", "dilation", "ceil_mode"),
    F.avg_pool3d: _layer(
        "AvgPool3d", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"
    ),
    F.max_pool3d: _layer("MaxPool3d", "kernel_size", "stride", "padding", "dilation", "ceil_mode"),
    F.interpolate: _interpolate,
    F.scaled_dot_product_attention: _attention,
}
for _name in (
    "truediv",
    "floordiv",
    "mod",
    "pow",
    "neg",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "not_",
    "and_",
    "or_",
):
    FUNCTIONS[getattr(operator, _name)] = _number
FUNCTIONS[builtins.len] = _number
FUNCTIONS[math.sqrt] = _number
for _type, (_functions, _names) in _ACTIVATIONS.items():
    for _function in _functions:
        FUNCTIONS[_function] = _layer(_type, *_names)

METHODS: dict = {
    "size": _size,
    "dim": lambda conv, node: conv.recorded(node),
    "view": _reshape,
    "reshape": _reshape,
    "flatten": _flatten,
    "permute": _permute,
    "transpose": _transpose,
    "contiguous": _alias,
    "clone": _alias,
    "squeeze": _one_dim("Squeeze"),
    "unsqueeze": _one_dim("Unsqueeze"),
    "mean": _reduce("Mean"),
    "sum": _reduce("Sum"),
    "chunk": _chunk,
    "split": _split,
    "expand": _expand,
    "to": _to,
    "add": _binary("Add"),
    "add_": _binary("Add"),
    "mul": _binary("Mul"),
    "mul_": _binary("Mul"),
    "sub": _binary("Sub"),
    "matmul": _binary("MatMul"),
    "relu": _layer("ReLU"),
    "sigmoid": _layer("Sigmoid"),
    "tanh": _layer("Tanh"),
    "softmax": _layer("Softmax", "dim"),
    "log_softmax": _layer("LogSoftmax", "dim"),
    **{name: _cast for name in _CASTS},
}
