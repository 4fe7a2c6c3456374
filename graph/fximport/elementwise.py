"""Import of elementwise math: torch.exp(x) / x.exp(), a tensor and a constant (`0.5 * x`,
`1 - x`, `x / 8`), x**2, clamp, F.normalize, and the sampling functions (torch.randn_like).

Importing this module adds its handlers to calls.FUNCTIONS and calls.METHODS; the
arithmetic ones wrap the existing tensor-and-tensor handlers.
"""

from __future__ import annotations

import operator

import torch
import torch.nn.functional as F

from torchcanvas.graph.fximport.calls import FUNCTIONS, METHODS, Unmapped, _get, _plain

UNARY = {
    "Exp": (torch.exp, "exp"),
    "Log": (torch.log, "log"),
    "Sqrt": (torch.sqrt, "sqrt"),
    "Rsqrt": (torch.rsqrt, "rsqrt"),
    "Abs": (torch.abs, "abs"),
    "Neg": (torch.neg, "neg"),
    "Sin": (torch.sin, "sin"),
    "Cos": (torch.cos, "cos"),
    "Erf": (torch.erf, "erf"),
    "RandnLike": (torch.randn_like, ""),
    "RandLike": (torch.rand_like, ""),
}


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _unary(type_name: str):
    def handler(conv, node):
        if len(node.args) > 1 or node.kwargs:
            raise Unmapped(f"{type_name.lower()} with extra arguments has no TorchCanvas node")
        return conv.add(node, type_name, {}, {"input": conv.tensor(node.args[0])})

    return handler


def _tensor_or_number(original):
    """`-x` is Neg on a tensor; on a plain number it stays a number."""

    def handler(conv, node):
        if isinstance(conv.value(node.args[0]), (int, float)):
            return original(conv, node)
        return _unary("Neg")(conv, node)

    return handler


def _with_constant(op: str, original):
    """A tensor and a number is a ScalarOp; anything else goes to `original`."""

    def handler(conv, node):
        left, right = (conv.value(a) for a in node.args[:2])
        left_number, right_number = _is_number(left), _is_number(right)
        if left_number == right_number:
            if original is None:
                raise Unmapped(f"{op} of two tensors has no TorchCanvas node")
            return original(conv, node)
        if node.kwargs:
            raise Unmapped(f"{op} with {', '.join(node.kwargs)}= has no TorchCanvas node")
        value = left if left_number else right
        tensor_arg = node.args[1] if left_number else node.args[0]
        tensor = conv.tensor(tensor_arg)
        floating = conv.recorded(tensor_arg).dtype.is_floating_point
        if isinstance(value, float) and value.is_integer() and not floating:
            raise Unmapped(
                f"{op} of an integer tensor and {value} gives floats; write "
                f"x.float() {op} {int(value)} so that the drawing keeps the same type"
            )
        params = {"op": op, "value": float(value), "reverse": left_number}
        return conv.add(node, "ScalarOp", params, {"input": tensor})

    return handler


def _pow(original):
    def handler(conv, node):
        base, exponent = (conv.value(a) for a in node.args[:2])
        if _is_number(base) and _is_number(exponent):
            return original(conv, node)
        if not _is_number(exponent):
            raise Unmapped("a power with a tensor exponent has no TorchCanvas node")
        params = {"exponent": float(exponent)}
        return conv.add(node, "Pow", params, {"input": conv.tensor(node.args[0])})

    return handler


def _clamp(conv, node):
    params = {"min": _plain(conv, node, 1, "min"), "max": _plain(conv, node, 2, "max")}
    if any(v is not None and not _is_number(v) for v in params.values()):
        raise Unmapped("clamp with tensor bounds has no TorchCanvas node")
    params = {k: float(v) for k, v in params.items() if v is not None}
    return conv.add(node, "Clamp", params, {"input": conv.tensor(node.args[0])})


def _bernoulli(conv, node):
    p = _get(node, 1, "p")
    params = {} if p is None else {"p": float(_plain(conv, node, 1, "p"))}
    return conv.add(node, "Bernoulli", params, {"input": conv.tensor(node.args[0])})


def _normalize(conv, node):
    if _plain(conv, node, 3, "eps", 1e-12) != 1e-12 or _get(node, 4, "out") is not None:
        raise Unmapped("F.normalize with eps= or out= has no TorchCanvas node")
    params = {"p": float(_plain(conv, node, 1, "p", 2.0)), "dim": _plain(conv, node, 2, "dim", 1)}
    return conv.add(node, "Normalize", params, {"input": conv.tensor(node.args[0])})


def install() -> None:
    """Add the handlers of this module to the importer's tables."""
    for type_name, (function, method) in UNARY.items():
        FUNCTIONS[function] = _unary(type_name)
        if method:
            METHODS[method] = _unary(type_name)
    FUNCTIONS[torch.special.erf] = _unary("Erf")
    FUNCTIONS[operator.neg] = _tensor_or_number(FUNCTIONS[operator.neg])
    for op, functions, methods in (
        ("add", (operator.add, operator.iadd, torch.add), ("add", "add_")),
        ("sub", (operator.sub, operator.isub, torch.sub), ("sub",)),
        ("mul", (operator.mul, operator.imul, torch.mul), ("mul", "mul_")),
        ("div", (operator.truediv, operator.itruediv, torch.div), ("div", "div_")),
    ):
        for function in functions:
            FUNCTIONS[function] = _with_constant(op, FUNCTIONS.get(function))
        for method in methods:
            METHODS[method] = _with_constant(op, METHODS.get(method))
    for function in (operator.pow, torch.pow):
        FUNCTIONS[function] = _pow(FUNCTIONS.get(function, FUNCTIONS[operator.pow]))
    METHODS["pow"] = _pow(FUNCTIONS[operator.pow])
    for function in (torch.clamp, torch.clip):
        FUNCTIONS[function] = _clamp
    METHODS["clamp"] = METHODS["clip"] = _clamp
    FUNCTIONS[torch.bernoulli] = METHODS["bernoulli"] = _bernoulli
    FUNCTIONS[F.normalize] = _normalize


install()
