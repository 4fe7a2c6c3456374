"""GraphScene: draws the ModelGraph and redraws when it signals; edits go out as requests."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsScene

from torchcanvas.app.ui import style
from torchcanvas.app.ui.canvas.edge_bundles import EdgeBundles
from torchcanvas.app.ui.canvas.edge_item import EdgeItem, curve
from torchcanvas.app.ui.canvas.node_item import NodeItem, PortItem
from torchcanvas.app.ui.canvas.scene_cards import CardDrawing
from torchcanvas.graph.flags import TRAINING_FLAGS
from torchcanvas.graph.graphbase import gc_paused
from torchcanvas.graph.layout import DOWN, RIGHT
from torchcanvas.graph.model import Edge, ModelGraph
from torchcanvas.graph.registry import BLOCK, CONTAINER

GRID_STEP = 20
CROWDED = 800  # items in one repaint above which edges are drawn plain (no labels, no AA)


class GraphScene(CardDrawing, EdgeBundles, QGraphicsScene):
    """Items for every node and edge of one ModelGraph, keyed by node id and Edge."""

    connect_requested = Signal(str, str, object, object)  # source, target, ports (None: pick)
    nodes_dragged = Signal(dict, dict)  # old positions, new positions (by id)
    analysis_updated = Signal(object)  # the graph's Analysis after each change
    node_opened = Signal(str)  # a block or container card was double-clicked
    canvas_double_clicked = Signal(QPointF)  # on no card: scene position
    wire_dropped = Signal(str, str, str, QPointF)  # node, port, "in"/"out", on empty canvas
    menu_requested = Signal(object, QPointF, object)  # card, edge, port or None; where; screen

    def __init__(self, model: ModelGraph, parent=None, analysis=None, locked=None) -> None:
        super().__init__(parent)
        self.model = model
        self._analysis = analysis  # () -> Analysis of the shown graph; default: its own
        self.expanded: set[str] = set()  # cards showing their inside
        self.nodes: dict[str, NodeItem] = {}
        self.edges: dict[Edge, EdgeItem] = {}  # the edges drawn (see EdgeBundles)
        # Every edge at each node, drawn or bundled, so that moving a card or changing its
        # ports touches its own edges, not all of them (scanning every edge per change made
        # building quadratic).
        self._edges_at: dict[str, dict[Edge, None]] = {}
        # Cards whose ports and edges wait for the end of the model's current edit: a merge
        # whose slots shift sends an event per edge, and one update per edit keeps it linear.
        self._dirty: dict[str, None] = {}
        # The analysis the cards show and were announced with: an edit makes a new one (the
        # graph caches it per revision), so a refresh that finds the same one has nothing to do.
        self._drawn = None
        self.crowded = False  # this repaint draws so many items that edges go plain
        self.progress = None  # () told when a rebuild starts, while a project opens
        self.direction = DOWN  # which way the data flows: cards' ports and edges follow it
        self._locked = locked or (lambda: False)  # () -> the document's lock (a run trains)
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
            (events.changed, self._on_changed),
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

    @property
    def locked(self) -> bool:
        """Whether the design is locked now: no wires start, cards stay put."""
        return self._locked()

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
        if self.progress is not None:
            self.progress()
        with gc_paused():  # tens of thousands of new items, and no garbage cycles
            self._rebuild()

    def _rebuild(self) -> None:
        # Without the BSP index while the old items go: Qt takes each recently indexed item out
        # of a list one by one, which made replacing a big graph quadratic (9 s for 2,000 nodes).
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        for item in list(self.nodes.values()) + list(self.edges.values()):
            self.removeItem(item)
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        self.setBspTreeDepth(_bsp_depth(len(self.model) + len(self.model.edges())))
        self.nodes, self.edges, self._edges_at, self._dirty = {}, {}, {}, {}
        # Every item first, then each card's ports once and each edge's path once.
        for node in self.model.nodes():
            self._add_card(node)
        for edge in self.model.edges():
            self._note_edge(edge)
        for node in self.nodes:
            self._sync_ports(node)
            self._bundle(node)
        self._update_cards(self.analysis(), route_all=True)
        self._set_room(self.content_bounds())

    def _add_card(self, node: str) -> None:
        spec = self.model.spec(node)
        item = NodeItem(node, self.model.node_name(node), spec)
        item.sideways = self.direction == RIGHT
        item.openable = spec.kind in (BLOCK, CONTAINER)
        item.set_flags(*(self.model.flag(node, key) for key in TRAINING_FLAGS))
        item.setFlag(NodeItem.GraphicsItemFlag.ItemIsMovable, not self.locked)
        self.nodes[node] = item
        self._edges_at.setdefault(node, {})
        self.addItem(item)
        self._syncing = True
        item.setPos(QPointF(*self.model.pos(node)))
        self._syncing = False

    def _note_edge(self, edge: Edge) -> None:
        """Remember `edge` at both its ends (its item comes with its card's bundles)."""
        for end in (edge.src, edge.dst):
            self._edges_at.setdefault(end, {})[edge] = None

    def _on_node_added(self, node: str) -> None:
        self._add_card(node)
        self._sync_ports(node)
        self._make_room(node)
        self.schedule_refresh()

    def _on_node_removed(self, node: str) -> None:
        self.expanded.discard(node)
        self._dirty.pop(node, None)
        self._edges_at.pop(node, None)  # its edges went first
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
        self._make_room(node)

    def _on_param_changed(self, node: str, key: str) -> None:
        if key in TRAINING_FLAGS:  # no port or shape changes; the summary still follows
            self.nodes[node].set_flags(*(self.model.flag(node, k) for k in TRAINING_FLAGS))
            self.schedule_refresh()
            return
        if self._sync_ports(node):
            self._route_edges_of(node)
        self.schedule_refresh()

    def _on_edge_added(self, edge: Edge) -> None:
        self._note_edge(edge)
        self._dirty[edge.dst] = None

    def _on_edge_removed(self, edge: Edge) -> None:
        item = self.edges.pop(edge, None)
        if item is not None:
            self.removeItem(item)
        for end in (edge.src, edge.dst):
            self._edges_at.get(end, {}).pop(edge, None)
        self._dirty[edge.dst] = None

    def _on_changed(self) -> None:
        """The end of one edit (the model sends `changed` last): update the cards it touched."""
        self._flush()
        self.schedule_refresh()

    def _flush(self) -> None:
        dirty, self._dirty = self._dirty, {}
        for node in dirty:
            if node in self.nodes and node in self.model:
                self._sync_ports(node)
                self._bundle(node)
                self._route_edges_of(node)

    def card_sizes(self) -> dict[str, tuple[float, float]]:
        """The size of every card as drawn (for auto-arrange)."""
        return {node: (item.width, item.height()) for node, item in self.nodes.items()}

    # ----- drawing ----------------------------------------------------------------
    def schedule_refresh(self) -> None:
        """Re-analyse once after a burst of model events."""
        self._refresh.start()

    def refresh_analysis(self) -> None:
        """Update shapes, problems, port tips and edge labels from a fresh analysis."""
        self._flush()
        analysis = self.analysis()
        if analysis is not self._drawn:
            self._update_cards(analysis, route_all=False)

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        # Called once per repaint, before the items: decide how much detail they get. Tens of
        # thousands of antialiased, labelled edges in one view (1,024 inputs fanning into each
        # of 60 merges) took 11 s a repaint, and are a solid mass of lines at any detail.
        found = self.items(rect, Qt.ItemSelectionMode.IntersectsItemBoundingRect)
        self.crowded = len(found) > CROWDED
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
        self._drawn = None  # the same analysis, shown another way
        self.refresh_analysis()

    # ----- dragging nodes and wires -----------------------------------------------
    def mouseDoubleClickEvent(self, event) -> None:
        item = self._node_at(event.scenePos())
        if item is not None and item.openable and event.button() == Qt.MouseButton.LeftButton:
            self.node_opened.emit(item.node)
            event.accept()
            return
        if item is None and self.itemAt(event.scenePos(), self.views()[0].transform()) is None:
            self.canvas_double_clicked.emit(event.scenePos())
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def contextMenuEvent(self, event) -> None:
        pos = event.scenePos()
        target = self._port_at(pos) or self._node_at(pos) or self.edge_at(pos)
        self.menu_requested.emit(target, pos, event.screenPos())
        event.accept()

    def node_item_moved(self, item: NodeItem) -> None:
        """A card was dragged: move the node in the model (edges follow its event)."""
        if not self._syncing and item.node in self.model:
            self.model.move(item.node, (item.pos().x(), item.pos().y()))

    def _follow_drag(self) -> None:
        """The cards Qt moved with the mouse (the ones selected at the press) move the nodes."""
        for node in self._press_positions:
            item = self.nodes.get(node)
            if item is not None:
                self.node_item_moved(item)

    def mousePressEvent(self, event) -> None:
        item = self._node_at(event.scenePos())
        if item is not None and item.on_toggle(item.mapFromScene(event.scenePos())):
            self.toggle_expanded([item.node])
            event.accept()
            return
        port = None if self.locked else self._port_at(event.scenePos())
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
            sideways = self.direction == RIGHT
            out = self._drag_port.kind == "out"
            path = curve(start, end, sideways) if out else curve(end, start, sideways)
            self._drag_line.setPath(path)
            event.accept()
            return
        super().mouseMoveEvent(event)
        self._follow_drag()

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
        if node is None:
            self.wire_dropped.emit(origin.node.node, origin.name, origin.kind, pos)
            return
        if node is origin.node:
            return
        if origin.kind == "out":
            port = target.name if target is not None and target.kind == "in" else None
            self.connect_requested.emit(origin.node.node, node.node, origin.name, port)
        elif target is None or target.kind == "out":
            port = target.name if target is not None else None
            self.connect_requested.emit(node.node, origin.node.node, port, origin.name)

    def _port_at(self, pos: QPointF) -> PortItem | None:
        # At least 8 px on screen either side: a port is a speck when zoomed out.
        zoom = self.views()[0].transform().m11() if self.views() else 1.0
        reach = max(6.0, 8.0 / zoom)
        area = QRectF(pos.x() - reach, pos.y() - reach, 2 * reach, 2 * reach)
        ports = [item for item in self.items(area) if isinstance(item, PortItem)]
        # Only outwards from the card's edge: inside, the card is what was meant.
        axis = 0 if self.direction == RIGHT else 1  # ports face left/right, or up/down
        ports = [p for p in ports if (pos - p.anchor()).toTuple()[axis] * _OUTWARD[p.kind] >= -6]
        return min(ports, key=lambda p: _distance(p.anchor(), pos), default=None)

    def _node_at(self, pos: QPointF) -> NodeItem | None:
        for item in self.items(pos):
            if isinstance(item, NodeItem):
                return item
        return None

    def edge_at(self, pos: QPointF) -> EdgeItem | None:
        """The edge under `pos` (within its 10-px-wide hit area), if no card is."""
        for item in self.items(QRectF(pos.x() - 5, pos.y() - 5, 10, 10)):
            if isinstance(item, NodeItem):
                return None
            if isinstance(item, EdgeItem) and item.shape().contains(pos):
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


def _bsp_depth(items: int) -> int:
    """Qt's own choice of index depth, at most 10."""
    # Qt deepens it with the item count (16 levels for 10,000 nodes), and an edge across the
    # canvas then sits in thousands of leaves: the first paint of a big graph took seconds.
    return min(max(math.ceil(math.log2(max(items, 1))), 5), 10)


_OUTWARD = {"in": -1.0, "out": 1.0}  # inputs on a card's top edge, outputs on its bottom


def _distance(a: QPointF, b: QPointF) -> float:
    return math.hypot(a.x() - b.x(), a.y() - b.y())
