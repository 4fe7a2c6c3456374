"""The versioned JSON project file: the network, its blocks, its layout, its training settings."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torchcanvas.graph.fileio import FileRefused, atomic_write, read_limited
from torchcanvas.graph.graphjson import (
    MAX_NODES,
    LoadError,
    Progress,
    block_to_dict,
    count_items,
    graph_to_dict,
    load_blocks,
    load_graph,
)
from torchcanvas.graph.layout import DIRECTIONS, DOWN
from torchcanvas.graph.library import Library
from torchcanvas.graph.migrate import MigrationError, migrate
from torchcanvas.graph.model import GraphError, ModelGraph
from torchcanvas.graph.naming import class_name_problem
from torchcanvas.graph.params import ParamError
from torchcanvas.graph.pipeline import PipelineError, check_classes, check_preprocess
from torchcanvas.graph.settings import (
    OMITTED_AT_DEFAULT,
    TRAINING_INDEX,
    coerce_training,
    default_training,
)

FORMAT = "torchcanvas"
VERSION = 3
MAX_FILE_BYTES = 20 * 1024 * 1024
_TOP_KEYS = {"format", "version", "name", "blocks", "nodes", "edges", "training", "view"}
_TOP_KEYS |= {"preprocess", "classes"}  # optional: see graph.pipeline


class ProjectError(ValueError):
    """A project file that cannot be read; the message says what is wrong and where."""


@dataclass
class Project:
    """A network, the block definitions it uses, and the settings used to train it."""

    model: ModelGraph
    training: dict[str, Any] = field(default_factory=default_training)
    direction: str = DOWN  # how the canvas lays the network out: down or right
    preprocess: dict | None = None  # the image pipeline of pretrained weights (graph.pipeline)
    classes: list[str] | None = None  # the output's class names, when known

    def __post_init__(self) -> None:
        if self.model.library is None:
            self.model.library = Library()

    @property
    def library(self) -> Library:
        """The project's block definitions."""
        return self.model.library


def project_to_dict(project: Project) -> dict:
    """The project as plain JSON data, in a stable order."""
    model = project.model
    document: dict = {"format": FORMAT, "version": VERSION, "name": model.name}
    library = project.library
    if len(library):
        document["blocks"] = [block_to_dict(library.get(name)) for name in library.order()]
    document.update(graph_to_dict(model))
    document["training"] = dict(project.training)
    for key in OMITTED_AT_DEFAULT:  # unset: older files keep their bytes
        if project.training.get(key) == TRAINING_INDEX[key].default:
            document["training"].pop(key, None)
    if project.direction != DOWN:  # files laid out top to bottom keep their bytes
        document["view"] = {"direction": project.direction}
    for key in ("preprocess", "classes"):  # absent when unset: older files keep their bytes
        if getattr(project, key) is not None:
            document[key] = getattr(project, key)
    return document


def dumps_project(project: Project) -> str:
    """The project file's text: one node or edge per line, easy to read and diff."""
    document = project_to_dict(project)
    items = [f"  {_compact(key)}: {_pretty(key, value, 1)}" for key, value in document.items()]
    return "{\n" + ",\n".join(items) + "\n}\n"


_LINED = {"blocks", "nodes", "edges", "params", "training"}


def _pretty(key: str, value: Any, depth: int) -> str:
    """JSON with the lists of a graph one item per line; a node with a body spreads out."""
    pad, inner = "  " * depth, "  " * (depth + 1)
    if isinstance(value, list) and key in _LINED and value:
        parts = [inner + _item(item, depth + 1) for item in value]
        return "[\n" + ",\n".join(parts) + f"\n{pad}]"
    if isinstance(value, dict) and key in _LINED and value:
        parts = [f"{inner}{_compact(k)}: {_compact(v)}" for k, v in value.items()]
        return "{\n" + ",\n".join(parts) + f"\n{pad}}}"
    return _compact(value)


def _item(item: Any, depth: int) -> str:
    if isinstance(item, dict) and ("body" in item or "nodes" in item):
        pad, inner = "  " * depth, "  " * (depth + 1)
        parts = [f"{inner}{_compact(k)}: {_pretty(k, v, depth + 1)}" for k, v in item.items()]
        if "body" in item:
            parts[-1] = f'{inner}"body": ' + _body(item["body"], depth + 1)
        return "{\n" + ",\n".join(parts) + f"\n{pad}}}"
    return _compact(item)


def _body(body: dict, depth: int) -> str:
    pad, inner = "  " * depth, "  " * (depth + 1)
    parts = [f"{inner}{_compact(k)}: {_pretty(k, v, depth + 1)}" for k, v in body.items()]
    return "{\n" + ",\n".join(parts) + f"\n{pad}}}"


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(", ", ": "), allow_nan=False, ensure_ascii=False)


def save_project(project: Project, path: str | os.PathLike) -> None:
    """Write the project atomically to `path`."""
    atomic_write(path, dumps_project(project).encode("utf-8"))


def load_project(path: str | os.PathLike, report=None) -> Project:
    """Read a project file; ProjectError names the problem and where it is. `report(done,
    total)` hears how far the reading is, and may raise to stop it."""
    file = Path(path)
    try:
        data = read_limited(file, MAX_FILE_BYTES, "project")
    except FileRefused as error:
        raise ProjectError(str(error)) from None
    except OSError as error:
        raise ProjectError(f"{file}: cannot read ({error.strerror or error})") from None
    try:
        return loads_project(data, report)
    except ProjectError as error:
        raise ProjectError(f"{file.name}: {error}") from None


def loads_project(data: str | bytes, report=None) -> Project:
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
        return project_from_dict(document, report)
    except (GraphError, ParamError, MigrationError, LoadError) as error:
        raise ProjectError(str(error)) from None
    except RecursionError:
        raise ProjectError("the document is nested too deeply") from None


def _reject_constant(name: str):
    raise ValueError(f"{name} is not allowed in a project file")


def project_from_dict(document: Any, report=None) -> Project:
    """Build a Project from parsed JSON of any known version, checking every field
    (`report`: see load_project)."""
    _check_header(document)
    document = migrate(document)
    progress = Progress(report, count_items(document)) if report is not None else None
    name = document.get("name", "Model")
    problem = class_name_problem(name)
    if problem:
        raise ProjectError(f"name: {problem}")
    library = Library()
    budget = [MAX_NODES]
    load_blocks(document.get("blocks", []), library, budget, progress)
    model = ModelGraph(name, library)
    load_graph(model, document, "", budget, progress)
    training = document.get("training", {})
    if not isinstance(training, dict):
        raise ProjectError("training: expected an object of settings")
    try:
        settings = coerce_training(training)
    except ParamError as error:
        raise ProjectError(f"training: {error}") from None
    project = Project(model, settings, _direction(document.get("view", {})))
    try:
        project.preprocess = check_preprocess(document.get("preprocess"))
        project.classes = check_classes(document.get("classes"))
    except PipelineError as error:
        raise ProjectError(str(error)) from None
    return project


def _direction(view: Any) -> str:
    """The layout direction saved under "view" (absent: top to bottom)."""
    if not isinstance(view, dict) or set(view) - {"direction"}:
        raise ProjectError('view: expected {"direction": "down" or "right"}')
    direction = view.get("direction", DOWN)
    if direction not in DIRECTIONS:
        raise ProjectError(f"view: direction must be 'down' or 'right', not {direction!r:.40}")
    return direction


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
    unknown = set(document) - _TOP_KEYS
    if unknown:
        raise ProjectError(f"unknown top-level key {sorted(unknown)[0]!r:.40}")
