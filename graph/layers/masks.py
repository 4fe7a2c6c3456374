"""Masks as people write them in forward(): comparisons giving bool tensors (`x > 0`,
`a == b`), torch.where(cond, a, b) and x.masked_fill(mask, float("-inf"))."""

from __future__ import annotations

from torchcanvas.graph.expr import BinOp, Call
from torchcanvas.graph.layers.common import sample
from torchcanvas.graph.layers.elementwise import CATEGORY, number
from torchcanvas.graph.params import CHOICE, FLOAT, Param
from torchcanvas.graph.ports import ANY, PortSpec, TensorMeta
from torchcanvas.graph.registry import FUNCTION, LayerSpec, register
from torchcanvas.graph.rules import ShapeError, broadcast, promote

# A comparison's operators, as written between its operands.
COMPARISONS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<=", "eq": "==", "ne": "!="}
# What masked_fill writes where the mask is True: a number, or an infinity JSON cannot hold.
FILLS = {"value": None, "-inf": 'float("-inf")', "inf": 'float("inf")'}


def _port(name: str, doc: str, label: str, dtypes=ANY) -> PortSpec:
    return PortSpec(name, doc, dtypes=dtypes, batched=False, label=label)


def _op() -> Param:
    return Param(
        "op",
        CHOICE,
        "gt (>), ge (>=), lt (<), le (<=), eq (==) or ne (!=).",
        required=True,
        initial="gt",
        choices=tuple(COMPARISONS),
    )


def _compare(args: dict, ins: dict) -> dict:
    metas = [ins["input"], ins["other"]]
    return {"output": TensorMeta(broadcast(metas, "compare"), "bool")}


def _scalar_compare(args: dict, ins: dict) -> dict:
    return {"output": TensorMeta(ins["input"].shape, "bool")}


def _where(args: dict, ins: dict) -> dict:
    metas = [ins["condition"], ins["input"], ins["other"]]
    shape = broadcast(metas, "select from")
    return {"output": TensorMeta(shape, promote([ins["input"].dtype, ins["other"].dtype]))}


def _masked_fill(args: dict, ins: dict) -> dict:
    x, mask = ins["input"], ins["mask"]
    if broadcast([x, mask], "mask") != tuple(x.shape):
        raise ShapeError(f"the mask {mask.text()} must broadcast to the input {x.text()}")
    if args["fill"] != "value" and not x.is_float:
        raise ShapeError("only a float tensor can hold an infinity")
    return {"output": x}


def _compare_expr(values, args, ins, used):
    return BinOp(COMPARISONS[args["op"]], (values["input"], values["other"]))


def _scalar_compare_expr(values, args, ins, used):
    return BinOp(COMPARISONS[args["op"]], (values["input"], number(args["value"])))


def _where_expr(values, args, ins, used):
    return Call("torch.where", (values["condition"], values["input"], values["other"]))


def _masked_fill_expr(values, args, ins, used):
    fill = FILLS[args["fill"]] or number(args["value"])
    return Call(f"{values['input']}.masked_fill", (values["mask"], fill))


def _mask_layer(type_name, doc, prefix, inputs, infer, expr, examples, *params, **extra):
    return register(
        LayerSpec(
            type_name,
            CATEGORY,
            doc,
            prefix,
            FUNCTION,
            params=params,
            inputs=inputs,
            infer=infer,
            expr=expr,
            examples=examples,
            key_params=tuple(p.name for p in params)[:2],
            **extra,
        )
    )


_X = sample(3, 4)
_MASK = sample(3, 4, dtype="bool")
_mask_layer(
    "ScalarCompare",
    "A tensor compared with a constant, giving a bool mask: x > 0, ids == 0.",
    "mask",
    (_port("input", "The tensor compared.", "x"),),
    _scalar_compare,
    _scalar_compare_expr,
    (({"input": _X}, {"op": "gt", "value": 0.0}), ({"input": sample(5, dtype="int64")}, {})),
    _op(),
    Param("value", FLOAT, "The constant.", required=True, initial=0.0),
)
_mask_layer(
    "Compare",
    "Two tensors compared elementwise (broadcast), giving a bool mask: a == b, a < b.",
    "mask",
    (_port("input", "Left operand.", "a"), _port("other", "Right operand.", "b")),
    _compare,
    _compare_expr,
    (({"input": _X, "other": sample(1, 4)}, {"op": "eq"}),),
    _op(),
)
_mask_layer(
    "Where",
    "Picks from a where the condition is True, else from b: torch.where(cond, a, b).",
    "where",
    (
        _port("condition", "The bool mask.", "cond", dtypes=("bool",)),
        _port("input", "Taken where the condition is True.", "a"),
        _port("other", "Taken where it is False.", "b"),
    ),
    _where,
    _where_expr,
    (({"condition": _MASK, "input": _X, "other": sample(1, 4)}, {}),),
)
_mask_layer(
    "MaskedFill",
    'Sets the elements where the mask is True to a constant: x.masked_fill(mask, float("-inf")).',
    "masked",
    (
        _port("input", "The tensor filled.", "x"),
        _port("mask", "Where to fill (bool, broadcast to the input).", "mask", dtypes=("bool",)),
    ),
    _masked_fill,
    _masked_fill_expr,
    (
        ({"input": _X, "mask": sample(1, 4, dtype="bool")}, {"fill": "-inf"}),
        ({"input": _X, "mask": _MASK}, {"value": 0.5}),
    ),
    Param(
        "fill",
        CHOICE,
        "The constant value, or minus or plus infinity.",
        "value",
        choices=tuple(FILLS),
    ),
    Param("value", FLOAT, "The constant, when fill is value.", 0.0),
)
