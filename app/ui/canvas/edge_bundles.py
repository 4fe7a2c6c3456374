"""Many wires from one output into one card drawn as one: a flood of edges stays drawable.

A merge with 1,024 inputs fed by a few outputs (the 19 MB file of the many-input-merge
issue: 475,000 edges) drew every wire: building the items, routing them and painting them
cost minutes and gigabytes, for a picture that is a solid mass of lines. More than BUNDLE
edges from one output port into one card become one wire labelled ×N (from the first of
them); the others get no item at all until the bundle shrinks to BUNDLE or fewer.
"""

from __future__ import annotations

from torchcanvas.app.ui.canvas.edge_item import EdgeItem
from torchcanvas.graph.model import Edge

BUNDLE = 8  # parallel edges drawn one by one; more become one wire


def _slot_order(edge: Edge):
    """Numbered merge slots in number order, named ports by name."""
    port = edge.dst_port
    return (0, int(port), "") if port.isdigit() else (1, 0, port)


def bundles_into(node: str, edges) -> dict[Edge, int]:
    """The edges into `node` to draw, each with how many edges it stands for."""
    groups: dict[tuple[str, str], list[Edge]] = {}
    for edge in edges:
        if edge.dst == node:
            groups.setdefault((edge.src, edge.src_port), []).append(edge)
    shown: dict[Edge, int] = {}
    for group in groups.values():
        if len(group) > BUNDLE:
            shown[min(group, key=_slot_order)] = len(group)
        else:
            shown.update(dict.fromkeys(group, 1))
    return shown


class EdgeBundles:
    """GraphScene's edge items: one per drawn edge (`edges`), kept in step with the bundles.

    It reads the scene's `edges` (drawn edge -> item) and `_edges_at` (a node's edges,
    drawn or not), and `_route`.
    """

    def _bundle(self, node: str) -> list[EdgeItem]:
        """Give the edges into `node` items as its bundles say; returns the new items (not
        routed yet: the caller routes them, once)."""
        shown = bundles_into(node, self._edges_at.get(node, ()))
        for edge in [e for e in self._edges_at.get(node, ()) if e.dst == node]:
            if edge not in shown and edge in self.edges:
                self.removeItem(self.edges.pop(edge))
        added = []
        for edge, count in shown.items():
            item = self.edges.get(edge)
            if item is None:
                item = self.edges[edge] = EdgeItem(edge)
                self.addItem(item)
                added.append(item)
            item.set_count(count)
        return added
