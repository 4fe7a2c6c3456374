"""The versioned JSON project file: one network, its layout and its training settings."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torchcanvas.graph.fileio import atomic_write
from torchcanvas.graph.model import GraphError, ModelGraph
from torchcanvas.graph.naming import class_name_problem, identifier_problem
from torchcanvas.graph.params import ParamError, to_json
from torchcanvas.graph.registry import get_spec, has_spec
from torchcanvas.graph.settings import coerce_training, default_training

FORMAT = "torchcanvas"
VERSION = 1
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
    for name in model.nodes():
        spec = model.spec(name)
        params = model.params(name)
        ordered = {p.name: to_json(params[p.name]) for p in spec.params if p.name in params}
        nodes.append(
            {"id": name, "type": spec.type, "params": ordered, "pos": list(model.pos(name))}
        )
    edges = []
    for src, dst, port in model.edges():
        edge = {"from": src, "to": dst}
        if port:
            edge["port"] = port
        edges.append(edge)
    return {
        "format": FORMAT,
        "version": VERSION,
        "name": model.name,
        "nodes": nodes,
        "edges": edges,
        "training": dict(project.training),
    }


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
    except (GraphError, ParamError) as error:
        raise ProjectError(str(error)) from None
    except RecursionError:
        raise ProjectError("the document is nested too deeply") from None


def _reject_constant(name: str):
    raise ValueError(f"{name} is not allowed in a project file")


def project_from_dict(document: Any) -> Project:
    """Build a Project from parsed JSON, checking every field."""
    _check_header(document)
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
            f"{version}); this one reads version {VERSION}"
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
        raise ProjectError(f"{where}: expected an object with id, type, params and pos")
    unknown = set(node) - {"id", "type", "params", "pos"}
    if unknown:
        raise ProjectError(f"{where}: unknown key {sorted(unknown)[0]!r:.40}")
    name = node.get("id")
    problem = identifier_problem(name)
    if problem:
        raise ProjectError(f"{where}.id: {problem}")
    where = f"{where} ({name})"
    if name in model:
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
        model.add_node(type_name, name, params, _position(node.get("pos", [0, 0]), where))
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
    if not isinstance(edge, dict) or set(edge) - {"from", "to", "port"}:
        raise ProjectError(f'{where}: expected {{"from": ..., "to": ..., "port": ...}}')
    src, dst, port = edge.get("from"), edge.get("to"), edge.get("port", 0)
    for key, value in (("from", src), ("to", dst)):
        if not isinstance(value, str) or value not in model:
            raise ProjectError(f"{where}.{key}: no node called {value!r:.40}")
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port < 1024:
        raise ProjectError(f"{where}.port: expected an integer from 0")
    if any(k == port for _, k in model.inputs(dst)):
        raise ProjectError(f"{where}: {dst} input {port} is connected twice")
    spec = model.spec(dst)
    if spec.max_inputs is not None and port >= spec.max_inputs:
        raise ProjectError(f"{where}.port: {dst} ({spec.type}) has no input port {port}")
    if not model.spec(src).has_outputs:
        raise ProjectError(f"{where}.from: {src} is an Output and has nothing to pass on")
    # Cycles load so that the editor can show them as problems rather than refusing the file.
    model.nx_graph.add_edge(src, dst, key=port)
    model.revision += 1
