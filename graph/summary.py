"""Per-node summary: output shape, parameter count and FLOPs, from the analysis."""

from __future__ import annotations

from dataclasses import dataclass

from torchcanvas.graph.ports import format_meta


@dataclass(frozen=True)
class NodeSummary:
    """One row of the summary table."""

    node: str  # id
    name: str
    type: str
    shape: str
    params: int
    flops: int
    live: bool  # part of the model (reaches an Output)


def summarize(model, analysis=None) -> list[NodeSummary]:
    """A row per node in execution order (then any nodes on cycles)."""
    analysis = analysis or model.analysis()
    rows = []
    placed = set(analysis.order)
    for node in analysis.order + [n for n in model.nodes() if n not in placed]:
        facts = analysis.facts.get(node)
        live = node in analysis.live
        params = facts.params if facts else 0
        flops = facts.flops if facts else 0
        shapes = _shapes(model, node, analysis)
        rows.append(
            NodeSummary(
                node, analysis.names[node], model.node_type(node), shapes, params, flops, live
            )
        )
    return rows


def _shapes(model, node: str, analysis) -> str:
    facts = analysis.facts.get(node)
    if facts is None:
        return "?"
    values = facts.outputs or facts.inputs
    if len(values) <= 1:
        return format_meta(next(iter(values.values()), None))
    return ", ".join(f"{port} {format_meta(meta)}" for port, meta in values.items())


def totals(rows: list[NodeSummary]) -> tuple[int, int]:
    """Total parameters and FLOPs of the nodes that are part of the model."""
    return sum(r.params for r in rows if r.live), sum(r.flops for r in rows if r.live)


def human(count: float, unit: str = "") -> str:
    """1234567 -> '1.23M'."""
    for scale, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(count) >= scale:
            return f"{count / scale:.2f}{suffix}{unit}"
    return f"{int(count)}{unit}"
