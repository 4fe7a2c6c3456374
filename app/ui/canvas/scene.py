"""GraphScene: draws the ModelGraph and redraws when it signals; edits go out as requests."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsScene

from torchcanvas.app.ui import style
from torchcanvas.app.ui.canvas.edge_item import EdgeItem, curve
from torchcanvas.app.ui.canvas.node_item import NodeItem, PortItem
from torchcanvas.graph.model import ModelGraph
from torchcanvas.graph.params import to_json
from torchcanvas.graph.shapes import format_shape

GRID_STEP = 20


class GraphScene(QGraphicsScene):
    """Items for every node and edge of one ModelGraph."""

    connect_requested = Signal(str, str, object)  # source, target, port (None: first free)
    nodes_dragged = Signal(dict, dict)  # old positions, new positions
    analysis_updated = Signal(object)  # the graph's Analysis after each change

    def __init__(self, model: ModelGraph, parent=None) -> None:
        super().__init__(parent)
        self.model = model
        self.nodes: dict[str, NodeItem] = {}
        self.edges: dict[tuple[str, str, int], EdgeItem] = {}
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
    def _subscribe(self) -> None:
        events = self.model.events
        events.node_added.connect(self._on_node_added)
        events.node_removed.connect(self._on_node_removed)
        events.node_renamed.connect(self._on_node_renamed)
        events.node_moved.connect(self._on_node_moved)
        events.edge_added.connect(self._on_edge_added)
        events.edge_removed.connect(self._on_edge_removed)
        events.param_changed.connect(lambda *_: self.schedule_refresh())
        events.reset.connect(self.rebuild)
        events.changed.connect(self.schedule_refresh)

    def detach(self) -> None:
        """Stop listening to the model (before the scene is thrown away)."""
        events = self.model.events
        for signal, slot in (
            (events.node_added, self._on_node_added),
            (events.node_removed, self._on_node_removed),
            (events.node_renamed, self._on_node_renamed),
            (events.node_moved, self._on_node_moved),
            (events.edge_added, self._on_edge_added),
            (events.edge_removed, self._on_edge_removed),
            (events.reset, self.rebuild),
            (events.changed, self.schedule_refresh),
        ):
            signal.disconnect(slot)

    def rebuild(self) -> None:
        """Recreate every item from the model."""
        for item in list(self.nodes.values()) + list(self.edges.values()):
            self.removeItem(item)
        self.nodes, self.edges = {}, {}
        for name in self.model.nodes():
            self._on_node_added(name)
        for src, dst, port in self.model.edges():
            self._on_edge_added(src, dst, port)
        self.refresh_analysis()

    def _on_node_added(self, name: str) -> None:
        item = NodeItem(name, self.model.spec(name))
        self.nodes[name] = item
        self.addItem(item)
        self._syncing = True
        item.setPos(QPointF(*self.model.pos(name)))
        self._syncing = False
        item.set_input_count(len(self.model.inputs(name)))
        self.schedule_refresh()

    def _on_node_removed(self, name: str) -> None:
        item = self.nodes.pop(name, None)
        if item is not None:
            self.removeItem(item)

    def _on_node_renamed(self, old: str, new: str) -> None:
        item = self.nodes.pop(old)
        item.name = new
        self.nodes[new] = item
        for key in [k for k in self.edges if old in k[:2]]:
            edge = self.edges.pop(key)
            edge.src = new if edge.src == old else edge.src
            edge.dst = new if edge.dst == old else edge.dst
            self.edges[edge.key()] = edge
        item.update()

    def _on_node_moved(self, name: str, pos) -> None:
        item = self.nodes.get(name)
        if item is not None and (item.pos().x(), item.pos().y()) != pos:
            self._syncing = True
            item.setPos(QPointF(*pos))
            self._syncing = False
        self._route_edges_of(name)

    def _on_edge_added(self, src: str, dst: str, port: int) -> None:
        edge = EdgeItem(src, dst, port)
        self.edges[(src, dst, port)] = edge
        self.addItem(edge)
        self.nodes[dst].set_input_count(len(self.model.inputs(dst)))
        self._route_edges_of(dst)

    def _on_edge_removed(self, src: str, dst: str, port: int) -> None:
        edge = self.edges.pop((src, dst, port), None)
        if edge is not None:
            self.removeItem(edge)
        if dst in self.nodes and dst in self.model:
            self.nodes[dst].set_input_count(len(self.model.inputs(dst)))
            self._route_edges_of(dst)

    # ----- drawing ----------------------------------------------------------------
    def _route_edges_of(self, name: str) -> None:
        for key, edge in self.edges.items():
            if name in key[:2]:
                self._route(edge)

    def _route(self, edge: EdgeItem) -> None:
        src, dst = self.nodes.get(edge.src), self.nodes.get(edge.dst)
        if src is None or dst is None or src.out_port is None:
            return
        ports = dst.in_ports
        target = ports[min(edge.port, len(ports) - 1)] if ports else None
        if target is not None:
            edge.route(src.out_port.anchor(), target.anchor())

    def schedule_refresh(self) -> None:
        """Re-analyse once after a burst of model events."""
        self._refresh.start()

    def refresh_analysis(self) -> None:
        """Update shapes, problems and edge labels from a fresh analysis."""
        analysis = self.model.analysis()
        for name, item in self.nodes.items():
            if name not in self.model:
                continue
            item.set_content(self._details(name), format_shape_text(analysis.shapes.get(name)))
            problems = analysis.problems_for(name)
            severity = None
            if problems:
                severity = "error" if any(p.severity == "error" for p in problems) else "warning"
            item.set_problem(severity, "\n".join(p.message for p in problems))
        for (src, _, _), edge in self.edges.items():
            shape = analysis.shapes.get(src)
            edge.set_label(format_shape_text(shape) if shape is not None else "")
            self._route(edge)
        self.analysis_updated.emit(analysis)

    def _details(self, name: str) -> list[str]:
        spec = self.model.spec(name)
        params = self.model.params(name)
        parts = []
        for key in spec.key_params:
            value = params.get(key, spec.param(key).default)  # defaults too: "p 0.5"
            if value is not None:
                parts.append(f"{_short(key)} {_value_text(to_json(value))}")
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

    # ----- dragging nodes and wires -----------------------------------------------
    def node_item_moved(self, item: NodeItem) -> None:
        """A card was dragged: move the node in the model (edges follow its event)."""
        if not self._syncing and item.name in self.model:
            self.model.move(item.name, (item.pos().x(), item.pos().y()))

    def mousePressEvent(self, event) -> None:
        port = self._port_at(event.scenePos())
        if port is not None and event.button() == Qt.MouseButton.LeftButton:
            self._start_wire(port)
            event.accept()
            return
        super().mousePressEvent(event)
        self._press_positions = {i.name: self.model.pos(i.name) for i in self.selected_nodes()}

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
            port = target.index if target is not None and target.kind == "in" else None
            self.connect_requested.emit(origin.node.name, node.name, port)
        elif target is None or target.kind == "out":
            self.connect_requested.emit(node.name, origin.node.name, origin.index)

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

    def select_nodes(self, names: list[str]) -> None:
        """Select exactly these nodes."""
        self.clearSelection()
        for name in names:
            if name in self.nodes:
                self.nodes[name].setSelected(True)


def format_shape_text(shape) -> str:
    """A shape for the canvas: 16×28×28."""
    return format_shape(shape).replace("x", "×") if shape is not None else "shape ?"


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
