"""Parameter builders and small helpers shared by the layer declarations."""

from __future__ import annotations

from torchcanvas.graph.params import BOOL, CHOICE, FLOAT, INT, SIZE, Param
from torchcanvas.graph.ports import PortSpec, TensorMeta

CHANNELS = 1 << 16
FEATURES = 1 << 20
IMAGE = PortSpec("input", ranks=(3,), rank_text="(C, H, W)")
SIGNAL = PortSpec("input", ranks=(2,), rank_text="(C, L)")
VOLUME = PortSpec("input", ranks=(4,), rank_text="(C, D, H, W)")
SEQUENCE = PortSpec("input", ranks=(2,), rank_text="(L, F)")
ANY_FLOAT = PortSpec("input")

WEIGHT_INITS = (
    "default",
    "xavier_uniform",
    "xavier_normal",
    "kaiming_uniform",
    "kaiming_normal",
    "orthogonal",
    "normal",
    "trunc_normal",
    "zeros",
    "ones",
)
BIAS_INITS = ("default", "zeros", "ones", "normal")


def sample(*shape: int, dtype: str = "float32") -> TensorMeta:
    """A batched example tensor with this per-sample shape."""
    return TensorMeta.sample(shape, dtype)


def in_channels(doc: str = "Channels of the incoming tensor.") -> Param:
    """The auto `in_channels` of convolutions."""
    return Param(
        "in_channels",
        INT,
        doc,
        required=True,
        initial=1,
        minimum=1,
        maximum=CHANNELS,
        positional=True,
        auto="channels",
    )


def out_channels(initial: int = 16) -> Param:
    """The `out_channels` of convolutions."""
    return Param(
        "out_channels",
        INT,
        "Channels produced.",
        required=True,
        initial=initial,
        minimum=1,
        maximum=CHANNELS,
        positional=True,
    )


def num_features(name: str = "num_features") -> Param:
    """An auto channel count of a normalization layer."""
    return Param(
        name,
        INT,
        "Channels of the incoming tensor.",
        required=True,
        initial=1,
        minimum=1,
        maximum=CHANNELS,
        positional=True,
        auto="channels",
    )


def size(
    name: str,
    doc: str,
    n: int,
    default=None,
    *,
    required=False,
    initial=None,
    minimum=0,
    choices=(),
    optional=False,
    positional=False,
) -> Param:
    """An int-or-tuple argument such as kernel_size."""
    return Param(
        name,
        SIZE,
        doc,
        default=default,
        required=required,
        initial=initial,
        minimum=minimum,
        maximum=4096,
        length=n,
        choices=choices,
        optional=optional,
        positional=positional,
    )


def eps() -> Param:
    """Normalization epsilon."""
    return Param(
        "eps", FLOAT, "Added to the variance for numerical stability.", 1e-5, minimum=0, maximum=1
    )


def probability(doc: str, default: float = 0.5, name: str = "p") -> Param:
    """A probability such as dropout's p."""
    return Param(name, FLOAT, doc, default, minimum=0, maximum=1)


def inplace() -> Param:
    """`inplace` of activations and dropout."""
    return Param(
        "inplace", BOOL, "Overwrite the input instead of allocating (saves memory).", False
    )


def bias(doc: str = "Learn an additive bias.") -> Param:
    """The `bias` switch."""
    return Param("bias", BOOL, doc, True)


def dim(doc: str, initial: int = 1) -> Param:
    """A required dimension index (full tensor, batch is 0)."""
    return Param("dim", INT, doc, required=True, initial=initial, minimum=-6, maximum=6)


def weight_init(has_bias: bool = True) -> tuple[Param, ...]:
    """Initialization choices for a layer's `weight` (and `bias`), written into __init__."""
    params = [
        Param(
            "weight_init",
            CHOICE,
            "How the weight starts: PyTorch's default or an nn.init scheme.",
            "default",
            choices=WEIGHT_INITS,
            ctor=False,
        )
    ]
    if has_bias:
        params.append(
            Param(
                "bias_init",
                CHOICE,
                "How the bias starts.",
                "default",
                choices=BIAS_INITS,
                ctor=False,
            )
        )
    return tuple(params)


def num_heads(initial: int = 4, name: str = "num_heads") -> Param:
    """Attention heads; they must divide the embedding size."""
    return Param(
        name,
        INT,
        "Attention heads; must divide the embedding size.",
        required=True,
        initial=initial,
        minimum=1,
        maximum=1024,
        positional=True,
    )


def zero(args: dict) -> int:
    """Parameter count of a layer without weights."""
    return 0
