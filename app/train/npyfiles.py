"""Plain .npy files as an array source: an x/y pair side by side, or a folder of them."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from torchcanvas.app.train.bundle import DataError, read_data_file

PAIRS = (("x", "y"), ("X", "y"), ("inputs", "targets"), ("features", "labels"))


def read_npy(path: Path) -> np.ndarray:
    """One .npy array (numbers or text, never pickles); DataError says what is wrong."""
    data = read_data_file(path)
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise DataError(
                f"{path.name} holds Python objects, which are not loaded (no pickles); "
                f"save numbers or text."
            ) from None
        raise DataError(f"{path.name}: not a NumPy .npy array ({error}).") from None
    except (OSError, EOFError) as error:
        raise DataError(f"{path.name}: not a NumPy .npy array ({error}).") from None
    if not isinstance(array, np.ndarray):
        raise DataError(f"{path.name} is an .npz archive; give it a name ending in .npz.")
    return array


def read_folder(folder: Path) -> dict[str, np.ndarray]:
    """Every .npy file in `folder`, by file name without .npy (image.npy -> image)."""
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".npy" and p.is_file())
    if not files:
        raise DataError(
            f"{folder} holds no .npy files; save one array per Input (named after the Input) "
            f"and y.npy there, or choose an .npz archive."
        )
    return {p.stem: read_npy(p) for p in files}


def target_file(inputs: Path, name: str | None) -> Path:
    """The targets beside an inputs file: `name`(.npy), or its pair (x_train -> y_train)."""
    if name:
        return inputs.with_name(name if name.lower().endswith(".npy") else f"{name}.npy")
    for candidate in paired_names(inputs.stem):
        if inputs.with_name(f"{candidate}.npy").is_file():
            return inputs.with_name(f"{candidate}.npy")
    return inputs.with_name("y.npy")


def paired_names(stem: str) -> list[str]:
    """The names a targets file beside `stem` would have: x -> y, X_train -> y_train."""
    names = []
    for x_word, y_word in PAIRS:
        for sep in "_-.":
            if stem == x_word:
                names.append(y_word)
            elif stem.startswith(x_word + sep):
                names.append(y_word + stem[len(x_word) :])
            elif stem.endswith(sep + x_word):
                names.append(stem[: -len(x_word)] + y_word)
    return list(dict.fromkeys(names))


def read_pair(inputs: Path, targets: list[str]) -> tuple[dict[str, np.ndarray], list[str]]:
    """{'x': inputs, <target>: ...} and the target keys, for data_path naming one .npy file."""
    arrays = {"x": read_npy(inputs)}
    keys = []
    for name in targets or [None]:
        path = target_file(inputs, name)
        if not path.is_file():
            beside = sorted(p.name for p in inputs.parent.glob("*.npy") if p != inputs)
            raise DataError(
                f"{inputs.name}: no targets file {path.name} beside it (there: "
                f"{', '.join(beside) or 'no other .npy files'}); name it in targets."
            )
        arrays[path.stem] = read_npy(path)
        keys.append(path.stem)
    return arrays, keys
