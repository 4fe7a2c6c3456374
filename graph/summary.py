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
    frozen: bool = False  # its parameters keep their values in training
    lr_scale: float | None = None  # its learning-rate factor (None: the run's rate)


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
        name, kind = analysis.names[node], model.node_type(node)
        frozen = model.flag(node, "frozen") is True
        scale = model.flag(node, "lr_scale")
        rows.append(NodeSummary(node, name, kind, shapes, params, flops, live, frozen, scale))
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


def frozen_total(rows: list[NodeSummary], model=None, analysis=None) -> int:
    """Parameters that training leaves as they are. With the model and its analysis, flags
    inside containers and block definitions count too (the innermost explicit flag wins, as
    in the exported class); without, the rows' own flags."""
    if model is not None and analysis is not None:
        return frozen_inside(model, analysis, False)
    return sum(r.params for r in rows if r.live and r.frozen)


def frozen_inside(graph, analysis, inherited: bool) -> int:
    """Frozen parameters of one graph's live nodes, entering bodies that were analysed."""
    total = 0
    for node in analysis.order:
        facts = analysis.facts.get(node)
        if node not in analysis.live or facts is None or facts.disabled:
            continue
        flag = graph.flag(node, "frozen")
        frozen = inherited if flag is None else flag is True
        body = _body_graph(graph, node)
        if facts.inner is not None and body is not None:
            total += frozen_inside(body, facts.inner, frozen)
        elif frozen:
            total += facts.params
    return total


def _body_graph(graph, node: str):
    """The graph a container's or block instance's analysed body was drawn from, or None."""
    body = graph.body(node)
    if body is not None:
        return body
    library = getattr(graph, "library", None)
    block = library.get(graph.node_type(node)) if library is not None else None
    return block.graph if block is not None else None


def split_text(rows: list[NodeSummary], model=None, analysis=None) -> str:
    """' (15,690 trainable, 4,800 frozen)', or '' when nothing is frozen."""
    params, frozen = totals(rows)[0], frozen_total(rows, model, analysis)
    return f" ({params - frozen:,} trainable, {frozen:,} frozen)" if frozen else ""


def params_text(rows: list[NodeSummary], model=None, analysis=None) -> str:
    """'20,490 parameters (15,690 trainable, 4,800 frozen)'; the split only when any is frozen."""
    return f"{totals(rows)[0]:,} parameters{split_text(rows, model, analysis)}"


def flag_note(row: NodeSummary) -> str:
    """'frozen', 'lr ×10' or '' for a row's training flags."""
    notes = ["frozen"] if row.frozen else []
    if row.lr_scale is not None and row.lr_scale != 1:
        notes.append(f"lr ×{row.lr_scale:g}")
    return ", ".join(notes)


def human(count: float, unit: str = "") -> str:
    """1234567 -> '1.23M'."""
    for scale, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(count) >= scale:
            return f"{count / scale:.2f}{suffix}{unit}"
    return f"{int(count)}{unit}"
