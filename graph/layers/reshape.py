"""Reshaping modules: Flatten, Unflatten, Identity, resizing and channel shuffles."""

from __future__ import annotations

import math

from torchcanvas.graph.layers.common import CHANNELS, sample, size, zero
from torchcanvas.graph.params import BOOL, CHOICE, DIMS, FLOAT, INT, Param
from torchcanvas.graph.ports import PortSpec
from torchcanvas.graph.registry import LayerSpec, register
from torchcanvas.graph.rules import ShapeError, as_tuple, data_dim, full_dim, prod, same, with_dims

UPSAMPLE_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear")
_MODE_RANKS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def _flatten(args: dict, ins: dict) -> dict:
    x = ins["input"]
    start, end = (
        full_dim(x, args["start_dim"], "start_dim"),
        full_dim(x, args["end_dim"], "end_dim"),
    )
    if start > end:
        raise ShapeError(f"start_dim ({args['start_dim']}) comes after end_dim ({args['end_dim']})")
    merged = x.shape[start : end + 1]
    if None in merged and len(merged) > 1:
        raise ShapeError(
            "this would merge the batch dimension into the features; use start_dim=1 "
            "(dim 0 is the batch)"
        )
    size_ = None if None in merged else prod(merged)
    return {"output": with_dims(x, (*x.shape[:start], size_, *x.shape[end + 1 :]))}


def unflatten_sizes(total: int, sizes, name: str) -> tuple:
    """`sizes` with its one -1 filled in so that the product is `total`."""
    if list(sizes).count(-1) > 1 or any(s == 0 or s < -1 for s in sizes):
        raise ShapeError(f"{name} may hold one -1 and otherwise positive sizes")
    known = prod(s for s in sizes if s != -1)
    if -1 in sizes:
        if total % known:
            raise ShapeError(f"{total} values do not fill {name} {list(sizes)}")
        return tuple(total // known if s == -1 else s for s in sizes)
    if known != total:
        raise ShapeError(
            f"{name} {list(sizes)} holds {known} values but the tensor has {total}; "
            f"make the sizes multiply to {total} (or use -1 for one of them)"
        )
    return tuple(sizes)


def _unflatten(args: dict, ins: dict) -> dict:
    x = ins["input"]
    index = data_dim(x, args["dim"])
    sizes = unflatten_sizes(x.shape[index], args["unflattened_size"], "unflattened_size")
    return {"output": with_dims(x, (*x.shape[:index], *sizes, *x.shape[index + 1 :]))}


def _channel_shuffle(args: dict, ins: dict) -> dict:
    channels = ins["input"].per_sample[0]
    if channels % args["groups"]:
        raise ShapeError(f"{channels} channels do not split into {args['groups']} groups")
    return same(args, ins)


def _upsample(args: dict, ins: dict) -> dict:
    x = ins["input"]
    spatial = x.per_sample[1:]
    mode, wanted = args["mode"], _MODE_RANKS.get(args["mode"])
    if not 1 <= len(spatial) <= 3 or (wanted and wanted != len(spatial)):
        raise ShapeError(
            f"mode '{mode}' cannot resize a {x.text()} tensor; use "
            f"{'bilinear' if len(spatial) == 2 else 'nearest'} for it"
        )
    if (args["size"] is None) == (args["scale_factor"] is None):
        raise ShapeError("give exactly one of size and scale_factor")
    if args["align_corners"] is not None and mode not in _MODE_RANKS:
        raise ShapeError("align_corners only applies to the linear, bilinear, bicubic modes")
    if args["size"] is not None:
        lengths = as_tuple(
            args["size"][0] if len(args["size"]) == 1 else args["size"], len(spatial)
        )
        if len(lengths) != len(spatial):
            raise ShapeError(f"size needs {len(spatial)} values for this input")
    else:
        lengths = tuple(math.floor(length * args["scale_factor"]) for length in spatial)
    if min(lengths) < 1:
        raise ShapeError("the resized output would be empty; raise scale_factor")
    return {"output": with_dims(x, (None, x.per_sample[0], *lengths))}


def _pixel_shuffle(args: dict, ins: dict) -> dict:
    x, factor = ins["input"], args["upscale_factor"]
    channels, height, width = x.per_sample
    if channels % (factor * factor):
        raise ShapeError(
            f"{channels} channels are not a multiple of upscale_factor squared ({factor**2})"
        )
    return {"output": with_dims(x, (None, channels // factor**2, height * factor, width * factor))}


def _zero_pad(args: dict, ins: dict) -> dict:
    x = ins["input"]
    left, right, top, bottom = as_tuple(args["padding"], 4)
    height, width = x.shape[-2] + top + bottom, x.shape[-1] + left + right
    if height < 1 or width < 1:
        raise ShapeError("negative padding crops away the whole image")
    return {"output": with_dims(x, (*x.shape[:-2], height, width))}


def _module(type_name: str, doc: str, prefix: str, infer, examples, *params, **extra):
    return register(
        LayerSpec(
            type_name,
            "Reshape",
            doc,
            prefix,
            params=params,
            inputs=extra.pop("inputs", (PortSpec("input"),)),
            infer=infer,
            count=zero,
            key_params=extra.pop("key_params", tuple(p.name for p in params)[:2]),
            examples=examples,
            **extra,
        )
    )


_dims = dict(minimum=-6, maximum=6)
_module(
    "Flatten",
    "Flattens each sample to a vector, e.g. (32, 7, 7) -> (1568,).",
    "flatten",
    _flatten,
    (({"input": sample(3, 4, 5)}, {}), ({"input": sample(2, 3, 4, 5)}, {"start_dim": 2})),
    Param("start_dim", INT, "First dimension to flatten (1 = first per sample).", 1, **_dims),
    Param("end_dim", INT, "Last dimension to flatten.", -1, **_dims),
    key_params=(),
)
_module(
    "Unflatten",
    "Splits one dimension into several, e.g. (1568,) -> (32, 7, 7).",
    "unflatten",
    _unflatten,
    (({"input": sample(24)}, {"unflattened_size": [2, 3, 4]}),),
    Param(
        "dim",
        INT,
        "Dimension to split (1 = first per sample).",
        required=True,
        initial=1,
        positional=True,
        **_dims,
    ),
    Param(
        "unflattened_size",
        DIMS,
        "The sizes it becomes; one may be -1.",
        required=True,
        initial=(1, -1),
        positional=True,
        minimum=-1,
        maximum=1 << 20,
    ),
    key_params=("unflattened_size",),
)
_module(
    "Identity",
    "Passes its input through unchanged.",
    "identity",
    same,
    (({"input": sample(5)}, {}),),
    inputs=(PortSpec("input", dtypes=("float32", "float64", "int64", "int32", "bool")),),
)
_module(
    "ChannelShuffle",
    "Interleaves channel groups, as in ShuffleNet.",
    "shuffle",
    _channel_shuffle,
    (({"input": sample(6, 4, 4)}, {"groups": 3}),),
    Param(
        "groups",
        INT,
        "Channel groups.",
        required=True,
        initial=2,
        minimum=1,
        maximum=CHANNELS,
        positional=True,
    ),
    inputs=(PortSpec("input", ranks=(2, 3, 4), rank_text="(C, ...)"),),
)
_module(
    "Upsample",
    "Resizes signals, images or volumes by a factor or to a size.",
    "upsample",
    _upsample,
    (
        ({"input": sample(3, 5, 6)}, {"scale_factor": 2.0}),
        ({"input": sample(3, 5, 6)}, {"size": [7, 9], "mode": "bilinear", "align_corners": False}),
        ({"input": sample(2, 9)}, {"scale_factor": 1.5, "mode": "linear"}),
        ({"input": sample(2, 3, 4, 5)}, {"scale_factor": 2.0, "mode": "trilinear"}),
        ({"input": sample(2, 3, 4, 5)}, {"size": [4, 6, 7]}),
    ),
    Param(
        "size",
        DIMS,
        "Output size (empty: use scale_factor).",
        None,
        optional=True,
        minimum=1,
        maximum=1 << 16,
    ),
    Param(
        "scale_factor",
        FLOAT,
        "Multiplier of each size.",
        None,
        optional=True,
        minimum=1e-3,
        maximum=1e3,
    ),
    Param("mode", CHOICE, "Interpolation.", "nearest", choices=UPSAMPLE_MODES),
    Param("align_corners", BOOL, "Align corner pixels (linear modes).", None, optional=True),
    inputs=(PortSpec("input", ranks=(2, 3, 4), rank_text="(C, ...)"),),
    key_params=("scale_factor", "mode"),
)
_module(
    "PixelShuffle",
    "Moves channels into space: (C*r*r, H, W) -> (C, H*r, W*r).",
    "pixel_shuffle",
    _pixel_shuffle,
    (({"input": sample(8, 3, 4)}, {"upscale_factor": 2}),),
    Param(
        "upscale_factor",
        INT,
        "r.",
        required=True,
        initial=2,
        minimum=1,
        maximum=64,
        positional=True,
    ),
    inputs=(PortSpec("input", ranks=(3,), rank_text="(C, H, W)"),),
)
_module(
    "ZeroPad2d",
    "Pads an image with zeros (negative values crop).",
    "pad",
    _zero_pad,
    (
        ({"input": sample(2, 5, 5)}, {"padding": 1}),
        ({"input": sample(2, 5, 5)}, {"padding": [1, 0, 2, -1]}),
    ),
    size(
        "padding",
        "Left, right, top, bottom (one number: all four).",
        4,
        required=True,
        initial=1,
        minimum=-4096,
        positional=True,
    ),
    inputs=(PortSpec("input", ranks=(2, 3), rank_text="(C, H, W)"),),
)
