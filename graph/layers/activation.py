"""Activations: elementwise, so the output has the input's shape."""

from __future__ import annotations

from torchcanvas.graph.layers.common import CHANNELS, dim, inplace, sample, zero
from torchcanvas.graph.params import CHOICE, FLOAT, INT, Param
from torchcanvas.graph.ports import PortSpec
from torchcanvas.graph.registry import LayerSpec, register
from torchcanvas.graph.rules import ShapeError, data_dim, same

EXAMPLES = (({"input": sample(4, 6, 6)}, {}), ({"input": sample(9)}, {}))


def activation(type_name: str, doc: str, prefix: str, *params: Param, infer=same, **extra):
    """Register an activation: one float input, same-shaped output."""
    return register(
        LayerSpec(
            type_name,
            "Activation",
            doc,
            prefix,
            params=params,
            # Elementwise, so the batch may be anywhere; PReLU's slopes follow dimension 1.
            inputs=(PortSpec("input", batch_first=type_name == "PReLU"),),
            infer=infer,
            key_params=tuple(p.name for p in params if p.name != "inplace"),
            examples=extra.pop("examples", EXAMPLES),
            count=extra.pop("count", zero),
            **extra,
        )
    )


def _along_dim(args: dict, ins: dict) -> dict:
    data_dim(ins["input"], args["dim"])
    return same(args, ins)


def _hardtanh(args: dict, ins: dict) -> dict:
    if args["max_val"] <= args["min_val"]:
        raise ShapeError("max_val must be larger than min_val")
    return same(args, ins)


def _prelu(args: dict, ins: dict) -> dict:
    count, x = args["num_parameters"], ins["input"]
    channels = x.per_sample[0] if x.per_sample else 1
    if count != 1 and count != channels:
        raise ShapeError(f"num_parameters must be 1 or the channel count ({channels}), not {count}")
    return same(args, ins)


def _slope(name: str, doc: str, default: float) -> Param:
    return Param(name, FLOAT, doc, default, minimum=-1e3, maximum=1e3)


activation("ReLU", "Rectified linear unit: max(0, x).", "relu", inplace())
activation(
    "LeakyReLU",
    "ReLU with a small slope for negative inputs.",
    "lrelu",
    Param("negative_slope", FLOAT, "Slope for x < 0.", 0.01, minimum=0, maximum=1),
    inplace(),
)
activation(
    "ELU",
    "Exponential linear unit.",
    "elu",
    Param("alpha", FLOAT, "Saturation value for negative inputs.", 1.0, minimum=0, maximum=100),
    inplace(),
)
activation(
    "GELU",
    "Gaussian error linear unit, as in transformers.",
    "gelu",
    Param("approximate", CHOICE, "Use the tanh approximation.", "none", choices=("none", "tanh")),
)
activation("SiLU", "Sigmoid linear unit (swish): x * sigmoid(x).", "silu", inplace())
activation("Sigmoid", "Squashes values into (0, 1).", "sigmoid")
activation("Tanh", "Squashes values into (-1, 1).", "tanh")
activation(
    "Softmax",
    "Turns scores into probabilities along a dimension.",
    "softmax",
    dim("Dimension that sums to 1 (1 = first per sample)."),
    infer=_along_dim,
)
activation(
    "LogSoftmax",
    "Log of softmax; pair it with NLLLoss.",
    "log_softmax",
    dim("Dimension of the softmax (1 = first per sample)."),
    infer=_along_dim,
)
activation("ReLU6", "ReLU capped at 6, as in MobileNet.", "relu", inplace())
activation(
    "Hardtanh",
    "Clamps values to [min_val, max_val].",
    "hardtanh",
    _slope("min_val", "Lower bound.", -1.0),
    _slope("max_val", "Upper bound.", 1.0),
    inplace(),
    infer=_hardtanh,
)
activation("Hardswish", "Cheap swish, as in MobileNetV3.", "hardswish", inplace())
activation("Hardsigmoid", "Cheap sigmoid, as in MobileNetV3.", "hardsigmoid", inplace())
activation(
    "PReLU",
    "Leaky ReLU whose negative slope is learned (one, or one per channel).",
    "prelu",
    Param(
        "num_parameters",
        INT,
        "Learned slopes: 1, or the channel count.",
        1,
        minimum=1,
        maximum=CHANNELS,
    ),
    Param("init", FLOAT, "Starting slope.", 0.25, minimum=-1e3, maximum=1e3),
    infer=_prelu,
    count=lambda args: args["num_parameters"],
    examples=(({"input": sample(4, 5, 5)}, {"num_parameters": 4}), ({"input": sample(6)}, {})),
)
activation("Mish", "Self-regularized activation: x * tanh(softplus(x)).", "mish", inplace())
activation(
    "Softplus",
    "Smooth ReLU: log(1 + exp(beta * x)) / beta.",
    "softplus",
    Param("beta", FLOAT, "Sharpness.", 1.0, minimum=1e-6, maximum=1e3),
    Param("threshold", FLOAT, "Above it the output is linear.", 20.0, minimum=0, maximum=1e3),
)
