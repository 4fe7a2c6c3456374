"""Image folders too large for memory: streamed by a DataLoader, standardized per item."""

from __future__ import annotations

import torch

from torchcanvas.app.train.bundle import DataBundle
from torchcanvas.app.train.data import (
    channel_stats,
    check_fit,
    check_pair,
    normalize,
    split_of,
)

STREAM_STATS_SAMPLES = 2048  # training images that give a streamed folder its stats


def streamed_bundle(
    source, dataset, names, settings, input_shape, pair, split, held=None
) -> DataBundle:
    """A folder too large for memory: Subsets streamed by a DataLoader, standardized per item
    with the training split's stats (from up to STREAM_STATS_SAMPLES of its images)."""
    from torch.utils.data import Subset

    check_fit(source, tuple(dataset[0][0].shape), input_shape)
    train_idx, val_idx = split_of(len(dataset), settings, held)
    mean, std = pair or streamed_stats(dataset, train_idx, settings["seed"])
    if settings.get("normalize", True):
        check_pair((mean, std), dataset[0][0].unsqueeze(0), False, "the input")
        dataset = Standardized(dataset, mean, std)
    if split == "test":  # the folder is its own test set, as in memory
        train_idx, val_idx = torch.arange(len(dataset)), train_idx[:0]
    return DataBundle(
        source,
        tuple(input_shape),
        list(names),
        train_set=Subset(dataset, train_idx.tolist()),
        val_set=Subset(dataset, val_idx.tolist()),
        mean=mean,
        std=std,
    )


def streamed_stats(dataset, train_idx: torch.Tensor, seed: int) -> tuple[list, list]:
    """Per-channel stats of a seeded sample of the training split's items."""
    generator = torch.Generator().manual_seed(seed)
    chosen = train_idx[torch.randperm(len(train_idx), generator=generator)]
    sample = torch.stack([dataset[int(i)][0] for i in chosen[:STREAM_STATS_SAMPLES]])
    return channel_stats(sample)


class Standardized:
    """A dataset whose samples come out as (x - mean) / std per channel (picklable for workers)."""

    def __init__(self, dataset, mean: list[float], std: list[float]) -> None:
        self.dataset, self.mean, self.std = dataset, mean, std

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index):
        x, y = self.dataset[index]
        return normalize(x.unsqueeze(0), self.mean, self.std)[0], y
