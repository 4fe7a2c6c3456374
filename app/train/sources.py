"""The built-in sources: scikit-learn digits, torchvision sets, image folders, synthetic data."""

from __future__ import annotations

import math
from pathlib import Path

import torch

from torchcanvas.app.train.bundle import (
    DEFAULT_ROOT,
    IN_MEMORY_LIMIT,
    LABELS,
    SOURCE_TITLES,
    DataError,
)
from torchcanvas.app.train.images import image_spec, image_transform

SYNTHETIC_SAMPLES = 1024


def load_digits(settings, root, input_shape, test):
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
    y = torch.tensor(digits.target, dtype=torch.long)
    return x, y, LABELS["digits"], None


def load_torchvision(settings, root: Path, input_shape, test):
    from torchvision import datasets

    source = settings["data"]
    cls = {
        "mnist": datasets.MNIST,
        "fashion_mnist": datasets.FashionMNIST,
        "cifar10": datasets.CIFAR10,
    }[source]
    try:
        dataset = cls(str(root), train=not test, download=settings.get("download", False))
    except RuntimeError as error:
        raise DataError(_missing_message(source, root)) from error
    except (ValueError, EOFError, IndexError) as error:  # files there, but cut short or not its
        folder = _source_files(source, root)[0]
        raise DataError(
            f"the {SOURCE_TITLES[source]} files in {folder} cannot be read ({error}); delete "
            f"them and turn on Download, or put intact copies there."
        ) from error
    except OSError as error:
        raise DataError(
            f"cannot download {SOURCE_TITLES[source]} to {root}: "
            f"{error}; check the connection or put the files there yourself."
        ) from error
    data = torch.as_tensor(dataset.data)
    if data.ndim == 3:  # MNIST-like: N x H x W uint8
        x = data.unsqueeze(1).float() / 255.0
    else:  # CIFAR: N x H x W x C uint8
        x = data.permute(0, 3, 1, 2).float() / 255.0
    y = torch.as_tensor(dataset.targets, dtype=torch.long)
    return x, y, LABELS[source], None


TORCHVISION_FOLDERS = {"mnist": "MNIST/raw", "fashion_mnist": "FashionMNIST/raw"}
TORCHVISION_FOLDERS["cifar10"] = "cifar-10-batches-py"
MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
CIFAR_FILES = (*(f"data_batch_{i}" for i in range(1, 6)), "test_batch", "batches.meta")


def _source_files(source: str, root: Path) -> tuple[Path, tuple[str, ...]]:
    """The folder a torchvision set is read from and the files it needs there."""
    return root / TORCHVISION_FOLDERS[source], CIFAR_FILES if source == "cifar10" else MNIST_FILES


def missing_files(settings: dict) -> str | None:
    """Why a torchvision set cannot train without a download (which files are missing
    where), or None: it is there, Download is on, or it is another source."""
    source = settings.get("data")
    if source not in TORCHVISION_FOLDERS or settings.get("download"):
        return None
    root = Path(settings.get("data_root") or DEFAULT_ROOT).expanduser()
    folder, names = _source_files(source, root)
    missing = [name for name in names if not (folder / name).is_file()]
    return _missing_message(source, root, missing) if missing else None


def _missing_message(source: str, root: Path, missing=None) -> str:
    folder, names = _source_files(source, root)
    listed = ", ".join(missing or names)
    return (
        f"{SOURCE_TITLES[source]} is not in {folder} (missing: {listed}). Turn on Download "
        f"in the training settings (or pass --download), or choose a folder that holds them."
    )


def load_image_folder(settings, root: Path, input_shape, test, pipeline=None):
    """An image folder: one sub-folder per class, or `train/` and `val/` each holding the
    same class folders (then `val/` is the validation split: a fifth value says how many of
    the samples, at the end, it holds). Images are read as images.image_spec says: stretched
    to the Input's size, or resized and center-cropped as the project's `pipeline` asks."""
    from torch.utils.data import ConcatDataset

    folder = Path(settings.get("data_root") or "").expanduser()
    if not settings.get("data_root") or not folder.is_dir():
        raise DataError(
            f"image folder {str(folder) or '(none)'!r} does not exist; choose a "
            f"folder with one sub-folder of images per class."
        )
    if len(input_shape) != 3 or input_shape[0] not in (1, 3):
        raise DataError(
            f"an image folder needs an Input of shape [1, H, W] or [3, H, W], not "
            f"{list(input_shape)}."
        )
    spec = image_spec(input_shape, pipeline)
    roots = image_folder_roots(folder)
    sets = [_image_set(path, spec) for path in roots]
    classes = sets[0].classes
    held = len(sets[1]) if len(sets) == 2 else None
    dataset = ConcatDataset(sets) if held is not None else sets[0]
    if len(dataset) * math.prod(input_shape) * 4 > IN_MEMORY_LIMIT:
        return None, None, classes, dataset, held
    x = torch.stack([dataset[i][0] for i in range(len(dataset))])
    y = torch.tensor([t for s in sets for t in s.targets], dtype=torch.long)
    return x, y, list(classes), None, held


def image_folder_roots(folder: Path) -> list[Path]:
    """[the folder], or [train/, val/] when it is laid out so; DataError for a layout that
    would be read wrongly (train/ and val/ as two classes, or their classes differing)."""
    train, val = folder / "train", folder / "val"
    if train.is_dir() and val.is_dir():
        ours, theirs = class_folders(train), class_folders(val)
        if ours != theirs:
            only = sorted(set(ours) ^ set(theirs))[:4]
            raise DataError(
                f"{folder}: train/ and val/ hold different class folders ({', '.join(only)} "
                f"in one only); give both the same class folders."
            )
        return [train, val]
    layout = {"train", "val", "valid", "validation", "test"} & set(class_folders(folder))
    if "train" in layout and len(layout) > 1:
        raise DataError(
            f"{folder} holds {' and '.join(sorted(layout))} folders, which would be read as "
            f"classes; put the class folders in train/ and val/ (both), or one folder per "
            f"class directly in {folder.name}/."
        )
    return [folder]


def class_folders(folder: Path) -> list[str]:
    """The class sub-folders of an image folder, sorted as torchvision's ImageFolder sorts."""
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _image_set(folder: Path, spec: dict):
    """torchvision's ImageFolder, each image read as `spec` (images.image_spec) says."""
    from torchvision import datasets

    try:
        transform = image_transform(spec)
        dataset = datasets.ImageFolder(str(folder), transform=transform, loader=checked_image)
    except (FileNotFoundError, RuntimeError) as error:
        raise DataError(f"{folder}: {error}") from None
    if len(dataset.classes) < 2:
        raise DataError(
            f"{folder} has {len(dataset.classes)} class folder(s); it needs at "
            f"least two sub-folders of images."
        )
    return dataset


class UnreadableImage(DataError):
    """An image file PIL cannot read; `why` says how it failed."""

    def __init__(self, path: str, why: str) -> None:
        super().__init__(f"{path}: not a readable image ({why}); remove or replace it.")
        self.why = why


def checked_image(path: str):
    """The image at `path` as training and `predict` read it (RGB, as torchvision's default
    loader gives it); UnreadableImage naming the file when it cannot be read."""
    from PIL import Image, UnidentifiedImageError

    try:
        with open(path, "rb") as handle:
            return Image.open(handle).convert("RGB")
    except (OSError, ValueError, SyntaxError) as error:  # PIL's ways of saying "not an image"
        unknown = isinstance(error, UnidentifiedImageError)  # its text holds a file object
        why = "not a format PIL reads" if unknown else str(error) or type(error).__name__
        raise UnreadableImage(path, why) from None


def synthetic_size(input_shape, batch_size: int) -> int:
    """1024 samples, or as many as fit in memory; DataError when not even two batches do."""
    sample = math.prod(input_shape) * 4
    size = min(SYNTHETIC_SAMPLES, IN_MEMORY_LIMIT // max(1, sample))
    if size < min(SYNTHETIC_SAMPLES, 2 * batch_size):
        raise DataError(
            f"one synthetic sample of shape {'x'.join(map(str, input_shape))} takes "
            f"{sample / 2**20:,.0f} MB; two batches of {batch_size} would take "
            f"{2 * batch_size * sample / 2**30:,.1f} GB, more than the "
            f"{IN_MEMORY_LIMIT / 2**30:,.0f} GB kept in memory. Use a smaller input shape "
            f"or batch size."
        )
    return size


def load_synthetic(settings, root, input_shape, test):
    """Random samples whose mean depends on the class, so a model can learn them."""
    from torchvision import datasets, transforms

    classes = 10
    size = synthetic_size(input_shape, settings["batch_size"])
    if len(input_shape) == 3 and input_shape[0] in (1, 3):
        fake = datasets.FakeData(
            size, input_shape, classes, transforms.ToTensor(), random_offset=settings["seed"]
        )
        x = torch.stack([fake[i][0] for i in range(size)])
        y = torch.tensor([int(fake[i][1]) for i in range(size)], dtype=torch.long)
    else:
        generator = torch.Generator().manual_seed(settings["seed"])
        y = torch.randint(0, classes, (size,), generator=generator)
        x = torch.rand((size, *input_shape), generator=generator)
    x = x + 0.5 * y.view(-1, *([1] * len(input_shape))).float() / classes
    return x, y, [f"class {i}" for i in range(classes)], None
