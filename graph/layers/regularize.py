"""Regularization: dropout and stochastic depth (identity when evaluating)."""

from __future__ import annotations

from torchcanvas.graph.layers.common import inplace, probability, sample, zero
from torchcanvas.graph.params import CHOICE, FLOAT, Param
from torchcanvas.graph.ports import PortSpec
from torchcanvas.graph.registry import LayerSpec, register
from torchcanvas.graph.rules import same


def _dropout(type_name: str, doc: str, port: PortSpec, examples, *params: Param, **extra):
    return register(
        LayerSpec(
            type_name,
            "Regularization",
            doc,
            extra.pop("prefix", "dropout"),
            inputs=(port,),
            params=params or (probability("Probability of zeroing an element."), inplace()),
            infer=same,
            count=zero,
            key_params=("p",),
            examples=examples,
            **extra,
        )
    )


_dropout(
    "Dropout",
    "Zeroes random elements while training.",
    PortSpec("input", batch_first=False),
    (({"input": sample(10)}, {}), ({"input": sample(3, 4, 4)}, {"p": 0.2})),
)
_dropout(
    "Dropout1d",
    "Zeroes whole random channels of a signal (C, L) while training.",
    PortSpec("input", ranks=(2,), rank_text="(C, L)"),
    (({"input": sample(4, 9)}, {}),),
    probability("Probability of zeroing a channel."),
    inplace(),
)
_dropout(
    "Dropout2d",
    "Zeroes whole random channels while training.",
    PortSpec("input", ranks=(3,), rank_text="(C, H, W)"),
    (({"input": sample(3, 4, 4)}, {}),),
    probability("Probability of zeroing a channel."),
    inplace(),
)
_dropout(
    "AlphaDropout",
    "Dropout that keeps the mean and variance, for SELU networks.",
    PortSpec("input", batch_first=False),
    (({"input": sample(10)}, {}),),
)
_dropout(
    "StochasticDepth",
    "Drops a residual branch at random while training (torchvision.ops).",
    PortSpec("input"),
    (({"input": sample(3, 4, 4)}, {}), ({"input": sample(6)}, {"mode": "batch"})),
    Param(
        "p",
        FLOAT,
        "Probability of dropping the branch.",
        required=True,
        initial=0.1,
        minimum=0,
        maximum=1,
        positional=True,
    ),
    Param(
        "mode",
        CHOICE,
        "row: per sample; batch: the whole batch at once.",
        required=True,
        initial="row",
        choices=("row", "batch"),
        positional=True,
    ),
    prefix="drop_path",
    torch_class="StochasticDepth",
    imports=("from torchvision.ops import StochasticDepth",),
)
