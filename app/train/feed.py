"""Batches for the loop (in-memory data indexed on the device, or DataLoaders) and precision."""

from __future__ import annotations

import signal

import torch

from torchcanvas.app.train.core.data import epoch_order, ordered_batches
from torchcanvas.app.train.core.loop import precision  # noqa: F401  (re-exported)
from torchcanvas.app.train.data import DataBundle, augment_batch
from torchcanvas.app.train.fastpath import fits_on_device, tensor_bytes, to_channels_last
from torchcanvas.app.train.inputs import head

PROBE_SAMPLES = 16


def ignore_interrupts(_worker: int) -> None:
    """In loader workers: Ctrl-C reaches the whole process group, but only the loop may stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Feed:
    """Training and validation batches of one DataBundle on one device, and a probe sample.

    `augment` (random crops and flips), or an `augmenter` (augment.Augmenter: the settings'
    augment_ops), and `channels_last` apply to training batches.
    """

    augment = False
    augmenter = None
    channels_last = False

    def __init__(self, data: DataBundle, device: torch.device, batch_size: int, seed: int):
        self.data, self.device, self.batch_size = data, device, batch_size
        self.home = device  # where in-memory data lives: the device when it fits there
        if data.in_memory:  # x: a tensor, or Inputs (several Inputs, moved and indexed as one)
            nbytes = sum(tensor_bytes(t) for t in (data.train_x, data.val_x))
            if not fits_on_device(device, nbytes):
                self.home = torch.device("cpu")
            self.train_x, self.train_y = self._placed(data.train_x), self._placed(data.train_y)
            self.val_x, self.val_y = self._placed(data.val_x), self._placed(data.val_y)
            held = len(data.val_y) > 0
            probe_source, probe_labels = (
                (self.val_x, self.val_y) if held else (self.train_x, self.train_y)
            )
        else:
            probe_source, probe_labels = self._loaders()
        # one tensor, or a tuple of them in forward order (what TensorBoard's tracer takes)
        self.probe_x = head(probe_source[:PROBE_SAMPLES].to(device), PROBE_SAMPLES)
        self.probe_y = probe_labels[:PROBE_SAMPLES].to(device)
        self.generator = torch.Generator(device=device).manual_seed(seed)

    def _placed(self, x):
        """x at its home; pinned on the CPU when batches will be copied to a GPU from there."""
        if self.home.type == "cpu" and self.device.type == "cuda":
            return x.pin_memory() if isinstance(x, torch.Tensor) else x
        return x.to(self.home)

    def _loaders(self):
        from torch.utils.data import DataLoader

        data, pin = self.data, self.device.type == "cuda"
        workers = min(4, torch.get_num_threads())
        self.train_loader = DataLoader(
            data.train_set,
            self.batch_size,
            shuffle=True,
            num_workers=workers,
            pin_memory=pin,
            drop_last=False,
            persistent_workers=workers > 0,
            worker_init_fn=ignore_interrupts,
        )
        self.val_loader = DataLoader(
            data.val_set,
            self.batch_size,
            num_workers=workers,
            pin_memory=pin,
            worker_init_fn=ignore_interrupts,
        )
        return next(iter(DataLoader(data.val_set or data.train_set, PROBE_SAMPLES)))

    @property
    def val_size(self) -> int:
        """Validation samples."""
        return self.data.val_size

    def train(self):
        """One epoch of shuffled training batches (augmented, channels_last when set)."""
        for x, y in self._train_batches():
            if self.augmenter is not None and isinstance(x, torch.Tensor):
                x = self.augmenter(x, self.generator)
            elif self.augment and isinstance(x, torch.Tensor):
                x = augment_batch(x, self.generator)
            yield (to_channels_last(x) if self.channels_last else x), y

    def _train_batches(self):
        if not self.data.in_memory:
            yield from self._moved(self.train_loader)
            return
        count = len(self.train_x)
        for index in epoch_order(count, self.batch_size, self.generator, self.device):
            index = index.to(self.home)
            yield self._to_device(self.train_x[index]), self._to_device(self.train_y[index])

    def val(self):
        """The validation batches, in order."""
        if not self.data.in_memory:
            yield from self._moved(self.val_loader)
            return
        batches = ordered_batches(self.val_x, self.val_y, max(self.batch_size, 256))
        if self.home == self.device:
            yield from batches
            return
        yield from self._moved(batches)

    def _to_device(self, x):
        return x if self.home == self.device else x.to(self.device, non_blocking=True)

    def _moved(self, loader):
        for xb, yb in loader:
            yield xb.to(self.device, non_blocking=True), yb.to(self.device, non_blocking=True)
