"""Where the editor is looking: the model, or a definition or container body inside it.

The canvas shows one graph at a time. Opening a block instance shows its definition;
opening a container shows its body. Each step is a frame, so the breadcrumb reads
`Model ▸ layer2 ▸ BasicBlock`, and the shapes shown inside are the ones of the instance
the user came through (its analysis is part of the model's). Qt-free: widgets subscribe
to `changed`.
"""

from __future__ import annotations

from dataclasses import dataclass

from torchcanvas.graph.analysis import Analysis
from torchcanvas.graph.blockrun import standalone_context
from torchcanvas.graph.events import Signal
from torchcanvas.graph.model import ModelGraph
from torchcanvas.graph.registry import BLOCK, CONTAINER


@dataclass(frozen=True)
class Frame:
    """One level: the graph shown, and how the user got there."""

    graph: ModelGraph
    node: str | None  # the id, in the previous frame's graph, that was opened (None: root)
    label: str  # breadcrumb text
    block: str | None = None  # the definition's name when this frame shows one


class Navigator:
    """A stack of frames from the model down to the graph on the canvas."""

    def __init__(self, root: ModelGraph) -> None:
        self.frames: list[Frame] = [Frame(root, None, "Model")]
        self.changed = Signal("navigated")  # () another graph is shown
        self._cache: tuple | None = None

    # ----- reading ----------------------------------------------------------------------
    @property
    def root(self) -> ModelGraph:
        """The model."""
        return self.frames[0].graph

    @property
    def frame(self) -> Frame:
        """The frame on the canvas."""
        return self.frames[-1]

    @property
    def graph(self) -> ModelGraph:
        """The graph on the canvas (edits go here)."""
        return self.frames[-1].graph

    @property
    def depth(self) -> int:
        """0 at the model, 1 one level down, ..."""
        return len(self.frames) - 1

    def block(self) -> str | None:
        """The definition whose parameters are in scope here (the nearest one opened)."""
        return next((f.block for f in reversed(self.frames) if f.block), None)

    def labels(self) -> list[str]:
        """The breadcrumb: Model, layer2, BasicBlock."""
        return [f.label for f in self.frames]

    def can_enter(self, node: str) -> bool:
        """Whether `node` of the shown graph has an inside to open."""
        graph = self.graph
        if node not in graph:
            return False
        kind = graph.spec(node).kind
        return kind == CONTAINER or (kind == BLOCK and graph.library.get(graph.node_type(node)))

    def analysis(self) -> Analysis:
        """The shown graph's analysis: the instance's own when reached from the model."""
        key = (
            self.root.revision,
            self.root.library.revision if self.root.library is not None else None,
            self.graph.revision,
            len(self.frames),
            id(self.graph),
        )
        if self._cache is None or self._cache[0] != key:
            self._cache = (key, self._analysis())
        return self._cache[1]

    def _analysis(self) -> Analysis:
        analysis = self.root.analysis()
        for frame in self.frames[1:]:
            facts = analysis.facts.get(frame.node) if frame.node is not None else None
            inner = facts.inner if facts is not None and not facts.disabled else None
            # Broken upstream (or opened from the palette): the graph on its own.
            analysis = inner if inner is not None else self._alone(frame)
        return analysis

    def _alone(self, frame: Frame) -> Analysis:
        """A graph not reached through the model (or broken upstream), on its own."""
        block = self.root.library.get(frame.block) if frame.block else None
        if block is not None and block.graph is frame.graph:
            return frame.graph.analysis(standalone_context(block))
        return frame.graph.analysis()

    def path(self) -> str:
        """The module path of the shown graph in the model ('' at the model, 'layer2.0')."""
        return self.analysis().context.path

    # ----- moving -----------------------------------------------------------------------
    def enter(self, node: str) -> bool:
        """Open a block instance's definition or a container's body."""
        if not self.can_enter(node):
            return False
        graph = self.graph
        if graph.spec(node).kind == CONTAINER:
            frame = Frame(graph.body(node), node, graph.node_name(node))
        else:
            name = graph.node_type(node)
            frame = Frame(graph.library.get(name).graph, node, name, name)
        self.frames.append(frame)
        self._moved()
        return True

    def open_definition(self, name: str) -> bool:
        """Show a definition on its own (from the palette), below the model."""
        block = self.root.library.get(name) if self.root.library is not None else None
        if block is None:
            return False
        self.frames = [self.frames[0], Frame(block.graph, None, name, name)]
        self._moved()
        return True

    def up(self) -> bool:
        """Back to the graph this one was opened from."""
        if len(self.frames) == 1:
            return False
        self.go_to(len(self.frames) - 2)
        return True

    def go_to(self, depth: int) -> None:
        """Back to the frame at `depth` (0: the model)."""
        depth = max(0, min(depth, len(self.frames) - 1))
        if depth != len(self.frames) - 1:
            del self.frames[depth + 1 :]
            self._moved()

    def reset(self, root: ModelGraph | None = None) -> None:
        """Back to the model (after opening another project)."""
        root = root or self.root
        if len(self.frames) == 1 and root is self.root:
            return
        self.frames = [Frame(root, None, "Model")]
        self._moved()

    def prune(self) -> bool:
        """Drop frames whose graph is gone (an undo removed the block or the container);
        returns whether the shown graph changed."""
        keep = 1
        for frame in self.frames[1:]:
            if not self._still_there(self.frames[keep - 1], frame):
                break
            keep += 1
        if keep == len(self.frames):
            return False
        del self.frames[keep:]
        self._moved()
        return True

    def _still_there(self, parent: Frame, frame: Frame) -> bool:
        library = self.root.library
        if frame.block is not None:
            block = library.get(frame.block) if library is not None else None
            if block is None or block.graph is not frame.graph:
                return False
            if frame.node is None:
                return True
            graph = parent.graph
            return frame.node in graph and graph.node_type(frame.node) == frame.block
        graph = parent.graph
        return frame.node in graph and graph.body(frame.node) is frame.graph

    def _moved(self) -> None:
        self._cache = None
        self.changed.emit()
