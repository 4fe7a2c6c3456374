"""Tensor operations written as expressions in forward(): x.permute(...), x[:, -1], ..."""

from __future__ import annotations

from torchcanvas.graph.expr import Call, Index, literal
from torchcanvas.graph.layers.common import sample
from torchcanvas.graph.layers.reshape import unflatten_sizes
from torchcanvas.graph.params import BOOL, CHOICE, DIMS, INT, Param
from torchcanvas.graph.ports import ANY, FLOAT, PortSpec, TensorMeta
from torchcanvas.graph.registry import FUNCTION, LayerSpec, register
from torchcanvas.graph.rules import ShapeError, data_dim, full_dim, prod, with_dims

CASTS = {
    "float32": "float",
    "float64": "double",
    "float16": "half",
    "bfloat16": "bfloat16",
    "int64": "long",
    "int32": "int",
    "bool": "bool",
}
_DIM = dict(minimum=-6, maximum=6)


def _method(name: str, *args, **kwargs):
    """An expression builder for `x.name(args..., key=value)`."""

    def expr(values: dict, params: dict, ins: dict, used: set):
        positional = tuple(literal(params[a]) for a in args)
        keywords = tuple((k, literal(params[p])) for k, p in kwargs.items())
        return Call(f"{values['input']}.{name}", positional, keywords)

    return expr


def _index_text(dim: int, item: str) -> str:
    """`:, :, item` for a dim counted from the front, `..., item, :` from the back."""
    if dim >= 0:
        return ", ".join([":"] * dim + [item])
    return ", ".join(["..."] + [item] + [":"] * (-dim - 1))


def _op(type_name: str, doc: str, prefix: str, infer, expr, examples, *params, **extra):
    return register(
        LayerSpec(
            type_name,
            "Reshape",
            doc,
            prefix,
            FUNCTION,
            params=params,
            inputs=extra.pop("inputs", (PortSpec("input", dtypes=ANY, batched=False),)),
            outputs=extra.pop("outputs", (PortSpec("output"),)),
            infer=infer,
            expr=expr,
            key_params=extra.pop("key_params", tuple(p.name for p in params)[:2]),
            examples=examples,
            **extra,
        )
    )


# ----- rules ----------------------------------------------------------------------------------
def _reshape(args: dict, ins: dict) -> dict:
    x = ins["input"]
    if x.batch_dim != 0:
        raise ShapeError(f"Reshape needs the batch first, but receives {x.text()}")
    sizes = unflatten_sizes(prod(x.per_sample), args["shape"], "shape")
    return {"output": TensorMeta.sample(sizes, x.dtype)}


def _permute(args: dict, ins: dict) -> dict:
    x = ins["input"]
    dims = [full_dim(x, d, "dims") for d in args["dims"]]
    if sorted(dims) != list(range(len(x.shape))):
        raise ShapeError(
            f"dims {list(args['dims'])} must list each of the {len(x.shape)} dimensions "
            f"(batch included) once, e.g. {list(range(len(x.shape)))}"
        )
    return {"output": with_dims(x, [x.shape[d] for d in dims])}


def _transpose(args: dict, ins: dict) -> dict:
    x = ins["input"]
    a, b = full_dim(x, args["dim0"], "dim0"), full_dim(x, args["dim1"], "dim1")
    shape = list(x.shape)
    shape[a], shape[b] = shape[b], shape[a]
    return {"output": with_dims(x, shape)}


def _squeeze(args: dict, ins: dict) -> dict:
    x = ins["input"]
    index = data_dim(x, args["dim"])
    if x.shape[index] != 1:
        return {
            "output": x,
            "_warning": f"dim {args['dim']} has size {x.shape[index]}, so squeeze leaves it",
        }
    return {"output": with_dims(x, x.shape[:index] + x.shape[index + 1 :])}


def _unsqueeze(args: dict, ins: dict) -> dict:
    x = ins["input"]
    index = full_dim(x, args["dim"], allow_end=True)
    return {"output": with_dims(x, (*x.shape[:index], 1, *x.shape[index:]))}


def _select(args: dict, ins: dict) -> dict:
    x = ins["input"]
    index = data_dim(x, args["dim"])
    length = x.shape[index]
    if not -length <= args["index"] < length:
        raise ShapeError(f"index {args['index']} is outside a dimension of size {length}")
    return {"output": with_dims(x, x.shape[:index] + x.shape[index + 1 :])}


def _slice(args: dict, ins: dict) -> dict:
    x = ins["input"]
    index = data_dim(x, args["dim"])
    kept = len(range(*slice(args["start"], args["end"], args["step"]).indices(x.shape[index])))
    if kept < 1:
        raise ShapeError(f"the slice keeps nothing of a dimension of size {x.shape[index]}")
    return {"output": with_dims(x, (*x.shape[:index], kept, *x.shape[index + 1 :]))}


def _reduce(integer_result: str | None):
    def rule(args: dict, ins: dict) -> dict:
        x = ins["input"]
        dims = {data_dim(x, d) for d in args["dim"]}
        if len(dims) != len(args["dim"]):
            raise ShapeError("dim lists a dimension twice")
        if args["keepdim"]:
            shape = [1 if i in dims else d for i, d in enumerate(x.shape)]
        else:
            shape = [d for i, d in enumerate(x.shape) if i not in dims]
        dtype = x.dtype if x.is_float or integer_result is None else integer_result
        return {"output": TensorMeta(tuple(shape), dtype)}

    return rule


def _chunk(args: dict, ins: dict) -> dict:
    x = ins["input"]
    index = data_dim(x, args["dim"])
    length, chunks = x.shape[index], args["chunks"]
    step = -(-length // chunks)
    made = -(-length // step)
    if made != chunks:
        raise ShapeError(
            f"a size of {length} splits into {made} chunks of up to {step}, not {chunks}; "
            f"choose chunks that divides {length}"
        )
    return _pieces(x, index, [min(step, length - i * step) for i in range(chunks)])


def _pieces(x: TensorMeta, index: int, sizes: list[int]) -> dict:
    return {
        str(i): with_dims(x, (*x.shape[:index], s, *x.shape[index + 1 :]))
        for i, s in enumerate(sizes)
    }


def _split(args: dict, ins: dict) -> dict:
    x = ins["input"]
    index = data_dim(x, args["dim"])
    if sum(args["split_size_or_sections"]) != x.shape[index]:
        raise ShapeError(
            f"the sections {list(args['split_size_or_sections'])} add up to "
            f"{sum(args['split_size_or_sections'])}, not {x.shape[index]}"
        )
    return _pieces(x, index, list(args["split_size_or_sections"]))


def _cast(args: dict, ins: dict) -> dict:
    return {"output": TensorMeta(ins["input"].shape, args["dtype"])}


def _expand(args: dict, ins: dict) -> dict:
    x, like = ins["input"], ins["like"]
    if x.batched or not x.shape or x.shape[0] != 1:
        raise ShapeError(
            f"Expand repeats a tensor without batch whose first size is 1 (a Parameter "
            f"such as [1, 1, 64]), but receives {x.text()}"
        )
    if like.batch_dim != 0:
        raise ShapeError(f"like must have the batch first, but is {like.text()}")
    return {"output": TensorMeta((None, *x.shape[1:]), x.dtype)}


# ----- expressions ----------------------------------------------------------------------------
def _reshape_expr(values, args, ins, used):
    x = values["input"]
    return Call(f"{x}.reshape", (f"{x}.size(0)", *(literal(s) for s in args["shape"])))


def _dims_expr(name: str, key: str):
    def expr(values, args, ins, used):
        return Call(f"{values['input']}.{name}", tuple(literal(d) for d in args[key]))

    return expr


def _select_expr(values, args, ins, used):
    return Index(values["input"], _index_text(args["dim"], str(args["index"])))


def _slice_expr(values, args, ins, used):
    start, end, step = args["start"], args["end"], args["step"]
    text = f"{'' if start is None else start}:{'' if end is None else end}"
    if step != 1:
        text += f":{step}"
    return Index(values["input"], _index_text(args["dim"], text))


def _reduce_expr(name: str):
    def expr(values, args, ins, used):
        dims = args["dim"]
        keywords = [("dim", literal(dims[0] if len(dims) == 1 else tuple(dims)))]
        if args["keepdim"]:
            keywords.append(("keepdim", "True"))
        return Call(f"{values['input']}.{name}", (), tuple(keywords))

    return expr


def _cast_expr(values, args, ins, used):
    return Call(f"{values['input']}.{CASTS[args['dtype']]}")


def _expand_expr(values, args, ins, used):
    rest = ("-1",) * (len(ins["input"].shape) - 1)
    return Call(f"{values['input']}.expand", (f"{values['like']}.size(0)", *rest))


_op(
    "Reshape",
    "Reshapes each sample, e.g. (192,) -> (3, 8, 8); one size may be -1.",
    "reshape",
    _reshape,
    _reshape_expr,
    (({"input": sample(3, 8)}, {"shape": [4, -1]}), ({"input": sample(24)}, {"shape": [2, 3, 4]})),
    Param(
        "shape",
        DIMS,
        "Per-sample shape; one size may be -1.",
        required=True,
        initial=(-1,),
        minimum=-1,
        maximum=1 << 20,
    ),
)
_op(
    "Permute",
    "Reorders dimensions (0 is the batch), e.g. (0, 2, 1) swaps the last two.",
    "permute",
    _permute,
    _dims_expr("permute", "dims"),
    (
        ({"input": sample(3, 8)}, {"dims": [0, 2, 1]}),
        ({"input": sample(3, 4, 5)}, {"dims": [0, 2, 3, 1]}),
    ),
    Param(
        "dims",
        DIMS,
        "New order of the dimensions, batch included.",
        required=True,
        initial=(0, 2, 1),
        **_DIM,
    ),
)
_op(
    "Transpose",
    "Swaps two dimensions (0 is the batch).",
    "transpose",
    _transpose,
    _method("transpose", "dim0", "dim1"),
    (({"input": sample(3, 8)}, {}), ({"input": sample(2, 3, 4)}, {"dim0": -1, "dim1": 1})),
    Param("dim0", INT, "First dimension.", required=True, initial=1, positional=True, **_DIM),
    Param("dim1", INT, "Second dimension.", required=True, initial=2, positional=True, **_DIM),
)
_op(
    "Squeeze",
    "Removes a dimension of size 1.",
    "squeeze",
    _squeeze,
    _method("squeeze", "dim"),
    (({"input": sample(1, 8)}, {"dim": 1}), ({"input": sample(4, 1)}, {"dim": -1})),
    Param("dim", INT, "The dimension to remove.", required=True, initial=1, **_DIM),
)
_op(
    "Unsqueeze",
    "Inserts a dimension of size 1.",
    "unsqueeze",
    _unsqueeze,
    _method("unsqueeze", "dim"),
    (({"input": sample(8)}, {"dim": 1}), ({"input": sample(4, 2)}, {"dim": -1})),
    Param("dim", INT, "Where the new dimension goes.", required=True, initial=1, **_DIM),
)
_op(
    "Select",
    "Picks one index along a dimension: x[:, -1] is the last step of a sequence.",
    "select",
    _select,
    _select_expr,
    (
        ({"input": sample(5, 8)}, {}),
        ({"input": sample(5, 8)}, {"dim": 2, "index": 0}),
        ({"input": TensorMeta((2, None, 7))}, {"dim": 0, "index": -1}),
    ),
    Param(
        "dim", INT, "Dimension to index (1 = first per sample).", required=True, initial=1, **_DIM
    ),
    Param(
        "index",
        INT,
        "Index; negative counts from the end.",
        required=True,
        initial=-1,
        minimum=-(1 << 20),
        maximum=1 << 20,
    ),
)
_op(
    "Slice",
    "Keeps a range along a dimension: x[:, 1:], x[:, :-1], x[:, ::2].",
    "slice",
    _slice,
    _slice_expr,
    (
        ({"input": sample(6, 3)}, {"start": 1}),
        ({"input": sample(6, 3)}, {"dim": -1, "end": -1, "step": 2}),
    ),
    Param(
        "dim", INT, "Dimension to slice (1 = first per sample).", required=True, initial=1, **_DIM
    ),
    Param(
        "start",
        INT,
        "First index kept (empty: from the start).",
        None,
        optional=True,
        minimum=-(1 << 20),
        maximum=1 << 20,
    ),
    Param(
        "end",
        INT,
        "Index where it stops (empty: to the end).",
        None,
        optional=True,
        minimum=-(1 << 20),
        maximum=1 << 20,
    ),
    Param("step", INT, "Step.", 1, minimum=1, maximum=1 << 20),
    key_params=("dim", "start", "end"),
)
for _name, _doc, _int_result, _dtypes in (
    ("Mean", "Averages over dimensions, e.g. dim (2, 3) pools an image globally.", None, FLOAT),
    ("Sum", "Sums over dimensions.", "int64", ANY),
):
    _op(
        _name,
        _doc,
        _name.lower(),
        _reduce(_int_result),
        _reduce_expr(_name.lower()),
        (
            ({"input": sample(3, 4, 5)}, {"dim": [2, 3]}),
            ({"input": sample(6, 2)}, {"dim": 1, "keepdim": True}),
        ),
        Param(
            "dim",
            DIMS,
            "Dimensions to reduce (1 = first per sample).",
            required=True,
            initial=(1,),
            **_DIM,
        ),
        Param("keepdim", BOOL, "Keep reduced dimensions with size 1.", False),
        inputs=(PortSpec("input", dtypes=_dtypes, batched=False),),
    )
_op(
    "Chunk",
    "Splits into equal chunks along a dimension; each chunk is an output.",
    "chunk",
    _chunk,
    _method("chunk", "chunks", dim="dim"),
    (({"input": sample(6, 4)}, {}), ({"input": sample(4, 9)}, {"chunks": 3, "dim": 2})),
    Param(
        "chunks",
        INT,
        "How many chunks (outputs).",
        required=True,
        initial=2,
        minimum=1,
        maximum=64,
        positional=True,
    ),
    Param("dim", INT, "Dimension to split (1 = first per sample).", 1, **_DIM),
    outputs=(PortSpec("chunk", variadic=True),),
    output_count=lambda args: args["chunks"],
)
_op(
    "Split",
    "Splits into sections of given sizes along a dimension; each is an output.",
    "split",
    _split,
    _method("split", "split_size_or_sections", dim="dim"),
    (({"input": sample(5, 4)}, {"split_size_or_sections": [2, 3]}),),
    Param(
        "split_size_or_sections",
        DIMS,
        "Size of each section (outputs).",
        required=True,
        initial=(1, 1),
        minimum=1,
        maximum=1 << 20,
        positional=True,
    ),
    Param("dim", INT, "Dimension to split (1 = first per sample).", 1, **_DIM),
    outputs=(PortSpec("section", variadic=True),),
    output_count=lambda args: len(args["split_size_or_sections"]),
    key_params=("split_size_or_sections", "dim"),
)
_op(
    "Cast",
    "Converts the element type: x.float(), x.long(), x.bool(), ...",
    "cast",
    _cast,
    _cast_expr,
    (({"input": sample(4, dtype="int64")}, {}), ({"input": sample(3)}, {"dtype": "bool"})),
    Param(
        "dtype",
        CHOICE,
        "The new element type.",
        required=True,
        initial="float32",
        choices=tuple(CASTS),
    ),
)
_op(
    "Expand",
    "Repeats a tensor without batch (a class token) over the batch of `like`.",
    "expand",
    _expand,
    _expand_expr,
    (({"input": TensorMeta((1, 1, 8)), "like": sample(5, 8)}, {}),),
    inputs=(
        PortSpec("input", "A tensor without batch, first size 1.", dtypes=ANY, batched=False),
        PortSpec("like", "Any tensor of the batch to match.", dtypes=ANY, label="like"),
    ),
)
