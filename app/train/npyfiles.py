"""Plain .npy files as an array source: an x/y pair side by side, or a folder of them."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np

from torchcanvas.app.train.bundle import DataError, read_data_file, shape_text

MAX_ARRAY_BYTES = 2 << 30  # decoded arrays of one data set together: they are copied to tensors
PAIRS = (("x", "y"), ("X", "y"), ("inputs", "targets"), ("features", "labels"))


def read_npy(path: Path) -> np.ndarray:
    """One .npy array (numbers or text, never pickles); DataError says what is wrong."""
    data = read_data_file(path)
    if data.startswith(b"\x93NUMPY"):  # an .npz (a zip) is refused below, by np.load
        handle = io.BytesIO(data)
        declared = declared_bytes(handle, path.name)
        check_declared(declared, len(data) - handle.tell(), path.name)
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


def declared_bytes(handle, where: str) -> int:
    """The bytes an .npy stream's header says its array takes, read from the header alone;
    an array of Python objects (it would need pickle) is refused before anything is loaded."""
    try:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(handle)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(handle)
        else:
            shape, _, dtype = np.lib.format._read_array_header(handle, version)
    except (ValueError, OSError, EOFError, SyntaxError) as error:
        raise DataError(f"{where}: not a NumPy array ({error}).") from None
    if dtype.hasobject:
        raise DataError(
            f"{where} holds Python objects, which are not loaded (no pickles); save numbers "
            f"or text."
        )
    size = math.prod(shape) * dtype.itemsize
    if size > MAX_ARRAY_BYTES:
        raise DataError(
            f"{where} declares {shape_text(shape)} {dtype} values ({size_text(size)}); arrays "
            f"larger than {size_text(MAX_ARRAY_BYTES)} are not loaded."
        )
    return size


def check_declared(declared: int, present: int, where: str) -> None:
    """Refuse an array whose header promises more bytes than the file holds."""
    if declared > present:
        raise DataError(
            f"{where} declares {size_text(declared)} of values but holds {size_text(present)}; "
            f"the file is cut short or damaged."
        )


def size_text(size: int) -> str:
    """'80.0 GB', '12.5 MB', '300 bytes'."""
    for unit, scale in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if size >= scale:
            return f"{size / scale:,.1f} {unit}"
    return f"{size:,} bytes"
