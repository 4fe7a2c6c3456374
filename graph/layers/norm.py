"""Normalization layers: the output has the input's shape."""

from __future__ import annotations

from torchcanvas.graph.layers.common import CHANNELS, VOLUME, eps, num_features, sample, zero
from torchcanvas.graph.params import BOOL, FLOAT, INT, SHAPE, Param
from torchcanvas.graph.ports import PortSpec
from torchcanvas.graph.registry import LayerSpec, register
from torchcanvas.graph.rules import ShapeError, prod, same


def _momentum() -> Param:
    return Param("momentum", FLOAT, "Running-statistics momentum.", 0.1, minimum=0, maximum=1)


def _affine_count(key: str, flag: str = "affine"):
    return lambda args: 2 * args[key] if args[flag] else 0


def _batchnorm(type_name: str, port: PortSpec, doc: str, examples) -> LayerSpec:
    return LayerSpec(
        type_name,
        "Normalization",
        doc,
        "bn",
        inputs=(port,),
        params=(
            num_features(),
            eps(),
            _momentum(),
            Param("affine", BOOL, "Learn a scale and shift.", True),
            Param("track_running_stats", BOOL, "Keep running mean and variance.", True),
        ),
        infer=same,
        count=_affine_count("num_features"),
        examples=examples,
    )


def _group_norm(args: dict, ins: dict) -> dict:
    if args["num_channels"] % args["num_groups"]:
        raise ShapeError(
            f"{args['num_channels']} channels do not split into {args['num_groups']} groups; "
            f"choose num_groups that divides {args['num_channels']}"
        )
    return same(args, ins)


def _instance_norm(n: int, port: PortSpec, what: str, example) -> LayerSpec:
    return LayerSpec(
        f"InstanceNorm{n}d",
        "Normalization",
        f"Normalizes each channel of each {what} on its own (style transfer, GANs).",
        "inorm",
        inputs=(port,),
        params=(
            num_features(),
            eps(),
            _momentum(),
            Param("affine", BOOL, "Learn a scale and shift.", False),
            Param("track_running_stats", BOOL, "Keep running mean and variance.", False),
        ),
        infer=same,
        count=_affine_count("num_features"),
        examples=(({"input": example}, {}), ({"input": example}, {"affine": True})),
    )


def _layer_norm_count(args: dict) -> int:
    if not args["elementwise_affine"]:
        return 0
    return prod(args["normalized_shape"]) * (2 if args["bias"] else 1)


register(
    _batchnorm(
        "BatchNorm1d",
        PortSpec("input", ranks=(1, 2), rank_text="(C,) or (C, L)"),
        "Batch normalization over (C,) or (C, L).",
        (({"input": sample(12)}, {}), ({"input": sample(5, 7)}, {"affine": False})),
    )
)
register(
    _batchnorm(
        "BatchNorm2d",
        PortSpec("input", ranks=(3,), rank_text="(C, H, W)"),
        "Batch normalization of each image channel.",
        (({"input": sample(3, 6, 6)}, {}),),
    )
)
register(
    _batchnorm(
        "BatchNorm3d",
        VOLUME,
        "Batch normalization of each channel of a volume or clip (C, D, H, W).",
        (({"input": sample(3, 4, 5, 5)}, {}), ({"input": sample(2, 3, 3, 3)}, {"affine": False})),
    )
)
register(
    LayerSpec(
        "LayerNorm",
        "Normalization",
        "Normalizes over the trailing dimensions of a sample.",
        "ln",
        key_params=("normalized_shape",),
        params=(
            Param(
                "normalized_shape",
                SHAPE,
                "Trailing dimensions to normalize over.",
                required=True,
                initial=(1,),
                positional=True,
                auto="last_dim",
            ),
            eps(),
            Param("elementwise_affine", BOOL, "Learn a scale and shift.", True),
            Param("bias", BOOL, "Learn the shift (with elementwise_affine).", True),
        ),
        infer=same,
        count=_layer_norm_count,
        examples=(
            ({"input": sample(7, 16)}, {}),
            ({"input": sample(3, 4, 5)}, {"normalized_shape": [4, 5], "bias": False}),
        ),
    )
)
register(
    LayerSpec(
        "GroupNorm",
        "Normalization",
        "Normalizes groups of channels; batch-size independent.",
        "gn",
        inputs=(PortSpec("input", ranks=(1, 2, 3, 4), rank_text="(C, ...)"),),
        key_params=("num_groups",),
        params=(
            Param(
                "num_groups",
                INT,
                "Number of channel groups.",
                required=True,
                initial=4,
                minimum=1,
                maximum=CHANNELS,
                positional=True,
            ),
            num_features("num_channels"),
            eps(),
            Param("affine", BOOL, "Learn a scale and shift.", True),
        ),
        infer=_group_norm,
        count=_affine_count("num_channels"),
        examples=(({"input": sample(8, 6, 6)}, {}), ({"input": sample(6, 5)}, {"num_groups": 3})),
    )
)
for _n, _port, _what, _example in (
    (1, PortSpec("input", ranks=(2,), rank_text="(C, L)"), "signal", sample(3, 9)),
    (2, PortSpec("input", ranks=(3,), rank_text="(C, H, W)"), "image", sample(3, 6, 6)),
    (3, VOLUME, "volume", sample(2, 3, 4, 4)),
):
    register(_instance_norm(_n, _port, _what, _example))
register(
    LayerSpec(
        "LocalResponseNorm",
        "Normalization",
        "Normalizes across neighbouring channels, as in AlexNet.",
        "lrn",
        inputs=(PortSpec("input", ranks=(2, 3, 4), rank_text="(C, ...)"),),
        key_params=("size",),
        params=(
            Param(
                "size",
                INT,
                "Neighbouring channels used.",
                required=True,
                initial=5,
                minimum=1,
                maximum=CHANNELS,
                positional=True,
            ),
            Param("alpha", FLOAT, "Multiplicative factor.", 1e-4, minimum=0, maximum=1e3),
            Param("beta", FLOAT, "Exponent.", 0.75, minimum=0, maximum=1e3),
            Param("k", FLOAT, "Additive factor.", 1.0, minimum=0, maximum=1e3),
        ),
        infer=same,
        count=zero,
        examples=(({"input": sample(6, 5, 5)}, {"size": 3}),),
    )
)
