"""`export --format script`: a standalone training script for `python` and `torchrun`.

The script holds the model class exactly as `export` writes it, the data source of the
project's settings (with the same split and standardization as the app), the loop, and
rank-0 checkpoints whose `model.pt` loads strictly into the exported class.
"""

from __future__ import annotations

from pathlib import Path

from torchcanvas.app.train.bundle import DEFAULT_ROOT, resolve_data_path
from torchcanvas.app.train.data import FILE_SOURCES, DataError, fit_problem, load_data
from torchcanvas.app.train.inputs import input_specs
from torchcanvas.codegen.emit import emit_module
from torchcanvas.codegen.preprocess import MAIN, constant, string
from torchcanvas.codegen.script_parts import IMPORTS, LOADERS, MAIN_PART, SHARED

TORCHVISION_SETS = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST", "cifar10": "CIFAR10"}
SCALES = {"digits": 16.0, "mnist": 255.0, "fashion_mnist": 255.0, "cifar10": 255.0}
SOURCE_IMPORTS = {  # imports only a source's loader uses
    "csv": {"import csv"},
    "npz": {"import numpy as np"},
    "torchvision": {"import torchvision"},
    "digits": set(),
}
SETTING_CONSTANTS = (
    ("val_split", "VAL_SPLIT"),
    ("loss", "LOSS"),
    ("optimizer", "OPTIMIZER"),
    ("lr", "LR"),
    ("momentum", "MOMENTUM"),
    ("weight_decay", "WEIGHT_DECAY"),
    ("schedule", "SCHEDULE"),
    ("step_size", "STEP_SIZE"),
    ("gamma", "GAMMA"),
    ("batch_size", "BATCH_SIZE"),
    ("epochs", "EPOCHS"),
    ("seed", "SEED"),
    ("amp", "AMP"),
)


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
    problem = fit_problem(settings, specs[0].shape, analysis.meta(analysis.outputs[0]).per_sample)
    if problem:
        raise ScriptError(problem)
    constants = _constants(settings, specs, kind, module.class_name)
    header, body = _split_module(module.source)
    parts = [
        _docstring(module.class_name) + "\n\n" + _imports(header, kind),
        body,
        constants,
        LOADERS[kind].strip("\n"),
        _arguments(),
        SHARED.strip("\n"),
        MAIN_PART.strip("\n"),
    ]
    return "\n\n\n".join(part.strip("\n") for part in parts) + "\n"


def _split_module(source: str) -> tuple[list[str], str]:
    """(import lines, the rest) of the exported module, without its docstring."""
    lines = source.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(("import ", "from ")))
    end = next(i for i in range(start, len(lines)) if lines[i].startswith(("class ", "def ", "@")))
    header = [line for line in lines[start:end] if line.strip()]
    stop = lines.index(MAIN) if MAIN in lines else len(lines)  # its smoke test is not needed
    return header, "\n".join(lines[end:stop]).rstrip()


def _docstring(class_name: str) -> str:
    return (
        f'"""Train {class_name}: a training script written by TorchCanvas.\n\n'
        f"One process:     python train.py --epochs 5 --out runs/{class_name.lower()}\n"
        "Several (DDP):   torchrun --nproc_per_node=N train.py   (NCCL on GPUs, gloo on CPU)\n\n"
        "Rank 0 writes model.pt (a state_dict for the exported class) and checkpoint.pt\n"
        'after every epoch.\n"""'
    )


def _imports(model_imports: list[str], kind: str) -> str:
    """The script's imports and the model's, standard library first, each once."""
    wanted = {line for line in IMPORTS if line} - _unused(kind) | set(model_imports)
    standard = [line for line in IMPORTS if line in wanted and _is_standard(line)]
    others = [line for line in IMPORTS if line in wanted and not _is_standard(line)]
    others += sorted(line for line in model_imports if line not in IMPORTS)
    return "\n".join(standard) + "\n\n" + "\n".join(others)


def _unused(kind: str) -> set[str]:
    optional = set().union(*SOURCE_IMPORTS.values())
    return optional - SOURCE_IMPORTS[kind]


def _is_standard(line: str) -> bool:
    return line.split()[1].split(".")[0] in {"argparse", "csv", "os", "time", "pathlib", "math"}


def _constants(settings: dict, specs: list, kind: str, class_name: str) -> str:
    """The settings and data facts the script reads, as Python literals."""
    values: dict[str, object] = {"TASK": settings.get("task", "classification")}
    values["DATA"] = settings["data"]
    values.update(_data_facts(settings, specs, kind))
    values["INPUT_SHAPES"] = [tuple(spec.shape) for spec in specs]
    values["LAYOUTS"] = [_layout(spec, settings) for spec in specs]
    for key, name in SETTING_CONSTANTS:
        values[name] = settings[key]
    lines = ["# The design's training settings; the flags below override some of them."]
    for name, value in values.items():
        lines += _assignment(name, value)
    if kind == "torchvision":
        lines.append(f"DATASET = torchvision.datasets.{TORCHVISION_SETS[settings['data']]}")
    lines.append(f"MODEL_CLASS = {class_name}")
    lines.append(f"OUT = {string(f'runs/{class_name.lower()}')}")
    return "\n".join(lines)


def _assignment(name: str, value) -> list[str]:
    """`NAME = value` as ruff formats it (lists exploded one item per line when long)."""
    if isinstance(value, list):
        return constant(name, [_literal(item) for item in value])
    return [f"{name} = {_literal(value)}"]


def _literal(value) -> str:
    """A str, number, bool or tuple of ints in ruff's spelling."""
    if isinstance(value, str):
        return string(value)
    if isinstance(value, tuple):
        inner = ", ".join(_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, (bool, int, float)):
        return repr(value)
    raise TypeError(f"no literal for {type(value).__name__}")


def _data_facts(settings: dict, specs: list, kind: str) -> dict[str, object]:
    """Where the data is, and what the app found in it (columns, arrays, class names)."""
    if kind in ("digits", "torchvision"):
        root = Path(settings.get("data_root") or DEFAULT_ROOT).expanduser()
        path = str(root) if kind == "torchvision" else ""
        return {"DATA_PATH": path, "SCALE": SCALES[settings["data"]]}
    try:
        bundle = load_data(settings, tuple(specs[0].shape), inputs=specs)
    except DataError as error:
        raise ScriptError(f"the data cannot be read: {error}") from None
    facts: dict[str, object] = {"DATA_PATH": str(Path(settings["data_path"]).resolve())}
    if kind == "csv":
        facts["DELIMITER"] = _delimiter(Path(settings["data_path"]))
        facts["FEATURES"] = list(bundle.feature_names)
    else:
        facts["INPUT_ARRAYS"] = list(bundle.feature_names)
        facts["INPUT_DTYPES"] = [spec.dtype for spec in specs]
    facts["TARGETS"] = list(bundle.target_names)
    facts["CLASSES"] = list(bundle.class_names)
    return facts


def _delimiter(path: Path) -> str:
    from torchcanvas.app.train.tables import delimiter

    return delimiter(path, path.read_text(encoding="utf-8-sig", errors="replace")[:65536])


def _layout(spec, settings: dict) -> str:
    """How the app standardizes this Input: per channel, per feature, one value, or not."""
    if not settings.get("normalize", True) or not spec.dtype.startswith("float"):
        return "none"
    shape = tuple(spec.shape)
    if settings["data"] in FILE_SOURCES and len(shape) in (1, 2):
        return "feature"
    return "channel" if len(shape) >= 1 and shape[0] > 1 else "all"


def _arguments() -> str:
    return '''def arguments():
    """Command-line flags; their defaults are the design's training settings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DATA_PATH, help="the data file or folder")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
    parser.add_argument("--lr", type=float, default=LR)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", default=OUT, help="the folder model.pt is written to")
    parser.add_argument("--amp", action=argparse.BooleanOptionalAction, default=AMP)
    parser.add_argument(
        "--download", action="store_true", help="download torchvision data"
    )
    return parser.parse_args()'''
