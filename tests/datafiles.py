"""Write small data sets in their real on-disk formats (no downloads in tests)."""

from __future__ import annotations

import pickle
import struct
from pathlib import Path

import numpy as np


def write_idx_images(path: Path, images: np.ndarray) -> None:
    """MNIST's idx3-ubyte format: magic 2051, count, rows, cols, then uint8 pixels."""
    count, rows, cols = images.shape
    path.write_bytes(
        struct.pack(">IIII", 2051, count, rows, cols) + images.astype(np.uint8).tobytes()
    )


def write_idx_labels(path: Path, labels: np.ndarray) -> None:
    """MNIST's idx1-ubyte format: magic 2049, count, then uint8 labels."""
    path.write_bytes(struct.pack(">II", 2049, len(labels)) + labels.astype(np.uint8).tobytes())


def write_mnist(root: Path, folder: str = "MNIST", count: int = 60, seed: int = 0) -> Path:
    """root/<folder>/raw with train and t10k files, as torchvision expects them."""
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for split, size in (("train", count), ("t10k", count // 2)):
        labels = np.arange(size) % 10
        images = rng.integers(0, 50, (size, 28, 28))
        for index, label in enumerate(labels):  # a bright bar whose row is the label
            images[index, 2 + 2 * label : 4 + 2 * label, 4:24] = 255
        write_idx_images(raw / f"{split}-images-idx3-ubyte", images)
        write_idx_labels(raw / f"{split}-labels-idx1-ubyte", labels)
    return raw


def write_image_folder(
    root: Path, classes=("cat", "dog", "fox"), per_class: int = 6, size=(20, 14)
) -> Path:
    """root/<class>/<n>.png colour images of varying size, one sub-folder per class."""
    from PIL import Image

    rng = np.random.default_rng(1)
    for index, name in enumerate(classes):
        folder = root / name
        folder.mkdir(parents=True)
        for n in range(per_class):
            pixels = rng.integers(0, 255, (size[1] + n, size[0], 3), dtype=np.uint8)
            pixels[..., index] = 255
            Image.fromarray(pixels).save(folder / f"{n}.png")
    return root


def write_cifar10(root: Path, per_batch: int = 20) -> Path:
    """root/cifar-10-batches-py with the pickled batches CIFAR-10 ships."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(2)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        labels = list(rng.integers(0, 10, per_batch))
        data = rng.integers(0, 255, (per_batch, 3 * 32 * 32), dtype=np.uint8)
        with open(folder / name, "wb") as handle:
            pickle.dump({"data": data, "labels": labels}, handle)
    with open(folder / "batches.meta", "wb") as handle:
        pickle.dump(
            {
                "label_names": [
                    "airplane",
                    "automobile",
                    "bird",
                    "cat",
                    "deer",
                    "dog",
                    "frog",
                    "horse",
                    "ship",
                    "truck",
                ]
            },
            handle,
        )
    return folder
