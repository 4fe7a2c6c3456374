"""TensorBoard summaries of a run, written from the events the Trainer already reports.

`TensorBoardLog` sits in front of the Trainer's `emit`: every event passes on unchanged, and
on the way it becomes summaries. Per step: `train/loss`. Per epoch (step = epoch number):
`epoch/<column>` for each number of the metrics.csv row (train_loss, val_loss, val_acc or
val_mse/val_mae/val_r2, lr, ...), and `weights/<module path>` and `gradients/<module path>`
histograms (`weights/conv1.weight`). Once: the model graph (SummaryWriter.add_graph).
Qt-free, so the CLI and the window's worker process use it alike.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Callable
from pathlib import Path

import torch

from torchcanvas.app.train.events import Log

# Row entries that are counters or timings of the loop, not metrics of the model.
NOT_SCALARS = ("epoch", "elapsed", "eta", "seconds")
COMPILED_PREFIX = "_orig_mod."  # torch.compile's wrapper; the tags keep the model's paths


class TensorBoardLog:
    """An emit() that writes TensorBoard summaries, then passes the event on."""

    def __init__(self, log_dir: str, trainer, emit: Callable[[dict], None]) -> None:
        self.log_dir = Path(log_dir)
        self.trainer, self.emit = trainer, emit
        self.writer = None
        self.broken = False  # a failed write stops the summaries, never the training

    def __call__(self, event: dict) -> None:
        """Write what `event` says, then emit it."""
        kind = event.get("type")
        if kind == "started":
            self._open()  # ValueError: the run fails before its first step, with the reason
        if self.writer is not None and not self.broken:
            try:
                self._write(kind, event)
            except Exception as error:  # disk full, a tensor TensorBoard refuses, ...
                self.broken = True
                self.emit(Log(f"TensorBoard log stopped: {error}"))
        if kind in ("finished", "failed"):
            self.close()
        self.emit(event)

    def close(self) -> None:
        """Flush and close the event file."""
        if self.writer is not None:
            with contextlib.suppress(Exception):
                self.writer.close()
            self.writer = None

    def _open(self) -> None:
        from torch.utils.tensorboard import SummaryWriter

        try:
            self.writer = SummaryWriter(str(self.log_dir))
        except OSError as error:
            raise ValueError(
                f"cannot write TensorBoard logs to {self.log_dir}: {error.strerror or error}"
            ) from None

    def _write(self, kind, event: dict) -> None:
        if kind == "started":
            self._graph()
        elif kind == "steps":
            for step, loss in zip(event["steps"], event["losses"]):
                self.writer.add_scalar("train/loss", loss, step)
        elif kind == "epoch":
            self._epoch(event)

    def _epoch(self, event: dict) -> None:
        epoch = event["epoch"]
        for key, value in event.items():
            if key not in NOT_SCALARS and _is_number(value):
                self.writer.add_scalar(f"epoch/{key}", value, epoch)
        for name, parameter in self.trainer.model.named_parameters():
            tag = name.removeprefix(COMPILED_PREFIX)
            self.writer.add_histogram(f"weights/{tag}", _values(parameter), epoch)
            if parameter.grad is not None:  # the last step's gradient
                self.writer.add_histogram(f"gradients/{tag}", _values(parameter.grad), epoch)
        self.writer.flush()  # an epoch is on disk even if the process is killed later

    def _graph(self) -> None:
        """The model graph, traced on one probe sample; a model that cannot trace is logged."""
        model = self.trainer.model
        sample = _first_sample(self.trainer.probe_x)
        quiet = io.StringIO()  # add_graph prints the tracer's error before raising it
        try:
            with warnings.catch_warnings(), contextlib.redirect_stdout(quiet):
                warnings.simplefilter("ignore")  # TracerWarnings about Python values
                self.writer.add_graph(getattr(model, "_orig_mod", model), sample)
        except Exception as error:  # the tracer's many failure types
            text = str(error).strip().splitlines()
            reason = text[0][:200] if text else type(error).__name__
            self.emit(Log(f"TensorBoard graph not written: {reason}"))


def _values(tensor: torch.Tensor) -> torch.Tensor:
    return tensor.detach().float().cpu()


def _first_sample(probe):
    """One sample of the probe batch: a tensor, or a tuple of them (several Inputs)."""
    if isinstance(probe, (tuple, list)):
        return tuple(t[:1] for t in probe)
    return probe[:1]


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
