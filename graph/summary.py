"""Per-node summary: output shape, parameter count and FLOPs, computed on the meta device."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from torchcanvas.graph.registry import BLOCK, MODULE, get_spec
from torchcanvas.graph.shapes import Analysis, _freeze, _module_class, format_shape


@dataclass(frozen=True)
class NodeSummary:
    """One row of the summary table."""

    name: str
    type: str
    shape: str
    params: int
    flops: int


def summarize(model, analysis: Analysis | None = None) -> list[NodeSummary]:
    """A row per node in execution order (then any nodes on cycles)."""
    analysis = analysis or model.analysis()
    rows = []
    for name in analysis.order + [n for n in model.nodes() if n not in analysis.order]:
        spec = model.spec(name)
        params = flops = 0
        if spec.kind in (MODULE, BLOCK) and name in analysis.resolved:
            in_shape = analysis.in_shapes[name][0]
            params, flops = layer_cost(spec.type, _freeze(analysis.resolved[name]), in_shape)
        rows.append(
            NodeSummary(name, spec.type, format_shape(analysis.shapes.get(name)), params, flops)
        )
    return rows


@functools.lru_cache(maxsize=4096)
def layer_cost(type_name: str, frozen_args: tuple, in_shape: tuple) -> tuple[int, int]:
    """(parameter count, FLOPs for one sample) of a layer, counted by torch."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    spec = get_spec(type_name)
    with torch.device("meta"):
        module = _module_class(spec)(**dict(frozen_args)).eval()
        params = sum(p.numel() for p in module.parameters())
        counter = FlopCounterMode(display=False)
        with counter:
            module(torch.empty((1, *in_shape)))
    return params, int(counter.get_total_flops())


def totals(rows: list[NodeSummary]) -> tuple[int, int]:
    """Total parameters and FLOPs."""
    return sum(r.params for r in rows), sum(r.flops for r in rows)


def human(count: float, unit: str = "") -> str:
    """1234567 -> '1.23M'."""
    for scale, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(count) >= scale:
            return f"{count / scale:.2f}{suffix}{unit}"
    return f"{int(count)}{unit}"
