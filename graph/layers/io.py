"""Input, Output and Parameter: where values enter and leave the network."""

from __future__ import annotations

from torchcanvas.graph.layers.common import sample
from torchcanvas.graph.params import CHOICE, FLOAT, SHAPE, Param
from torchcanvas.graph.ports import ANY, INPUT_DTYPES, PortSpec, TensorMeta
from torchcanvas.graph.registry import INPUT, OUTPUT, PARAMETER, LayerSpec, register
from torchcanvas.graph.rules import prod

PARAMETER_INITS = ("zeros", "ones", "constant", "normal", "trunc_normal", "uniform")


def _input(args: dict, ins: dict) -> dict:
    return {"output": TensorMeta.sample(args["shape"], args["dtype"])}


def _parameter(args: dict, ins: dict) -> dict:
    return {"output": TensorMeta(tuple(args["shape"]))}


register(
    LayerSpec(
        "Input",
        "Input / Output",
        "An input of the network (an argument of forward); shape is per sample.",
        "input",
        INPUT,
        params=(
            Param(
                "shape",
                SHAPE,
                "Per-sample input shape, without the batch, e.g. [1, 28, 28].",
                required=True,
                initial=(1, 28, 28),
            ),
            Param(
                "dtype",
                CHOICE,
                "Element type: float32 for images and features, int64 for token ids.",
                "float32",
                choices=INPUT_DTYPES,
            ),
        ),
        inputs=(),
        outputs=(PortSpec("output", dtypes=ANY),),
        infer=_input,
        key_params=("shape",),
    )
)
register(
    LayerSpec(
        "Output",
        "Input / Output",
        "An output of the network: what forward() returns (a tuple when there are several).",
        "output",
        OUTPUT,
        inputs=(PortSpec("input", dtypes=ANY, batched=False),),
        outputs=(),
        infer=lambda args, ins: {},
        examples=(({"input": sample(10)}, {}),),
    )
)
register(
    LayerSpec(
        "Parameter",
        "Input / Output",
        "A free learnable tensor (class token, position embedding, layer scale).",
        "param",
        PARAMETER,
        params=(
            Param(
                "shape",
                SHAPE,
                "Full shape of the tensor (it has no batch), e.g. [1, 1, 64]; [] for a "
                "single number (a 0-dim tensor such as a learned temperature).",
                required=True,
                initial=(1, 1, 64),
                scalar=True,
            ),
            Param("init", CHOICE, "How it starts.", "zeros", choices=PARAMETER_INITS),
            Param("value", FLOAT, "The constant (init: constant).", 1.0, minimum=-1e6, maximum=1e6),
            Param(
                "std",
                FLOAT,
                "Standard deviation (normal, trunc_normal).",
                0.02,
                minimum=0,
                maximum=1e3,
            ),
        ),
        inputs=(),
        infer=_parameter,
        count=lambda args: prod(args["shape"]),
        key_params=("shape", "init"),
        examples=tuple(({}, {"shape": [1, 2, 3], "init": init}) for init in PARAMETER_INITS)
        + tuple(({}, {"shape": [], "init": init}) for init in PARAMETER_INITS),
    )
)
