"""`export --format script`: a standalone training script for `python` and `torchrun`.

The script holds the model class exactly as `export` writes it, the design's settings and
data facts as constants, the source of the training core (app/train/core: the split, the
standardization, the loop, the tasks' metrics and the run folder's records) as it is, a
loader for the project's data source and a driver. The window, the CLI and the script so
run one implementation; tests/test_script_parity.py trains the same project both ways.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
from pathlib import Path

from torchcanvas.app.train.bundle import DEFAULT_ROOT, LABELS, DataBundle, resolve_data_path
from torchcanvas.app.train.core import CARRIED
from torchcanvas.app.train.data import FILE_SOURCES, DataError, fit_problem, load_data
from torchcanvas.app.train.inputs import input_specs
from torchcanvas.app.train.preprocess import make_record
from torchcanvas.app.train.weights import graph_hash
from torchcanvas.codegen.emit import emit_module
from torchcanvas.codegen.preprocess import MAIN
from torchcanvas.codegen.pyformat import format_code
from torchcanvas.codegen.script_parts import DRIVER, LOADERS

TORCHVISION_SETS = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST", "cifar10": "CIFAR10"}
SCALES = {"digits": 16.0, "mnist": 255.0, "fashion_mnist": 255.0, "cifar10": 255.0}
DRIVER_IMPORTS = [
    "import argparse",
    "import json",
    "import os",
    "import pickle",
    "import sys",
    "import torch",
    "import torch.distributed as dist",
    "from torch.nn.parallel import DistributedDataParallel",
]
SOURCE_IMPORTS = {  # imports only a source's loader uses
    "csv": ["import csv"],
    "npz": ["import numpy as np", "from pathlib import Path"],
    "torchvision": ["import torchvision"],
    "digits": [],
}


class ScriptError(ValueError):
    """The project cannot be written as a training script; the message says why."""


def training_script(project, project_path: str | Path, class_name: str | None = None) -> str:
    """The script's source for `project` (saved at `project_path`)."""
    analysis = project.model.analysis()
    module = emit_module(project.model, class_name, analysis=analysis)
    settings = resolve_data_path(dict(project.training), Path(project_path).parent)
    if len(analysis.outputs) != 1:
        raise ScriptError("the training script trains models with one Output.")
    specs = input_specs(analysis)
    source = settings["data"]
    kind = "torchvision" if source in TORCHVISION_SETS else source
    if kind not in LOADERS:
        raise ScriptError(
            f"the training script reads digits, MNIST, Fashion-MNIST, CIFAR-10, CSV and NumPy "
            f"sources; {source!r} is not one of them yet (train it in the app or the CLI)."
        )
    if settings["normalize"] and settings["normalize_from"] != "data":
        raise ScriptError(
            "the training script standardizes with the training split's statistics; set "
            "normalize_from to data to write it."
        )
    problem = fit_problem(settings, specs[0].shape, analysis.meta(analysis.outputs[0]).per_sample)
    if problem:
        raise ScriptError(problem)
    header, body = _split_module(module.source)
    core_imports, core = carried_core()
    constants = _constants(settings, specs, kind, module)
    imports = _imports([*header, *core_imports, *DRIVER_IMPORTS, *SOURCE_IMPORTS[kind]])
    parts = [
        _docstring(module.class_name),
        imports,
        body,
        constants,
        "# TorchCanvas's training core (app/train/core), as the window and the CLI run it.",
        *core,
        LOADERS[kind],
        DRIVER,
    ]
    text = "\n\n\n".join(part.strip("\n") for part in parts) + "\n"
    return format_code(text)


def carried_core() -> tuple[list[str], list[str]]:
    """(import lines, module bodies) of the training core's modules, as they are."""
    imports, bodies = [], []
    for name in CARRIED:
        source = inspect.getsource(importlib.import_module(f"torchcanvas.app.train.core.{name}"))
        tree = ast.parse(source)
        lines = source.splitlines()
        start = 0
        for node in tree.body:
            is_doc = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                imports.append(ast.unparse(node))
            elif not is_doc:
                break
            start = node.end_lineno
        bodies.append("\n".join(lines[start:]).strip("\n"))
    return imports, bodies


def _split_module(source: str) -> tuple[list[str], str]:
    """(import lines, the rest) of the exported module, without its docstring."""
    tree = ast.parse(source)
    lines = source.splitlines()
    imports = [ast.unparse(n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    first = next(n for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef)))
    start = min([first.lineno, *(d.lineno for d in first.decorator_list)]) - 1
    stop = lines.index(MAIN) if MAIN in lines else len(lines)  # its smoke test is not needed
    return imports, "\n".join(lines[start:stop]).rstrip()


def _docstring(class_name: str) -> str:
    return (
        f'"""Train {class_name}: a training script written by TorchCanvas.\n\n'
        f"One process:     python train.py --epochs 5 --out runs/{class_name.lower()}\n"
        "Several (DDP):   torchrun --nproc_per_node=N train.py   (NCCL on GPUs, gloo on CPU)\n\n"
        "It trains exactly as TorchCanvas does (the same split, standardization, batches and\n"
        "loop). After every epoch rank 0 commits a TorchCanvas run folder: model.pt (a\n"
        "state_dict for the exported class), checkpoint.pt, metrics.csv, preprocess.json\n"
        "and manifest.json, which `torchcanvas eval` and `export --weights` read.\n\n"
        "It starts from the project's starting weights (weights_file; the tensors that fit)\n"
        "or from --weights PATH (all of them, or those that fit with --partial).\n"
        '"""'
    )


def _imports(lines: list[str]) -> str:
    """Each import once: the standard library first, then the others, each group sorted."""
    unique = list(dict.fromkeys(lines))
    standard = sorted((x for x in unique if _top(x) in sys.stdlib_module_names), key=_order)
    others = sorted((x for x in unique if _top(x) not in sys.stdlib_module_names), key=_order)
    return "\n".join(standard) + "\n\n" + "\n".join(others)


def _order(line: str) -> tuple[bool, str]:
    """isort's order, as ruff applies it: `import` lines, then `from` lines, by module."""
    return line.startswith("from "), line.split()[1].lower()


def _top(line: str) -> str:
    return line.split()[1].split(".")[0]


def _constants(settings: dict, specs: list, kind: str, module) -> str:
    """The settings and data facts the script reads, as Python literals."""
    values: dict[str, object] = {"SETTINGS": _plain(settings)}
    facts, record = _data_facts(settings, specs, kind)
    values.update(facts)
    values["INPUT_SHAPES"] = [tuple(spec.shape) for spec in specs]
    values["FILE_SOURCE"] = settings["data"] in FILE_SOURCES
    values["PREPROCESS"] = record
    values["GRAPH_HASH"] = graph_hash(module.source)
    lines = ["# The design's training settings (the flags override some) and its data."]
    lines += [f"{name} = {value!r}" for name, value in values.items()]
    if kind == "torchvision":
        lines.append(f"DATASET = torchvision.datasets.{TORCHVISION_SETS[settings['data']]}")
    lines.append(f"MODEL_CLASS = {module.class_name}")
    lines.append(f"OUT = {f'runs/{module.class_name.lower()}'!r}")
    return "\n".join(lines)


def _plain(settings: dict) -> dict:
    """The settings with tuples as lists (JSON's types, as checkpoints hold them)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()}


def _data_facts(settings: dict, specs: list, kind: str) -> tuple[dict, dict]:
    """(where the data is and what the app found in it, the preprocess record it makes)."""
    if kind == "torchvision":  # read (or downloaded) when the script runs, not now
        root = Path(settings.get("data_root") or DEFAULT_ROOT).expanduser()
        facts = {"DATA_PATH": str(root), "SCALE": SCALES[settings["data"]], "TARGETS": []}
        facts["CLASSES"] = list(LABELS[settings["data"]])
        return facts, _image_record(settings, specs)
    try:
        bundle = load_data(settings, tuple(specs[0].shape), inputs=specs)
    except DataError as error:
        raise ScriptError(f"the data cannot be read: {error}") from None
    facts: dict[str, object] = {"DATA_PATH": "", "SCALE": SCALES.get(settings["data"])}
    if kind == "csv":
        facts["DATA_PATH"] = str(Path(settings["data_path"]).resolve())
        facts["DELIMITER"] = _delimiter(Path(settings["data_path"]))
        facts["FEATURES"] = list(bundle.feature_names)
    elif kind == "npz":
        facts["DATA_PATH"] = str(Path(settings["data_path"]).resolve())
        facts["INPUT_ARRAYS"] = list(bundle.feature_names)
        facts["INPUT_DTYPES"] = [spec.dtype for spec in specs]
    facts["TARGETS"] = list(bundle.target_names)
    facts["CLASSES"] = list(bundle.class_names)
    return facts, bundle.preprocess


def _image_record(settings: dict, specs: list) -> dict:
    """The preprocess record of a torchvision set, its statistics to be filled in by the run
    (one value per channel of an image, as data.channel_stats gives them)."""
    shape = tuple(specs[0].shape)
    count = shape[0] if len(shape) >= 2 else 1
    stub = DataBundle(settings["data"], shape, list(LABELS[settings["data"]]))
    stub.mean, stub.std = [0.0] * count, [1.0] * count
    return make_record(stub, settings, specs)


def _delimiter(path: Path) -> str:
    from torchcanvas.app.train.tables import delimiter

    with path.open(encoding="utf-8-sig", errors="replace") as handle:
        return delimiter(path, handle.read(65536))  # the head only: the table may be large
