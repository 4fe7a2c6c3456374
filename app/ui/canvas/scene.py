"""GraphScene: draws the ModelGraph and redraws when it signals; edits go out as requests."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsScene

from torchcanvas.app.ui import style
from torchcanvas.app.ui.canvas.card_text import (
    card_details,
    format_shape_text,
    inner_graph,
    inside_rows,
    port_tip,
    repeat_count,
)
from torchcanvas.app.ui.canvas.edge_item import EdgeItem, curve
from torchcanvas.app.ui.canvas.node_item import NodeItem, PortItem
from torchcanvas.graph.model import Edge, ModelGraph
from torchcanvas.graph.registry import BLOCK, CONTAINER

GRID_STEP = 20


class GraphScene(QGraphicsScene):
    """Items for every node and edge of one ModelGraph, keyed by node id and Edge."""

    connect_requested = Signal(str, str, object, object)  # source, target, ports (None: pick)
    nodes_dragged = Signal(dict, dict)  # old positions, new positions (by id)
    analysis_updated = Signal(object)  # the graph's Analysis after each change
    node_opened = Signal(str)  # a block or container card was double-clicked

    def __init__(self, model: ModelGraph, parent=None, analysis=None) -> None:
        super().__init__(parent)
        self.model = model
        self._analysis = analysis  # () -> Analysis of the shown graph; default: its own
        self.expanded: set[str] = set()  # cards showing their inside
        self.nodes: dict[str, NodeItem] = {}
        self.edges: dict[Edge, EdgeItem] = {}
        self._drag_line: QGraphicsPathItem | None = None
        self._drag_port: PortItem | None = None
        self._press_positions: dict[str, tuple[float, float]] = {}
        self._syncing = False
        self._refresh = QTimer(self)
        self._refresh.setSingleShot(True)
        self._refresh.setInterval(0)
        self._refresh.timeout.connect(self.refresh_analysis)
        self.setBackgroundBrush(style.CANVAS_BG)
        self._subscribe()
        self.rebuild()

    # ----- model events -----------------------------------------------------------
    def _subscriptions(self) -> list:
        events = self.model.events
        return [
            (events.node_added, self._on_node_added),
            (events.node_removed, self._on_node_removed),
            (events.node_renamed, self._on_node_renamed),
            (events.node_moved, self._on_node_moved),
            (events.edge_added, self._on_edge_added),
            (events.edge_removed, self._on_edge_removed),
            (events.param_changed, self._on_param_changed),
            (events.reset, self.rebuild),
            (events.changed, self.schedule_refresh),
        ]

    def _subscribe(self) -> None:
        for signal, slot in self._subscriptions():
            signal.connect(slot)

    def detach(self) -> None:
        """Stop listening to the model (before the scene is thrown away)."""
        for signal, slot in self._subscriptions():
            signal.disconnect(slot)

    def set_graph(self, graph: ModelGraph, analysis=None) -> None:
        """Show another graph (a block definition, a container body, the model again)."""
        self.detach()
        self.model, self._analysis = graph, analysis
        self.expanded = set()
        self._subscribe()
        self.rebuild()

    def analysis(self):
        """The analysis of the graph shown (an instance's when opened from the model)."""
        return self._analysis() if self._analysis is not None else self.model.analysis()

    def library_changed(self) -> None:
        """A definition changed: instance cards may have other ports, and shapes move."""
        library = self.model.library
        for node in self.nodes:
            if node in self.model and library is not None and self.model.node_type(node) in library:
                if self._sync_ports(node):
                    self._route_edges_of(node)
        self.schedule_refresh()

    def rebuild(self) -> None:
        """Recreate every item from the model."""
        for item in list(self.nodes.values()) + list(self.edges.values()):
            self.removeItem(item)
        self.nodes, self.edges = {}, {}
        for node in self.model.nodes():
            self._on_node_added(node)
        for edge in self.model.edges():
            self._on_edge_added(edge)
        self.refresh_analysis()

    def _on_node_added(self, node: str) -> None:
        spec = self.model.spec(node)
        item = NodeItem(node, self.model.node_name(node), spec)
        item.openable = spec.kind in (BLOCK, CONTAINER)
        self.nodes[node] = item
        self.addItem(item)
        self._syncing = True
        item.setPos(QPointF(*self.model.pos(node)))
        self._syncing = False
        self._sync_ports(node)
        self.schedule_refresh()

    def _on_node_removed(self, node: str) -> None:
        self.expanded.discard(node)
        item = self.nodes.pop(node, None)
        if item is not None:
            self.removeItem(item)

    def _on_node_renamed(self, node: str, _old: str, new: str) -> None:
        self.nodes[node].set_name(new)

    def _on_node_moved(self, node: str, pos) -> None:
        item = self.nodes.get(node)
        if item is not None and (item.pos().x(), item.pos().y()) != pos:
            self._syncing = True
            item.setPos(QPointF(*pos))
            self._syncing = False
        self._route_edges_of(node)

    def _on_param_changed(self, node: str, _key: str) -> None:
        if self._sync_ports(node):
            self._route_edges_of(node)
        self.schedule_refresh()

    def _on_edge_added(self, edge: Edge) -> None:
        item = EdgeItem(edge)
        self.edges[edge] = item
        self.addItem(item)
        self._sync_ports(edge.dst)
        self._route_edges_of(edge.dst)

    def _on_edge_removed(self, edge: Edge) -> None:
        item = self.edges.pop(edge, None)
        if item is not None:
            self.removeItem(item)
        if edge.dst in self.nodes and edge.dst in self.model:
            self._sync_ports(edge.dst)
            self._route_edges_of(edge.dst)

    def _sync_ports(self, node: str) -> bool:
        """Give the card one port per declared port; a merge shows a spare slot."""
        spec = self.model.spec(node)
        used = {edge.dst_port for edge in self.model.inputs(node)}
        inputs = []
        for port in spec.inputs:
            if port.variadic:
                count = max(port.minimum, sum(1 for p in used if p.isdigit()) + 1)
                inputs += [(str(i), str(i), False) for i in range(count)]
            else:
                inputs.append((port.name, port.short, port.optional))
        outputs = [
            (name, name if name.isdigit() else spec.output_port(name).short, False)
            for name in self.model.output_ports(node)
        ]
        return self.nodes[node].set_ports(inputs, outputs)

    def card_sizes(self) -> dict[str, tuple[float, float]]:
        """The size of every card as drawn (for auto-arrange)."""
        return {node: (item.width, item.height()) for node, item in self.nodes.items()}

    # ----- drawing ----------------------------------------------------------------
    def _route_edges_of(self, node: str) -> None:
        for edge, item in self.edges.items():
            if node in (edge.src, edge.dst):
                self._route(item)

    def _route(self, item: EdgeItem) -> None:
        edge = item.edge
        src, dst = self.nodes.get(edge.src), self.nodes.get(edge.dst)
        if src is None or dst is None or not src.out_ports or not dst.in_ports:
            return
        # An edge from a port that no longer exists (fewer chunks) hangs off the last one.
        start = src.out_ports.get(edge.src_port) or list(src.out_ports.values())[-1]
        end = dst.in_ports.get(edge.dst_port) or list(dst.in_ports.values())[-1]
        item.route(start.anchor(), end.anchor())

    def schedule_refresh(self) -> None:
        """Re-analyse once after a burst of model events."""
        self._refresh.start()

    def refresh_analysis(self) -> None:
        """Update shapes, problems, port tips and edge labels from a fresh analysis."""
        analysis = self.analysis()
        fed = bool(analysis.context.inputs)  # a body: its Inputs take the instance's values
        for node, item in self.nodes.items():
            if node not in self.model:
                continue
            facts = analysis.facts.get(node)
            shape = format_shape_text(analysis.meta(node))
            item.set_content(card_details(self.model, node, facts, fed), shape)
            rows = None
            if node in self.expanded:
                rows = inside_rows(inner_graph(self.model, node), facts)
            item.set_inside(rows, repeat_count(self.model, node))
            problems = analysis.problems_for(node)
            severity = None
            if problems:
                severity = "error" if any(p.severity == "error" for p in problems) else "warning"
            item.set_problem(severity, "\n".join(p.message for p in problems))
            self._port_tips(node, item, analysis)
        for edge, item in self.edges.items():
            meta = analysis.meta(edge.src, edge.src_port)
            item.set_label(format_shape_text(meta) if meta is not None else "")
            self._route(item)
        self.analysis_updated.emit(analysis)

    def _port_tips(self, node: str, item: NodeItem, analysis) -> None:
        spec, facts = self.model.spec(node), analysis.facts.get(node)
        for name, port in item.in_ports.items():
            port_spec = spec.input_port(name)
            value = facts.inputs.get(name) if facts else None
            text = f"{port_spec.name if port_spec else name}"
            if port_spec and port_spec.variadic:
                text = f"{port_spec.name} {name}"
            port.setToolTip(port_tip(text, port_spec.doc if port_spec else "", value))
        for name, port in item.out_ports.items():
            port_spec = spec.output_port(name)
            value = facts.outputs.get(name) if facts else None
            port.setToolTip(port_tip(name, port_spec.doc if port_spec else "", value))

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        super().drawBackground(painter, rect)
        step = GRID_STEP * 5
        painter.setPen(QPen(style.GRID, 1))
        left = int(rect.left()) - int(rect.left()) % step
        top = int(rect.top()) - int(rect.top()) % step
        x = left
        while x < rect.right():
            painter.drawLine(x, int(rect.top()), x, int(rect.bottom()))
            x += step
        y = top
        while y < rect.bottom():
            painter.drawLine(int(rect.left()), y, int(rect.right()), y)
            y += step

    def toggle_expanded(self, nodes: list[str]) -> None:
        """Show (or hide) what is inside these block and container cards."""
        openable = [n for n in nodes if n in self.nodes and self.nodes[n].openable]
        if all(n in self.expanded for n in openable):
            self.expanded.difference_update(openable)
        else:
            self.expanded.update(openable)
        for node in openable:
            self._route_edges_of(node)
        self.refresh_analysis()

    # ----- dragging nodes and wires -----------------------------------------------
    def mouseDoubleClickEvent(self, event) -> None:
        item = self._node_at(event.scenePos())
        if item is not None and item.openable and event.button() == Qt.MouseButton.LeftButton:
            self.node_opened.emit(item.node)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def node_item_moved(self, item: NodeItem) -> None:
        """A card was dragged: move the node in the model (edges follow its event)."""
        if not self._syncing and item.node in self.model:
            self.model.move(item.node, (item.pos().x(), item.pos().y()))

    def mousePressEvent(self, event) -> None:
        item = self._node_at(event.scenePos())
        if item is not None and item.on_toggle(item.mapFromScene(event.scenePos())):
            self.toggle_expanded([item.node])
            event.accept()
            return
        port = self._port_at(event.scenePos())
        if port is not None and event.button() == Qt.MouseButton.LeftButton:
            self._start_wire(port)
            event.accept()
            return
        super().mousePressEvent(event)
        self._press_positions = {i.node: self.model.pos(i.node) for i in self.selected_nodes()}

    def mouseMoveEvent(self, event) -> None:
        if self._drag_line is not None:
            start = self._drag_port.anchor()
            end = event.scenePos()
            path = curve(start, end) if self._drag_port.kind == "out" else curve(end, start)
            self._drag_line.setPath(path)
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._drag_line is not None:
            self._finish_wire(event.scenePos())
            event.accept()
            return
        super().mouseReleaseEvent(event)
        moved_old = {
            n: p
            for n, p in self._press_positions.items()
            if n in self.model and self.model.pos(n) != p
        }
        if moved_old:
            self.nodes_dragged.emit(moved_old, {n: self.model.pos(n) for n in moved_old})
        self._press_positions = {}

    def _start_wire(self, port: PortItem) -> None:
        self._drag_port = port
        self._drag_line = QGraphicsPathItem()
        self._drag_line.setPen(QPen(QColor(style.SELECTED), 2, Qt.PenStyle.DashLine))
        self._drag_line.setZValue(3)
        self.addItem(self._drag_line)

    def _finish_wire(self, pos: QPointF) -> None:
        origin = self._drag_port
        self.removeItem(self._drag_line)
        self._drag_line, self._drag_port = None, None
        target = self._port_at(pos)
        node = target.node if target is not None else self._node_at(pos)
        if node is None or node is origin.node:
            return
        if origin.kind == "out":
            port = target.name if target is not None and target.kind == "in" else None
            self.connect_requested.emit(origin.node.node, node.node, origin.name, port)
        elif target is None or target.kind == "out":
            port = target.name if target is not None else None
            self.connect_requested.emit(node.node, origin.node.node, port, origin.name)

    def _port_at(self, pos: QPointF) -> PortItem | None:
        for item in self.items(QRectF(pos.x() - 6, pos.y() - 6, 12, 12)):
            if isinstance(item, PortItem):
                return item
        return None

    def _node_at(self, pos: QPointF) -> NodeItem | None:
        for item in self.items(pos):
            if isinstance(item, NodeItem):
                return item
        return None

    # ----- selection --------------------------------------------------------------
    def selected_nodes(self) -> list[NodeItem]:
        """Selected cards."""
        return [i for i in self.selectedItems() if isinstance(i, NodeItem)]

    def selected_edges(self) -> list[EdgeItem]:
        """Selected edges."""
        return [i for i in self.selectedItems() if isinstance(i, EdgeItem)]

    def select_nodes(self, nodes: list[str]) -> None:
        """Select exactly these nodes (by id)."""
        self.clearSelection()
        for node in nodes:
            if node in self.nodes:
                self.nodes[node].setSelected(True)
