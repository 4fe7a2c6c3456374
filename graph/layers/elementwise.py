"""Elementwise math written as expressions in forward(): torch.exp(x), 0.5 * x, x**2, and
the sampling functions of a VAE's reparameterization (torch.randn_like(std))."""

from __future__ import annotations

from torchcanvas.graph.expr import Call, literal
from torchcanvas.graph.layers.common import sample
from torchcanvas.graph.params import BOOL, CHOICE, FLOAT, INT, Param
from torchcanvas.graph.ports import ANY, PortSpec, TensorMeta
from torchcanvas.graph.registry import FUNCTION, LayerSpec, register
from torchcanvas.graph.rules import ShapeError, data_dim
from torchcanvas.graph.symbolic import source_of

CATEGORY = "Math"
# ScalarOp's operators, as written between the tensor and the number.
FLOATS = ("float32", "float64", "float16", "bfloat16")
OPERATORS = {"mul": "*", "div": "/", "add": "+", "sub": "-"}


def number(value: float) -> str:
    """A constant as people write it: 8 rather than 8.0 (`x / 8`), 0.5 as 0.5."""
    if source_of(value) is not None:  # inside a block: the parameter it is bound to
        return literal(value)
    if float(value).is_integer() and abs(value) < 1 << 53:
        return literal(int(value))
    return literal(float(value))


def _same(args: dict, ins: dict) -> dict:
    return {"output": ins["input"]}


def _floating(args: dict, ins: dict) -> dict:
    x = ins["input"]
    return {"output": x if x.is_float else TensorMeta(x.shape, "float32")}


def _clamp(args: dict, ins: dict) -> dict:
    if args.get("min") is None and args.get("max") is None:
        raise ShapeError("Clamp needs a min, a max or both")
    if None not in (args.get("min"), args.get("max")) and args["min"] > args["max"]:
        raise ShapeError(f"min {args['min']} is above max {args['max']}")
    return _same(args, ins)


def _scalar(args: dict, ins: dict) -> dict:
    """A float tensor keeps its dtype; an integer one stays integer unless the number is
    fractional or the op divides, as torch promotes."""
    x = ins["input"]
    if x.is_float:
        return {"output": x}
    fractional = not float(args["value"]).is_integer()
    if args["op"] == "div" or fractional:
        return {"output": TensorMeta(x.shape, "float32")}
    return {"output": TensorMeta(x.shape, "int64" if x.dtype == "bool" else x.dtype)}


def _normalize(args: dict, ins: dict) -> dict:
    data_dim(ins["input"], args["dim"])
    return _same(args, ins)


def _function(name: str):
    return lambda values, args, ins, used: Call(name, (values["input"],))


def _neg(values, args, ins, used):
    return f"-{values['input']}"


def _pow(values, args, ins, used):
    return f"{values['input']}**{number(args['exponent'])}"  # ruff hugs a simple power


def _clamp_expr(values, args, ins, used):
    bounds = tuple((k, number(args[k])) for k in ("min", "max") if args.get(k) is not None)
    return Call("torch.clamp", (values["input"],), bounds)


def _scalar_expr(values, args, ins, used):
    operands = [values["input"], number(args["value"])]
    if args["reverse"]:
        operands.reverse()
    return f" {OPERATORS[args['op']]} ".join(operands)


def _bernoulli_expr(values, args, ins, used):
    extra = () if args.get("p") is None else (number(args["p"]),)
    return Call("torch.bernoulli", (values["input"], *extra))


def _normalize_expr(values, args, ins, used):
    # F.normalize's defaults (p=2.0, dim=1) are left out, as people leave them out.
    kwargs = [("p", number(args["p"]))] if args["p"] != 2.0 else []
    kwargs += [("dim", literal(args["dim"]))] if args["dim"] != 1 else []
    return Call("F.normalize", (values["input"],), tuple(kwargs))


def _math(type_name, doc, prefix, infer, expr, examples, *params, dtypes=ANY, **extra):
    return register(
        LayerSpec(
            type_name,
            CATEGORY,
            doc,
            prefix,
            FUNCTION,
            params=params,
            inputs=(PortSpec("input", extra.pop("port_doc", ""), dtypes=dtypes, batched=False),),
            infer=infer,
            expr=expr,
            examples=examples,
            key_params=extra.pop("key_params", tuple(p.name for p in params)[:2]),
            call_args=extra.pop("call_args", True),  # torch.exp(0.5 * x) needs no brackets
            **extra,
        )
    )


_X = sample(3, 4)
_IDS = sample(5, dtype="int64")
for _type, _function_name, _doc, _rule in (
    ("Exp", "torch.exp", "e to the power of each element: torch.exp(x).", _floating),
    ("Log", "torch.log", "Natural logarithm of each element: torch.log(x).", _floating),
    ("Sqrt", "torch.sqrt", "Square root of each element: torch.sqrt(x).", _floating),
    ("Rsqrt", "torch.rsqrt", "1 / sqrt of each element: torch.rsqrt(x).", _floating),
    ("Abs", "torch.abs", "Absolute value of each element: torch.abs(x).", _same),
    ("Sin", "torch.sin", "Sine of each element: torch.sin(x).", _floating),
    ("Cos", "torch.cos", "Cosine of each element: torch.cos(x).", _floating),
    ("Erf", "torch.erf", "The error function of each element: torch.erf(x).", _floating),
):
    _math(
        _type,
        _doc,
        _type.lower(),
        _rule,
        _function(_function_name),
        (({"input": _X}, {}), ({"input": _IDS}, {})),
    )
_math(
    "Neg", "Negates each element: -x.", "neg", _same, _neg, (({"input": _X}, {}),), call_args=False
)
_math(
    "Pow",
    "Raises each element to a constant power: x**2, x**0.5.",
    "pow",
    _same,
    _pow,
    (({"input": _X}, {}), ({"input": _X}, {"exponent": -0.5})),
    Param("exponent", FLOAT, "The constant exponent.", required=True, initial=2.0),
    dtypes=FLOATS,
    call_args=False,
)
_math(
    "Clamp",
    "Limits each element to [min, max]: torch.clamp(x, min=0, max=6).",
    "clamp",
    _clamp,
    _clamp_expr,
    (({"input": _X}, {"min": -0.5, "max": 0.5}), ({"input": _X}, {"min": 0.0})),
    Param("min", FLOAT, "Lower bound (empty: none).", None, optional=True),
    Param("max", FLOAT, "Upper bound (empty: none).", None, optional=True),
    dtypes=FLOATS,
)
_math(
    "ScalarOp",
    "A tensor and a constant number: 0.5 * x, x / 8, 1 - x, x + 1.",
    "scaled",
    _scalar,
    _scalar_expr,
    (
        ({"input": _X}, {"op": "mul", "value": 0.5}),
        ({"input": _X}, {"op": "sub", "value": 1.0, "reverse": True}),
        ({"input": _X}, {"op": "div", "value": 8.0}),
        ({"input": _IDS}, {"op": "add", "value": 1.0}),
    ),
    Param(
        "op",
        CHOICE,
        "mul (*), div (/), add (+) or sub (-).",
        required=True,
        initial="mul",
        choices=tuple(OPERATORS),
    ),
    Param("value", FLOAT, "The constant.", required=True, initial=0.5),
    Param("reverse", BOOL, "The constant comes first: 1 - x, 2 / x.", False),
    key_params=("op", "value", "reverse"),
    call_args=False,
    inline=True,
)
for _type, _function_name, _doc in (
    ("RandnLike", "torch.randn_like", "Normal noise shaped like the input; samples in eval too."),
    (
        "RandLike",
        "torch.rand_like",
        "Uniform noise in [0, 1) shaped like the input; samples in eval too.",
    ),
):
    _math(
        _type,
        _doc,
        _type.lower(),
        _same,
        _function(_function_name),
        (({"input": _X}, {}),),
        dtypes=FLOATS,
        samples=True,
    )
_math(
    "Bernoulli",
    "0/1 samples, each 1 with the input's probability (or p); samples in eval too.",
    "bernoulli",
    _same,
    _bernoulli_expr,
    (({"input": _X}, {"p": 0.5}),),
    Param(
        "p",
        FLOAT,
        "One probability for every element (empty: the input's values).",
        None,
        optional=True,
        minimum=0.0,
        maximum=1.0,
    ),
    dtypes=FLOATS,
    samples=True,
)
_math(
    "Normalize",
    "Divides by the p-norm along a dimension: F.normalize(x, dim=-1).",
    "normalized",
    _normalize,
    _normalize_expr,
    (({"input": _X}, {}), ({"input": sample(2, 3, 4)}, {"dim": -1, "p": 1.0})),
    Param("p", FLOAT, "The norm's exponent (2: Euclidean length).", 2.0, minimum=0.0),
    Param(
        "dim",
        INT,
        "Dimension whose norm becomes 1 (1 = first per sample).",
        1,
        minimum=-6,
        maximum=6,
    ),
    dtypes=FLOATS,
    imports=("import torch.nn.functional as F",),
)
