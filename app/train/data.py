"""Data sources: bundled digits, torchvision sets, image folders and synthetic data."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import torch

DEFAULT_ROOT = Path.home() / ".torchcanvas" / "data"
SYNTHETIC_SAMPLES = 1024
IN_MEMORY_LIMIT = 1 << 30  # decoded bytes below which a data set is kept as one tensor
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

    @property
    def num_classes(self) -> int:
        """How many classes the labels range over."""
        return len(self.class_names)

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


def load_data(settings: dict, input_shape: tuple[int, ...], split: str = "train") -> DataBundle:
    """Load the source named in `settings` and split it; DataError on any failure."""
    source = settings["data"]
    loader = _LOADERS.get(source)
    if loader is None:
        raise DataError(f"unknown data source {source!r}")
    root = Path(settings.get("data_root") or DEFAULT_ROOT).expanduser()
    x, y, names, streamed = loader(settings, root, tuple(input_shape), split == "test")
    if streamed is not None:
        return _streamed_bundle(source, streamed, names, settings, input_shape)
    check_fit(source, tuple(x.shape[1:]), input_shape)
    if split == "test":
        return _bundle(source, names, x, y, x[:0], y[:0], settings, x)
    train_idx, val_idx = split_indices(len(x), settings["val_split"], settings["seed"])
    return _bundle(
        source, names, x[train_idx], y[train_idx], x[val_idx], y[val_idx], settings, x[train_idx]
    )


def _bundle(source, names, tx, ty, vx, vy, settings, stats_from) -> DataBundle:
    mean, std = channel_stats(stats_from)
    if settings.get("normalize", True):
        tx, vx = normalize(tx, mean, std), normalize(vx, mean, std)
    return DataBundle(
        source,
        tuple(tx.shape[1:]),
        names,
        tx.contiguous(),
        ty,
        vx.contiguous(),
        vy,
        mean=mean,
        std=std,
    )


def split_indices(count: int, fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed, seeded train/validation split."""
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(count, generator=generator)
    held = min(count - 1, int(round(count * fraction))) if fraction > 0 else 0
    return order[held:], order[:held]


def channel_stats(x: torch.Tensor) -> tuple[list[float], list[float]]:
    """Per-channel mean and std of (N, C, ...) data; one pair for vectors."""
    if x.ndim <= 2 or len(x) == 0:
        flat = x.reshape(-1).double()
        return [float(flat.mean())], [max(float(flat.std()), 1e-6)]
    per_channel = x.transpose(0, 1).reshape(x.shape[1], -1).double()
    std = per_channel.std(dim=1).clamp_min(1e-6)
    return per_channel.mean(dim=1).tolist(), std.tolist()


def normalize(x: torch.Tensor, mean: list[float], std: list[float]) -> torch.Tensor:
    """(x - mean) / std, per channel."""
    view = (1, -1) + (1,) * (x.ndim - 2) if x.ndim > 2 and len(mean) > 1 else (1,)
    return (x - torch.tensor(mean).view(view)) / torch.tensor(std).view(view)


def check_fit(source: str, sample_shape: tuple[int, ...], input_shape: tuple[int, ...]) -> None:
    """Refuse a data set whose samples do not match the Input shape."""
    if tuple(sample_shape) == tuple(input_shape):
        return
    data_text, input_text = _shape_text(sample_shape), _shape_text(input_shape)
    hint = f"set the Input shape to {list(sample_shape)}"
    if math.prod(sample_shape) == math.prod(input_shape) and len(input_shape) == 1:
        hint += " and add a Flatten after it"
    raise DataError(
        f"{SOURCE_TITLES.get(source, source)} samples are {data_text} but the "
        f"Input expects {input_text}; {hint}."
    )


def check_classes(bundle: DataBundle, output_shape: tuple[int, ...], loss: str) -> None:
    """Refuse a model whose output does not give one score per class."""
    want = bundle.num_classes
    if tuple(output_shape) == (want,):
        return
    title = SOURCE_TITLES.get(bundle.name, bundle.name)
    if len(output_shape) != 1:
        raise DataError(
            f"the model outputs {_shape_text(output_shape)} per sample but "
            f"{loss} on {title} needs one score per class ({want},); add a "
            f"Flatten and a Linear with out_features={want} before the Output."
        )
    raise DataError(
        f"the model outputs {output_shape[0]} values per sample but {title} has "
        f"{want} classes; set the last Linear's out_features to {want}."
    )


KNOWN_SIZES = {
    "digits": 1797,
    "mnist": 60000,
    "fashion_mnist": 60000,
    "cifar10": 50000,
    "synthetic": 1024,
}
KNOWN_SHAPES = {
    "digits": (1, 8, 8),
    "mnist": (1, 28, 28),
    "fashion_mnist": (1, 28, 28),
    "cifar10": (3, 32, 32),
}


def fit_problem(settings: dict, input_shape, output_shape) -> str | None:
    """Why the data cannot train this model, found without loading it; None when it fits."""
    source = settings["data"]
    try:
        if source in KNOWN_SHAPES:
            check_fit(source, KNOWN_SHAPES[source], tuple(input_shape))
            classes = 10
        elif source == "image_folder":
            classes = _count_class_folders(settings, input_shape)
        else:
            classes = 10
        bundle = DataBundle(source, tuple(input_shape), [str(i) for i in range(classes)])
        check_classes(bundle, tuple(output_shape), settings["loss"])
    except DataError as error:
        return str(error)
    return None


def _count_class_folders(settings: dict, input_shape) -> int:
    folder = Path(settings.get("data_root") or "").expanduser()
    if not settings.get("data_root") or not folder.is_dir():
        raise DataError("choose an image folder (one sub-folder of images per class).")
    if len(input_shape) != 3 or input_shape[0] not in (1, 3):
        raise DataError(
            f"an image folder needs an Input of shape [1, H, W] or [3, H, W], not "
            f"{list(input_shape)}."
        )
    return sum(1 for child in folder.iterdir() if child.is_dir() and not child.name.startswith("."))


def _shape_text(shape) -> str:
    return "x".join(str(d) for d in shape)


def _load_digits(settings, root, input_shape, test):
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0
    y = torch.tensor(digits.target, dtype=torch.long)
    return x, y, LABELS["digits"], None


def _load_torchvision(settings, root: Path, input_shape, test):
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
        raise DataError(_missing_message(source, root, cls)) from error
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


def _missing_message(source: str, root: Path, cls) -> str:
    folder = root / cls.__name__ / "raw" if source != "cifar10" else root / "cifar-10-batches-py"
    files = {"cifar10": "data_batch_1 ... data_batch_5, test_batch and batches.meta"}.get(
        source,
        "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte "
        "and t10k-labels-idx1-ubyte",
    )
    return (
        f"{SOURCE_TITLES[source]} is not in {folder}. Turn on Download in the training "
        f"settings (or pass --download), or put {files} there."
    )


def _load_image_folder(settings, root: Path, input_shape, test):
    from torchvision import datasets, transforms

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
    channels, height, width = input_shape
    convert = (
        transforms.Grayscale(1)
        if channels == 1
        else transforms.Lambda(lambda image: image.convert("RGB"))
    )
    transform = transforms.Compose(
        [convert, transforms.Resize((height, width)), transforms.ToTensor()]
    )
    try:
        dataset = datasets.ImageFolder(str(folder), transform=transform)
    except (FileNotFoundError, RuntimeError) as error:
        raise DataError(f"{folder}: {error}") from None
    if len(dataset.classes) < 2:
        raise DataError(
            f"{folder} has {len(dataset.classes)} class folder(s); it needs at "
            f"least two sub-folders of images."
        )
    if len(dataset) * math.prod(input_shape) * 4 > IN_MEMORY_LIMIT:
        return None, None, dataset.classes, dataset
    x = torch.stack([dataset[i][0] for i in range(len(dataset))])
    y = torch.tensor(dataset.targets, dtype=torch.long)
    return x, y, list(dataset.classes), None


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


def _load_synthetic(settings, root, input_shape, test):
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


def _streamed_bundle(source, dataset, names, settings, input_shape) -> DataBundle:
    from torch.utils.data import Subset

    check_fit(source, tuple(dataset[0][0].shape), input_shape)
    train_idx, val_idx = split_indices(len(dataset), settings["val_split"], settings["seed"])
    return DataBundle(
        source,
        tuple(input_shape),
        list(names),
        train_set=Subset(dataset, train_idx.tolist()),
        val_set=Subset(dataset, val_idx.tolist()),
    )


_LOADERS = {
    "digits": _load_digits,
    "mnist": _load_torchvision,
    "fashion_mnist": _load_torchvision,
    "cifar10": _load_torchvision,
    "image_folder": _load_image_folder,
    "synthetic": _load_synthetic,
}


def augment_batch(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Random crop with padding and a horizontal flip, per sample, on the batch's device."""
    if x.ndim != 4:
        return x
    batch, channels, height, width = x.shape
    pad = max(1, height // 8)
    padded = torch.nn.functional.pad(x, (pad, pad, pad, pad))
    device = x.device
    dy = torch.randint(0, 2 * pad + 1, (batch,), device=device, generator=generator)
    dx = torch.randint(0, 2 * pad + 1, (batch,), device=device, generator=generator)
    rows = (dy[:, None] + torch.arange(height, device=device))[:, None, :, None]
    cols = (dx[:, None] + torch.arange(width, device=device))[:, None, None, :]
    index = torch.arange(batch, device=device)[:, None, None, None]
    channel = torch.arange(channels, device=device)[None, :, None, None]
    cropped = padded[index, channel, rows, cols]
    flip = torch.rand(batch, device=device, generator=generator) < 0.5
    return torch.where(flip[:, None, None, None], cropped.flip(-1), cropped)
