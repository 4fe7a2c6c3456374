"""CardDrawing: how GraphScene shows an analysis on its cards, ports and edges."""

from __future__ import annotations

from PySide6.QtCore import QRectF

from torchcanvas.app.ui.canvas.card_text import (
    card_details,
    format_shape_text,
    inner_graph,
    inside_rows,
    repeat_count,
)
from torchcanvas.app.ui.canvas.edge_item import EdgeItem
from torchcanvas.app.ui.canvas.node_item import NodeItem
from torchcanvas.app.ui.canvas.routing import MAX_ROUTED_CARDS, CardIndex, routed_path
from torchcanvas.graph.layout import RIGHT

ROOM = 800.0  # canvas beyond the cards, to drop and drag into


class CardDrawing:
    """GraphScene's drawing: ports per card, edge paths, and the analysis on both.

    It reads the scene's `model`, `nodes`, `edges`, `expanded` and `_edges_at` (a node's
    edges, so that a change touches its own edges rather than all of them).
    """

    def _sync_ports(self, node: str) -> bool:
        """Give the card one port per declared port; a merge shows a spare slot."""
        spec = self.model.spec(node)
        inputs = []
        for port in spec.inputs:
            if port.variadic:
                count = max(port.minimum, self.model.slot_count(node) + 1)
                inputs += [(str(i), str(i), False) for i in range(count)]
            else:
                inputs.append((port.name, port.short, port.optional))
        outputs = [
            (name, name if name.isdigit() else spec.output_port(name).short, False)
            for name in self.model.output_ports(node)
        ]
        return self.nodes[node].set_ports(inputs, outputs)

    def _route_edges_of(self, node: str) -> None:
        self._card_index = None  # the card moved or changed size
        own = self._edges_at.get(node, ())
        for edge in own:
            if edge in self.edges:  # else it is drawn as part of a bundle
                self._route(self.edges[edge])
        card = self.nodes.get(node)
        if card is not None and len(self.nodes) <= MAX_ROUTED_CARDS:
            # other edges that now pass behind the card find a way around it
            for item in self.items(card.sceneBoundingRect()):
                if isinstance(item, EdgeItem) and item.edge not in own:
                    self._route(item)

    def _route(self, item: EdgeItem) -> None:
        edge = item.edge
        src, dst = self.nodes.get(edge.src), self.nodes.get(edge.dst)
        if src is None or dst is None or not src.out_ports or not dst.in_ports:
            return
        # An edge from a port that no longer exists (fewer chunks) hangs off the last one.
        start = src.out_ports.get(edge.src_port) or list(src.out_ports.values())[-1]
        end = dst.in_ports.get(edge.dst_port) or list(dst.in_ports.values())[-1]
        start_at, end_at = start.anchor(), end.anchor()
        sideways = self.direction == RIGHT
        path = routed_path(self, start_at, end_at, (edge.src, edge.dst), sideways)
        if path is not None:
            item.set_route(path)
        else:
            item.route(start_at, end_at, sideways)

    def set_direction(self, direction: str) -> None:
        """Lay cards and edges out for data flowing `direction` (down or right)."""
        if direction == self.direction:
            return
        self.direction = direction
        for item in self.nodes.values():
            item.set_sideways(direction == RIGHT)
        self._card_index = None
        for item in self.edges.values():
            self._route(item)
        self._set_room(self.content_bounds())

    def cards_in(self, rect: QRectF) -> list[tuple[QRectF, str]]:
        """(rect, node) of the cards that overlap `rect` (scene coordinates)."""
        if getattr(self, "_card_index", None) is None:
            self._card_index = CardIndex(self.nodes)
        return self._card_index.overlapping(rect)

    def _update_cards(self, analysis, route_all: bool) -> None:
        """Show `analysis` on the cards and edges; edges are routed again only where a card
        changed its size (`route_all`: every edge, after a rebuild)."""
        reshaped = [node for node in self.nodes if self._refresh_card(node, analysis)]
        self._card_index = None
        labels: dict[tuple[str, str], str] = {}  # a value read n times is formatted once
        for edge, item in self.edges.items():
            value = (edge.src, edge.src_port)
            if value not in labels:
                meta = analysis.meta(*value)
                labels[value] = format_shape_text(meta) if meta is not None else ""
            item.set_label(labels[value])
        if route_all:
            for item in self.edges.values():
                self._route(item)
        else:
            for edge in dict.fromkeys(e for n in reshaped for e in self._edges_at.get(n, ())):
                if edge in self.edges:  # else it is drawn as part of a bundle
                    self._route(self.edges[edge])
            for node in reshaped:  # a card grew (expanded, more lines)
                self._make_room(node)
        self._drawn = analysis
        self.analysis_updated.emit(analysis)

    def _refresh_card(self, node: str, analysis) -> bool:
        """One card's text, problems and port tips; returns whether its size changed."""
        item = self.nodes[node]
        if node not in self.model:
            return False
        facts = analysis.facts.get(node)
        shape = format_shape_text(analysis.meta(node))
        fed = bool(analysis.context.inputs)  # a body: its Inputs take the instance's values
        resized = item.set_content(card_details(self.model, node, facts, fed), shape)
        rows = None
        if node in self.expanded:
            rows = inside_rows(inner_graph(self.model, node), facts)
        resized = item.set_inside(rows, repeat_count(self.model, node)) or resized
        problems = analysis.problems_for(node)
        severity = None
        if problems:
            severity = "error" if any(p.severity == "error" for p in problems) else "warning"
        item.set_problem(severity, "\n".join(p.message for p in problems))
        self._port_tips(node, item, analysis)
        return resized

    def _port_tips(self, node: str, item: NodeItem, analysis) -> None:
        spec, facts = self.model.spec(node), analysis.facts.get(node)
        for name, port in item.in_ports.items():
            port_spec = spec.input_port(name)
            value = facts.inputs.get(name) if facts else None
            text = f"{port_spec.name if port_spec else name}"
            if port_spec and port_spec.variadic:
                text = f"{port_spec.name} {name}"
            port.set_tip(text, port_spec.doc if port_spec else "", value)
        for name, port in item.out_ports.items():
            port_spec = spec.output_port(name)
            value = facts.outputs.get(name) if facts else None
            port.set_tip(name, port_spec.doc if port_spec else "", value)

    # ----- the canvas's extent -------------------------------------------------------
    def content_bounds(self) -> QRectF:
        """The bounds of every card, from the cards' positions and sizes.

        QGraphicsScene.itemsBoundingRect() visits every port and edge too, and asks each for
        its scene transform: 1.2 s for a 10,000-node graph, against 30 ms for this. Edges run
        between ports, so they stay within the cards' bounds but for their labels' overhang.
        """
        if not self.nodes:
            return QRectF()
        boxes = [(item.x(), item.y(), item.width, item.height()) for item in self.nodes.values()]
        left, top = min(b[0] for b in boxes), min(b[1] for b in boxes)
        right, bottom = max(b[0] + b[2] for b in boxes), max(b[1] + b[3] for b in boxes)
        return QRectF(left, top, right - left, bottom - top).adjusted(-40, -10, 40, 10)

    def _set_room(self, bounds: QRectF) -> None:
        """The scene rect: the cards' bounds and room around them.

        Set, not left to Qt: unset, Qt works it out from every item (ports and edges too) the
        first time the view asks, 0.5 s for a 10,000-node graph.
        """
        if bounds.isNull():
            bounds = QRectF(0, 0, 1, 1)
        self.setSceneRect(bounds.adjusted(-ROOM, -ROOM, ROOM, ROOM))

    def _make_room(self, node: str) -> None:
        """Grow the scene rect (never shrink it, as Qt does) to take in `node`'s card."""
        item = self.nodes.get(node)
        if item is None:
            return
        card = QRectF(item.x(), item.y(), item.width, item.height())
        if not self.sceneRect().contains(card):
            self.setSceneRect(self.sceneRect().united(card.adjusted(-ROOM, -ROOM, ROOM, ROOM)))
