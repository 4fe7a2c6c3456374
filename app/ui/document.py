"""The open project, its file and its undo stack; the window edits only through this."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from torchcanvas.app.navigation import Navigator
from torchcanvas.app.ui import commands as cmd
from torchcanvas.app.ui.block_edits import BlockEdits
from torchcanvas.codegen.emit import emit_module
from torchcanvas.graph.fileio import atomic_write
from torchcanvas.graph.graphjson import node_to_dict
from torchcanvas.graph.hints import value_problem
from torchcanvas.graph.layout import layered_positions
from torchcanvas.graph.model import Edge, GraphError, ModelGraph
from torchcanvas.graph.naming import class_name_problem, identifier_problem
from torchcanvas.graph.params import ParamError
from torchcanvas.graph.project import (
    Project,
    dumps_project,
    load_project,
    save_project,
)
from torchcanvas.graph.registry import has_spec
from torchcanvas.graph.settings import default_training
from torchcanvas.graph.symbolic import Bound


def _examples_folder() -> Path:
    """The bundled examples: in the source tree, or where a wheel install puts them."""
    for folder in (
        Path(__file__).resolve().parents[2] / "assets" / "examples",
        Path(sys.prefix) / "share" / "torchcanvas" / "examples",
    ):
        if folder.is_dir():
            return folder
    return Path(__file__).resolve().parents[2] / "assets" / "examples"


EXAMPLES = _examples_folder()
DEFAULT_EXAMPLE = "digits_cnn"
CLIP_FORMAT = "torchcanvas-nodes"


class Document(QObject):
    """A project with undo; one ModelGraph instance for the window's whole life.

    `model` is the network; `graph` is what the canvas shows and edits go to: the model,
    or a block definition or container body opened from it (see `navigator`).
    """

    replaced = Signal()  # a different project was loaded
    title_changed = Signal()
    settings_changed = Signal()
    library_changed = Signal()  # a block definition was added, removed or edited
    navigated = Signal()  # another graph is on the canvas
    direction_changed = Signal(str)  # the canvas lays data out "down" or "right" now

    def __init__(self, parent=None, home: Path | None = None) -> None:
        super().__init__(parent)
        self.project = Project(ModelGraph("Model"))
        self.path: Path | None = None
        self.label = "Untitled"
        self.undo = QUndoStack(self)
        self._settings_dirty = False
        self.last_added: str | None = None  # id of the node the last add_node made
        self.navigator = Navigator(self.project.model)
        self.navigator.changed.connect(self.navigated.emit)
        self.project.model.events.changed.connect(self.navigator.prune)  # undo may remove it
        self.blocks = BlockEdits(self, home or Path.home() / ".torchcanvas")
        self._library = None
        self._watch_library()
        self.undo.cleanChanged.connect(lambda _clean: self.title_changed.emit())

    @property
    def model(self) -> ModelGraph:
        """The network (the class the export writes)."""
        return self.project.model

    @property
    def graph(self) -> ModelGraph:
        """The graph on the canvas, which edits change."""
        return self.navigator.graph

    def _watch_library(self) -> None:
        """Follow the current project's library (opening a file brings another one)."""
        if self._library is not None:
            self._library.changed.disconnect(self._on_library_changed)
        self._library = self.model.library
        self._library.changed.connect(self._on_library_changed)

    def _on_library_changed(self) -> None:
        self.navigator.prune()
        self.library_changed.emit()

    @property
    def dirty(self) -> bool:
        """Unsaved changes?"""
        return not self.undo.isClean() or self._settings_dirty

    # ----- files ------------------------------------------------------------------
    def new(self) -> None:
        """An empty project with an Input and an Output."""
        project = Project(ModelGraph("Model"), default_training())
        project.model.add_node("Input", pos=(0, 0))
        project.model.add_node("Output", pos=(0, 260))
        self._replace(project, None, "Untitled")

    def open(self, path) -> None:
        """Open a project file; ProjectError leaves the current project untouched."""
        project = load_project(path)
        self._replace(project, Path(path), Path(path).name)

    def open_example(self, stem: str) -> None:
        """Open a bundled example as an untitled copy (Save asks where)."""
        project = load_project(EXAMPLES / f"{stem}.json")
        self._replace(project, None, f"{stem}.json (example)")

    def adopt(self, project: Project, label: str) -> None:
        """Open a project made in the app (an import); it counts as unsaved."""
        self._replace(project, None, label)
        self._settings_dirty = True
        self.title_changed.emit()

    def restore(self, project: Project, path: str | None, label: str) -> None:
        """Reopen autosaved work (crash recovery) with its file path; it counts as unsaved."""
        self._replace(project, Path(path) if path else None, label)
        self._settings_dirty = True
        self.title_changed.emit()

    def save(self, path=None) -> None:
        """Write the project atomically (to `path`, or where it came from)."""
        target = Path(path) if path else self.path
        if target is None:
            raise ValueError("no file name yet; use Save As")
        save_project(self.project, target)
        self.path, self.label = target, target.name
        self._settings_dirty = False
        self.undo.setClean()
        self.title_changed.emit()

    def text(self) -> str:
        """The project file's text (for autosave)."""
        return dumps_project(self.project)

    def export(self, path) -> str:
        """Write the generated module; CodegenError if the graph has problems."""
        source = emit_module(self.model).source
        atomic_write(path, source.encode("utf-8"))
        return source

    def _replace(self, project: Project, path: Path | None, label: str) -> None:
        self.navigator.reset()
        self.model.replace_with(project.model)
        self._watch_library()
        self.project.training = dict(project.training)
        self.path, self.label = path, label
        self.undo.clear()
        self.undo.setClean()
        self._settings_dirty = False
        self.replaced.emit()
        self.title_changed.emit()

    def set_training(self, key: str, value) -> str | None:
        """Change one training setting; returns an error message or None."""
        from torchcanvas.graph.settings import TRAINING_INDEX

        try:
            value = TRAINING_INDEX[key].coerce(value)
        except ParamError as error:
            return str(error)
        if self.project.training.get(key) != value:
            self.project.training[key] = value
            self._settings_dirty = True
            self.settings_changed.emit()
            self.title_changed.emit()
        return None

    # ----- edits (each returns an error message, or None when done) --------------
    def add_node(self, type_name: str, pos, params: dict | None = None) -> str | None:
        """Add a layer at `pos`; its id is `last_added` afterwards."""
        if not has_spec(type_name):
            return self.blocks.place(type_name, (pos[0], pos[1]))
        command = cmd.AddNodeCommand(self.graph, type_name, (pos[0], pos[1]), params)
        self.undo.push(command)
        self.last_added = command.node
        return None

    def connect(
        self, src: str, dst: str, src_port: str | None = None, dst_port: str | None = None
    ) -> str | None:
        """Connect two ports, replacing the edge already on a single input port.

        Without `dst_port` (a drop on the card), the first free required input is used,
        else the first input is replaced.
        """
        model = self.graph
        if src not in model or dst not in model:
            return "Cannot connect: both ends must be nodes of this graph"
        ports = model.output_ports(src)
        src_port = src_port or (ports[0] if ports else "output")
        dst_port = dst_port or self._drop_port(dst)
        if dst_port is None:
            return f"Cannot connect: {model.node_name(dst)} takes no inputs"
        port = model.spec(dst).input_port(dst_port)
        replaced = model.input_edge(dst, dst_port) if port and not port.variadic else None
        if replaced and (replaced.src, replaced.src_port) == (src, src_port):
            return None
        problem = model.connection_problem(
            src, dst, src_port, dst_port, replacing=replaced is not None
        ) or self._value_problem(src, src_port, dst, dst_port)
        if problem:
            return f"Cannot connect: {problem}"
        self.undo.push(cmd.ConnectCommand(model, Edge(src, src_port, dst, dst_port), replaced))
        return None

    def _drop_port(self, dst: str) -> str | None:
        spec, model = self.graph.spec(dst), self.graph
        used = {edge.dst_port for edge in model.inputs(dst)}
        for port in spec.inputs:
            if port.variadic:
                return str(sum(1 for p in used if p.isdigit()))
            if not port.optional and port.name not in used:
                return port.name
        return spec.inputs[0].name if spec.inputs else None

    def _value_problem(self, src: str, src_port: str, dst: str, dst_port: str) -> str | None:
        """A value the target port cannot take (a float into an Embedding, ...), or None."""
        meta = self.navigator.analysis().meta(src, src_port)
        if meta is None:
            return None
        problem = value_problem(self.graph, self.graph.spec(dst), dst_port, meta, src)
        return f"{self.graph.node_name(dst)} {problem}" if problem else None

    def delete(self, nodes: list[str], edges=()) -> None:
        """Delete nodes and edges in one undoable step."""
        edges = [e for e in edges if e[0] not in nodes and e[2] not in nodes]
        if nodes or edges:
            self.undo.push(cmd.RemoveCommand(self.graph, nodes, edges))

    def moved(self, old: dict, new: dict) -> None:
        """Record a finished drag (the model already moved)."""
        self.undo.push(cmd.MoveCommand(self.graph, old, new))

    def set_param(self, node: str, key: str, value, allow_bound: bool = False) -> str | None:
        """Change a parameter after checking it (a bound one stays bound unless allowed)."""
        if node not in self.graph:
            return "that node was deleted"
        param = self.graph.spec(node).param(key)
        if isinstance(self.graph.params(node).get(key), Bound) and not allow_bound:
            return f"{key} is bound to an expression; clear the expression to set a number"
        if value is not None or not param.auto:
            try:
                if value is not None or not param.optional:
                    value = param.coerce(value if value is not None else param.default)
            except ParamError as error:
                return str(error)
        current = self.graph.params(node).get(key, None if param.auto else param.default)
        if current == value:
            return None
        self.undo.push(cmd.SetParamCommand(self.graph, node, key, value))
        return None

    def rename(self, node: str, new: str) -> str | None:
        """Rename a node after checking the name."""
        if node not in self.graph:
            return "that node was deleted"
        problem = identifier_problem(new)
        if problem:
            return problem
        if self.graph.find(new) not in (None, node):
            return f"a node called '{new}' already exists"
        if self.graph.node_name(node) != new:
            self.undo.push(cmd.RenameCommand(self.graph, node, new))
        return None

    def rename_model(self, new: str) -> str | None:
        """Rename the model class."""
        problem = class_name_problem(new)
        if problem:
            return problem
        self.undo.push(cmd.RenameModelCommand(self.model, new))
        return None

    @property
    def direction(self) -> str:
        """Which way the canvas lays the data out: "down" or "right" (saved in the project)."""
        return self.project.direction

    def set_direction(self, direction: str, sizes) -> None:
        """Turn the layout (and auto-arrange in it) as one undo step; `sizes()` gives the
        cards' sizes once they have turned."""
        if direction != self.project.direction:
            arrange = lambda: layered_positions(self.graph, sizes(), direction)  # noqa: E731
            self.undo.push(cmd.DirectionCommand(self, direction, arrange))

    def turn(self, direction: str) -> None:
        """Set the direction (for DirectionCommand); views follow `direction_changed`."""
        self.project.direction = direction
        self.direction_changed.emit(direction)

    def arrange(self, sizes: dict | None = None) -> None:
        """Auto-arrange (layered, in the canvas's direction) as one undoable step; `sizes` of
        the cards."""
        old = {n: self.graph.pos(n) for n in self.graph.nodes()}
        new = layered_positions(self.graph, sizes, self.project.direction)
        if old != new:
            command = cmd.MoveCommand(self.graph, old, new, "Auto-arrange")
            self.undo.push(command)

    # ----- clipboard --------------------------------------------------------------
    def copy_data(self, nodes: list[str]) -> str:
        """Selected nodes and the edges among them, as JSON text."""
        chosen = [n for n in self.graph.nodes() if n in set(nodes)]
        items = [node_to_dict(self.graph, n) for n in chosen]
        edges = [
            {"from": e.src, "from_port": e.src_port, "to": e.dst, "to_port": e.dst_port}
            for e in self.graph.edges()
            if e.src in chosen and e.dst in chosen
        ]
        return json.dumps({"format": CLIP_FORMAT, "nodes": items, "edges": edges})

    def paste(self, text: str, offset=(40.0, 40.0)) -> list[str] | str:
        """Paste copied nodes; returns their new ids, or an error message."""
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if (
            not isinstance(data, dict)
            or data.get("format") != CLIP_FORMAT
            or not isinstance(data.get("nodes"), list)
            or not data["nodes"]
        ):
            return "The clipboard holds no TorchCanvas nodes."
        edges = data.get("edges", [])
        # A dry run on a copy: the model's own checks judge the text, and nothing reaches
        # the undo stack half-done (Qt swallows exceptions raised inside redo()).
        trial = self.graph.copy()
        try:
            cmd.PasteCommand(trial, data["nodes"], edges, offset).redo()
        except (GraphError, KeyError, TypeError, IndexError, ValueError, AttributeError) as error:
            return f"Cannot paste: {error}"
        command = cmd.PasteCommand(self.graph, data["nodes"], edges, offset)
        self.undo.push(command)
        return list(command.ids.values())
