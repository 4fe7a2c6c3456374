"""Auto-arrange: layered top-to-bottom positions in topological order."""

from __future__ import annotations

import networkx as nx

from torchcanvas.graph.validate import execution_order

ROW_HEIGHT = 130.0
COLUMN_WIDTH = 240.0


def layered_positions(model) -> dict[str, tuple[float, float]]:
    """Canvas positions: one row per longest-path layer, branches side by side."""
    order = execution_order(model)
    graph = model.nx_graph
    layer: dict[str, int] = {}
    for name in order:
        parents = [layer[u] for u, _ in graph.in_edges(name) if u in layer]
        layer[name] = max(parents, default=-1) + 1
    rest = [n for n in model.nodes() if n not in layer]  # nodes on a cycle go last
    bottom = max(layer.values(), default=-1) + 1
    for offset, name in enumerate(rest):
        layer[name] = bottom + offset
    rows: dict[int, list[str]] = {}
    for name in order + rest:
        rows.setdefault(layer[name], []).append(name)
    positions = {}
    for row, names in rows.items():
        start = -(len(names) - 1) * COLUMN_WIDTH / 2
        for column, name in enumerate(_sorted_row(graph, names, positions)):
            positions[name] = (start + column * COLUMN_WIDTH, row * ROW_HEIGHT)
    return positions


def _sorted_row(graph: nx.MultiDiGraph, names: list[str], placed: dict) -> list[str]:
    """Order a row by the mean x of each node's parents, so edges cross less."""

    def parent_x(name: str) -> float:
        xs = [placed[u][0] for u, _ in graph.in_edges(name) if u in placed]
        return sum(xs) / len(xs) if xs else 0.0

    return sorted(names, key=lambda n: (parent_x(n), names.index(n)))


def arrange(model) -> dict[str, tuple[float, float]]:
    """Move every node to its layered position; returns the old positions (for undo)."""
    old = {name: model.pos(name) for name in model.nodes()}
    for name, pos in layered_positions(model).items():
        model.move(name, pos)
    return old
