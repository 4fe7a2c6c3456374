"""The training loop: in-memory batching by indexing, live events, faults kept safe."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path

import torch

from torchcanvas.app.train import runfolder
from torchcanvas.app.train.capture import Capture
from torchcanvas.app.train.checkpoint import (
    CheckpointError,
    epoch_files,
    epoch_problem,
    fit_problem,
    read_checkpoint,
    saved_stats,
)
from torchcanvas.app.train.data import (
    DataBundle,
    DataError,
    augment_batch,
    check_targets,
    load_data,
)
from torchcanvas.app.train.evaluate import (
    evaluate,
    evaluate_regression,
    probe_predictions,
    targets_for,
)
from torchcanvas.app.train.fastpath import speed_ups, to_channels_last
from torchcanvas.app.train.faults import (
    TrainingFault,
    TrainingStopped,
    describe,
    device_memory,
)
from torchcanvas.app.train.feed import Feed, precision
from torchcanvas.app.train.guard import LossGuard, NonFiniteLoss
from torchcanvas.app.train.inputs import call, head, loader_args
from torchcanvas.app.train.job import TrainJob, resolve_device
from torchcanvas.app.train.optim import make_loss, make_optimizer, make_scheduler
from torchcanvas.app.train.reports import final_scores, progress_event, started_event
from torchcanvas.app.train.weights import WeightsError, apply, graph_hash, read_state_dict
from torchcanvas.codegen.build import compile_source

STEP_FLUSH_SECONDS = 0.25  # how often per-step losses are sent (in one message)
PROGRESS_SECONDS = 0.5


class NullControl:
    """No pause or stop: for the CLI and tests that run to the end."""

    def check(self) -> list:
        """Commands that arrived since the last check."""
        return []


class Trainer:
    """Runs one TrainJob, reporting through `emit(event_dict)`."""

    def __init__(
        self,
        job: TrainJob,
        emit: Callable[[dict], None],
        control=None,
        data: DataBundle | None = None,
    ) -> None:
        self.job, self.emit, self.control = job, emit, control or NullControl()
        if job.tensorboard_dir:  # summaries written from the events on their way out
            from torchcanvas.app.train.tensorboard import TensorBoardLog

            self.emit = TensorBoardLog(job.tensorboard_dir, self, emit)
        self.given_data = data  # a ready DataBundle (benchmarks); else the job's source loads
        self.settings = job.settings
        self.filename = f"<torchcanvas {job.class_name}>"
        self.out_dir = Path(job.out_dir)
        self.history: list[dict] = []
        self.model = self.optimizer = self.scheduler = None
        self.start_epoch = 0
        self.global_step = 0

    # ----- public ---------------------------------------------------------------------
    def run(self) -> dict:
        """Train to the end, or until stopped or failed; returns the final event."""
        try:
            self._setup()
            try:
                self._train()
                reason = "completed"
            except TrainingStopped:
                reason = "stopped"
            final = self._finish(reason)  # inside the try: its save may meet a full disk
        except TrainingFault as fault:
            final = self._fail(fault.kind, str(fault))
        except (DataError, WeightsError, ValueError) as error:
            final = self._fail("data", str(error), save=False)
            report = getattr(error, "report", None)
            if report is not None:  # which tensors did not fit, node by node
                final["details"] = report.lines()
        except Exception as error:  # a crash must become a message, never a dead window
            fault = describe(
                error,
                self.filename,
                self.job.node_lines,
                self.settings["batch_size"],
                self.job.node_names,
                self.model,
                self.job.activation_bytes,
                device_memory(getattr(self, "device", None)),
            )
            final = self._fail(fault.kind, str(fault))
            final["node"] = fault.node
        self.emit(final)
        return final

    # ----- set-up ---------------------------------------------------------------------
    def _setup(self) -> None:
        settings = self.settings
        # A folder that cannot be written, or a checkpoint that cannot resume, is refused
        # before minutes go into loading data.
        runfolder.prepare(self.out_dir)
        self.source_hash = graph_hash(self.job.source)
        checkpoint = self._read_resume() if self.job.resume else None
        self.device = resolve_device(settings["device"])
        torch.manual_seed(settings["seed"])
        named = loader_args(self.job.inputs, settings["data"])  # several Inputs, integer ids
        named.update(saved_stats(checkpoint, self.job.inputs, settings["data"], self.emit))
        self.data = self.given_data or load_data(settings, self.job.input_shape, **named)
        self.regression = settings.get("task", "classification") == "regression"
        check_targets(self.data, self.job.output_shape, settings)
        if self.data.train_size < 2:
            raise DataError("the training split has fewer than 2 samples; lower val_split.")
        self._build_model()
        if checkpoint is not None:
            self._resume(checkpoint)
        self.feed = Feed(self.data, self.device, settings["batch_size"], settings["seed"])
        self.probe_x, self.probe_y = self.feed.probe_x, self.feed.probe_y
        self.generator = self.feed.generator
        self.capture = Capture(self.model, head(self.probe_x, 1), self.job.capture_interval)
        self.capture.set_nodes(self.job.capture_nodes, self.job.map_nodes)
        self.autocast_dtype, self.scaler = precision(self.device, settings.get("amp", True))
        self.channels_last, self.step_model = speed_ups(self)
        self.emit(started_event(self))

    def _build_model(self) -> None:
        settings = self.settings
        cls = compile_source(self.job.source, self.job.class_name, self.filename)
        torch.manual_seed(settings["seed"])
        self.model = cls().to(self.device)
        if self.job.weights:
            report = apply(
                self.model, read_state_dict(self.job.weights), strict=not self.job.partial
            )
            self.emit({"type": "log", "message": f"loaded weights: {report.summary()}"})
        self.loss_fn = make_loss(settings["loss"])
        self.optimizer = make_optimizer(settings, self.model.parameters())
        self.scheduler = make_scheduler(settings, self.optimizer)

    def _read_resume(self) -> dict:
        checkpoint = read_checkpoint(self.job.resume, self.source_hash)
        problem = epoch_problem(checkpoint, self.settings["epochs"])
        if problem:
            raise CheckpointError(problem)
        return checkpoint

    def _resume(self, checkpoint: dict) -> None:
        # Checked before any state is loaded: a misfit would fail steps later, e.g. with
        # KeyError 'momentum' when SGD takes over Adam's state.
        problem = fit_problem(checkpoint, self.model, self.optimizer, self.scheduler, self.settings)
        if problem:
            raise CheckpointError(problem)
        self.model.load_state_dict(checkpoint["model"])
        self.optimizer.load_state_dict(checkpoint["optimizer"])
        if self.scheduler is not None and checkpoint.get("scheduler"):
            self.scheduler.load_state_dict(checkpoint["scheduler"])
        self.start_epoch = checkpoint["epoch"]
        self.history = list(checkpoint["history"])
        self.emit({"type": "log", "message": f"resumed after epoch {self.start_epoch}"})

    # ----- training -------------------------------------------------------------------
    def _train(self) -> None:
        self.t0 = time.monotonic()
        self.samples_seen = 0
        self.run_samples = (self.settings["epochs"] - self.start_epoch) * self.data.train_size
        self._last_flush = self._last_progress = time.monotonic()
        self.guard = LossGuard(self.model, self.device)
        for epoch in range(self.start_epoch, self.settings["epochs"]):
            self.epoch = epoch
            self.epoch_t0 = time.monotonic()
            train_loss, train_acc, seen = self._train_epoch()
            scores = self.validation_scores() if self.data.val_size else {}
            lr = self.optimizer.param_groups[0]["lr"]
            if self.scheduler is not None:
                self.scheduler.step()
            self._end_epoch(epoch, train_loss, train_acc, scores, lr, seen)

    def _train_epoch(self) -> tuple[float, float, int]:
        self.model.train()
        total_loss = torch.zeros((), device=self.device)
        correct = torch.zeros((), device=self.device, dtype=torch.long)
        seen = 0
        for step, (xb, yb) in enumerate(self.feed.train()):
            self._obey(self.control.check())
            loss, out = self._step(xb, yb)
            batch = len(yb)
            total_loss += loss.detach() * batch
            if not self.regression:
                correct += (out.detach().argmax(1) == yb).sum()
            seen += batch
            self.samples_seen += batch
            self.global_step += 1
            self._after_step(step, loss)
            if self.job.max_steps and self.global_step >= self.job.max_steps:
                raise TrainingStopped()
        self._flush_steps()
        accuracy = None if self.regression else float(correct) / max(seen, 1)
        return float(total_loss) / max(seen, 1), accuracy, seen

    def _step(self, xb: torch.Tensor, yb: torch.Tensor):
        if self.settings.get("augment") and isinstance(xb, torch.Tensor):
            xb = augment_batch(xb, self.generator)
        capturing = self.capture.due()
        if capturing:
            self.capture.attach()
        self.guard.before_forward()
        with torch.autocast(
            self.device.type, dtype=self.autocast_dtype, enabled=self.autocast_dtype is not None
        ):
            if self.channels_last:
                xb = to_channels_last(xb)
            # hooks of a capture step run on the eager model: a compiled one would recompile
            out = call(self.model if capturing else self.step_model, xb)
            loss = self.loss_fn(out.float(), self._targets(yb))
        try:
            if self.guard.record(self.global_step + 1, loss):
                self._flush_steps()
        except NonFiniteLoss as error:
            self._non_finite(error)
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            loss.backward()
            if capturing:
                self.capture.finish_step(self.global_step)
            self.optimizer.step()
        if capturing and self.scaler is not None:
            self.capture.finish_step(self.global_step)
        return loss, out

    def _targets(self, yb: torch.Tensor) -> torch.Tensor:
        return targets_for(self.settings["loss"], yb, self.data.num_classes)

    def _non_finite(self, error: NonFiniteLoss) -> None:
        raise TrainingFault(
            "nan",
            f"the loss became {error.value} at step {error.step} (epoch "
            f"{self.epoch + 1}); training stopped and the last good "
            f"weights were kept. Try a lower learning rate.",
        )

    def _after_step(self, step: int, loss: torch.Tensor) -> None:
        now = time.monotonic()
        if now - self._last_flush >= STEP_FLUSH_SECONDS:
            self._flush_steps()
        captured = self.capture.collect()
        if captured:
            self.emit(captured)
        if now - self._last_progress >= PROGRESS_SECONDS:
            self._last_progress = now
            self.emit(progress_event(self, step + 1, now))

    def _flush_steps(self) -> None:
        if getattr(self, "guard", None) is None or not self.guard.pending:
            return
        try:
            steps, values = self.guard.drain()
        except NonFiniteLoss as error:
            self._non_finite(error)
        self._last_flush = time.monotonic()
        lr = self.optimizer.param_groups[0]["lr"]
        self.emit(
            {"type": "steps", "epoch": self.epoch, "steps": steps, "losses": values, "lr": lr}
        )

    def _obey(self, commands: list) -> None:
        for command, *args in commands:
            if command == "stop":
                raise TrainingStopped()
            if command == "capture":
                self.capture.set_nodes(dict(args[0]), list(args[1]) if len(args) > 1 else None)
            if command == "pause":
                self._flush_steps()
                self.emit({"type": "paused", "epoch": self.epoch})
                self._obey(self.control.wait_resume())
                self.emit({"type": "resumed", "epoch": self.epoch})

    def _end_epoch(self, epoch, train_loss, train_acc, scores, lr, seen) -> None:
        seconds = time.monotonic() - self.epoch_t0
        row = {
            "epoch": epoch + 1,
            "train_loss": train_loss,
            "train_acc": train_acc,
            "val_loss": scores.get("loss"),
            "val_acc": scores.get("acc"),
            "lr": lr,
            "seconds": seconds,
            "samples_per_s": seen / seconds if seconds > 0 else 0.0,
        }
        if self.regression:
            row.update({f"val_{k}": scores.get(k) for k in ("mse", "mae", "r2")})
        self.history.append(row)
        elapsed = time.monotonic() - self.t0
        left = self.settings["epochs"] - epoch - 1
        per_epoch = elapsed / (epoch + 1 - self.start_epoch)
        self.emit({"type": "epoch", **row, "elapsed": elapsed, "eta": left * per_epoch})
        self._save(epoch + 1)

    # ----- evaluation and results -----------------------------------------------------
    def validation_scores(self) -> dict:
        """The task's validation metrics: loss and acc, or loss, mse, mae and r2 (and values)."""
        if self.regression:
            return evaluate_regression(
                self.model, self.feed.val(), self.loss_fn, self.device, self.autocast_dtype
            )
        loss, accuracy, matrix = self.evaluate()
        return {"loss": loss, "acc": accuracy, "confusion": matrix}

    def evaluate(self) -> tuple[float, float, torch.Tensor]:
        """Validation loss, accuracy and confusion matrix (rows: true, columns: predicted)."""
        return evaluate(
            self.model,
            self.feed.val(),
            self.loss_fn,
            self.settings["loss"],
            self.data.num_classes,
            self.device,
            self.autocast_dtype,
        )

    def _save(self, epoch: int) -> None:
        """Commit model.pt, checkpoint.pt and metrics.csv of `epoch` as one step."""
        blobs = epoch_files(
            self.model,
            self.optimizer,
            self.scheduler,
            epoch,
            self.settings,
            self.source_hash,
            self.history,
            self.data.preprocess,  # preprocess.json: the statistics go with the weights
        )
        try:
            runfolder.save_epoch(self.out_dir, epoch, blobs)
        except OSError as error:
            kept = runfolder.committed(self.out_dir)
            where = f"the last saved weights are in {kept}" if kept else "nothing was saved"
            raise TrainingFault(
                "disk", f"cannot write {self.out_dir}: {error.strerror or error}; {where}"
            ) from None
        self.saved_epoch = epoch

    def _finish(self, reason: str) -> dict:
        with contextlib.suppress(TrainingFault):  # a late bad loss: still save and report
            self._flush_steps()
        epoch = len(self.history) if not self.history else self.history[-1]["epoch"]
        self._save(epoch)
        event = {
            "type": "finished",
            "reason": reason,
            "history": self.history,
            "weights": str(runfolder.committed(self.out_dir, "model")),
            "checkpoint": str(runfolder.committed(self.out_dir, "checkpoint")),
            "elapsed": time.monotonic() - getattr(self, "t0", time.monotonic()),
            "classes": self.data.class_names,
            "targets": self.data.target_names,
        }
        if self.data.val_size:
            event.update(final_scores(self.validation_scores(), self.regression))
        event["probe"] = probe_predictions(
            self.model, self.probe_x, self.probe_y, self.data.mean, self.data.std
        )
        return event

    def _fail(self, kind: str, message: str, save: bool = True) -> dict:
        weights = None
        if save and self.model is not None and self.optimizer is not None:
            try:
                self._save(len(self.history))
            except Exception:  # saving must not hide the original fault
                pass
            kept = runfolder.committed(self.out_dir)  # this save's, or the last complete one
            weights = str(kept) if kept else None
        return {
            "type": "failed",
            "kind": kind,
            "reason": message,
            "weights": weights,
            "history": self.history,
        }
