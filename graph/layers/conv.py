"""Convolutions."""

from __future__ import annotations

from torchcanvas.graph.layers.common import (
    CHANNELS,
    IMAGE,
    SIGNAL,
    VOLUME,
    bias,
    in_channels,
    out_channels,
    sample,
    size,
    weight_init,
)
from torchcanvas.graph.params import CHOICE, INT, Param
from torchcanvas.graph.registry import LayerSpec, register
from torchcanvas.graph.rules import ShapeError, as_tuple, conv_length, prod, spatial_out

KEY = ("out_channels", "kernel_size", "stride", "padding")


def _groups_fit(args: dict) -> None:
    groups = args["groups"]
    if args["in_channels"] % groups or args["out_channels"] % groups:
        raise ShapeError(
            f"in_channels ({args['in_channels']}) and out_channels ({args['out_channels']}) "
            f"must both be divisible by groups ({groups}); change groups or the channels"
        )


def _conv_rule(n: int):
    def rule(args: dict, ins: dict) -> dict:
        x = ins["input"]
        _groups_fit(args)
        kernel, stride, dilation = (
            as_tuple(args[key], n) for key in ("kernel_size", "stride", "dilation")
        )
        spatial = x.per_sample[1:]
        if args["padding"] == "same":
            if any(s != 1 for s in stride):
                raise ShapeError("padding='same' needs stride 1; give padding as a number")
            return {"output": spatial_out(x, list(spatial), args["out_channels"])}
        pad = (0,) * n if args["padding"] == "valid" else as_tuple(args["padding"], n)
        if args["padding_mode"] in ("reflect", "circular") and any(
            p > length - (args["padding_mode"] == "reflect") for p, length in zip(pad, spatial)
        ):
            raise ShapeError(
                f"{args['padding_mode']} padding of {max(pad)} is too large for an input of "
                f"{'x'.join(map(str, spatial))}; lower padding or use padding_mode 'zeros'"
            )
        lengths = [conv_length(*dims) for dims in zip(spatial, kernel, stride, pad, dilation)]
        return {"output": spatial_out(x, lengths, args["out_channels"])}

    return rule


def _conv_count(n: int):
    def count(args: dict) -> int:
        kernel = prod(as_tuple(args["kernel_size"], n))
        weights = args["out_channels"] * (args["in_channels"] // args["groups"]) * kernel
        return weights + (args["out_channels"] if args["bias"] else 0)

    return count


def _conv_flops(n: int):
    def flops(args: dict, ins: dict, outs: dict) -> int:
        out = outs["output"].per_sample
        kernel = prod(as_tuple(args["kernel_size"], n))
        return 2 * prod(out) * (args["in_channels"] // args["groups"]) * kernel

    return flops


def _conv_params(n: int) -> tuple[Param, ...]:
    return (
        in_channels(),
        out_channels(),
        size(
            "kernel_size", "Size of the convolving kernel.", n, required=True, initial=3, minimum=1
        ),
        size("stride", "Stride of the convolution.", n, 1, minimum=1),
        size(
            "padding",
            "Zero padding added to both sides; 'same' keeps the size.",
            n,
            0,
            choices=("same", "valid"),
        ),
        size("dilation", "Spacing between kernel elements.", n, 1, minimum=1),
        _groups(),
        bias(),
        Param(
            "padding_mode",
            CHOICE,
            "How the border is padded.",
            "zeros",
            choices=("zeros", "reflect", "replicate", "circular"),
        ),
        *weight_init(),
    )


def _groups() -> Param:
    return Param(
        "groups",
        INT,
        "Blocked connections from input to output channels (= channels: depthwise).",
        1,
        minimum=1,
        maximum=CHANNELS,
    )


def _conv(type_name: str, n: int, port, doc: str, examples) -> LayerSpec:
    return LayerSpec(
        type_name,
        "Convolution",
        doc,
        "conv",
        params=_conv_params(n),
        inputs=(port,),
        infer=_conv_rule(n),
        count=_conv_count(n),
        flops=_conv_flops(n),
        key_params=KEY,
        examples=examples,
    )


def _transposed(n: int):
    def rule(args: dict, ins: dict) -> dict:
        x = ins["input"]
        _groups_fit(args)
        kernel, stride, pad, extra, dilation = (
            as_tuple(args[key], n)
            for key in ("kernel_size", "stride", "padding", "output_padding", "dilation")
        )
        if any(e >= max(s, d) for e, s, d in zip(extra, stride, dilation)):
            raise ShapeError("output_padding must be smaller than the stride or the dilation")
        lengths = [
            (length - 1) * s - 2 * p + d * (k - 1) + e + 1
            for length, k, s, p, e, d in zip(x.per_sample[1:], kernel, stride, pad, extra, dilation)
        ]
        return {"output": spatial_out(x, lengths, args["out_channels"])}

    return rule


def _transposed_count(n: int):
    def count(args: dict) -> int:
        weights = args["in_channels"] * (args["out_channels"] // args["groups"])
        weights *= prod(as_tuple(args["kernel_size"], n))
        return weights + (args["out_channels"] if args["bias"] else 0)

    return count


def _transposed_flops(n: int):
    def flops(args: dict, ins: dict, outs: dict) -> int:
        spatial = prod(ins["input"].per_sample[1:])
        kernel = prod(as_tuple(args["kernel_size"], n))
        groups = args["groups"]
        return 2 * spatial * kernel * args["in_channels"] * (args["out_channels"] // groups)

    return flops


def _transposed_spec(n: int, port, doc: str, examples) -> LayerSpec:
    return LayerSpec(
        f"ConvTranspose{n}d",
        "Convolution",
        doc,
        "deconv",
        inputs=(port,),
        key_params=("out_channels", "kernel_size", "stride"),
        params=(
            in_channels(),
            out_channels(),
            size(
                "kernel_size",
                "Size of the convolving kernel.",
                n,
                required=True,
                initial=2,
                minimum=1,
            ),
            size("stride", "Stride of the convolution.", n, 1, minimum=1),
            size("padding", "Implicit zero padding removed from the output.", n, 0),
            size("output_padding", "Extra size added to one side of the output.", n, 0),
            _groups(),
            bias(),
            size("dilation", "Spacing between kernel elements.", n, 1, minimum=1),
            *weight_init(),
        ),
        infer=_transposed(n),
        count=_transposed_count(n),
        flops=_transposed_flops(n),
        examples=examples,
    )


register(
    _conv(
        "Conv1d",
        1,
        SIGNAL,
        "1-D convolution over a signal or sequence of channels (C, L).",
        (({"input": sample(3, 32)}, {}), ({"input": sample(4, 20)}, {"groups": 2, "dilation": 2})),
    )
)
register(
    _conv(
        "Conv2d",
        2,
        IMAGE,
        "2-D convolution over an image (C, H, W).",
        (
            ({"input": sample(3, 16, 16)}, {}),
            (
                {"input": sample(4, 12, 10)},
                {"out_channels": 8, "groups": 4, "padding": "same", "dilation": 2},
            ),
            (
                {"input": sample(3, 9, 9)},
                {"kernel_size": [3, 1], "stride": 2, "padding": 1, "padding_mode": "reflect"},
            ),
        ),
    )
)
register(
    _conv(
        "Conv3d",
        3,
        VOLUME,
        "3-D convolution over a volume or a video clip (C, D, H, W).",
        (
            ({"input": sample(3, 6, 8, 8)}, {}),
            ({"input": sample(4, 5, 9, 7)}, {"kernel_size": [3, 1, 1], "stride": [1, 2, 2]}),
            ({"input": sample(4, 4, 6, 6)}, {"groups": 2, "padding": "same", "dilation": 2}),
        ),
    )
)
register(
    _transposed_spec(
        1,
        SIGNAL,
        "Transposed 1-D convolution: learnable upsampling of a signal.",
        (
            ({"input": sample(4, 9)}, {"out_channels": 2, "kernel_size": 2, "stride": 2}),
            (
                {"input": sample(4, 6)},
                {"kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1, "groups": 2},
            ),
        ),
    )
)
register(
    _transposed_spec(
        2,
        IMAGE,
        "Transposed 2-D convolution: learnable upsampling of an image.",
        (
            ({"input": sample(4, 7, 7)}, {"out_channels": 2, "kernel_size": 2, "stride": 2}),
            (
                {"input": sample(4, 5, 6)},
                {"kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1, "groups": 2},
            ),
        ),
    )
)
register(
    _transposed_spec(
        3,
        VOLUME,
        "Transposed 3-D convolution: learnable upsampling of a volume.",
        (
            ({"input": sample(4, 3, 4, 4)}, {"out_channels": 2, "kernel_size": 2, "stride": 2}),
            ({"input": sample(2, 3, 3, 4)}, {"kernel_size": [1, 3, 3], "padding": [0, 1, 1]}),
        ),
    )
)
