"""The text on cards: key parameters, shapes, what a container holds, an expanded inside."""

from __future__ import annotations

from torchcanvas.graph.blockrun import chain_order
from torchcanvas.graph.params import to_json
from torchcanvas.graph.ports import format_meta
from torchcanvas.graph.registry import CONTAINER, INPUT, OUTPUT
from torchcanvas.graph.symbolic import Bound


def card_details(model, node: str, facts, fed: bool = False) -> list[str]:
    """The card's key-parameter lines (bindings as `← expr`, a condition as `if ...`);
    `fed`: the graph is a block's inside, whose Inputs take the instance's values."""
    spec = model.spec(node)
    if fed and spec.kind == INPUT:
        return []  # the shape parameter is only the example used when nothing feeds it
    params = model.params(node)
    parts = []
    if spec.kind == CONTAINER:
        parts.append(container_summary(model.body(node)))
    for key in spec.key_params:
        value = params.get(key, spec.param(key).default)  # defaults too: "p 0.5"
        if isinstance(value, Bound):
            value = f"← {value.text}"
        if value is not None:
            parts.append(f"{_short(key)} {_value_text(to_json(value))}")
    when = model.when(node)
    if when is not None:
        parts.append(f"if {when.text}" + (" (off)" if facts and facts.disabled else ""))
    if not parts:
        return []
    lines, line = [], ""
    for part in parts:
        candidate = f"{line} · {part}" if line else part
        if len(candidate) > 28 and line:
            lines.append(line)
            candidate = part
        line = candidate
    return lines + [line]


def format_shape_text(meta) -> str:
    """A value for the canvas: 16×28×28, 20 int64, 2×N×64."""
    return format_meta(meta).replace("x", "×") if meta is not None else "shape ?"


def container_summary(body) -> str:
    """What a container holds, in a few words: BasicBlock ×2, Conv2d · BatchNorm2d · ReLU."""
    types = [body.node_type(n) for n in chain_order(body)]
    if not types:
        return "empty"
    if len(set(types)) == 1:
        return f"{types[0]} ×{len(types)}"
    return " · ".join(types)


def child_count(graph, node: str) -> int | None:
    """How many children a container has, or None for other nodes."""
    body = graph.body(node)
    return len(chain_order(body)) if body is not None else None


def repeat_count(graph, node: str) -> int | None:
    """N for a container of N children of one type (a repeat: the card's ×N badge)."""
    body = graph.body(node)
    if body is None:
        return None
    types = {body.node_type(n) for n in chain_order(body)}
    return child_count(graph, node) if len(types) == 1 else None


def inner_graph(graph, node: str):
    """The graph inside a card: a container's body or a block's definition (or None)."""
    body = graph.body(node)
    if body is not None:
        return body
    library = graph.library
    block = library.get(graph.node_type(node)) if library is not None else None
    return block.graph if block is not None else None


def inside_rows(inner, facts) -> list[tuple[str, str, str]]:
    """(label, type, shape) of each layer inside an expanded card, in execution order."""
    analysis = facts.inner if facts is not None else None
    if inner is None or analysis is None:
        return [("", "fix the problems to look inside", "")]
    labels = dict(analysis.context.labels)
    rows = []
    for node in analysis.order:
        facts_in = analysis.facts.get(node)
        if facts_in is None or node not in inner or inner.spec(node).kind in (INPUT, OUTPUT):
            continue
        label = labels.get(node, inner.node_name(node))
        text = "off" if facts_in.disabled else format_shape_text(analysis.meta(node))
        rows.append((label, inner.node_type(node), text))
    return rows


def port_tip(name: str, doc: str, value) -> str:
    """A port's tooltip: its name, what it is for, and the value on it."""
    text = f"<b>{name}</b>" + (f": {doc}" if doc else "")
    return text + (f"<br>{format_shape_text(value)}" if value is not None else "")


_SHORT = {
    "out_channels": "out",
    "kernel_size": "k",
    "stride": "s",
    "padding": "p",
    "out_features": "out",
    "output_size": "size",
    "normalized_shape": "shape",
    "num_groups": "groups",
    "negative_slope": "slope",
    "approximate": "approx",
}


def _short(key: str) -> str:
    return _SHORT.get(key, key)


def _value_text(value) -> str:
    if isinstance(value, list):
        return "×".join(str(v) for v in value)
    return str(value)
