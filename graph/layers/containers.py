"""Containers: a chain of layers kept together as one nn.Sequential or nn.ModuleList."""

from __future__ import annotations

from torchcanvas.graph.params import BOOL, Param
from torchcanvas.graph.ports import ANY, PortSpec
from torchcanvas.graph.registry import CONTAINER, LayerSpec, register

for _type, _doc in (
    (
        "Sequential",
        "A chain of layers kept as one nn.Sequential: its weights are name.0, name.1, ...",
    ),
    ("ModuleList", "A chain of layers kept as an nn.ModuleList, run one after another in forward."),
):
    register(
        LayerSpec(
            _type,
            "Blocks",
            _doc,
            "seq" if _type == "Sequential" else "layers",
            CONTAINER,
            params=(
                Param(
                    "named",
                    BOOL,
                    "Children keep their names (an OrderedDict) instead of 0, 1, 2, ...",
                    False,
                    ctor=False,
                ),
            ),
            inputs=(PortSpec("input", dtypes=ANY, batched=False),),
            outputs=(PortSpec("output"),),
            loop=_type == "ModuleList",
        )
    )
