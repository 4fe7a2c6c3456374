"""A small builder for block definitions written in code (the built-in library, tests)."""

from __future__ import annotations

from torchcanvas.graph.library import BlockDef
from torchcanvas.graph.model import ModelGraph
from torchcanvas.graph.params import FLOAT, INT, Param
from torchcanvas.graph.symbolic import Bound

CHANNELS = 1 << 16


def auto_channels(
    name: str = "in_channels", doc: str = "Channels of the incoming tensor."
) -> Param:
    """A block parameter read off the input's channels, like a convolution's in_channels."""
    return Param(
        name,
        INT,
        doc,
        required=True,
        initial=1,
        minimum=1,
        maximum=CHANNELS,
        positional=True,
        auto="channels",
    )


def auto_features(name: str = "d_model", doc: str = "Features of the incoming tensor.") -> Param:
    """A block parameter read off the input's last dimension."""
    return Param(
        name,
        INT,
        doc,
        required=True,
        initial=1,
        minimum=1,
        maximum=1 << 20,
        positional=True,
        auto="features",
    )


def int_param(name: str, default: int, doc: str, positional: bool = False, minimum: int = 1):
    """An integer block parameter with a default."""
    return Param(name, INT, doc, default, minimum=minimum, maximum=1 << 20, positional=positional)


def float_param(name: str, default: float, doc: str) -> Param:
    """A number block parameter with a default."""
    return Param(name, FLOAT, doc, default, minimum=0.0, maximum=1e6)


def bind(text: str) -> Bound:
    """A parameter value bound to an expression over the block's parameters."""
    return Bound(text)


class Builder:
    """Adds nodes to a graph one after another, connecting each to the previous one."""

    def __init__(self, name: str, library=None, shape=(64, 8, 8)) -> None:
        self.graph = ModelGraph(name, library)
        self._row = 0.0
        self.last = self.node("Input", "input", {"shape": list(shape)}, sources=())

    def node(self, type_name: str, name: str, params=None, sources=None, when=None) -> str:
        """Add a node fed by `sources` ((node, port) or node ids; default: the last node)."""
        node = self.graph.add_node(type_name, name, params or {}, (0.0, self._row))
        self._row += 110.0
        for index, source in enumerate([self.last] if sources is None else sources):
            src, port = source if isinstance(source, tuple) else (source, None)
            dst_port = str(index) if self.graph.spec(node).variadic else None
            self.graph.connect(src, node, port, dst_port)
        if when:
            self.graph.set_when(node, when)
        self.last = node
        return node

    def chain(self, *steps) -> str:
        """Nodes one after another: (type, name, params[, when]); returns the last.

        A ("Sequential", name, [steps...][, when[, named]]) step is a container of them.
        """
        for step in steps:
            when = step[3] if len(step) > 3 else None
            if step[0] in ("Sequential", "ModuleList"):
                self.sequential(step[1], step[2], when=when, named=len(step) > 4 and step[4])
            else:
                self.node(*step[:3], when=when)
        return self.last

    def sequential(self, name: str, steps, sources=None, when=None, named=False) -> str:
        """A Sequential container node whose body is the chain `steps`."""
        node = self.node("Sequential", name, {"named": named} if named else {}, sources, when)
        body = Builder("Body", self.graph.library)
        body.chain(*steps)
        body.node("Output", "output")
        self.graph.set_body(node, body.graph)
        self.last = node
        return node

    def output(self, name: str = "output", source=None) -> str:
        """An Output fed by `source` (default: the last node)."""
        return self.node("Output", name, sources=None if source is None else [source])

    def build(self, params, doc: str = "") -> BlockDef:
        """The definition."""
        return BlockDef(self.graph.name, self.graph, tuple(params), doc)
