"""Adding and wiring in one gesture: quick-add (Tab, double-click, a wire dropped on the
canvas), auto-connect below the selected node, drop onto an edge, nudge, find.

Every change goes through the Document (one undo step per gesture); this module decides
where and what, the Document does it.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QPointF, QRectF
from PySide6.QtGui import QCursor

from torchcanvas.app.ui.canvas.node_item import WIDTH as CARD_WIDTH
from torchcanvas.app.ui.canvas.node_item import NodeItem
from torchcanvas.app.ui.palette import HIDDEN
from torchcanvas.app.ui.quick_add import Entry, SearchPopup, layer_parser
from torchcanvas.app.ui.quick_args import LayerRequest
from torchcanvas.graph.hints import value_problem
from torchcanvas.graph.layout import RIGHT
from torchcanvas.graph.registry import all_specs

GAP = 50.0  # between a card and the one added below it
SIDE_GAP = 90.0  # left to right: between a card and the one added right of it


class Editing(QObject):
    """The window's add-and-wire gestures."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.popup = SearchPopup(window)
        self.popup.chosen.connect(self._on_chosen)
        self.popup.chain_chosen.connect(self._on_chain_chosen)
        self._then = None  # what to do with the chosen key
        self._then_chain = None  # what to do with the layers typed with arguments
        view, scene = window.view, window.scene
        view.quick_add_requested.connect(self.quick_add)
        view.nudge_requested.connect(self.nudge)
        scene.canvas_double_clicked.connect(self.quick_add_at)
        scene.wire_dropped.connect(self.quick_add_from_port)

    @property
    def document(self):
        return self.window.document

    # ----- what can be added ----------------------------------------------------------
    def layer_entries(self, accepts=None) -> list[Entry]:
        """Every layer type and block, or those `accepts(type_name)` allows."""
        entries = [
            Entry(spec.type, spec.type, spec.category)
            for spec in all_specs()
            if spec.type not in HIDDEN
        ]
        library = self.document.graph.library
        if library is not None:
            entries += [Entry(name, name, "Block") for name in library.names()]
        return [e for e in entries if accepts is None or accepts(e.key)]

    def ask(
        self, title: str, entries: list[Entry], then, at: QPointF | None = None, chain=None
    ) -> None:
        """Open the search box at the cursor (or the scene point `at`); `then(key)` after,
        or `chain(requests)` for layers typed with arguments or commas."""
        refusal = self.document.refusal() if title != "Find a node" else None
        if refusal:  # finding a node, to watch it, is no edit
            self.window.statusBar().showMessage(refusal, 5000)
            return
        view = self.window.view
        spot = view.viewport().mapToGlobal(view.mapFromScene(at)) if at else QCursor.pos()
        if at is None and not view.viewport().rect().contains(view.viewport().mapFromGlobal(spot)):
            spot = view.viewport().mapToGlobal(view.viewport().rect().center())
        self._then, self._then_chain = then, chain
        parser = layer_parser(entries, self.document.graph.type_spec) if chain else None
        self.popup.open_at(spot, title, entries, parser=parser)

    def _on_chosen(self, key: str) -> None:
        then, self._then = self._then, None
        if then is not None:
            then(key)

    def _on_chain_chosen(self, requests: list[LayerRequest]) -> None:
        chain, self._then_chain = self._then_chain, None
        if chain is not None:
            chain(requests)
            if self.popup.again:  # "relu," Enter: the box is back for the next layer
                self.quick_add()

    # ----- gestures -------------------------------------------------------------------
    def quick_add(self) -> None:
        """Tab: a search box at the cursor; the choice goes below the selected node, wired
        from it, or under the cursor when nothing is selected."""
        view = self.window.view
        under = view.mapToScene(view.viewport().mapFromGlobal(QCursor.pos()))
        if not view.viewport().rect().contains(view.mapFromScene(under)):
            under = view.mapToScene(view.viewport().rect().center())
        self.ask(
            "Add layer",
            self.layer_entries(),
            lambda key: self.add_layer(key, under),
            chain=lambda requests: self.add_chain(requests, under),
        )

    def quick_add_at(self, pos: QPointF) -> None:
        """Double-click on empty canvas: a search box there; the choice lands there."""
        self.ask(
            "Add layer",
            self.layer_entries(),
            lambda key: self.add_at(key, pos),
            pos,
            chain=lambda requests: self.add_chain(requests, pos),
        )

    def quick_add_from_port(self, node: str, port: str, kind: str, pos: QPointF) -> None:
        """A wire dropped on empty canvas: layers that fit that end, added there and wired."""
        if kind == "out":
            entries = self.layer_entries(lambda key: self._takes(key, node, port))
            title = f"Add a layer reading {self.document.graph.node_name(node)}"
        else:
            entries = self.layer_entries(lambda key: self._gives(key))
            title = f"Add a layer feeding {self.document.graph.node_name(node)}"
        self.ask(title, entries, lambda key: self._add_wired(key, pos, node, port, kind), pos)

    def add_layer(self, type_name: str, fallback: QPointF | None = None) -> None:
        """Add `type_name` below the selected node, wired from it; else at `fallback` (or
        the middle of the view)."""
        selected = self.window.scene.selected_nodes()
        graph = self.document.graph
        if len(selected) == 1 and graph.output_ports(selected[0].node):
            readers = graph.outputs(selected[0].node)
            spec = graph.type_spec(type_name) if graph.has_type(type_name) else None
            if len(readers) == 1 and spec is not None and spec.inputs and spec.outputs:
                self._insert_below(type_name, selected[0], readers[0])  # a chain stays one
                return
            below = self.free_spot_below(selected[0])
            self._add_wired(type_name, below, selected[0].node, None, "out", top_left=True)
            return
        view = self.window.view
        self.add_at(type_name, fallback or view.mapToScene(view.viewport().rect().center()))

    def add_at(self, type_name: str, pos: QPointF) -> None:
        """Add `type_name` with its card's top centre at `pos`, and select it."""
        error = self.document.add_node(type_name, (pos.x() - CARD_WIDTH / 2, pos.y() - 11))
        self._done(error)

    def add_chain(self, requests: list[LayerRequest], fallback: QPointF | None = None) -> None:
        """Add `requests` one after the other as `add_layer` does (each after the one before,
        inserted before what the selected node feeds) with their parameters; one undo step,
        all or nothing."""
        names = ", ".join(request.type for request in requests)
        if not requests or not self._begin(f"Add {names}"):
            return
        doc = self.document
        for request in requests:
            before = doc.last_added
            self.add_layer(request.type, fallback)
            fallback = None  # the next one goes after this one
            if doc.last_added == before or doc.last_added not in doc.graph:
                doc.undo.abort_macro()  # add_layer said why in the status bar
                return
            for key, value in request.params.items():
                error = doc.set_param(doc.last_added, key, value)
                if error:
                    doc.undo.abort_macro()
                    self.window.statusBar().showMessage(f"{request.type}: {error}", 8000)
                    return
        doc.undo.end_macro()
        self._done(None)

    def drop_layer(self, type_name: str, pos: QPointF) -> None:
        """A layer dropped from the palette: onto an edge it is inserted there."""
        edge = self.window.scene.edge_at(pos)
        if edge is None:
            self.add_at(type_name, pos)
        else:
            self.insert(type_name, edge.edge, pos)

    def _insert_below(self, type_name: str, item: NodeItem, edge) -> None:
        """Insert after `item` into its only outgoing `edge`, moving what follows down."""
        doc, graph = self.document, self.document.graph
        if not self._begin(f"Insert {type_name}"):
            return
        below = downstream(graph, edge.dst)
        if self._sideways():  # left to right: what follows moves right
            step = (item.width + SIDE_GAP, 0.0)
            spot = QPointF(item.x() + item.width + SIDE_GAP + CARD_WIDTH / 2, item.y() + 11)
        else:
            step = (0.0, item.height() + GAP)
            spot = QPointF(item.x() + CARD_WIDTH / 2, item.y() + item.height() + GAP + 11)
        doc.moved(
            {n: graph.pos(n) for n in below},
            {n: (graph.pos(n)[0] + step[0], graph.pos(n)[1] + step[1]) for n in below},
        )
        self._finish_insert(type_name, self._insert(type_name, edge, spot))

    def insert(self, type_name: str, edge, pos: QPointF) -> None:
        """Put a new layer into `edge`: source -> new -> target, one undo step."""
        if self._begin(f"Insert {type_name}"):
            self._finish_insert(type_name, self._insert(type_name, edge, pos))

    def _begin(self, text: str) -> bool:
        """Open one gesture's undo step, or say why the design cannot change now."""
        refusal = self.document.refusal()
        if refusal:
            self.window.statusBar().showMessage(refusal, 5000)
            return False
        self.document.undo.begin_macro(text)
        return True

    def _finish_insert(self, type_name: str, error: str | None) -> None:
        if error:
            self.document.undo.abort_macro()  # all or nothing: the edge stays as it was
            self.window.statusBar().showMessage(f"Cannot insert {type_name}: {error}", 8000)
            return
        self.document.undo.end_macro()
        self._done(None)

    def _insert(self, type_name: str, edge, pos: QPointF) -> str | None:
        doc = self.document
        error = doc.add_node(type_name, (pos.x() - CARD_WIDTH / 2, pos.y() - 11))
        new = doc.last_added
        if not error:
            doc.delete([], [edge])
            error = doc.connect(edge.src, new, edge.src_port) or doc.connect(
                new, edge.dst, None, edge.dst_port
            )
        return error

    def _add_wired(self, type_name, pos, node, port, kind, top_left=False) -> None:
        """Add `type_name` at `pos` and wire it to `node`'s `port` (an output or input)."""
        doc = self.document
        if not self._begin(f"Add {type_name}"):
            return
        spot = (pos.x(), pos.y()) if top_left else (pos.x() - CARD_WIDTH / 2, pos.y() - 11)
        error = doc.add_node(type_name, spot)
        if not error:
            new = doc.last_added
            if kind == "out":
                error = doc.connect(node, new, port)
            else:
                error = doc.connect(new, node, None, port)
        doc.undo.end_macro()
        self._done(None)
        if error:  # the layer stays: the user sees it and the reason it is not wired
            self.window.statusBar().showMessage(error, 8000)

    def _done(self, error: str | None) -> None:
        """Select what was added and bring it into view if it is out of sight (the view stays
        put for a card placed where the user pointed); or say why nothing was added."""
        if error:
            self.window.statusBar().showMessage(error, 8000)
            return
        scene, new = self.window.scene, self.document.last_added
        if new in scene.nodes:
            scene.select_nodes([new])
            view, card = self.window.view, scene.nodes[new]
            seen = view.mapToScene(view.viewport().rect()).boundingRect()
            if not seen.contains(card.scenePos() + QPointF(card.width / 2, 11)):
                view.ensureVisible(card, 40, 40)
            self.window.activateWindow()  # back from the pop-up: keys go to the canvas
            self.window.view.setFocus()

    # ----- placing --------------------------------------------------------------------
    def free_spot_below(self, item: NodeItem) -> QPointF:
        """Top-left of a card-sized place below `item` (right of it, left to right), moved
        along past any card there."""
        if self._sideways():
            x, y = item.x() + item.width + SIDE_GAP, item.y()
            while self._taken(QRectF(x, y, CARD_WIDTH, 70)):
                y += 110
            return QPointF(x, y)
        x, y = item.x(), item.y() + item.height() + GAP
        while self._taken(QRectF(x, y, CARD_WIDTH, 70)):
            x += CARD_WIDTH + 40
        return QPointF(x, y)

    def _sideways(self) -> bool:
        return self.window.scene.direction == RIGHT

    def _taken(self, rect: QRectF) -> bool:
        return any(isinstance(i, NodeItem) for i in self.window.scene.items(rect))

    def nudge(self, dx: float, dy: float) -> None:
        """Move the selected cards by (dx, dy): one undo step per key press."""
        graph = self.document.graph
        nodes = [item.node for item in self.window.scene.selected_nodes()]
        if not nodes:
            return
        old = {n: graph.pos(n) for n in nodes}
        new = {n: (p[0] + dx, p[1] + dy) for n, p in old.items()}
        self.document.moved(old, new)  # the command moves them (unless the design is locked)

    # ----- what fits --------------------------------------------------------------------
    def _takes(self, type_name: str, node: str, port: str) -> bool:
        """Whether a `type_name` layer's first input takes the value on (`node`, `port`)."""
        graph = self.document.graph
        spec = graph.type_spec(type_name)
        if not spec.inputs:
            return False
        meta = self.document.navigator.analysis().meta(node, port)
        if meta is None:
            return True
        return value_problem(graph, spec, spec.inputs[0].name, meta, node) is None

    def _gives(self, type_name: str) -> bool:
        return bool(self.document.graph.type_spec(type_name).outputs)

    # ----- replacing and removing -------------------------------------------------------
    def ask_replace(self, node: str) -> None:
        """Right-click ▸ Replace With…: a search box; the choice takes `node`'s place."""
        name = self.document.graph.node_name(node)
        self.ask(f"Replace {name} with", self.layer_entries(), lambda k: self.replace(node, k))

    def replace(self, node: str, type_name: str) -> None:
        """Put a `type_name` layer where `node` is: same place, same connections where its
        ports allow, and the parameters that still apply; one undo step."""
        doc, graph = self.document, self.document.graph
        inputs, outputs = graph.inputs(node), graph.outputs(node)
        params, pos = dict(graph.params(node)), graph.pos(node)
        if not self._begin(f"Replace {graph.node_name(node)} with {type_name}"):
            return
        doc.delete([node])
        error = doc.add_node(type_name, pos)
        problems = [error] if error else self._rewire(doc.last_added, inputs, outputs, params)
        if error:
            doc.undo.abort_macro()
        else:
            doc.undo.end_macro()
        self._done(error)
        if problems and not error:
            self.window.statusBar().showMessage(problems[0], 8000)

    def _rewire(self, new: str, inputs, outputs, params: dict) -> list[str]:
        """Give `new` the connections and parameters of the node it replaces."""
        doc, spec = self.document, self.document.graph.type_spec(self.document.graph.node_type(new))
        names = {p.name for p in spec.params}
        for key, value in params.items():
            if key in names and value is not None:
                doc.set_param(new, key, value)  # one that no longer fits keeps the default
        problems = []
        for edge in inputs:
            port = edge.dst_port if spec.input_port(edge.dst_port) else None
            problems.append(doc.connect(edge.src, new, edge.src_port, port))
        ports = self.document.graph.output_ports(new)
        for edge in outputs:
            port = edge.src_port if edge.src_port in ports else None
            problems.append(doc.connect(new, edge.dst, port, edge.dst_port))
        return [p for p in problems if p]

    def delete_keeping_chain(self) -> None:
        """Shift+Delete: remove the selected nodes and join what fed each to what it fed."""
        doc, graph = self.document, self.document.graph
        nodes = [item.node for item in self.window.scene.selected_nodes()]
        if not nodes or not self._begin("Delete, keeping the chain"):
            return
        for node in nodes:
            feeds = [e for e in graph.inputs(node) if e.src not in nodes]
            readers = graph.outputs(node)
            doc.delete([node])
            if len(feeds) == 1:
                for edge in readers:
                    doc.connect(feeds[0].src, edge.dst, feeds[0].src_port, edge.dst_port)
        doc.undo.end_macro()

    # ----- finding ----------------------------------------------------------------------
    def find(self) -> None:
        """Ctrl+F: a search box over the nodes by name or type; Enter centres the choice."""
        graph = self.document.graph
        entries = [Entry(n, graph.node_name(n), graph.node_type(n)) for n in graph.nodes()]
        self.ask("Find a node", entries, self.show_node)

    def show_node(self, node: str) -> None:
        """Select `node` and centre the view on it."""
        scene = self.window.scene
        if node in scene.nodes:
            scene.select_nodes([node])
            self.window.view.centerOn(scene.nodes[node])
            self.window.activateWindow()
            self.window.view.setFocus()


def downstream(graph, node: str) -> list[str]:
    """`node` and every node that reads from it, directly or not."""
    seen, todo = {node: None}, [node]
    while todo:
        for edge in graph.outputs(todo.pop()):
            if edge.dst not in seen:
                seen[edge.dst] = None
                todo.append(edge.dst)
    return list(seen)
