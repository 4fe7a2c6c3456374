"""Reading and reshaping the graphs of a project for block edits: every graph, the users of
a block parameter, a repeat's chain grown or shrunk."""

from __future__ import annotations

from torchcanvas.app.blocklib import adopt
from torchcanvas.graph.builtin_blocks import builtin
from torchcanvas.graph.library import BlockDef, Library
from torchcanvas.graph.model import ModelGraph
from torchcanvas.graph.symbolic import Bound, names


def fresh_builtin(name: str, library: Library) -> list[BlockDef]:
    """Built-in `name` and the built-ins it uses that the project lacks (not yet added)."""
    scratch = Library()
    return adopt(builtin(name, scratch), library)


def project_graphs(root: ModelGraph) -> list[ModelGraph]:
    """The model, every container body, and every definition (with its bodies)."""
    found = []

    def walk(graph: ModelGraph) -> None:
        found.append(graph)
        for node in graph.nodes():
            body = graph.body(node)
            if body is not None:
                walk(body)

    walk(root)
    if root.library is not None:
        for block in root.library:
            walk(block.graph)
    return found


def node_types(graph: ModelGraph) -> set[str]:
    """The layer and block types used in `graph` (not inside its bodies)."""
    return {graph.node_type(n) for n in graph.nodes()}


def users_of(graph: ModelGraph, name: str) -> list[str]:
    """`node.param` texts (and conditions) of a definition that use parameter `name`."""
    found = []
    for node in graph.nodes():
        for key, value in graph.params(node).items():
            if isinstance(value, Bound) and name in names(value.text):
                found.append(f"{graph.node_name(node)}.{key}")
        when = graph.when(node)
        if when is not None and name in names(when.text):
            found.append(f"the condition of {graph.node_name(node)}")
        body = graph.body(node)
        if body is not None:
            found += users_of(body, name)
    return found


def resize_chain(body: ModelGraph, chain: list[str], count: int) -> None:
    """Append copies of the last child (stride 1, like a ResNet stage) or drop the last."""
    output = body.nodes_of_type("Output")[0]
    while len(chain) > count:
        last = chain.pop()
        feeding = body.inputs(last)[0]
        body.remove_node(last)
        body.connect(feeding.src, output, feeding.src_port)
    template = chain[-1]
    while len(chain) < count:
        params = {k: v for k, v in body.params(template).items() if k != "stride"}
        x, y = body.pos(chain[-1])
        node = body.add_node(body.node_type(template), None, params, (x, y + 110.0))
        if body.body(template) is not None:
            body.set_body(node, body.body(template).copy())
        body.disconnect(body.inputs(output)[0])
        body.connect(chain[-1], node)
        body.connect(node, output)
        chain.append(node)
    x, y = body.pos(chain[-1])
    body.move(output, (x, y + 110.0))
