"""Import of masks: comparisons (`x > 0`, `a == b`, x.eq(0)), torch.where(cond, a, b) and
x.masked_fill(mask, value).

Importing this module adds its handlers to calls.FUNCTIONS and calls.METHODS; comparisons
of plain numbers still go to the handlers they replace.
"""

from __future__ import annotations

import math
import operator

import torch

from torchcanvas.graph.fximport.calls import FUNCTIONS, METHODS, Unmapped, _get, _is_tensor
from torchcanvas.graph.fximport.elementwise import _is_number

# `0 < x` is `x > 0`: the operator a constant on the left turns into.
FLIPPED = {"gt": "lt", "ge": "le", "lt": "gt", "le": "ge", "eq": "eq", "ne": "ne"}


def _compare(op: str, original):
    """Two tensors are a Compare, a tensor and a number a ScalarCompare."""

    def handler(conv, node):
        if node.kwargs:
            raise Unmapped(f"{op} with {', '.join(node.kwargs)}= has no TorchCanvas node")
        left, right = (conv.value(a) for a in node.args[:2])
        if not (_is_tensor(left) or _is_tensor(right)):
            return original(conv, node)
        if _is_tensor(left) and _is_tensor(right):
            return conv.add(node, "Compare", {"op": op}, {"input": left, "other": right})
        value, tensor, side = (right, left, op) if _is_tensor(left) else (left, right, FLIPPED[op])
        if not _is_number(value):
            raise Unmapped(f"{op} of a tensor and {type(value).__name__} has no TorchCanvas node")
        params = {"op": side, "value": float(value)}
        return conv.add(node, "ScalarCompare", params, {"input": tensor})

    return handler


def _where(conv, node):
    values = [conv.value(_get(node, i, n)) for i, n in enumerate(("condition", "input", "other"))]
    if not all(_is_tensor(v) for v in values):
        raise Unmapped(
            "torch.where with a constant has no TorchCanvas node; write "
            "x.masked_fill(mask, value) for a constant where the mask is True"
        )
    inputs = dict(zip(("condition", "input", "other"), values))
    return conv.add(node, "Where", {}, inputs)


def _masked_fill(conv, node):
    value = conv.value(_get(node, 2, "value"))
    if not _is_number(value):
        raise Unmapped("masked_fill with a tensor value has no TorchCanvas node")
    if math.isinf(value):
        params = {"fill": "-inf" if value < 0 else "inf"}
    else:
        params = {"fill": "value", "value": float(value)}
    tensors = {"input": conv.tensor(node.args[0]), "mask": conv.tensor(_get(node, 1, "mask"))}
    return conv.add(node, "MaskedFill", params, tensors)


def install() -> None:
    """Add the handlers of this module to the importer's tables."""
    for op in FLIPPED:
        original = FUNCTIONS[getattr(operator, op)]  # comparing plain numbers
        handler = _compare(op, original)
        FUNCTIONS[getattr(operator, op)] = FUNCTIONS[getattr(torch, op)] = METHODS[op] = handler
    FUNCTIONS[torch.where] = _where
    FUNCTIONS[torch.masked_fill] = METHODS["masked_fill"] = _masked_fill


install()
