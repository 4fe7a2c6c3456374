"""`preprocess()` for a module exported with a run's weights: raw samples -> the model's input.

The statistics come from the run's preprocess.json (checked by app/train/preprocess). Only
typed values reach the source: floats and ints as repr writes them, Input names that the
design validated as identifiers, and class or column names as string literals.
"""

from __future__ import annotations

import re

from torchcanvas.codegen import imagefiles
from torchcanvas.codegen.emit import CodegenError, EmitResult
from torchcanvas.codegen.pyformat import INDENT, format_code
from torchcanvas.graph.expr import Call

MAIN = 'if __name__ == "__main__":'
TORCH_DTYPES = {
    "float32": "torch.float32",
    "float64": "torch.float64",
    "int64": "torch.int64",
    "int32": "torch.int32",
    "bool": "torch.bool",
}
WHERE = {"channel": "per channel", "feature": "per feature (the last axis)", "all": "overall"}


def add_preprocess(result: EmitResult, record: dict) -> str:
    """The module's source with CLASSES, the training statistics and preprocess(x) added
    before its `__main__` block; a run on image files adds read_image() (codegen.imagefiles)."""
    entries = _entries(result, record)
    taken = set(re.findall(r"^class (\w+)", result.raw, re.MULTILINE))
    names = _constant_names(result.arguments, taken)
    image = _image(record, entries, taken | set(result.arguments))
    lines: list[str] = []
    if record.get("class_names"):
        lines.append(_list("CLASSES", [string(n) for n in record["class_names"]]))
    if record.get("features") and len(entries) == 1:
        lines.append(_list("FEATURES", [string(n) for n in record["features"]]))
    lines += imagefiles.transform_lines(image) if image else []
    lines += _statistics(result.arguments, entries, names, lines, record)
    lines += ["", ""] if lines else []
    lines += _function(result.arguments, entries, names, record)
    source = result.raw.split("\n")
    source = imagefiles.with_imports(source) if image else source
    at = source.index(MAIN)
    return format_code("\n".join(source[:at] + lines + ["", ""] + source[at:]))


def _image(record: dict, entries: list[dict], taken: set[str]) -> dict | None:
    """The run's `image` entry when preprocess() reads image files (one float32 Input)."""
    image = record.get("image")
    if not image or len(entries) != 1 or entries[0]["dtype"] != "float32":
        return None
    clash = imagefiles.NAMES & taken  # class names, and the Input's name inside preprocess()
    if clash:
        raise CodegenError(
            [f"{sorted(clash)[0]!r} is a name preprocess() needs; rename that class or Input"]
        )
    return image


def _list(name: str, items: list[str]) -> str:
    return f"{name} = [{', '.join(items)}]"


def string(text: str) -> str:
    """A str literal as ruff formats it: double quotes unless the text holds more of them."""
    if not isinstance(text, str):
        raise CodegenError([f"a name in the statistics is {type(text).__name__}, not text"])
    quote = "'" if text.count('"') > text.count("'") else '"'
    body = "".join(f"\\{c}" if c == quote else c if c in "'\"" else repr(c)[1:-1] for c in text)
    return f"{quote}{body}{quote}"


def _entries(result: EmitResult, record: dict) -> list[dict]:
    """The record's Inputs in forward() order; CodegenError when they are not the design's."""
    saved = list(record["inputs"])
    if len(saved) == 1 and len(result.arguments) == 1:
        found = saved
    else:
        by_name = {entry["name"]: entry for entry in saved}
        found = [by_name.get(name) for name in result.arguments]
    for entry, meta, name in zip(found, result.inputs, result.arguments):
        if (
            entry is None
            or tuple(entry["shape"]) != tuple(meta.per_sample)
            or entry["dtype"] != meta.dtype
            or entry["dtype"] not in TORCH_DTYPES
            or entry["layout"] not in (*WHERE, "none")
        ):
            raise CodegenError(
                [f"the run's statistics do not describe the Input {name}; export without them"]
            )
    if len(found) != len(result.arguments):
        raise CodegenError(["the run's statistics are for another number of Inputs"])
    return found


def _constant_names(arguments: list[str], taken: set[str]) -> list[tuple[str, str]]:
    """(MEAN, STD) per Input: plain for one, IMAGE_MEAN for several (numbered on a clash)."""
    fixed = {"CLASSES", "FEATURES", "preprocess"}
    if len(arguments) == 1:
        pairs = [("MEAN", "STD")]
    else:
        pairs = [(f"{a.upper()}_MEAN", f"{a.upper()}_STD") for a in arguments]
        flat = [n for pair in pairs for n in pair]
        if len(set(flat)) != len(flat):
            pairs = [(f"MEAN_{i}", f"STD_{i}") for i in range(len(arguments))]
    clash = (fixed | {n for pair in pairs for n in pair}) & taken
    if clash:
        raise CodegenError(
            [f"the class {sorted(clash)[0]} has a name preprocess() needs; rename the class"]
        )
    return pairs


def _statistics(arguments, entries, names, before: list[str], record: dict) -> list[str]:
    lines = [""] if before else []
    used = [(a, e, n) for a, e, n in zip(arguments, entries, names) if e["mean"]]
    if not used:
        return []
    if record.get("stats_from") == "weights":
        lines.append("# The pretrained weights' mean and std (normalize_from: weights).")
    elif len(used) == 1 and len(arguments) == 1:
        lines.append(f"# The training split's mean and std, {WHERE[used[0][1]['layout']]}.")
    else:
        described = ", ".join(f"{a} {WHERE[e['layout']]}" for a, e, _ in used)
        lines.append(f"# The training split's mean and std of each Input: {described}.")
    for _, entry, (mean, std) in used:
        lines.append(_list(mean, [repr(float(v)) for v in entry["mean"]]))
        lines.append(_list(std, [repr(float(v)) for v in entry["std"]]))
    return lines


def _function(arguments, entries, names, record: dict) -> list[str]:
    """def preprocess(...): as tensors of the Inputs' dtypes, scaled, reshaped, standardized."""
    taken = set(arguments)
    mean_var = next(n for n in ("mean", "mean_", "mean__") if n not in taken)
    std_var = next(n for n in ("std", "std_", "std__") if n not in taken)
    lines = [f"def preprocess({', '.join(arguments)}):", *_doc(arguments, entries, record)]
    for argument, entry, (mean, std) in zip(arguments, entries, names):
        lines += _steps(argument, entry, record, (mean, std), (mean_var, std_var))
    lines.append(f"{INDENT}return {', '.join(arguments)}")
    return lines


def _doc(arguments, entries, record: dict) -> list[str]:
    head = f'{INDENT}"""Raw samples -> the model\'s input{"s" if len(arguments) > 1 else ""}, '
    lines = [head + "prepared as in training.", ""]
    for argument, entry in zip(arguments, entries):
        lines.append(f"{INDENT}{argument}: {_what(entry, record)}")
    return lines + [f'{INDENT}"""']


def _what(entry: dict, record: dict) -> str:
    shape = tuple(int(d) for d in entry["shape"])
    steps = []
    if _reads_images(entry, record):
        standardized = f", then standardized {WHERE[entry['layout']]}" if entry["mean"] else ""
        return imagefiles.doc_text(record["image"]) + standardized + "."
    if _rows(entry, record):
        features = int(len(record["features"]))
        text = f"rows of the {features} FEATURES columns, (N, {features})"
        steps.append(f"reshaped to {_shape(shape)}")
    elif record.get("features"):
        text = f"rows of the FEATURES columns, {_shape(shape)} {entry['dtype']}"
    else:
        text = f"{_shape(shape)} {entry['dtype']}"
    scale = _scale(entry, record)
    if scale is not None:
        steps.insert(0, f"divided by {scale!r}")
    if entry["mean"]:
        steps.append(f"standardized {WHERE[entry['layout']]}")
    return text + (f"; {', then '.join(steps)}." if steps else ", as it is.")


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(["N", *map(str, shape)]) + ")"


def _scale(entry: dict, record: dict) -> float | None:
    scale = record.get("scale")
    return float(scale) if scale is not None and entry["dtype"].startswith("float") else None


def _rows(entry: dict, record: dict) -> bool:
    """A table's rows fill an Input of another shape (64 columns -> (1, 8, 8))."""
    features = record.get("features") or []
    return bool(features) and tuple(entry["shape"]) != (len(features),)


def _reads_images(entry: dict, record: dict) -> bool:
    return bool(record.get("image")) and len(record["inputs"]) == 1 and entry["dtype"] == "float32"


def _steps(argument: str, entry: dict, record: dict, constants, locals_) -> list[str]:
    indent, name = INDENT, argument
    dtype = TORCH_DTYPES[entry["dtype"]]
    lines = [f"{indent}{name} = {Call('torch.as_tensor', (name,), (('dtype', dtype),))}"]
    scale = _scale(entry, record)
    if _reads_images(entry, record):
        lines = imagefiles.read_lines(name, scale if scale is not None else 1.0)
    elif scale is not None:
        lines.append(f"{indent}{name} = {name} / {scale!r}")
    if _rows(entry, record):
        sizes = ", ".join(str(int(d)) for d in entry["shape"])
        lines.append(f"{indent}{name} = {name}.reshape(-1, {sizes})")
    if not entry["mean"]:
        return lines
    (mean, std), (mean_var, std_var) = constants, locals_
    lines.append(f"{indent}{mean_var} = torch.tensor({mean}, dtype={name}.dtype)")
    lines.append(f"{indent}{std_var} = torch.tensor({std}, dtype={name}.dtype)")
    if entry["layout"] == "channel":
        view = ", ".join(["-1"] + ["1"] * (len(entry["shape"]) - 1))
        mean_var, std_var = f"{mean_var}.view({view})", f"{std_var}.view({view})"
    return [*lines, f"{indent}{name} = ({name} - {mean_var}) / {std_var}"]
