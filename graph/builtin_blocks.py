"""The built-in block library: definitions a user can place, open and copy.

Attribute names follow torchvision, so that a model built from these blocks has
torchvision's state_dict keys (`layer2.0.downsample.0.weight`).
"""

from __future__ import annotations

from collections.abc import Callable

from torchcanvas.graph.blockbuild import (
    Builder,
    auto_channels,
    auto_features,
    bind,
    float_param,
    int_param,
)
from torchcanvas.graph.library import BlockDef

_NO_BIAS = {"bias": False}


def _conv(out: str, kernel: int, stride: str | None = None, **extra) -> dict:
    params = {"out_channels": bind(out), "kernel_size": kernel, **_NO_BIAS, **extra}
    if kernel > 1 and "padding" not in extra:
        params["padding"] = kernel // 2
    if stride:
        params["stride"] = bind(stride)
    return params


def residual_block(library=None, name: str = "ResidualBlock") -> BlockDef:
    """ResNet's basic block: two 3x3 convolutions, batch-norm and a skip connection."""
    b = Builder(name, library)
    x = b.last
    b.chain(
        ("Conv2d", "conv1", _conv("out_channels", 3, "stride")),
        ("BatchNorm2d", "bn1", {}),
        ("ReLU", "relu", {"inplace": True}),
        ("Conv2d", "conv2", _conv("out_channels", 3)),
        ("BatchNorm2d", "bn2", {}),
    )
    main = b.last
    shortcut = b.sequential(
        "downsample",
        [
            ("Conv2d", "conv", _conv("out_channels", 1, "stride")),
            ("BatchNorm2d", "bn", {}),
        ],
        sources=[x],
        when="stride != 1 or in_channels != out_channels",
    )
    b.node("Add", "add", sources=[main, shortcut])
    b.node("ReLU", "relu2", {"inplace": True})
    b.output()
    return b.build(
        (
            auto_channels(),
            int_param("out_channels", 64, "Channels produced.", positional=True),
            int_param("stride", 1, "Stride of the first conv; 2 halves H and W."),
        ),
        "ResNet basic block: two 3x3 convs with batch-norm and a skip connection.",
    )


def basic_block(library=None) -> BlockDef:
    """torchvision's BasicBlock (ResNet-18/34), the same as ResidualBlock."""
    return residual_block(library, "BasicBlock")


def bottleneck(library=None) -> BlockDef:
    """torchvision's Bottleneck (ResNet-50/101/152): 1x1, 3x3, 1x1 convs, four times wider."""
    b = Builder("Bottleneck", library, (256, 8, 8))
    x = b.last
    b.chain(
        ("Conv2d", "conv1", _conv("planes", 1)),
        ("BatchNorm2d", "bn1", {}),
        ("ReLU", "relu1", {"inplace": True}),
        ("Conv2d", "conv2", _conv("planes", 3, "stride")),
        ("BatchNorm2d", "bn2", {}),
        ("ReLU", "relu2", {"inplace": True}),
        ("Conv2d", "conv3", _conv("planes * 4", 1)),
        ("BatchNorm2d", "bn3", {}),
    )
    main = b.last
    shortcut = b.sequential(
        "downsample",
        [("Conv2d", "conv", _conv("planes * 4", 1, "stride")), ("BatchNorm2d", "bn", {})],
        sources=[x],
        when="stride != 1 or in_channels != planes * 4",
    )
    b.node("Add", "add", sources=[main, shortcut])
    b.node("ReLU", "relu3", {"inplace": True})
    b.output()
    return b.build(
        (
            auto_channels(),
            int_param(
                "planes",
                64,
                "Width of the 3x3 conv; the block outputs 4 x planes.",
                positional=True,
            ),
            int_param("stride", 1, "Stride of the 3x3 conv; 2 halves H and W."),
        ),
        "ResNet bottleneck: 1x1, 3x3 and 1x1 convs with a skip connection (output 4 x planes).",
    )


def _conv_bn_act(name: str, out: str, kernel: int, stride=None, groups=None, act="ReLU6"):
    """A Sequential of conv, batch-norm and activation (torchvision's Conv2dNormActivation)."""
    extra = {"groups": bind(groups)} if groups else {}
    steps = [
        ("Conv2d", f"{name}_conv", _conv(out, kernel, stride, **extra)),
        ("BatchNorm2d", f"{name}_bn", {}),
        (act, f"{name}_act", {"inplace": True}),
    ]
    return ("Sequential", name, steps)


def inverted_residual(library=None) -> BlockDef:
    """MobileNetV2's block: expand (1x1), depthwise 3x3, project (1x1), skip when it fits."""
    b = Builder("InvertedResidual", library, (32, 8, 8))
    x = b.last
    body = b.sequential(
        "conv",
        [
            (*_conv_bn_act("expand", "in_channels * expand_ratio", 1), "expand_ratio != 1"),
            _conv_bn_act(
                "depthwise", "in_channels * expand_ratio", 3, "stride", "in_channels * expand_ratio"
            ),
            ("Conv2d", "project", _conv("out_channels", 1)),
            ("BatchNorm2d", "project_bn", {}),
        ],
    )
    b.node("Add", "residual", sources=[body, x], when="stride == 1 and in_channels == out_channels")
    b.output()
    return b.build(
        (
            auto_channels(),
            int_param("out_channels", 16, "Channels produced.", positional=True),
            int_param("stride", 1, "Stride of the depthwise conv."),
            int_param("expand_ratio", 6, "How much wider the depthwise conv is than the input."),
        ),
        "MobileNetV2 inverted residual: expand, depthwise 3x3, project; skip when it fits.",
    )


def squeeze_excitation(library=None) -> BlockDef:
    """torchvision.ops.SqueezeExcitation: x * sigmoid(fc2(relu(fc1(avgpool(x)))))."""
    b = Builder("SqueezeExcitation", library)
    x = b.last
    b.chain(
        ("AdaptiveAvgPool2d", "avgpool", {"output_size": 1}),
        ("Conv2d", "fc1", {"out_channels": bind("squeeze_channels"), "kernel_size": 1}),
        ("ReLU", "activation", {}),
        ("Conv2d", "fc2", {"out_channels": bind("in_channels"), "kernel_size": 1}),
        ("Sigmoid", "scale_activation", {}),
    )
    b.node("Mul", "scale", sources=[b.last, x])
    b.output()
    return b.build(
        (
            auto_channels(),
            int_param("squeeze_channels", 16, "Channels of the squeeze.", positional=True),
        ),
        "Squeeze-and-excitation: channel weights from a global average, x * scale.",
    )


def fire(library=None) -> BlockDef:
    """SqueezeNet's Fire module: squeeze 1x1, then 1x1 and 3x3 expansions concatenated."""
    b = Builder("Fire", library, (96, 16, 16))
    b.chain(
        ("Conv2d", "squeeze", {"out_channels": bind("squeeze_planes"), "kernel_size": 1}),
        ("ReLU", "squeeze_activation", {"inplace": True}),
    )
    squeezed = b.last
    one = b.chain(
        ("Conv2d", "expand1x1", {"out_channels": bind("expand1x1_planes"), "kernel_size": 1}),
        ("ReLU", "expand1x1_activation", {"inplace": True}),
    )
    b.last = squeezed
    three = b.chain(
        (
            "Conv2d",
            "expand3x3",
            {"out_channels": bind("expand3x3_planes"), "kernel_size": 3, "padding": 1},
        ),
        ("ReLU", "expand3x3_activation", {"inplace": True}),
    )
    b.node("Concat", "cat", {"dim": 1}, sources=[one, three])
    b.output()
    return b.build(
        (
            auto_channels(),
            int_param("squeeze_planes", 16, "Channels of the squeeze.", positional=True),
            int_param("expand1x1_planes", 64, "Channels of the 1x1 expansion.", positional=True),
            int_param("expand3x3_planes", 64, "Channels of the 3x3 expansion.", positional=True),
        ),
        "SqueezeNet Fire: squeeze, then 1x1 and 3x3 expansions side by side.",
    )


def basic_conv2d(library=None) -> BlockDef:
    """GoogLeNet's BasicConv2d: conv (no bias), batch-norm (eps 0.001), ReLU."""
    b = Builder("BasicConv2d", library)
    b.chain(
        (
            "Conv2d",
            "conv",
            {
                "out_channels": bind("out_channels"),
                "kernel_size": bind("kernel_size"),
                "padding": bind("padding"),
                "bias": False,
            },
        ),
        ("BatchNorm2d", "bn", {"eps": 0.001}),
        ("ReLU", "relu", {"inplace": True}),
    )
    b.output()
    return b.build(
        (
            auto_channels(),
            int_param("out_channels", 64, "Channels produced.", positional=True),
            int_param("kernel_size", 1, "Kernel size."),
            int_param("padding", 0, "Zero padding.", minimum=0),
        ),
        "GoogLeNet's conv + batch-norm + ReLU.",
    )


def inception(library=None) -> BlockDef:
    """GoogLeNet's Inception module: four branches concatenated."""
    b = Builder("Inception", library, (192, 28, 28))
    x = b.last
    conv = "BasicConv2d"
    branch1 = b.node(conv, "branch1", {"out_channels": bind("ch1x1")}, sources=[x])
    branch2 = b.sequential(
        "branch2",
        [
            (conv, "reduce", {"out_channels": bind("ch3x3red")}),
            (conv, "conv", {"out_channels": bind("ch3x3"), "kernel_size": 3, "padding": 1}),
        ],
        sources=[x],
    )
    branch3 = b.sequential(
        "branch3",
        [
            (conv, "reduce", {"out_channels": bind("ch5x5red")}),
            (conv, "conv", {"out_channels": bind("ch5x5"), "kernel_size": 3, "padding": 1}),
        ],
        sources=[x],
    )
    branch4 = b.sequential(
        "branch4",
        [
            ("MaxPool2d", "pool", {"kernel_size": 3, "stride": 1, "padding": 1, "ceil_mode": True}),
            (conv, "proj", {"out_channels": bind("pool_proj")}),
        ],
        sources=[x],
    )
    b.node("Concat", "cat", {"dim": 1}, sources=[branch1, branch2, branch3, branch4])
    b.output()
    return b.build(
        (
            auto_channels(),
            int_param("ch1x1", 64, "1x1 branch.", positional=True),
            int_param("ch3x3red", 96, "Reduction before the 3x3 branch.", positional=True),
            int_param("ch3x3", 128, "3x3 branch.", positional=True),
            int_param("ch5x5red", 16, "Reduction before the second 3x3 branch.", positional=True),
            int_param("ch5x5", 32, "Second 3x3 branch.", positional=True),
            int_param("pool_proj", 32, "Projection after the pooling branch.", positional=True),
        ),
        "GoogLeNet Inception: 1x1, 3x3, 3x3 and pooled branches concatenated.",
    )


def dense_layer(library=None) -> BlockDef:
    """DenseNet's layer: BN-ReLU-conv1x1-BN-ReLU-conv3x3, growth_rate new channels."""
    b = Builder("DenseLayer", library)
    b.chain(
        ("BatchNorm2d", "norm1", {}),
        ("ReLU", "relu1", {"inplace": True}),
        ("Conv2d", "conv1", _conv("bn_size * growth_rate", 1)),
        ("BatchNorm2d", "norm2", {}),
        ("ReLU", "relu2", {"inplace": True}),
        ("Conv2d", "conv2", _conv("growth_rate", 3)),
    )
    b.output()
    return b.build(
        (
            auto_channels(),
            int_param("growth_rate", 32, "New channels this layer adds.", positional=True),
            int_param("bn_size", 4, "Width of the 1x1 conv, in units of growth_rate."),
        ),
        "DenseNet layer: produces growth_rate new channels from everything before it.",
    )


def conv_bn_relu(library=None) -> BlockDef:
    """Conv, batch-norm and ReLU with 'same' padding."""
    b = Builder("ConvBNReLU", library)
    b.chain(
        (
            "Conv2d",
            "conv",
            {
                "out_channels": bind("out_channels"),
                "kernel_size": bind("kernel_size"),
                "stride": bind("stride"),
                "padding": bind("kernel_size // 2"),
                "bias": False,
            },
        ),
        ("BatchNorm2d", "bn", {}),
        ("ReLU", "relu", {"inplace": True}),
    )
    b.output()
    return b.build(
        (
            auto_channels(),
            int_param("out_channels", 64, "Channels produced.", positional=True),
            int_param("kernel_size", 3, "Kernel size (odd: the output keeps its size)."),
            int_param("stride", 1, "Stride."),
        ),
        "Conv + batch-norm + ReLU.",
    )


def transformer_encoder_block(library=None) -> BlockDef:
    """ViT's encoder block: pre-norm self-attention and MLP, each with a residual."""
    b = Builder("TransformerEncoderBlock", library, (16, 64))
    x = b.last
    norm = b.node("LayerNorm", "ln_1", {"eps": 1e-6})
    b.node(
        "MultiheadAttention",
        "self_attention",
        {"num_heads": bind("num_heads"), "dropout": bind("attention_dropout")},
        sources=[norm, norm, norm],
    )
    b.node("Dropout", "dropout", {"p": bind("dropout")})
    first = b.node("Add", "add1", sources=[b.last, x])
    b.node("LayerNorm", "ln_2", {"eps": 1e-6})
    b.sequential(
        "mlp",
        [
            ("Linear", "linear_1", {"out_features": bind("mlp_dim")}),
            ("GELU", "act", {}),
            ("Dropout", "dropout_1", {"p": bind("dropout")}),
            ("Linear", "linear_2", {"out_features": bind("d_model")}),
            ("Dropout", "dropout_2", {"p": bind("dropout")}),
        ],
    )
    b.node("Add", "add2", sources=[b.last, first])
    b.output()
    return b.build(
        (
            auto_features(),
            int_param("num_heads", 4, "Attention heads (must divide d_model).", positional=True),
            int_param("mlp_dim", 256, "Width of the MLP.", positional=True),
            float_param("dropout", 0.0, "Dropout after attention and in the MLP."),
            float_param("attention_dropout", 0.0, "Dropout on the attention weights."),
        ),
        "Transformer encoder block (ViT): pre-norm self-attention and MLP with residuals.",
    )


BUILTIN: dict[str, Callable] = {
    "BasicBlock": basic_block,
    "Bottleneck": bottleneck,
    "InvertedResidual": inverted_residual,
    "SqueezeExcitation": squeeze_excitation,
    "Fire": fire,
    "BasicConv2d": basic_conv2d,
    "Inception": inception,
    "DenseLayer": dense_layer,
    "ConvBNReLU": conv_bn_relu,
    "TransformerEncoderBlock": transformer_encoder_block,
    "ResidualBlock": residual_block,
}
DEPENDS = {"Inception": ("BasicConv2d",)}


def builtin(name: str, library) -> list[BlockDef]:
    """The definition `name` and the built-in definitions it uses, dependencies first."""
    found = []
    for needed in DEPENDS.get(name, ()):
        if needed not in library:
            found += builtin(needed, library)
            library.add(found[-1])
    return found + [BUILTIN[name](library)]
