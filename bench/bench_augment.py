"""Cost of augmenting one training batch on the CPU: the core's crop + flip against the
image folders' augment_ops (torchvision v2, per sample), 64 images of 32x32 and 224x224."""

from __future__ import annotations

import statistics
import time

import torch

from torchcanvas.app.train.augment import Augmenter
from torchcanvas.app.train.core.data import augment_batch
from torchcanvas.graph.settings import AUGMENT_OPS

BATCH = 64


def _ms(augment, x: torch.Tensor, rounds: int) -> float:
    generator = torch.Generator().manual_seed(0)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        augment(x, generator)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def run(rounds: int = 5) -> dict:
    """Median milliseconds per batch, per image size and augmentation."""
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    figures = {}
    for size in (32, 224):
        x = torch.rand(BATCH, 3, size, size)
        ops = Augmenter(AUGMENT_OPS, (size, size), mean, std)
        flip = Augmenter(["horizontal_flip"], (size, size), mean, std)
        figures[size] = {
            "crop + flip (core)": _ms(augment_batch, x, rounds),
            "horizontal_flip": _ms(flip, x, rounds),
            "all four ops": _ms(ops, x, rounds),
        }
    return figures


def report(figures: dict) -> str:
    """One line per image size."""
    lines = []
    for size, timings in figures.items():
        text = ", ".join(f"{name} {ms:.1f} ms" for name, ms in timings.items())
        lines.append(
            f"{BATCH} images of 3x{size}x{size} on {torch.get_num_threads()} thread(s): {text}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(run()))
