"""Composite blocks: each is a small nn.Module class written into the exported file."""

from __future__ import annotations

from torchcanvas.graph.blocks import RESIDUAL_BLOCK_SOURCE
from torchcanvas.graph.layers.common import IMAGE, in_channels, out_channels, sample
from torchcanvas.graph.params import INT, Param
from torchcanvas.graph.registry import BLOCK, LayerSpec, register
from torchcanvas.graph.rules import conv_length, prod, spatial_out


def _downsamples(args: dict) -> bool:
    return args["stride"] != 1 or args["in_channels"] != args["out_channels"]


def _residual(args: dict, ins: dict) -> dict:
    x = ins["input"]
    lengths = [conv_length(length, 3, args["stride"], 1, 1) for length in x.per_sample[1:]]
    return {"output": spatial_out(x, lengths, args["out_channels"])}


def _residual_count(args: dict) -> int:
    cin, cout = args["in_channels"], args["out_channels"]
    total = 9 * cin * cout + 9 * cout * cout + 4 * cout
    return total + (cin * cout + 2 * cout if _downsamples(args) else 0)


def _residual_flops(args: dict, ins: dict, outs: dict) -> int:
    cin, cout = args["in_channels"], args["out_channels"]
    spatial = prod(outs["output"].per_sample[1:])
    macs = spatial * cout * (9 * cin + 9 * cout + (cin if _downsamples(args) else 0))
    return 2 * macs


register(
    LayerSpec(
        "ResidualBlock",
        "Blocks",
        "ResNet basic block: two 3x3 convs with batch-norm and a skip connection.",
        "block",
        BLOCK,
        inputs=(IMAGE,),
        block_source=RESIDUAL_BLOCK_SOURCE,
        key_params=("out_channels", "stride"),
        params=(
            in_channels(),
            out_channels(64),
            Param(
                "stride",
                INT,
                "Stride of the first conv; 2 halves H and W.",
                1,
                minimum=1,
                maximum=8,
            ),
        ),
        infer=_residual,
        count=_residual_count,
        flops=_residual_flops,
        examples=(
            ({"input": sample(4, 8, 8)}, {"out_channels": 4}),
            ({"input": sample(3, 9, 9)}, {"out_channels": 6, "stride": 2}),
        ),
    )
)
