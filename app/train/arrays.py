"""NumPy arrays (.npz, an .npy pair or a folder of .npy): one per Input (by the Input's name,
or x) and the targets (y)."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from torchcanvas.app.train.bundle import DataError, data_file, read_data_file, shape_text
from torchcanvas.app.train.inputs import Inputs, InputSpec, as_input, check_shape
from torchcanvas.app.train.npyfiles import (
    MAX_ARRAY_BYTES,
    check_declared,
    declared_bytes,
    read_folder,
    read_pair,
    size_text,
)
from torchcanvas.app.train.tasks import task_for

MAX_CLASSES = 1 << 16  # labels of a data set read before the model's Output is known
LISTED_LABELS = 5


@dataclass
class Arrays:
    """The arrays the model trains on, as tensors, with the names behind them."""

    x: torch.Tensor | Inputs  # several Inputs: Inputs, in the forward's order
    y: torch.Tensor  # as the task reads them: class labels (N,) or values (N, *target)
    class_names: list[str]
    input_arrays: list[str]
    targets: list[str]


def load_npz(settings: dict, specs: list[InputSpec], classes: int | None = None) -> Arrays:
    """Read data_path as an .npz archive (numbers only, never pickles) and check it;
    `classes` is the Output's class count, when known."""
    path = data_file(settings, "npz")
    arrays, targets = read_arrays(path, list(settings.get("targets") or ()))
    file = path.name
    keys = [input_array(arrays, spec, len(specs), file) for spec in specs]
    for name in targets:
        if name not in arrays:
            raise DataError(
                f"{file} has no target array {name!r}; its arrays are {', '.join(arrays)}."
            )
    inputs = [input_tensor(arrays[k], k, spec, file) for k, spec in zip(keys, specs)]
    count = len(inputs[0])
    for name in [*keys[1:], *targets]:
        if len(samples(arrays[name], name, file)) != count:
            raise DataError(
                f"{file}: array {keys[0]!r} has {count} samples but {name!r} has "
                f"{len(arrays[name])}; every array needs one entry per sample."
            )
    x = inputs[0] if len(inputs) == 1 else Inputs(inputs)
    y, names = task_for(settings).array_targets(arrays, targets, file, count, classes)
    return Arrays(x, y, names, keys, targets)


def read_arrays(path: Path, targets: list[str]) -> tuple[dict[str, np.ndarray], list[str]]:
    """The arrays at `path` (an .npz, an .npy with its targets beside it, or a folder of .npy
    files) and the names of the target arrays among them."""
    if path.is_dir():
        return read_folder(path), targets or ["y"]
    if path.suffix.lower() == ".npy":
        return read_pair(path, targets)
    return read_archive(read_data_file(path), path.name), targets or ["y"]


def input_array(arrays: dict, spec: InputSpec, inputs: int, file: str) -> str:
    """The array an Input reads: its own name (or x when it is the only Input)."""
    if spec.name in arrays:
        return spec.name
    if inputs == 1 and "x" in arrays:
        return "x"
    there = ", ".join(arrays) or "none"
    if inputs == 1:
        raise DataError(
            f"{file} has no array {spec.name!r} or 'x' for the Input; its arrays are {there}."
        )
    raise DataError(
        f"{file} has no array {spec.name!r} for Input {spec.name}; arrays there: {there}. "
        f"Save one array per Input, named after the Input node."
    )


def input_tensor(array: np.ndarray, key: str, spec: InputSpec, file: str) -> torch.Tensor:
    """One Input's samples: finite numbers of the Input's shape, in its dtype."""
    x = finite(samples(array, key, file), key, file)
    if x.ndim == 1 and tuple(spec.shape) == (1,):  # one value per sample: a column
        x = x[:, None]
    where = f"{file}: array {key!r}"
    if spec.numeric or x.dtype.kind == "b":
        x = x.astype(np.float64 if spec.dtype == "float64" else np.float32)
    elif x.dtype.kind in "iu":
        x = x.astype(np.int64)  # uint16 and the like are no torch dtypes; cast below
    tensor = as_input(torch.from_numpy(np.ascontiguousarray(x)), spec, where)
    check_shape(tensor, spec, where)
    return tensor


def read_archive(data: bytes, file: str) -> dict[str, np.ndarray]:
    """name -> array; object arrays, which would need pickle, are refused."""
    if zipfile.is_zipfile(io.BytesIO(data)):
        check_entries(data, file)
    try:
        archive = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise DataError(f"{file}: not a NumPy .npz archive ({error}).") from None
    if isinstance(archive, np.ndarray):
        raise DataError(
            f"{file} is a single .npy array; name it .npy (with its targets in y.npy beside "
            f"it), or save inputs and targets together with numpy.savez('data.npz', x=x, y=y)."
        )
    arrays = {}
    with archive:
        for name in archive.files:
            try:
                arrays[name] = archive[name]
            except ValueError:
                raise DataError(
                    f"{file}: array {name!r} holds Python objects, which are not loaded "
                    f"(no pickles); save numbers or text."
                ) from None
            except (OSError, EOFError, zipfile.BadZipFile) as error:
                raise DataError(f"{file}: array {name!r} cannot be read ({error}).") from None
    return arrays


def check_entries(data: bytes, file: str) -> None:
    """Refuse an archive whose arrays would unpack to more than MAX_ARRAY_BYTES, from the
    sizes its entries and their headers declare: a few MB of zeros can unpack to gigabytes."""
    total = 0
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                where = f"{file}: array {info.filename.removesuffix('.npy')!r}"
                if info.file_size > MAX_ARRAY_BYTES:
                    raise DataError(
                        f"{where} unpacks to {size_text(info.file_size)}; arrays larger than "
                        f"{size_text(MAX_ARRAY_BYTES)} are not loaded."
                    )
                with archive.open(info) as handle:
                    declared = declared_bytes(handle, where)
                    check_declared(declared, info.file_size - handle.tell(), where)
                total += info.file_size
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as error:
        raise DataError(f"{file}: not a NumPy .npz archive ({error}).") from None
    if total > MAX_ARRAY_BYTES:
        raise DataError(
            f"{file}: its arrays unpack to {size_text(total)} together; data sets larger than "
            f"{size_text(MAX_ARRAY_BYTES)} are not loaded."
        )


def samples(array: np.ndarray, name: str, file: str) -> np.ndarray:
    """The array, checked to be a non-empty stack of samples."""
    if array.ndim == 0:
        raise DataError(f"{file}: array {name!r} is a single value, not one entry per sample.")
    if len(array) == 0:
        raise DataError(f"{file}: array {name!r} has no samples.")
    return array


def finite(array: np.ndarray, name: str, file: str) -> np.ndarray:
    """A numeric array without NaN or infinity; DataError names the first bad sample."""
    if array.dtype.kind not in "biuf":
        raise DataError(f"{file}: array {name!r} holds {array.dtype} values, not numbers.")
    if array.dtype.kind == "f":
        bad = ~np.isfinite(array)
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            raise DataError(
                f"{file}: array {name!r} has {array[where]} at index {list(where)} "
                f"(sample {where[0]}); every value must be a finite number."
            )
    return array


def class_labels(
    arrays: dict, targets: list[str], file: str, classes: int | None = None
) -> tuple[torch.Tensor, list[str]]:
    """Labels 0..K-1 (names from a class_names array if present), or text mapped to names.

    Integer labels must lie below `classes`, the Output's class count (MAX_CLASSES when not
    known): the class list is as long as the largest label, so a label is never trusted to
    size it."""
    if len(targets) != 1:
        raise DataError(f"classification takes one target array; targets names {len(targets)}.")
    name = targets[0]
    y = arrays[name]
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise DataError(
            f"{file}: target array {name!r} holds {shape_text(y.shape[1:])} per sample; "
            f"classification needs one class label per sample."
        )
    if y.dtype.kind in "US":
        names = sorted({str(v) for v in y})
        lookup = {v: i for i, v in enumerate(names)}
        return torch.tensor([lookup[str(v)] for v in y], dtype=torch.long), names
    finite(y, name, file)
    if y.dtype.kind == "f" and not np.all(np.equal(np.mod(y, 1), 0)):
        raise DataError(
            f"{file}: target array {name!r} holds fractional values; class labels are whole "
            f"numbers. Set task to regression to predict numbers."
        )
    if y.min() < 0:
        raise DataError(f"{file}: target array {name!r} holds a negative class label {y.min()}.")
    _check_below(y, classes, name, file)
    count = int(y.max()) + 1
    names = [str(i) for i in range(count)]
    if "class_names" in arrays:
        given = [str(v) for v in arrays["class_names"].reshape(-1)]
        if len(given) < count:
            raise DataError(
                f"{file}: class_names has {len(given)} names but the labels go up to {count - 1}."
            )
        names = given
    return torch.from_numpy(y.astype(np.int64)), names


def _check_below(y: np.ndarray, classes: int | None, name: str, file: str) -> None:
    """DataError naming the labels at or above the class count."""
    bound = classes or MAX_CLASSES
    if y.max() < bound:
        return
    beyond = np.unique(y[y >= bound])
    shown = ", ".join(str(int(v)) for v in beyond[:LISTED_LABELS])
    more = f" and {len(beyond) - LISTED_LABELS} more" if len(beyond) > LISTED_LABELS else ""
    given = "the model's Output gives" if classes else "TorchCanvas takes at most"
    raise DataError(
        f"{file}: target array {name!r} holds class labels {shown}{more}, but {given} "
        f"{bound:,} classes (labels 0 to {bound - 1:,}); number the classes from 0, or "
        f"set task to regression to predict numbers."
    )
