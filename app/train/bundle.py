"""What every data source shares: the DataBundle, DataError, titles and the bounded file read."""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import torch

from torchcanvas.graph.fileio import FileRefused, read_limited

DEFAULT_ROOT = Path.home() / ".torchcanvas" / "data"
IN_MEMORY_LIMIT = 1 << 30  # decoded bytes below which a data set is kept as one tensor
MAX_DATA_FILE_BYTES = 1 << 30  # a CSV or .npz file is read whole, so its size is bounded
LABELS = {
    "digits": [str(i) for i in range(10)],
    "mnist": [str(i) for i in range(10)],
    "fashion_mnist": [
        "T-shirt",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Boot",
    ],
    "cifar10": ["plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
}
SOURCE_TITLES = {
    "digits": "digits (scikit-learn, 8x8)",
    "mnist": "MNIST",
    "fashion_mnist": "Fashion-MNIST",
    "cifar10": "CIFAR-10",
    "image_folder": "image folder",
    "synthetic": "synthetic (FakeData)",
    "csv": "CSV/TSV table",
    "npz": "NumPy arrays (.npz)",
}


class DataError(ValueError):
    """The data cannot be loaded or does not fit the model; the message says what to do."""


@dataclass
class DataBundle:
    """A train/validation split ready for the loop."""

    name: str
    sample_shape: tuple[int, ...]
    class_names: list[str]
    train_x: torch.Tensor | None = None  # in-memory sets: whole tensors, already normalized
    train_y: torch.Tensor | None = None
    val_x: torch.Tensor | None = None
    val_y: torch.Tensor | None = None
    train_set: object = None  # large sets: torch Datasets that a DataLoader streams
    val_set: object = None
    mean: list[float] = field(default_factory=list)
    std: list[float] = field(default_factory=list)
    task: str = "classification"
    target_names: list[str] = field(default_factory=list)  # csv columns or npz arrays
    feature_names: list[str] = field(default_factory=list)  # csv input columns
    preprocess: dict | None = None  # what preprocess.json holds (see preprocess.make_record)

    @property
    def num_classes(self) -> int:
        """How many classes the labels range over (0 for regression)."""
        return len(self.class_names)

    @property
    def target_shape(self) -> tuple[int, ...]:
        """Per-sample shape of regression targets; () for class labels."""
        y = self.train_y if self.train_y is not None else None
        return tuple(y.shape[1:]) if y is not None and y.is_floating_point() else ()

    @property
    def in_memory(self) -> bool:
        """Whether the split is held as tensors (batched by indexing, no DataLoader)."""
        return self.train_x is not None

    @property
    def train_size(self) -> int:
        """Training samples."""
        return len(self.train_x) if self.in_memory else len(self.train_set)

    @property
    def val_size(self) -> int:
        """Validation samples."""
        return len(self.val_x) if self.in_memory else len(self.val_set)


def shape_text(shape) -> str:
    """2x3x4, or 'a single value' for ()."""
    return "x".join(str(d) for d in shape) or "a single value"


def data_file(settings: dict, kind: str) -> Path:
    """The data_path of the csv or npz source; DataError when it is not set."""
    raw = settings.get("data_path") or ""
    if not raw:
        raise DataError(f"set data_path to the {kind} file to train on.")
    return Path(raw).expanduser()


def read_data_file(path: Path) -> bytes:
    """The whole file, bounded: a FIFO, a device or a missing file is one clear DataError."""
    with data_file_errors(path):
        return read_limited(path, MAX_DATA_FILE_BYTES, "data file")


@contextmanager
def data_file_errors(path: Path):
    """Opening or reading the data file at `path` fails with one clear DataError."""
    try:
        yield
    except FileRefused as error:
        raise DataError(f"cannot read {path}: {error}") from None
    except FileNotFoundError:
        raise DataError(f"{path}: no such file; check data_path.") from None
    except IsADirectoryError:
        raise DataError(f"{path} is a folder; data_path must name a file.") from None
    except OSError as error:
        raise DataError(f"{path}: cannot read ({error.strerror or error}).") from None


def resolve_data_path(settings: dict, base: str | Path) -> dict:
    """Settings whose relative data_path, data_root and weights_file are taken relative to
    `base` (the project's folder), so a project and its data move together."""
    settings = dict(settings)
    for key in ("data_path", "data_root", "weights_file"):
        raw = settings.get(key) or ""
        if raw and not Path(raw).expanduser().is_absolute():
            settings[key] = str(Path(base) / raw)
    return settings


def relative_path(path: str | Path, folder: str | Path) -> str:
    """`path` relative to `folder` (the project's) where it can be, else absolute: how the
    project writes a file it names."""
    try:
        return Path(os.path.relpath(Path(path).resolve(), Path(folder).resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return str(Path(path).resolve())
