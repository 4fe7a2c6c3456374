"""Where an imported module comes from: a file's class or builder, or an installed model.

`path/to/file.py:NAME` loads the file as a module (its top level runs, as an import
would; its `if __name__ == "__main__":` part does not). `package.module:NAME`
(`torchvision.models:resnet18`) imports an installed module. NAME must be an nn.Module
class, a torchvision model builder or (in a file) a function of that file; it is checked
before it is called. Constructor arguments arrive as JSON data and are passed as
keywords; nothing given on the command line is evaluated. Qt-free: the CLI and the
window share it."""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import re
import sys
import traceback
import types
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch loads only where the user's code runs, not in the CLI's process
    from torchcanvas.graph.fximport import ImportResult

DTYPES = ("float32", "float64", "float16", "int64", "int32", "bool")
_DTYPE_BYTES = {"float32": 4, "float64": 8, "float16": 2, "int64": 8, "int32": 4, "bool": 1}
MAX_EXAMPLE_BYTES = 1 << 30  # the example inputs the module is traced with, all together
_SHAPE = re.compile(r"^\d+(x\d+){0,5}$")
_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
TORCHVISION_MODELS = (
    "resnet18",
    "resnet34",
    "resnet50",
    "mobilenet_v2",
    "mobilenet_v3_small",
    "mobilenet_v3_large",
    "efficientnet_b0",
    "densenet121",
    "squeezenet1_1",
    "shufflenet_v2_x1_0",
    "googlenet",
    "inception_v3",
    "regnet_x_400mf",
    "convnext_tiny",
    "vit_b_16",
    "alexnet",
    "vgg11",
)


# What the user's code may raise to fail an import: sys.exit() and a KeyboardInterrupt of
# its own too (a real Ctrl-C never reaches it: the import process ignores it).
USER_ERRORS = (Exception, SystemExit, KeyboardInterrupt)
SOURCE_RULE = (
    "SOURCE may name an nn.Module subclass, a torchvision model builder "
    "(torchvision.models:resnet18) or a function defined in the file that returns a module"
)


class SourceError(ValueError):
    """A source, argument or shape that cannot be used; the message says which and why."""


def parse_shape(text: str) -> tuple[int, ...]:
    """`3x224x224` -> (3, 224, 224): a per-sample shape."""
    text = text.strip().lower()
    if not _SHAPE.match(text):
        raise SourceError(f"shape {text!r:.40}: expected sizes joined by x, e.g. 3x224x224")
    sizes = tuple(int(part) for part in text.split("x"))
    if any(size < 1 or size > 1 << 16 for size in sizes):
        raise SourceError(f"shape {text}: each size is from 1 to 65536")
    return sizes


def parse_arguments(text: str | None) -> dict:
    """The constructor's keyword arguments from JSON (an object), as plain data."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError as error:
        raise SourceError(f"--args is not valid JSON: {error}") from None
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise SourceError('--args must be a JSON object such as {"num_classes": 10}')
    return value


def load_source(source: str, arguments: dict):
    """Build the module named by `source` with `arguments`, once `_check_buildable` allows
    what it names."""
    if ":" not in source:
        raise SourceError(f"{source!r:.60}: expected path/to/file.py:NAME or package.module:NAME")
    where, _, name = source.rpartition(":")
    if not _DOTTED.match(name):
        raise SourceError(f"{name!r:.40} is not a class or function name")
    from_file = where.endswith(".py")
    namespace = _load_file(Path(where)) if from_file else _load_package(where)
    target = _named(namespace, where, name)
    _check_buildable(target, f"{where}:{name}", namespace if from_file else None)
    try:
        module = target(**arguments)
    except USER_ERRORS as error:
        if out_of_memory(error):
            raise  # the import process says what the memory limit is
        raise SourceError(f"{name}(**args) failed: {type(error).__name__}: {error}") from None
    import torch

    if not isinstance(module, torch.nn.Module):
        raise SourceError(f"{name} gave a {type(module).__name__}, not an nn.Module")
    return module


def out_of_memory(error: BaseException) -> bool:
    """Whether `error` says memory ran out (Python's MemoryError, or torch's allocator)."""
    text = str(error)
    return isinstance(error, MemoryError) or any(
        words in text for words in ("can't allocate memory", "not enough memory")
    )


def _named(namespace, where: str, name: str):
    """`name` looked up in `namespace`, never through another module (`torch:os.system`)."""
    target = namespace
    for part in name.split("."):
        if target is not namespace and isinstance(target, types.ModuleType):
            raise SourceError(f"{where}:{name} reaches into another module; {SOURCE_RULE}")
        target = getattr(target, part, None)
        if target is None:
            raise SourceError(f"{where} has no {name}")
    return target


def _check_buildable(target, source: str, file_module) -> None:
    """Refuse, before calling it, anything but what SOURCE_RULE allows."""
    import torch

    if isinstance(target, type) and issubclass(target, torch.nn.Module):
        return
    own = file_module is not None and getattr(target, "__module__", None) == file_module.__name__
    if own and isinstance(target, types.FunctionType):
        return
    if isinstance(target, types.FunctionType) and _torchvision_builder(target):
        return
    kind = "class" if isinstance(target, type) else type(target).__name__
    raise SourceError(f"{source} is a {kind} that builds no model; {SOURCE_RULE}")


def _torchvision_builder(function) -> bool:
    """Whether torchvision lists `function` as a model builder (any task: video too)."""
    try:
        from torchvision import models
    except ImportError:
        return False
    return any(models.get_model_builder(name) is function for name in models.list_models())


def _load_file(path: Path):
    if not path.is_file():
        raise SourceError(f"{path}: no such file")
    name = "torchcanvas_import_" + re.sub(r"\W", "_", path.stem)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)  # the file's own imports of its neighbours work
    try:
        spec.loader.exec_module(module)
    except USER_ERRORS as error:
        frame = _frame_in(path, error)
        message = f"running {path.name} failed{frame}: {type(error).__name__}: {error}"
        raise SourceError(message) from None
    finally:
        if sys.path and sys.path[0] == folder:
            sys.path.pop(0)
    return module


def _load_package(dotted: str):
    if not _DOTTED.match(dotted):
        raise SourceError(f"{dotted!r:.60} is not a module path")
    try:
        return importlib.import_module(dotted)
    except ImportError as error:
        raise SourceError(f"cannot import {dotted}: {error}") from None


def _frame_in(path: Path, error: BaseException) -> str:
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if Path(frame.filename).resolve() == path.resolve():
            return f" at line {frame.lineno} ({(frame.line or '').strip()})"
    return ""


def import_source(
    source: str,
    arguments: dict,
    shapes: list[tuple[int, ...]],
    dtypes: list[str] | None = None,
    class_name: str | None = None,
    pretrained: str | None = None,
) -> ImportResult:
    """Load `source` (with torchvision's weights `pretrained`, e.g. DEFAULT), then import
    it; SourceError or fximport.ImportFailed say why not."""
    chosen = None
    if pretrained is not None:
        from torchcanvas.app import pretrained as weights

        model = weights.model_name(source)
        chosen = weights.choose(model, pretrained)
        arguments = weights.builder_arguments(model, chosen, arguments)
        shapes = shapes or [chosen.input_shape()]  # an explicit shape wins
        weights.fetch(chosen)  # a missing file is refused before anything is built
    if not shapes:
        raise SourceError("give the per-sample shape of each input with --input-shape")
    dtypes = _checked_dtypes(dtypes, len(shapes))
    _check_example_size(shapes, dtypes)
    module = load_source(source, arguments)
    if chosen is not None:
        weights.load_into(module, chosen)
    _check_input_count(module, len(shapes))
    from torchcanvas.app.import_check import import_checked

    result = import_checked(module, list(zip(shapes, dtypes)), class_name)
    if chosen is not None:
        result.project.preprocess = chosen.preprocess
        result.project.classes = chosen.classes
    return result


def _checked_dtypes(dtypes: list[str] | None, count: int) -> list[str]:
    dtypes = list(dtypes or [])
    if len(dtypes) > count:
        raise SourceError("more --input-dtype than --input-shape")
    dtypes += ["float32"] * (count - len(dtypes))
    bad = [d for d in dtypes if d not in DTYPES]
    if bad:
        raise SourceError(f"dtype {bad[0]!r:.20}: expected one of {', '.join(DTYPES)}")
    return dtypes


def _check_example_size(shapes: list[tuple[int, ...]], dtypes: list[str]) -> None:
    """Refuse shapes whose example inputs would not fit in memory, before any code runs."""
    from torchcanvas.graph.fximport import BATCH

    sizes = [BATCH * math.prod(shape) * _DTYPE_BYTES[d] for shape, d in zip(shapes, dtypes)]
    if sum(sizes) > MAX_EXAMPLE_BYTES:
        largest = max(range(len(sizes)), key=sizes.__getitem__)
        shape = "x".join(str(size) for size in shapes[largest])
        raise SourceError(
            f"shape {shape}: the example input ({BATCH} samples of {dtypes[largest]}) would "
            f"take {sum(sizes) / 2**30:,.1f} GB; the limit is {MAX_EXAMPLE_BYTES // 2**30} GB. "
            f"Import with a smaller shape (the project's Input can be changed afterwards)"
        )


def _check_input_count(module, count: int) -> None:
    import inspect

    try:
        parameters = inspect.signature(module.forward).parameters.values()
    except (TypeError, ValueError):
        return
    required = [
        p
        for p in parameters
        if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if len(required) != count:
        names = ", ".join(p.name for p in required)
        raise SourceError(
            f"forward({names}) takes {len(required)} input(s) but {count} --input-shape "
            f"{'was' if count == 1 else 'were'} given; give one per input, in order"
        )
