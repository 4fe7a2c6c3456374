"""What a run's inputs went through before the model saw them: preprocess.json.

The record is plain JSON, written beside model.pt as part of each epoch's commit and kept
in checkpoint.pt: per Input its shape, dtype, the mean and std of the training split and
the layout they apply to, the scale that turns the source's raw values into the training
values, the class names and the data source. Eval, resume and the exported `preprocess()`
read it, so every split and every copy of the model sees the same numbers.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from torchcanvas.app.train.bundle import SOURCE_TITLES, DataBundle
from torchcanvas.graph.fileio import read_limited

FILENAME = "preprocess.json"
FORMAT = "torchcanvas-preprocess"
VERSION = 2  # 2: the `image` entry (how image files were read) and `stats_from`
MAX_BYTES = 16 << 20  # a table of many columns still fits; anything larger is not ours
LAYOUTS = ("channel", "feature", "all", "none")
DTYPES = ("float32", "float64", "int64", "int32", "bool")
# The built-in sources divide their raw values by these (digits: 0..16; images: 0..255).
SCALES = {
    "digits": 16.0,
    "mnist": 255.0,
    "fashion_mnist": 255.0,
    "cifar10": 255.0,
    "image_folder": 255.0,
}
RAW = {
    "digits": "pixel values 0..16 (scikit-learn's load_digits().images)",
    "mnist": "pixel values 0..255",
    "fashion_mnist": "pixel values 0..255",
    "cifar10": "pixel values 0..255, channels first",
    "image_folder": "pixel values 0..255, channels first, resized to the Input's size",
    "synthetic": "the generated values",
    "csv": "the feature columns' numbers, in the order of features",
    "npz": "the archive's arrays as they are",
}
FILE_SOURCES = ("csv", "npz")


class PreprocessError(ValueError):
    """A preprocess.json (or a checkpoint's record) that cannot be used; the message says why."""


def layout(sample_ndim: int, count: int, file_source: bool) -> str:
    """Which axis the stats run along, as data.normalize and inputs.standardized apply them."""
    if not count:
        return "none"
    if file_source and sample_ndim in (1, 2):
        return "feature"  # per column, or per feature of (L, F) sequences: the last axis
    return "channel" if count > 1 and sample_ndim >= 1 else "all"


def make_record(bundle: DataBundle, settings: dict, specs: list, pipeline=None) -> dict:
    """The record of a loaded bundle: JSON types only. Image folders add `image`, how their
    files were read (images.image_spec of the project's `pipeline`)."""
    from torchcanvas.app.train.images import describe, image_spec

    source = settings["data"]
    normalized = bool(settings.get("normalize", True))
    means = bundle.mean if isinstance(bundle.mean, dict) else {specs[0].name: bundle.mean}
    stds = bundle.std if isinstance(bundle.std, dict) else {specs[0].name: bundle.std}
    inputs = []
    for spec in specs:
        mean = [float(v) for v in means.get(spec.name) or []] if normalized else []
        std = [float(v) for v in stds.get(spec.name) or []] if normalized else []
        inputs.append(
            {
                "name": spec.name,
                "shape": list(spec.shape),
                "dtype": spec.dtype,
                "layout": layout(len(spec.shape), len(mean), source in FILE_SOURCES),
                "mean": mean,
                "std": std,
            }
        )
    image = image_spec(specs[0].shape, pipeline) if source == "image_folder" else None
    return {
        "format": FORMAT,
        "version": VERSION,
        "source": source,
        "title": SOURCE_TITLES.get(source, source),
        "data_path": settings.get("data_path") or None,
        "task": settings.get("task", "classification"),
        "raw": describe(image) if image else RAW.get(source, "the source's values"),
        "scale": SCALES.get(source),
        "inputs": inputs,
        "class_names": list(bundle.class_names),
        "features": list(bundle.feature_names) if source == "csv" else [],
        "targets": list(bundle.target_names),
        "image": image,
        "stats_from": settings.get("normalize_from", "data") if normalized else None,
    }


def record_bytes(record: dict) -> bytes:
    """preprocess.json's bytes (floats as repr writes them, so they read back exactly)."""
    return (json.dumps(record, indent=1) + "\n").encode("utf-8")


def stats_of(record: dict | None) -> dict | None:
    """{Input name: (mean, std)} of a record, or None when training did not normalize."""
    if not record:
        return None
    found = {i["name"]: (i["mean"], i["std"]) for i in record["inputs"] if i["mean"]}
    return found or None


def check_record(data, where: str) -> dict:
    """The record, after checking every field's type; PreprocessError names the first bad one."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise PreprocessError(f"{where}: not a TorchCanvas preprocess record")
    if type(data.get("version")) is not int or not 1 <= data["version"] <= VERSION:
        raise PreprocessError(f"{where}: version {data.get('version')!r} is not one this reads")
    scale = data.get("scale")
    if scale is not None and not (_number(scale) and scale > 0):
        raise PreprocessError(f"{where}: scale {scale!r} is not a positive number")
    inputs = data.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise PreprocessError(f"{where}: inputs is not a list of Inputs")
    for entry in inputs:
        _check_input(entry, where)
    for key in ("class_names", "features", "targets"):
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise PreprocessError(f"{where}: {key} is not a list of names")
    if not isinstance(data.get("source"), str):
        raise PreprocessError(f"{where}: source is not a name")
    if data.get("stats_from") not in (None, "data", "weights"):
        raise PreprocessError(f"{where}: stats_from is not data or weights")
    if data.get("image") is not None:
        _check_image(data["image"], where)
    return data


def _check_image(image, where: str) -> None:
    """The `image` entry: sizes as ints, a known interpolation (the export embeds them)."""
    from torchcanvas.graph.pipeline import INTERPOLATIONS

    def sizes(key: str, least: int) -> bool:
        value = image.get(key)
        return (
            isinstance(value, list)
            and least <= len(value) <= 2
            and all(type(v) is int and 0 < v < 1 << 20 for v in value)
        )

    fine = isinstance(image, dict) and image.get("channels") in (1, 3) and sizes("size", 2)
    fine = fine and type(image["channels"]) is int
    if fine and "resize" in image:
        fine = (
            sizes("resize", 1)
            and sizes("crop", 2)
            and image["crop"] == image["size"]
            and image.get("interpolation") in INTERPOLATIONS
            and isinstance(image.get("weights", ""), str)
        )
    if not fine:
        raise PreprocessError(f"{where}: the image entry is not one this writes")


def _check_input(entry, where: str) -> None:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        raise PreprocessError(f"{where}: an Input entry has no name")
    name, shape = entry["name"], entry.get("shape")
    if not name.isidentifier():
        raise PreprocessError(f"{where}: Input name {name[:40]!r} is not an identifier")
    if not isinstance(shape, list) or not all(type(d) is int and d > 0 for d in shape):
        raise PreprocessError(f"{where}: the shape of {name!r} is not a list of sizes")
    if entry.get("dtype") not in DTYPES or entry.get("layout") not in LAYOUTS:
        raise PreprocessError(f"{where}: the dtype or layout of {name!r} is not one we write")
    mean, std = entry.get("mean"), entry.get("std")
    if not isinstance(mean, list) or not isinstance(std, list) or len(mean) != len(std):
        raise PreprocessError(f"{where}: mean and std of {name!r} are not lists of one length")
    if not all(_number(v) for v in mean) or not all(_number(v) and v > 0 for v in std):
        raise PreprocessError(f"{where}: the stats of {name!r} are not finite (std > 0)")
    if (entry["layout"] == "none") != (not mean):
        raise PreprocessError(f"{where}: the layout of {name!r} does not fit its stats")


def _number(value) -> bool:
    return type(value) in (int, float) and math.isfinite(value)


def read_record(path: Path) -> dict:
    """A preprocess.json file, read bounded and checked."""
    try:
        data = json.loads(read_limited(path, MAX_BYTES, "preprocess record"))
    except (OSError, ValueError) as error:
        raise PreprocessError(f"{Path(path).name}: cannot read ({error})") from None
    return check_record(data, Path(path).name)


def find_record(weights) -> tuple[dict | None, str]:
    """The record that goes with a weights file or run folder: (record or None, where)."""
    from torchcanvas.app.train import runfolder

    path = Path(weights)
    folder = path if path.is_dir() else path.parent
    manifest = runfolder.read_manifest(folder)
    if manifest is not None:
        located = runfolder.locate(folder, manifest, "preprocess")
        if located is not None:
            return read_record(located), str(located)
    elif (folder / FILENAME).is_file():  # copied beside the weights, or an older layout
        return read_record(folder / FILENAME), str(folder / FILENAME)
    for candidate in (runfolder.resolve(folder, "checkpoint"), path):
        record = _from_checkpoint(candidate)
        if record is not None:
            return record, str(candidate)
    return None, ""


def _from_checkpoint(path: Path) -> dict | None:
    """The record kept in a checkpoint, or None (not a checkpoint, or one from before)."""
    from torchcanvas.app.train.weights import CHECKPOINT_FORMAT, WeightsError, safe_load

    if not path.is_file() or path.suffix not in (".pt", ".pth"):
        return None
    try:
        data = safe_load(path)
    except WeightsError:
        return None
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        return None
    record = data.get("preprocess")
    return check_record(record, path.name) if record is not None else None


def misfit(record: dict, specs: list, source: str) -> str | None:
    """Why a record's statistics do not apply to these Inputs and this source, or None."""
    saved = [(i["name"], tuple(i["shape"]), i["dtype"]) for i in record["inputs"]]
    own = [(s.name, tuple(s.shape), s.dtype) for s in specs]
    if len(saved) == 1 and len(own) == 1:  # a lone Input is `x` to the built-in sources
        own = [(saved[0][0], *own[0][1:])]
    if specs and saved != own:
        described = ", ".join(f"{n} {'x'.join(map(str, s))} {d}" for n, s, d in saved)
        return f"they are for the Inputs {described}, and the design's Inputs differ"
    if record["source"] != source:
        trained = SOURCE_TITLES.get(record["source"], "another source")
        return f"they are of {trained}, and the settings say {SOURCE_TITLES.get(source, source)}"
    return None


def python_with_run(model, class_name: str | None, weights) -> tuple[str, str, str]:
    """(source, class name, what was added): the module, with preprocess() and CLASSES from
    the statistics saved with `weights` (which must load strictly into the design).

    Raises CodegenError, WeightsError or PreprocessError, each with its message.
    """
    from torchcanvas.app.train.weights import apply, read_state_dict
    from torchcanvas.codegen.build import build_model
    from torchcanvas.codegen.emit import emit_module
    from torchcanvas.codegen.preprocess import add_preprocess

    result = emit_module(model, class_name)
    apply(build_model(model), read_state_dict(weights), strict=True)  # they must fit the .py
    record, where = find_record(weights)
    if record is None:
        return (
            result.source,
            result.class_name,
            (
                f"no training statistics are saved with {weights} (a run from before they were, "
                f"or a plain state_dict): no preprocess(); normalize inputs as training did"
            ),
        )
    added = "preprocess()" + (" and CLASSES" if record["class_names"] else "")
    return add_preprocess(result, record), result.class_name, f"{added} from {where}"
