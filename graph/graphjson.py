"""Graphs and block definitions as JSON data, and back, checking every field on the way in."""

from __future__ import annotations

import math
import re
from typing import Any

from torchcanvas.graph.flags import TRAINING_FLAGS, flag_problem
from torchcanvas.graph.library import BlockDef, Library, block_param
from torchcanvas.graph.model import Edge, GraphError, ModelGraph
from torchcanvas.graph.naming import class_name_problem, identifier_problem, key_problem
from torchcanvas.graph.nesting import NestingError, expansion_order
from torchcanvas.graph.params import BOOL, CHOICE, FLOAT, INT, Param, ParamError, to_json
from torchcanvas.graph.ports import is_slot
from torchcanvas.graph.registry import has_spec

MAX_NODES = 10_000
_ID = re.compile(r"^[A-Za-z0-9_]{1,40}$")
_KINDS = {"int": INT, "float": FLOAT, "bool": BOOL, "choice": CHOICE}


class LoadError(ValueError):
    """A field that cannot be read; the message says what is wrong and where."""


# ----- writing ----------------------------------------------------------------------------
def graph_to_dict(model: ModelGraph) -> dict:
    """{"nodes": [...], "edges": [...]} of one graph."""
    return {
        "nodes": [node_to_dict(model, node) for node in model.nodes()],
        "edges": [_edge_to_dict(model, edge) for edge in model.edges()],
    }


def node_to_dict(model: ModelGraph, node: str) -> dict:
    spec = model.spec(node)
    params = model.params(node)
    data = {
        "id": node,
        "name": model.node_name(node),
        "type": spec.type,
        "params": {p.name: to_json(params[p.name]) for p in spec.params if p.name in params},
        "pos": list(model.pos(node)),
    }
    when = model.when(node)
    if when is not None:
        data["when"] = when.text
    data.update(model.flags(node))  # "frozen", "lr_scale": only where a node sets them
    body = model.body(node)
    if body is not None:
        data["body"] = graph_to_dict(body)
    return data


def _edge_to_dict(model: ModelGraph, edge) -> dict:
    """An edge; ports are written only where they are not the first ones."""
    data: dict = {"from": edge.src}
    if edge.src_port != first_output(model, edge.src):
        data["from_port"] = edge.src_port
    data["to"] = edge.dst
    if edge.dst_port != first_input(model.spec(edge.dst)):
        data["to_port"] = edge.dst_port
    return data


def first_output(model: ModelGraph, node: str) -> str:
    """The port an edge comes from when the file does not say."""
    ports = model.output_ports(node)
    return ports[0] if ports else ""


def first_input(spec) -> str:
    """The port an edge goes to when the file does not say."""
    first = spec.inputs[0]
    return "0" if first.variadic else first.name


def block_to_dict(block: BlockDef) -> dict:
    """A definition: its name, doc, parameters and graph."""
    data = {"name": block.name}
    if block.doc:
        data["doc"] = block.doc
    data["params"] = [param_to_dict(p) for p in block.params]
    data.update(graph_to_dict(block.graph))
    return data


def param_to_dict(param: Param) -> dict:
    """A block parameter as data."""
    kind = next(name for name, value in _KINDS.items() if value == param.kind)
    data: dict = {"name": param.name, "kind": kind}
    if param.auto:
        data["auto"] = param.auto
    elif param.required:
        data["required"] = True
    else:
        data["default"] = to_json(param.default)
    if param.choices:
        data["choices"] = list(param.choices)
    if param.positional:
        data["positional"] = True
    if param.doc:
        data["doc"] = param.doc
    return data


# ----- reading ----------------------------------------------------------------------------
class Progress:
    """Counts the nodes and edges read and tells `report(done, total)` every few thousand;
    `report` may raise to stop the reading (a Cancel button)."""

    STEP = 2048

    def __init__(self, report, total: int) -> None:
        self.report, self.total = report, max(1, total)
        self.done, self._next = 0, 0

    def tick(self, count: int = 1) -> None:
        """`count` more items read."""
        self.done += count
        if self.done >= self._next:
            self._next = self.done + self.STEP
            self.report(self.done, self.total)


def count_items(document: Any) -> int:
    """Nodes and edges a project document holds, in blocks and bodies too (a first guess at
    the work of reading it: nothing is checked here)."""
    total, todo = 0, [document]
    while todo:
        part = todo.pop()
        nodes, edges = part.get("nodes"), part.get("edges")
        total += len(edges) if isinstance(edges, list) else 0
        for node in nodes if isinstance(nodes, list) else ():
            total += 1
            if isinstance(node, dict) and isinstance(node.get("body"), dict):
                todo.append(node["body"])
        blocks = part.get("blocks")
        todo += [b for b in blocks if isinstance(b, dict)] if isinstance(blocks, list) else []
    return total


def load_graph(
    model: ModelGraph, document: dict, where: str, budget: list[int], progress=None
) -> None:
    """Fill `model` with the nodes and edges of `document` (bodies included); `progress`
    (a Progress) counts them."""
    nodes = expect(document, "nodes", list, "a list of nodes", where)
    budget[0] -= len(nodes)
    if budget[0] < 0:
        raise LoadError(f"{where}nodes: more than {MAX_NODES} nodes in all")
    for index, node in enumerate(nodes):
        _add_node(model, node, f"{where}nodes[{index}]", budget, progress)
    for index, edge in enumerate(expect(document, "edges", list, "a list of edges", where)):
        _add_edge(model, edge, f"{where}edges[{index}]")
        if progress is not None:
            progress.tick()


def expect(container: dict, key: str, kind: type, text: str, where: str = "") -> Any:
    """`container[key]` if it is a `kind`, else LoadError."""
    value = container.get(key)
    if not isinstance(value, kind):
        raise LoadError(f"{where}{key}: expected {text}")
    return value


def _add_node(model: ModelGraph, node: Any, where: str, budget: list[int], progress) -> None:
    if not isinstance(node, dict):
        raise LoadError(f"{where}: expected an object with id, name, type, params and pos")
    unknown = set(node) - {"id", "name", "type", "params", "pos", "when", "body", *TRAINING_FLAGS}
    if unknown:
        raise LoadError(f"{where}: unknown key {sorted(unknown)[0]!r:.40}")
    node_id, name = node.get("id"), node.get("name")
    if not isinstance(node_id, str) or not _ID.match(node_id):
        raise LoadError(f"{where}.id: expected up to 40 letters, digits or _")
    problem = key_problem(name)
    if problem:
        raise LoadError(f"{where}.name: {problem}")
    where = f"{where} ({name})"
    if node_id in model:
        raise LoadError(f"{where}.id: another node has the id {node_id!r}")
    if model.find(name) is not None:
        raise LoadError(f"{where}: a node called '{name}' already exists")
    type_name = node.get("type")
    if not isinstance(type_name, str) or not model.has_type(type_name):
        raise LoadError(f"{where}.type: unknown layer type {type_name!r:.40}")
    params = node.get("params", {})
    if not isinstance(params, dict):
        raise LoadError(f"{where}.params: expected an object")
    spec = model.type_spec(type_name)
    missing = [p.name for p in spec.params if p.required and not p.auto and p.name not in params]
    if missing:
        raise LoadError(f"{where}.params: {type_name} needs {missing[0]}")
    try:
        model.add_node(type_name, name, params, _position(node.get("pos", [0, 0]), where), node_id)
        if "when" in node:
            model.set_when(node_id, _text(node["when"], f"{where}.when"))
    except GraphError as error:
        raise LoadError(f"{where}.params: {error}") from None
    for key in TRAINING_FLAGS:
        if key in node:
            problem = flag_problem(key, node[key])
            if problem or node[key] is None:
                raise LoadError(f"{where}.{key}: {problem or 'expected a value'}")
            model.set_flag(node_id, key, node[key])
    load_body(model, node_id, node, where, budget, progress)
    if progress is not None:
        progress.tick()


def load_body(
    model: ModelGraph, node_id: str, node: dict, where: str, budget, progress=None
) -> None:
    """Give a container node the body written in its data (checked like a file)."""
    has_body = model.body(node_id) is not None
    if "body" in node and not has_body:
        raise LoadError(f"{where}.body: only Sequential and ModuleList nodes have a body")
    if has_body:
        body = ModelGraph("Body", model.library)
        document = expect(node, "body", dict, "an object with nodes and edges", where)
        load_graph(body, document, f"{where}.body.", budget, progress)
        model.set_body(node_id, body)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise LoadError(f"{where}: expected an expression as text")
    return value


def _position(pos: Any, where: str) -> tuple[float, float]:
    numeric = (
        all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pos)
        if isinstance(pos, list)
        else False
    )
    if not numeric or len(pos) != 2 or not all(math.isfinite(v) and abs(v) < 1e7 for v in pos):
        raise LoadError(f"{where}.pos: expected [x, y] with two finite numbers")
    return pos[0], pos[1]


def _add_edge(model: ModelGraph, edge: Any, where: str) -> None:
    if not isinstance(edge, dict) or set(edge) - {"from", "from_port", "to", "to_port"}:
        raise LoadError(
            f'{where}: expected {{"from": ..., "from_port": ..., "to": ..., "to_port": ...}}'
        )
    src, dst = edge.get("from"), edge.get("to")
    for key, value in (("from", src), ("to", dst)):
        if not isinstance(value, str) or value not in model:
            raise LoadError(f"{where}.{key}: no node with the id {value!r:.40}")
    src_spec, dst_spec = model.spec(src), model.spec(dst)
    if not src_spec.has_outputs:
        raise LoadError(f"{where}.from: {model.node_name(src)} is an Output and has no outputs")
    src_port = _port(edge.get("from_port", first_output(model, src)), f"{where}.from_port")
    dst_port = _port(
        edge.get("to_port", first_input(dst_spec) if dst_spec.inputs else ""), f"{where}.to_port"
    )
    if src_spec.output_port(src_port) is None:
        raise LoadError(f"{where}.from_port: {src_spec.type} has no output {src_port!r}")
    if not dst_spec.inputs or dst_spec.input_port(dst_port) is None:
        raise LoadError(f"{where}.to_port: {dst_spec.type} has no input {dst_port!r}")
    if model.input_edge(dst, dst_port) is not None:
        raise LoadError(f"{where}: {model.node_name(dst)} input {dst_port} is connected twice")
    # Cycles and gaps load, so that the editor can show them as problems rather than refuse.
    model.add_edge_unchecked(Edge(src, src_port, dst, dst_port))


def _port(value: Any, where: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1024:
        value = str(value)
    if not isinstance(value, str) or not (value.isidentifier() or is_slot(value)):
        raise LoadError(f"{where}: expected a port name")
    if is_slot(value) and int(value) >= 1024:
        raise LoadError(f"{where}: expected a port number below 1024")
    return value


def load_blocks(documents: Any, library: Library, budget: list[int], progress=None) -> None:
    """Add every definition of a file to `library` (names first, so they may use each other)."""
    if not isinstance(documents, list):
        raise LoadError("blocks: expected a list of block definitions")
    shells = []
    for index, document in enumerate(documents):
        where = f"blocks[{index}]"
        if not isinstance(document, dict):
            raise LoadError(f"{where}: expected an object with name, params, nodes and edges")
        unknown = set(document) - {"name", "doc", "params", "nodes", "edges"}
        if unknown:
            raise LoadError(f"{where}: unknown key {sorted(unknown)[0]!r:.40}")
        name = document.get("name")
        problem = class_name_problem(name)
        if problem:
            raise LoadError(f"{where}.name: {problem}")
        if name in library or has_spec(name):
            raise LoadError(f"{where}.name: {name!r} is already a block or layer type")
        params = _block_params(document.get("params", []), f"{where} ({name}).params")
        doc = document.get("doc", "")
        if not isinstance(doc, str) or len(doc) > 500 or "\n" in doc:
            raise LoadError(f"{where}.doc: expected one line of text")
        block = BlockDef(name, ModelGraph(name, library), params, doc)
        library.add(block)
        shells.append((block, document, f"{where} ({name})."))
    # A block's ports come from its graph: load the blocks a definition uses before it, and
    # refuse cycles and deep chains here, by name, before anything is built from them.
    try:
        order = expansion_order({s[0].name: _types_used(s[1]) for s in shells})
    except NestingError as error:
        raise LoadError(f"blocks: {error}") from None
    by_name = {shell[0].name: shell for shell in shells}
    for block, document, where in (by_name[name] for name in order):
        load_graph(block.graph, document, where, budget, progress)


def _types_used(document: dict) -> list[str]:
    """The type names a definition's nodes name, bodies included (the data is not checked
    yet: whatever is malformed is left for load_graph to report)."""
    found: list[str] = []
    todo = [document]
    while todo:
        nodes = todo.pop().get("nodes")
        for node in nodes if isinstance(nodes, list) else ():
            if not isinstance(node, dict):
                continue
            if isinstance(node.get("type"), str):
                found.append(node["type"])
            if isinstance(node.get("body"), dict):
                todo.append(node["body"])
    return found


def _block_params(items: Any, where: str) -> tuple[Param, ...]:
    if not isinstance(items, list):
        raise LoadError(f"{where}: expected a list of parameters")
    params, seen = [], set()
    for index, item in enumerate(items):
        at = f"{where}[{index}]"
        if not isinstance(item, dict) or set(item) - {
            "name",
            "kind",
            "default",
            "required",
            "auto",
            "choices",
            "positional",
            "doc",
        }:
            raise LoadError(f"{at}: expected an object with name, kind and default")
        name, kind = item.get("name"), item.get("kind")
        if identifier_problem(name) or name in seen:
            raise LoadError(f"{at}.name: {identifier_problem(name) or f'{name!r} twice'}")
        seen.add(name)
        if kind not in _KINDS:
            raise LoadError(f"{at}.kind: expected one of {', '.join(_KINDS)}")
        params.append(_block_param(item, name, _KINDS[kind], at))
    return tuple(params)


def _block_param(item: dict, name: str, kind: str, where: str) -> Param:
    choices = item.get("choices", ())
    if not isinstance(choices, list | tuple):
        raise LoadError(f"{where}.choices: expected a list of strings")
    doc = item.get("doc", "")
    if not isinstance(doc, str) or len(doc) > 300:
        raise LoadError(f"{where}.doc: expected a short text")
    try:
        return block_param(
            name,
            kind,
            item.get("default"),
            auto=item.get("auto"),
            required=item.get("required") is True,
            choices=tuple(choices),
            positional=item.get("positional") is True,
            doc=doc,
        )
    except ParamError as error:
        field = "auto" if "auto" in str(error) else "choices" if "choices" in str(error) else ""
        raise LoadError(f"{where}.{field or 'default'}: {error}") from None
