"""Pooling."""

from __future__ import annotations

from torchcanvas.graph.layers.common import IMAGE, SIGNAL, VOLUME, sample, size, zero
from torchcanvas.graph.params import BOOL, Param
from torchcanvas.graph.registry import LayerSpec, register
from torchcanvas.graph.rules import ShapeError, as_tuple, pool_length, spatial_out


def _window(n: int) -> tuple[Param, Param]:
    return (
        size("kernel_size", "Size of the window.", n, required=True, initial=2, minimum=1),
        size(
            "stride", "Window stride; empty means kernel_size.", n, None, minimum=1, optional=True
        ),
    )


def _pool_rule(n: int, dilated: bool):
    def rule(args: dict, ins: dict) -> dict:
        x = ins["input"]
        kernel = as_tuple(args["kernel_size"], n)
        stride = as_tuple(args["stride"] if args["stride"] is not None else kernel, n)
        pad = as_tuple(args["padding"], n)
        dilation = as_tuple(args.get("dilation", 1), n)
        for k, p, d in zip(kernel, pad, dilation):
            # PyTorch's limit: half the (effective, for 1-D max pooling) window.
            half = ((k - 1) * d + 1) // 2 if dilated and n == 1 else k // 2
            if p > half:
                raise ShapeError(
                    f"padding {p} is more than half the window ({k}); lower padding "
                    f"or widen kernel_size"
                )
        lengths = [
            pool_length(length, k, s, p, d, args["ceil_mode"])
            for length, k, s, p, d in zip(x.per_sample[1:], kernel, stride, pad, dilation)
        ]
        return {"output": spatial_out(x, lengths, x.per_sample[0])}

    return rule


def _max_pool(n: int, port, examples) -> LayerSpec:
    return LayerSpec(
        f"MaxPool{n}d",
        "Pooling",
        "Keeps the largest value in each window.",
        "pool",
        inputs=(port,),
        key_params=("kernel_size", "stride"),
        params=(
            *_window(n),
            size("padding", "Implicit negative-infinity padding.", n, 0),
            size("dilation", "Spacing between window elements.", n, 1, minimum=1),
            Param("ceil_mode", BOOL, "Round the output size up.", False),
        ),
        infer=_pool_rule(n, dilated=True),
        count=zero,
        examples=examples,
    )


def _avg_pool(n: int, port, examples) -> LayerSpec:
    return LayerSpec(
        f"AvgPool{n}d",
        "Pooling",
        "Averages each window.",
        "avgpool",
        inputs=(port,),
        key_params=("kernel_size", "stride"),
        params=(
            *_window(n),
            size("padding", "Implicit zero padding.", n, 0),
            Param("ceil_mode", BOOL, "Round the output size up.", False),
            Param("count_include_pad", BOOL, "Count padding zeros in the average.", True),
        ),
        infer=_pool_rule(n, dilated=False),
        count=zero,
        examples=examples,
    )


def _adaptive(type_name: str, n: int, port, doc: str, examples) -> LayerSpec:
    def rule(args: dict, ins: dict) -> dict:
        x = ins["input"]
        return {"output": spatial_out(x, list(as_tuple(args["output_size"], n)), x.per_sample[0])}

    return LayerSpec(
        type_name,
        "Pooling",
        doc,
        "avgpool" if "Avg" in type_name else "maxpool",
        inputs=(port,),
        key_params=("output_size",),
        params=(
            size(
                "output_size",
                {1: "Target length.", 2: "Target (H, W).", 3: "Target (D, H, W)."}[n],
                n,
                required=True,
                initial=1,
                minimum=1,
                positional=True,
            ),
        ),
        infer=rule,
        count=zero,
        examples=examples,
    )


register(
    _max_pool(
        1,
        SIGNAL,
        (
            ({"input": sample(3, 20)}, {}),
            (
                {"input": sample(3, 11)},
                {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2},
            ),
        ),
    )
)
register(
    _max_pool(
        2,
        IMAGE,
        (
            ({"input": sample(3, 16, 16)}, {}),
            ({"input": sample(2, 15, 13)}, {"kernel_size": 3, "stride": 2, "ceil_mode": True}),
            ({"input": sample(2, 9, 9)}, {"kernel_size": 3, "stride": 1, "padding": 1}),
        ),
    )
)
register(
    _max_pool(
        3,
        VOLUME,
        (
            ({"input": sample(2, 6, 8, 8)}, {}),
            ({"input": sample(2, 5, 9, 7)}, {"kernel_size": [1, 3, 3], "stride": [1, 2, 2]}),
            (
                {"input": sample(2, 7, 7, 7)},
                {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
            ),
        ),
    )
)
register(
    _avg_pool(
        1,
        SIGNAL,
        (
            ({"input": sample(3, 20)}, {}),
            ({"input": sample(3, 11)}, {"kernel_size": 3, "stride": 2, "ceil_mode": True}),
        ),
    )
)
register(
    _avg_pool(
        2,
        IMAGE,
        (
            ({"input": sample(3, 16, 16)}, {}),
            ({"input": sample(2, 13, 9)}, {"kernel_size": 3, "stride": 2, "padding": 1}),
        ),
    )
)
register(
    _avg_pool(
        3,
        VOLUME,
        (
            ({"input": sample(2, 6, 8, 8)}, {}),
            (
                {"input": sample(2, 5, 7, 9)},
                {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False},
            ),
        ),
    )
)
register(
    _adaptive(
        "AdaptiveAvgPool1d",
        1,
        SIGNAL,
        "Averages down to a fixed length, whatever the input length.",
        (({"input": sample(3, 17)}, {"output_size": 4}),),
    )
)
register(
    _adaptive(
        "AdaptiveAvgPool2d",
        2,
        IMAGE,
        "Averages down to a fixed output size, whatever the input size.",
        (({"input": sample(3, 16, 16)}, {}), ({"input": sample(3, 9, 7)}, {"output_size": [3, 2]})),
    )
)
register(
    _adaptive(
        "AdaptiveAvgPool3d",
        3,
        VOLUME,
        "Averages a volume or clip down to a fixed size, whatever the input size.",
        (
            ({"input": sample(3, 4, 8, 8)}, {}),
            ({"input": sample(3, 5, 7, 6)}, {"output_size": [1, 2, 3]}),
        ),
    )
)
register(
    _adaptive(
        "AdaptiveMaxPool2d",
        2,
        IMAGE,
        "Keeps the largest values down to a fixed output size.",
        (({"input": sample(3, 16, 16)}, {"output_size": 2}),),
    )
)
