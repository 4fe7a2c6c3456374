"""The versioned JSON project file: one network, its layout and its training settings."""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torchcanvas.graph.fileio import atomic_write
from torchcanvas.graph.migrate import MigrationError, migrate
from torchcanvas.graph.model import Edge, GraphError, ModelGraph
from torchcanvas.graph.naming import class_name_problem, identifier_problem
from torchcanvas.graph.params import ParamError, to_json
from torchcanvas.graph.ports import is_slot
from torchcanvas.graph.registry import get_spec, has_spec
from torchcanvas.graph.settings import coerce_training, default_training

FORMAT = "torchcanvas"
VERSION = 2
_ID = re.compile(r"^[A-Za-z0-9_]{1,40}$")
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_NODES = 10_000


class ProjectError(ValueError):
    """A project file that cannot be read; the message says what is wrong and where."""


@dataclass
class Project:
    """A network and the settings used to train it."""

    model: ModelGraph
    training: dict[str, Any] = field(default_factory=default_training)


def project_to_dict(project: Project) -> dict:
    """The project as plain JSON data, in a stable order."""
    model = project.model
    nodes = []
    for node in model.nodes():
        spec = model.spec(node)
        params = model.params(node)
        ordered = {p.name: to_json(params[p.name]) for p in spec.params if p.name in params}
        nodes.append(
            {
                "id": node,
                "name": model.node_name(node),
                "type": spec.type,
                "params": ordered,
                "pos": list(model.pos(node)),
            }
        )
    return {
        "format": FORMAT,
        "version": VERSION,
        "name": model.name,
        "nodes": nodes,
        "edges": [_edge_to_dict(model, edge) for edge in model.edges()],
        "training": dict(project.training),
    }


def _edge_to_dict(model: ModelGraph, edge) -> dict:
    """An edge; ports are written only where they are not the first ones."""
    data: dict = {"from": edge.src}
    if edge.src_port != _first_output(model, edge.src):
        data["from_port"] = edge.src_port
    data["to"] = edge.dst
    if edge.dst_port != _first_input(model.spec(edge.dst)):
        data["to_port"] = edge.dst_port
    return data


def _first_output(model: ModelGraph, node: str) -> str:
    ports = model.output_ports(node)
    return ports[0] if ports else ""


def _first_input(spec) -> str:
    first = spec.inputs[0]
    return "0" if first.variadic else first.name


def dumps_project(project: Project) -> str:
    """The project file's text: one node or edge per line, easy to read and diff."""
    document = project_to_dict(project)
    lines = ["{"]
    keys = list(document)
    for index, key in enumerate(keys):
        comma = "," if index < len(keys) - 1 else ""
        value = document[key]
        if isinstance(value, list):
            items = [f"    {_compact(item)}" for item in value]
            body = ",\n".join(items)
            lines.append(f'  "{key}": [\n{body}\n  ]{comma}' if items else f'  "{key}": []{comma}')
        elif isinstance(value, dict):
            body = ",\n".join(f"    {_compact(k)}: {_compact(v)}" for k, v in value.items())
            lines.append(
                f'  "{key}": {{\n{body}\n  }}{comma}' if value else f'  "{key}": {{}}{comma}'
            )
        else:
            lines.append(f"  {_compact(key)}: {_compact(value)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(", ", ": "), allow_nan=False, ensure_ascii=False)


def save_project(project: Project, path: str | os.PathLike) -> None:
    """Write the project atomically to `path`."""
    atomic_write(path, dumps_project(project).encode("utf-8"))


def load_project(path: str | os.PathLike) -> Project:
    """Read a project file; ProjectError names the problem and where it is."""
    file = Path(path)
    try:
        if file.stat().st_size > MAX_FILE_BYTES:
            raise ProjectError(
                f"{file.name}: larger than {MAX_FILE_BYTES // 2**20} MB; not a TorchCanvas project"
            )
        data = file.read_bytes()
    except OSError as error:
        raise ProjectError(f"{file}: cannot read ({error.strerror or error})") from None
    try:
        return loads_project(data)
    except ProjectError as error:
        raise ProjectError(f"{file.name}: {error}") from None


def loads_project(data: str | bytes) -> Project:
    """Parse project text or bytes; never executes anything from it."""
    try:
        if isinstance(data, bytes):
            data = data.decode("utf-8")
        document = json.loads(data, parse_constant=_reject_constant)
    except UnicodeDecodeError as error:
        raise ProjectError(f"not UTF-8 text (bad byte at offset {error.start})") from None
    except json.JSONDecodeError as error:
        raise ProjectError(
            f"not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
        ) from None
    except (RecursionError, ValueError) as error:
        raise ProjectError(f"not valid JSON: {error}") from None
    try:
        return project_from_dict(document)
    except (GraphError, ParamError, MigrationError) as error:
        raise ProjectError(str(error)) from None
    except RecursionError:
        raise ProjectError("the document is nested too deeply") from None


def _reject_constant(name: str):
    raise ValueError(f"{name} is not allowed in a project file")


def project_from_dict(document: Any) -> Project:
    """Build a Project from parsed JSON of any known version, checking every field."""
    _check_header(document)
    document = migrate(document)
    name = document.get("name", "Model")
    problem = class_name_problem(name)
    if problem:
        raise ProjectError(f"name: {problem}")
    model = ModelGraph(name)
    nodes = _expect(document, "nodes", list, "a list of nodes")
    if len(nodes) > MAX_NODES:
        raise ProjectError(f"nodes: more than {MAX_NODES} nodes")
    for index, node in enumerate(nodes):
        _add_node(model, node, f"nodes[{index}]")
    for index, edge in enumerate(_expect(document, "edges", list, "a list of edges")):
        _add_edge(model, edge, f"edges[{index}]")
    training = document.get("training", {})
    if not isinstance(training, dict):
        raise ProjectError("training: expected an object of settings")
    try:
        settings = coerce_training(training)
    except ParamError as error:
        raise ProjectError(f"training: {error}") from None
    return Project(model, settings)


def _check_header(document: Any) -> None:
    if not isinstance(document, dict):
        raise ProjectError("expected a JSON object at the top level")
    if document.get("format") != FORMAT:
        raise ProjectError(f'format: expected "{FORMAT}"; this is not a TorchCanvas project')
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ProjectError("version: expected a positive integer")
    if version > VERSION:
        raise ProjectError(
            f"version: written by a newer TorchCanvas (format version "
            f"{version}); this one reads versions 1 to {VERSION}"
        )
    unknown = set(document) - {"format", "version", "name", "nodes", "edges", "training"}
    if unknown:
        raise ProjectError(f"unknown top-level key {sorted(unknown)[0]!r:.40}")


def _expect(container: dict, key: str, kind: type, text: str, where: str = "") -> Any:
    value = container.get(key)
    if not isinstance(value, kind):
        raise ProjectError(f"{where}{key}: expected {text}")
    return value


def _add_node(model: ModelGraph, node: Any, where: str) -> None:
    if not isinstance(node, dict):
        raise ProjectError(f"{where}: expected an object with id, name, type, params and pos")
    unknown = set(node) - {"id", "name", "type", "params", "pos"}
    if unknown:
        raise ProjectError(f"{where}: unknown key {sorted(unknown)[0]!r:.40}")
    node_id, name = node.get("id"), node.get("name")
    if not isinstance(node_id, str) or not _ID.match(node_id):
        raise ProjectError(f"{where}.id: expected up to 40 letters, digits or _")
    problem = identifier_problem(name)
    if problem:
        raise ProjectError(f"{where}.name: {problem}")
    where = f"{where} ({name})"
    if node_id in model:
        raise ProjectError(f"{where}.id: another node has the id {node_id!r}")
    if model.find(name) is not None:
        raise ProjectError(f"{where}: a node called '{name}' already exists")
    type_name = node.get("type")
    if not isinstance(type_name, str) or not has_spec(type_name):
        raise ProjectError(f"{where}.type: unknown layer type {type_name!r:.40}")
    params = node.get("params", {})
    if not isinstance(params, dict):
        raise ProjectError(f"{where}.params: expected an object")
    spec = get_spec(type_name)
    missing = [p.name for p in spec.params if p.required and not p.auto and p.name not in params]
    if missing:
        raise ProjectError(f"{where}.params: {type_name} needs {missing[0]}")
    try:
        model.add_node(type_name, name, params, _position(node.get("pos", [0, 0]), where), node_id)
    except GraphError as error:
        raise ProjectError(f"{where}.params: {error}") from None


def _position(pos: Any, where: str) -> tuple[float, float]:
    numeric = (
        all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pos)
        if isinstance(pos, list)
        else False
    )
    if not numeric or len(pos) != 2 or not all(math.isfinite(v) and abs(v) < 1e7 for v in pos):
        raise ProjectError(f"{where}.pos: expected [x, y] with two finite numbers")
    return pos[0], pos[1]


def _add_edge(model: ModelGraph, edge: Any, where: str) -> None:
    if not isinstance(edge, dict) or set(edge) - {"from", "from_port", "to", "to_port"}:
        raise ProjectError(
            f'{where}: expected {{"from": ..., "from_port": ..., "to": ..., "to_port": ...}}'
        )
    src, dst = edge.get("from"), edge.get("to")
    for key, value in (("from", src), ("to", dst)):
        if not isinstance(value, str) or value not in model:
            raise ProjectError(f"{where}.{key}: no node with the id {value!r:.40}")
    if not model.spec(src).has_outputs:
        raise ProjectError(f"{where}.from: {model.node_name(src)} is an Output and has no outputs")
    src_port = _port(edge.get("from_port", _first_output(model, src)), f"{where}.from_port")
    dst_port = _port(edge.get("to_port", _first_input(model.spec(dst))), f"{where}.to_port")
    src_spec, dst_spec = model.spec(src), model.spec(dst)
    if src_spec.output_port(src_port) is None:
        raise ProjectError(f"{where}.from_port: {src_spec.type} has no output {src_port!r}")
    if not dst_spec.inputs or dst_spec.input_port(dst_port) is None:
        raise ProjectError(f"{where}.to_port: {dst_spec.type} has no input {dst_port!r}")
    if model.input_edge(dst, dst_port) is not None:
        raise ProjectError(f"{where}: {model.node_name(dst)} input {dst_port} is connected twice")
    # Cycles and gaps load, so that the editor can show them as problems rather than refuse.
    model.add_edge_unchecked(Edge(src, src_port, dst, dst_port))


def _port(value: Any, where: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1024:
        value = str(value)
    if not isinstance(value, str) or not (value.isidentifier() or is_slot(value)):
        raise ProjectError(f"{where}: expected a port name")
    if is_slot(value) and int(value) >= 1024:
        raise ProjectError(f"{where}: expected a port number below 1024")
    return value
