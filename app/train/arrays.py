"""NumPy .npz archives: one array per Input (by the Input's name, or x) and the targets (y)."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

import numpy as np
import torch

from torchcanvas.app.train.bundle import DataError, data_file, read_data_file, shape_text


@dataclass
class Arrays:
    """The arrays the model trains on, as tensors, with the names behind them."""

    x: torch.Tensor
    y: torch.Tensor  # classification: (N,) int64 labels; regression: (N, *target) float32
    class_names: list[str]
    input_array: str
    targets: list[str]


def load_npz(settings: dict, input_shape: tuple[int, ...], input_name: str = "x") -> Arrays:
    """Read data_path as an .npz archive (numbers only, never pickles) and check it."""
    path = data_file(settings, "npz")
    arrays = read_archive(read_data_file(path), path.name)
    file = path.name
    key = next((k for k in dict.fromkeys((input_name, "x")) if k in arrays), None)
    if key is None:
        raise DataError(
            f"{file} has no array {input_name!r} or 'x' for the Input; its arrays are "
            f"{', '.join(arrays) or 'none'}."
        )
    targets = list(settings.get("targets") or ()) or ["y"]
    for name in targets:
        if name not in arrays:
            raise DataError(
                f"{file} has no target array {name!r}; its arrays are {', '.join(arrays)}."
            )
    x = finite(samples(arrays[key], key, file), key, file)
    if x.ndim == 1 and tuple(input_shape) == (1,):  # one value per sample: a column
        x = x[:, None]
    for name in targets:
        if len(samples(arrays[name], name, file)) != len(x):
            raise DataError(
                f"{file}: array {key!r} has {len(x)} samples but {name!r} has "
                f"{len(arrays[name])}; every array needs one entry per sample."
            )
    if tuple(x.shape[1:]) != tuple(input_shape):
        raise DataError(
            f"{file}: array {key!r} holds samples of shape {shape_text(x.shape[1:])} but the "
            f"Input {input_name!r} expects {shape_text(input_shape)}; set the Input shape to "
            f"{list(x.shape[1:])} or reshape the array."
        )
    x_tensor = torch.from_numpy(x.astype(np.float32))
    if settings.get("task", "classification") == "regression":
        y = np.concatenate(
            [finite(arrays[n], n, file).reshape(len(x), -1) for n in targets], axis=1
        )
        if len(targets) == 1 and arrays[targets[0]].ndim > 2:  # keep a shaped target as it is
            y = arrays[targets[0]]
        return Arrays(x_tensor, torch.from_numpy(y.astype(np.float32)), [], key, targets)
    labels, names = class_labels(arrays, targets, file)
    return Arrays(x_tensor, labels, names, key, targets)


def read_archive(data: bytes, file: str) -> dict[str, np.ndarray]:
    """name -> array; object arrays, which would need pickle, are refused."""
    try:
        archive = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise DataError(f"{file}: not a NumPy .npz archive ({error}).") from None
    if isinstance(archive, np.ndarray):
        raise DataError(
            f"{file} is a single .npy array; save the inputs and targets together with "
            f"numpy.savez('data.npz', x=x, y=y)."
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


def class_labels(arrays: dict, targets: list[str], file: str) -> tuple[torch.Tensor, list[str]]:
    """Labels 0..K-1 (names from a class_names array if present), or text mapped to names."""
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
