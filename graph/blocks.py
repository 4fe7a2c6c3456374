"""Source of the composite blocks, shared by shape inference and the exported file.

The exported module and the shape inference execute this very text, so a block
can never mean one thing on the canvas and another in the generated code.
"""

from __future__ import annotations

import functools

RESIDUAL_BLOCK_SOURCE = '''\
class ResidualBlock(nn.Module):
    """ResNet basic block: two 3x3 convolutions and a skip connection."""

    def __init__(self, in_channels, out_channels, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size=3,
            stride=stride,
            padding=1,
            bias=False,
        )
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(
            out_channels, out_channels, kernel_size=3, padding=1, bias=False
        )
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            # A 1x1 conv matches the shortcut to the new size and channel count.
            self.downsample = nn.Sequential(
                nn.Conv2d(
                    in_channels, out_channels, kernel_size=1, stride=stride, bias=False
                ),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out = out + identity
        return self.relu(out)
'''


@functools.cache
def block_class(type_name: str, source: str) -> type:
    """Execute a block's source once and return its class."""
    from torch import nn

    namespace: dict = {"nn": nn, "__name__": "torchcanvas_blocks"}
    exec(compile(source, f"<torchcanvas block {type_name}>", "exec"), namespace)
    return namespace[type_name]
