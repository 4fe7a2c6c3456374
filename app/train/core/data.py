"""The seeded split, standardization statistics and batch order of in-memory data."""

import torch


def split_indices(count, fraction, seed):
    """A fixed, seeded train/validation split: (training indices, validation indices)."""
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(count, generator=generator)
    held = min(count - 1, round(count * fraction)) if fraction > 0 else 0
    return order[held:], order[:held]


def channel_stats(x):
    """Per-channel mean and std of (N, C, ...) data; one pair for vectors."""
    if x.ndim <= 2 or len(x) == 0:
        flat = x.reshape(-1).double()
        return [float(flat.mean())], [max(float(flat.std()), 1e-6)]
    per_channel = x.transpose(0, 1).reshape(x.shape[1], -1).double()
    std = per_channel.std(dim=1).clamp_min(1e-6)
    return per_channel.mean(dim=1).tolist(), std.tolist()


def feature_stats(x):
    """Per-column mean and std of (N, F) rows (a constant column keeps std 1)."""
    flat = x.double()
    std = flat.std(dim=0) if len(x) > 1 else torch.ones(x.shape[1], dtype=torch.float64)
    std = torch.where(std > 1e-12, std, torch.ones_like(std))
    return flat.mean(dim=0).tolist(), std.tolist()


def normalize(x, mean, std):
    """(x - mean) / std, per channel (per column for rows of features)."""
    view = (1, -1) + (1,) * (x.ndim - 2) if x.ndim >= 2 and len(mean) > 1 else (1,)
    return (x - torch.tensor(mean).view(view)) / torch.tensor(std).view(view)


def file_stats(x):
    """Standardization stats of a file's samples: per column of (N, F), per feature of
    (N, L, F) sequences (the last axis), per channel of (N, C, H, W); none for integer ids."""
    if not x.is_floating_point():
        return [], []
    if x.ndim in (2, 3):
        return feature_stats(x.reshape(-1, x.shape[-1]))
    return channel_stats(x)


def standardized(x, mean, std):
    """(x - mean) / std with stats from `file_stats`; integer ids pass unchanged."""
    if not mean:
        return x
    if x.ndim in (2, 3):
        return (x - torch.tensor(mean, dtype=x.dtype)) / torch.tensor(std, dtype=x.dtype)
    return normalize(x, mean, std)


def epoch_order(count, batch_size, generator, device, rank=0, world=1):
    """One epoch's shuffled batches of sample indices, drawn from `generator`.

    Under torchrun every process draws the same order and takes every `world`-th sample from
    its `rank`, cut to an equal share so that all processes step together.
    """
    order = torch.randperm(count, device=device, generator=generator)
    if world > 1:
        order = order[rank::world][: count // world]
    for index in order.split(batch_size):
        if len(index) < 2 < len(order):
            continue  # a lone last sample breaks batch norm in training mode
        yield index


def pick(x, index):
    """Samples of `x` at `index` (a slice or indices): a tensor, or a list of tensors (one
    per Input) picked alike."""
    return [t[index] for t in x] if isinstance(x, list) else x[index]


def ordered_batches(x, y, size):
    """Consecutive slices of in-memory data (validation, evaluation)."""
    for start in range(0, len(y), size):
        part = slice(start, start + size)
        yield pick(x, part), y[part]


def augment_batch(x, generator=None):
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
