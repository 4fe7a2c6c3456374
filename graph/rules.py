"""Shape rules: what a layer makes of its inputs, written after PyTorch's own formulas.

A rule takes the resolved arguments and the input TensorMetas by port, and returns the
output TensorMetas by port, or raises ShapeError with a sentence for the node. Every rule
is checked against a real forward by the registry walk in the tests.
"""

from __future__ import annotations

import math

from torchcanvas.graph.ports import TensorMeta, format_meta


class ShapeError(Exception):
    """A node cannot compute its outputs; the message is shown on the node."""


def same(args: dict, ins: dict) -> dict:
    """The output has the input's shape and dtype (activations, dropout, normalization)."""
    return {"output": ins["input"]}


def full_dim(meta: TensorMeta, dim: int, name: str = "dim", allow_end: bool = False) -> int:
    """`dim` as a non-negative index into the full shape (batch included)."""
    ndim = len(meta.shape) + (1 if allow_end else 0)
    index = dim + ndim if dim < 0 else dim
    if not 0 <= index < ndim:
        raise ShapeError(
            f"{name}={dim} is out of range for a {format_meta(meta)} tensor "
            f"({len(meta.shape)} dims with the batch); use {_range_text(meta, allow_end)}"
        )
    return index


def _range_text(meta: TensorMeta, allow_end: bool) -> str:
    top = len(meta.shape) - (0 if allow_end else 1)
    first = 1 if meta.batch_dim == 0 else 0
    return f"{first} to {top}" if top > first else str(top)


def data_dim(meta: TensorMeta, dim: int, name: str = "dim") -> int:
    """Like full_dim, but the batch dimension is refused."""
    index = full_dim(meta, dim, name)
    if meta.shape[index] is None:
        raise ShapeError(
            f"{name}={dim} is the batch dimension; use {_range_text(meta, False)} "
            f"(dim 0 is the batch)"
        )
    return index


def with_dims(meta: TensorMeta, dims) -> TensorMeta:
    """A tensor of the same dtype with another full shape."""
    return TensorMeta(tuple(dims), meta.dtype)


def expect_batch_first(meta: TensorMeta, what: str) -> None:
    """Refuse a tensor whose batch is not its first dimension."""
    if meta.batch_dim != 0:
        raise ShapeError(
            f"{what} needs the batch as the first dimension, but receives "
            f"{format_meta(meta)}; permute it so that the batch comes first"
        )


# ----- convolution and pooling ------------------------------------------------------------
def as_tuple(value, n: int) -> tuple:
    """An int or a tuple, as a tuple of `n`."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


def conv_length(size: int, kernel: int, stride: int, pad: int, dilation: int) -> int:
    """Output length of a convolution along one dimension."""
    return (size + 2 * pad - dilation * (kernel - 1) - 1) // stride + 1


def pool_length(
    size: int, kernel: int, stride: int, pad: int, dilation: int, ceil_mode: bool
) -> int:
    """Output length of a pooling window along one dimension (PyTorch's formula)."""
    numerator = size + 2 * pad - dilation * (kernel - 1) - 1 + (stride - 1 if ceil_mode else 0)
    out = numerator // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1  # the last window must start inside the input or its left padding
    return out


def spatial_out(meta: TensorMeta, lengths: list[int], channels: int) -> TensorMeta:
    """(N, channels, *lengths), refusing empty outputs."""
    if any(length < 1 for length in lengths):
        raise ShapeError(
            f"the input {format_meta(meta)} is too small for this kernel (the output "
            f"would be {'x'.join(map(str, lengths))}); use a smaller kernel_size or "
            f"stride, add padding, or remove a pooling layer before it"
        )
    return TensorMeta((None, channels, *lengths), meta.dtype)


# ----- broadcasting, merging ----------------------------------------------------------------
def broadcast(metas: list[TensorMeta], verb: str) -> tuple:
    """The broadcast full shape of several tensors; None (the batch) lines up with None or 1."""
    rank = max(len(m.shape) for m in metas)
    padded = [(1,) * (rank - len(m.shape)) + tuple(m.shape) for m in metas]
    out = []
    for dims in zip(*padded):
        sizes = {d for d in dims if d != 1}
        if len(sizes) > 1:
            listed = " and ".join(format_meta(m) for m in metas)
            raise ShapeError(
                f"cannot {verb} {listed}: the shapes must match or be 1 where they "
                f"differ; change the layers before it so that they agree"
            )
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def promote(dtypes: list[str]) -> str:
    """The dtype PyTorch gives an elementwise result."""
    if len(set(dtypes)) == 1:
        return dtypes[0]
    import torch

    result = getattr(torch, dtypes[0])
    for name in dtypes[1:]:
        result = torch.promote_types(result, getattr(torch, name))
    return str(result).removeprefix("torch.")


def matmul_shape(a: TensorMeta, b: TensorMeta) -> tuple:
    """Full shape of `a @ b` for tensors of at least two dimensions."""
    if len(a.shape) < 2 or len(b.shape) < 2:
        raise ShapeError("MatMul needs tensors with at least 2 dimensions each")
    if a.shape[-1] != b.shape[-2] or a.shape[-1] is None:
        raise ShapeError(
            f"cannot multiply {format_meta(a)} by {format_meta(b)}: the last size of "
            f"the first ({a.shape[-1]}) must equal the second-to-last of the second "
            f"({b.shape[-2]}); add a Transpose"
        )
    front = broadcast(
        [TensorMeta(tuple(a.shape[:-2])), TensorMeta(tuple(b.shape[:-2]))], "multiply"
    )
    return (*front, a.shape[-2], b.shape[-1])


def prod(values) -> int:
    """The product of an iterable of ints."""
    return math.prod(values)
