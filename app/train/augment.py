"""Train-time augmentation of image folders with torchvision.transforms.v2 (`augment_ops`).

How the settings combine: `augment` switches augmentation on; with `augment_ops` empty (or
a source other than an image folder) it is the training core's crop + flip, as always; with
ops named, an image folder's training batches go through those ops instead. The ops run
per sample on the 0..1 pixel values (the batch is un-standardized first, then standardized
again), with torch's random state forked and seeded from the feed's generator, so one
training seed gives the same numbers every time and leaves the global state alone.
torchvision lives here, not in app/train/core: the exported training script stays torch-only.
"""

from __future__ import annotations

import torch

from torchcanvas.graph.settings import AUGMENT_OPS

# The ops' strengths: torchvision's defaults, and ImageNet training's usual color jitter.
JITTER = 0.4
ROTATION_DEGREES = 15.0


def uses_ops(settings: dict) -> bool:
    """Whether training batches go through `augment_ops` (not the core's crop + flip)."""
    return (
        bool(settings.get("augment"))
        and bool(settings.get("augment_ops"))
        and settings.get("data") == "image_folder"
    )


def make_ops(names, size: tuple[int, int]):
    """The named ops, in AUGMENT_OPS's order, as one v2.Compose for (C, H, W) samples."""
    from torchvision.transforms import v2

    build = {
        "random_resized_crop": lambda: v2.RandomResizedCrop(list(size), antialias=True),
        "horizontal_flip": lambda: v2.RandomHorizontalFlip(),
        "color_jitter": lambda: v2.ColorJitter(JITTER, JITTER, JITTER),
        "rotation": lambda: v2.RandomRotation(ROTATION_DEGREES),
    }
    return v2.Compose([build[name]() for name in AUGMENT_OPS if name in names])


class Augmenter:
    """Batches of (N, C, H, W) training images through the chosen ops, sample by sample."""

    def __init__(self, names, size, mean=None, std=None) -> None:
        self.ops = make_ops(names, tuple(size))
        self.mean, self.std = (list(mean), list(std)) if mean else (None, None)

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """The augmented batch; its randomness drawn from `generator` alone."""
        seed = int(torch.randint(0, 2**62, (1,), generator=generator, device=generator.device))
        if self.mean is None:
            return self._augmented(x, seed)
        mean, std = _per_channel(self.mean, x), _per_channel(self.std, x)
        return (self._augmented(x * std + mean, seed) - mean) / std  # as core.data.normalize

    def _augmented(self, pixels: torch.Tensor, seed: int) -> torch.Tensor:
        with torch.random.fork_rng(devices=[]):  # the ops draw from the global CPU state
            torch.manual_seed(seed)
            return torch.stack([self.ops(sample) for sample in pixels])


def _per_channel(values, x: torch.Tensor) -> torch.Tensor:
    """Stats shaped to broadcast over (N, C, H, W) on x's device (one value: over all)."""
    return torch.tensor(values, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)


def augmenter_for(settings: dict, data) -> Augmenter | None:
    """The Augmenter the settings ask for on this bundle, or None (crop + flip, or nothing)."""
    if not uses_ops(settings):
        return None
    normalized = settings.get("normalize", True) and data.mean
    mean, std = (data.mean, data.std) if normalized else (None, None)
    return Augmenter(settings["augment_ops"], data.sample_shape[1:], mean, std)
