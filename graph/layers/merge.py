"""Merges: several tensors in, one out (skip connections, gates, concatenation)."""

from __future__ import annotations

from torchcanvas.graph.expr import BinOp, Call, ListOf, literal
from torchcanvas.graph.layers.common import dim, sample
from torchcanvas.graph.ports import ANY, PortSpec, TensorMeta, slot_names
from torchcanvas.graph.registry import FUNCTION, LayerSpec, register
from torchcanvas.graph.rules import ShapeError, broadcast, data_dim, matmul_shape, promote


def _slots(ins: dict) -> list[TensorMeta]:
    return [ins[name] for name in slot_names(len(ins)) if name in ins]


def _elementwise(verb: str):
    def rule(args: dict, ins: dict) -> dict:
        metas = _slots(ins) if "0" in ins else [ins["input"], ins["other"]]
        shape = broadcast(metas, verb)
        return {"output": TensorMeta(shape, promote([m.dtype for m in metas]))}

    return rule


def _matmul(args: dict, ins: dict) -> dict:
    a, b = ins["input"], ins["other"]
    return {"output": TensorMeta(matmul_shape(a, b), promote([a.dtype, b.dtype]))}


def _concat(args: dict, ins: dict) -> dict:
    metas = _slots(ins)
    first = metas[0]
    if any(len(m.shape) != len(first.shape) or m.batch_dim != first.batch_dim for m in metas):
        listed = ", ".join(m.text() for m in metas)
        raise ShapeError(f"cannot concatenate tensors of different ranks ({listed})")
    axis = data_dim(first, args["dim"])
    for meta in metas[1:]:
        if any(a != b for i, (a, b) in enumerate(zip(meta.shape, first.shape)) if i != axis):
            listed = " and ".join(m.text() for m in metas)
            raise ShapeError(
                f"shapes {listed} differ outside dim {args['dim']}; make the other "
                f"dimensions equal (check strides and pooling)"
            )
    shape = list(first.shape)
    shape[axis] = sum(m.shape[axis] for m in metas)
    return {"output": TensorMeta(tuple(shape), promote([m.dtype for m in metas]))}


def _operands(values: dict) -> tuple:
    if "0" in values:
        return tuple(values[name] for name in slot_names(len(values)))
    return (values["input"], values["other"])


def _binop(op: str):
    return lambda values, args, ins, used: BinOp(op, _operands(values))


def _concat_expr(values, args, ins, used):
    return Call("torch.cat", (ListOf(_operands(values)),), (("dim", literal(args["dim"])),))


def _variadic(doc: str) -> tuple[PortSpec, ...]:
    return (PortSpec("inputs", doc, dtypes=ANY, variadic=True, minimum=2, batched=False),)


def _pair() -> tuple[PortSpec, ...]:
    return (
        PortSpec("input", "Left operand.", dtypes=ANY, batched=False, label="a"),
        PortSpec("other", "Right operand.", dtypes=ANY, batched=False, label="b"),
    )


def _merge(type_name, doc, prefix, inputs, infer, expr, examples, *params, **extra):
    return register(
        LayerSpec(
            type_name,
            "Merge",
            doc,
            prefix,
            FUNCTION,
            params=params,
            inputs=inputs,
            infer=infer,
            expr=expr,
            examples=examples,
            merge=True,
            **extra,
        )
    )


_IMG = sample(3, 4, 4)
_merge(
    "Add",
    "Adds tensors of equal (or broadcastable) shape: skip connections.",
    "add",
    _variadic("Tensors to add, in order."),
    _elementwise("add"),
    _binop("+"),
    (
        ({"0": _IMG, "1": _IMG}, {}),
        ({"0": sample(5, 8), "1": TensorMeta((1, 5, 8)), "2": sample(5, 8)}, {}),
    ),
    residual_join=True,
)
_merge(
    "Sub",
    "Subtracts the second tensor from the first.",
    "sub",
    _pair(),
    _elementwise("subtract"),
    _binop("-"),
    (({"input": _IMG, "other": _IMG}, {}),),
)
_merge(
    "Mul",
    "Multiplies elementwise: gates such as x * sigmoid(conv(x)).",
    "mul",
    _variadic("Tensors to multiply, in order."),
    _elementwise("multiply"),
    _binop("*"),
    (({"0": _IMG, "1": sample(3, 1, 1)}, {}),),
)
_merge(
    "MatMul",
    "Matrix product of the last two dimensions: a @ b.",
    "matmul",
    _pair(),
    _matmul,
    _binop("@"),
    (
        ({"input": sample(4, 6), "other": sample(6, 5)}, {}),
        ({"input": sample(2, 4, 6), "other": TensorMeta((6, 3))}, {}),
    ),
    flops=lambda args, ins, outs: 2 * ins["input"].shape[-1] * _elements(outs["output"]),
)
_merge(
    "Concat",
    "Concatenates tensors along a dimension (torch.cat); the order of the inputs counts.",
    "cat",
    _variadic("Tensors to join, in order."),
    _concat,
    _concat_expr,
    (({"0": _IMG, "1": sample(5, 4, 4)}, {}), ({"0": sample(3, 2), "1": sample(3, 7)}, {"dim": 2})),
    dim("Dimension to join along (1 = channels)."),
    key_params=("dim",),
)


def _elements(meta: TensorMeta) -> int:
    total = 1
    for size in meta.per_sample:
        total *= size
    return total
