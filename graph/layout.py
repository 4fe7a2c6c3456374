"""Auto-arrange: layered positions in topological order, top to bottom or left to right."""

from __future__ import annotations

import math

from torchcanvas.graph.validate import execution_order

ROW_GAP = 64.0  # between the bottom of one row's tallest card and the next row
COLUMN_GAP = 50.0
CARD_WIDTH = 190.0
PORT_SPACING = 62.0  # a card grows wider than CARD_WIDTH when it has many ports
CARD_HEIGHT = 70.0
DOWN, RIGHT = "down", "right"  # which way data flows on the canvas
DIRECTIONS = (DOWN, RIGHT)
COLUMN_GAP_RIGHT = 90.0  # left to right: room for the edges between columns
ROW_GAP_RIGHT = 40.0


def estimated_size(model, node: str) -> tuple[float, float]:
    """About how large the window draws a node's card (the window passes exact sizes)."""
    spec = model.spec(node)
    inputs = sum(1 for p in spec.inputs if not p.variadic) or (2 if spec.inputs else 0)
    outputs = len(model.output_ports(node))
    width = max(CARD_WIDTH, PORT_SPACING * max(inputs, outputs))
    lines = math.ceil(len(spec.key_params) / 2)
    strips = (inputs > 1) + (outputs > 1)
    return width, 22 + 16 * (1 + lines) + 8 + 12 * strips


def layered_positions(
    model, sizes: dict | None = None, direction: str = DOWN
) -> dict[str, tuple[float, float]]:
    """Canvas positions: one row per longest-path layer, branches side by side; with
    direction "right", one column per layer, branches one above the other.

    `sizes` maps node ids to the (width, height) of their cards; missing ones are estimated.
    """
    sizes = {n: (sizes or {}).get(n) or estimated_size(model, n) for n in model.nodes()}
    if direction == RIGHT:  # the same layout with the axes swapped
        swapped = {n: (h, w) for n, (w, h) in sizes.items()}
        placed = _layered(model, swapped, COLUMN_GAP_RIGHT, ROW_GAP_RIGHT, CARD_HEIGHT)
        return {n: (y, x) for n, (x, y) in placed.items()}
    return _layered(model, sizes, ROW_GAP, COLUMN_GAP, CARD_WIDTH)


def _layered(model, sizes: dict, layer_gap: float, gap: float, middle: float) -> dict:
    """Rows down the page (callers swap the axes for columns)."""
    rows = _rows(model)
    positions: dict[str, tuple[float, float]] = {}
    y = 0.0
    for row in sorted(rows):
        names = _sorted_row(model, rows[row], positions, sizes)
        total = sum(sizes[n][0] for n in names) + gap * (len(names) - 1)
        x = -total / 2 + middle / 2
        for name in names:
            positions[name] = (x, y)
            x += sizes[name][0] + gap
        y += max(sizes[n][1] for n in names) + layer_gap
    return positions


def _rows(model) -> dict[int, list[str]]:
    order = execution_order(model)
    layer: dict[str, int] = {}
    for node in order:
        parents = [layer[e.src] for e in model.inputs(node) if e.src in layer]
        layer[node] = max(parents, default=-1) + 1
    rest = [n for n in model.nodes() if n not in layer]  # nodes on a cycle go last
    bottom = max(layer.values(), default=-1) + 1
    for offset, node in enumerate(rest):
        layer[node] = bottom + offset
    rows: dict[int, list[str]] = {}
    for node in order + rest:
        rows.setdefault(layer[node], []).append(node)
    return rows


def _sorted_row(model, names: list[str], placed: dict, sizes: dict) -> list[str]:
    """Order a row by the mean centre of each node's parents, so edges cross less."""
    index = {n: i for i, n in enumerate(names)}

    def parent_x(node: str) -> float:
        xs = [placed[e.src][0] + sizes[e.src][0] / 2 for e in model.inputs(node) if e.src in placed]
        return sum(xs) / len(xs) if xs else 0.0

    return sorted(names, key=lambda n: (parent_x(n), index[n]))


def arrange(
    model, sizes: dict | None = None, direction: str = DOWN
) -> dict[str, tuple[float, float]]:
    """Move every node to its layered position; returns the old positions (for undo)."""
    old = {node: model.pos(node) for node in model.nodes()}
    for node, pos in layered_positions(model, sizes, direction).items():
        model.move(node, pos)
    return old
