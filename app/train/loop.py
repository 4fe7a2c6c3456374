"""The training loop: in-memory batching by indexing, live events, faults kept safe."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import torch

from torchcanvas.app.train.capture import Capture
from torchcanvas.app.train.data import (
    DataBundle,
    DataError,
    augment_batch,
    check_classes,
    load_data,
)
from torchcanvas.app.train.evaluate import evaluate, targets_for, tensor_batches
from torchcanvas.app.train.faults import TrainingFault, TrainingStopped, describe
from torchcanvas.app.train.guard import LossGuard, NonFiniteLoss
from torchcanvas.app.train.job import TrainJob, resolve_device
from torchcanvas.app.train.metrics import write_metrics
from torchcanvas.app.train.optim import make_loss, make_optimizer, make_scheduler
from torchcanvas.app.train.weights import (
    WeightsError,
    apply,
    graph_hash,
    read_checkpoint,
    read_state_dict,
    save_checkpoint,
    save_state_dict,
)
from torchcanvas.codegen.build import compile_source

STEP_FLUSH_SECONDS = 0.25  # how often per-step losses are sent (in one message)
PROGRESS_SECONDS = 0.5
PROBE_SAMPLES = 16


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
            self._train()
            final = self._finish("completed")
        except TrainingStopped:
            final = self._finish("stopped")
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
            )
            final = self._fail(fault.kind, str(fault))
            final["node"] = fault.node
        self.emit(final)
        return final

    # ----- set-up ---------------------------------------------------------------------
    def _setup(self) -> None:
        settings = self.settings
        self.device = resolve_device(settings["device"])
        torch.manual_seed(settings["seed"])
        self.data = self.given_data or load_data(settings, self.job.input_shape)
        check_classes(self.data, self.job.output_shape, settings["loss"])
        if self.data.train_size < 2:
            raise DataError("the training split has fewer than 2 samples; lower val_split.")
        cls = compile_source(self.job.source, self.job.class_name, self.filename)
        torch.manual_seed(settings["seed"])
        self.model = cls().to(self.device)
        self.source_hash = graph_hash(self.job.source)
        if self.job.weights:
            report = apply(
                self.model, read_state_dict(self.job.weights), strict=not self.job.partial
            )
            self.emit({"type": "log", "message": f"loaded weights: {report.summary()}"})
        self.loss_fn = make_loss(settings["loss"])
        self.optimizer = make_optimizer(settings, self.model.parameters())
        self.scheduler = make_scheduler(settings, self.optimizer)
        if self.job.resume:
            self._resume(read_checkpoint(self.job.resume, self.source_hash))
        self._prepare_data()
        self.capture = Capture(self.model, self.probe_x[:1], self.job.capture_interval)
        self.capture.set_nodes(self.job.capture_nodes, self.job.map_nodes)
        self._setup_precision()
        self.emit(self._started_event())

    def _resume(self, checkpoint: dict) -> None:
        self.model.load_state_dict(checkpoint["model"])
        self.optimizer.load_state_dict(checkpoint["optimizer"])
        if self.scheduler is not None and checkpoint.get("scheduler"):
            self.scheduler.load_state_dict(checkpoint["scheduler"])
        self.start_epoch = int(checkpoint["epoch"])
        self.history = list(checkpoint.get("history", []))
        self.emit({"type": "log", "message": f"resumed after epoch {self.start_epoch}"})

    def _prepare_data(self) -> None:
        data: DataBundle = self.data
        pin = self.device.type == "cuda"
        if data.in_memory:
            self.train_x, self.train_y = data.train_x.to(self.device), data.train_y.to(self.device)
            self.val_x, self.val_y = data.val_x.to(self.device), data.val_y.to(self.device)
            probe_source = data.val_x if len(data.val_x) else data.train_x
            probe_labels = data.val_y if len(data.val_y) else data.train_y
        else:
            from torch.utils.data import DataLoader

            workers = min(4, torch.get_num_threads())
            self.train_loader = DataLoader(
                data.train_set,
                self.settings["batch_size"],
                shuffle=True,
                num_workers=workers,
                pin_memory=pin,
                drop_last=False,
                persistent_workers=workers > 0,
            )
            self.val_loader = DataLoader(
                data.val_set, self.settings["batch_size"], num_workers=workers, pin_memory=pin
            )
            probe_source, probe_labels = next(
                iter(DataLoader(data.val_set or data.train_set, PROBE_SAMPLES))
            )
        self.probe_x = probe_source[:PROBE_SAMPLES].to(self.device)
        self.probe_y = probe_labels[:PROBE_SAMPLES].to(self.device)
        self.generator = torch.Generator(device=self.device).manual_seed(self.settings["seed"])

    def _setup_precision(self) -> None:
        self.autocast_dtype = None
        self.scaler = None
        if self.device.type == "cuda" and self.settings.get("amp", True):
            if torch.cuda.is_bf16_supported():
                self.autocast_dtype = torch.bfloat16
            else:
                self.autocast_dtype = torch.float16
                self.scaler = torch.amp.GradScaler("cuda")

    def _started_event(self) -> dict:
        params = sum(p.numel() for p in self.model.parameters())
        return {
            "type": "started",
            "device": str(self.device),
            "epochs": self.settings["epochs"],
            "start_epoch": self.start_epoch,
            "steps_per_epoch": self._steps_per_epoch(),
            "train_size": self.data.train_size,
            "val_size": self.data.val_size,
            "classes": self.data.class_names,
            "parameters": params,
            "amp": str(self.autocast_dtype).replace("torch.", "") if self.autocast_dtype else "off",
            "in_memory": self.data.in_memory,
        }

    def _steps_per_epoch(self) -> int:
        return math.ceil(self.data.train_size / self.settings["batch_size"])

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
            val_loss, val_acc = self.evaluate()[:2] if self.data.val_size else (None, None)
            lr = self.optimizer.param_groups[0]["lr"]
            if self.scheduler is not None:
                self.scheduler.step()
            self._end_epoch(epoch, train_loss, train_acc, val_loss, val_acc, lr, seen)

    def _batches(self):
        if not self.data.in_memory:
            for xb, yb in self.train_loader:
                yield xb.to(self.device, non_blocking=True), yb.to(self.device, non_blocking=True)
            return
        count = len(self.train_x)
        order = torch.randperm(count, device=self.device, generator=self.generator)
        for index in order.split(self.settings["batch_size"]):
            if len(index) < 2 < count:
                continue  # a lone last sample breaks batch-norm in training mode
            yield self.train_x[index], self.train_y[index]

    def _train_epoch(self) -> tuple[float, float, int]:
        self.model.train()
        total_loss = torch.zeros((), device=self.device)
        correct = torch.zeros((), device=self.device, dtype=torch.long)
        seen = 0
        for step, (xb, yb) in enumerate(self._batches()):
            self._obey(self.control.check())
            loss, out = self._step(xb, yb)
            batch = len(yb)
            total_loss += loss.detach() * batch
            correct += (out.detach().argmax(1) == yb).sum()
            seen += batch
            self.samples_seen += batch
            self.global_step += 1
            self._after_step(step, loss)
            if self.job.max_steps and self.global_step >= self.job.max_steps:
                raise TrainingStopped()
        self._flush_steps()
        return float(total_loss) / max(seen, 1), float(correct) / max(seen, 1), seen

    def _step(self, xb: torch.Tensor, yb: torch.Tensor):
        if self.settings.get("augment"):
            xb = augment_batch(xb, self.generator)
        capturing = self.capture.due()
        if capturing:
            self.capture.attach()
        self.guard.before_forward()
        with torch.autocast(
            self.device.type, dtype=self.autocast_dtype, enabled=self.autocast_dtype is not None
        ):
            out = self.model(xb)
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
            self.emit(self._progress(step + 1, now))

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

    def _progress(self, step: int, now: float) -> dict:
        elapsed = now - self.t0
        rate = self.samples_seen / elapsed if elapsed > 0 else 0.0
        left = self.run_samples - self.samples_seen
        return {
            "type": "progress",
            "epoch": self.epoch,
            "epochs": self.settings["epochs"],
            "step": step,
            "steps_per_epoch": self._steps_per_epoch(),
            "samples_per_s": rate,
            "elapsed": elapsed,
            "eta": left / rate if rate > 0 else None,
            "global_step": self.global_step,
        }

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

    def _end_epoch(self, epoch, train_loss, train_acc, val_loss, val_acc, lr, seen) -> None:
        seconds = time.monotonic() - self.epoch_t0
        row = {
            "epoch": epoch + 1,
            "train_loss": train_loss,
            "train_acc": train_acc,
            "val_loss": val_loss,
            "val_acc": val_acc,
            "lr": lr,
            "seconds": seconds,
            "samples_per_s": seen / seconds if seconds > 0 else 0.0,
        }
        self.history.append(row)
        elapsed = time.monotonic() - self.t0
        left = self.settings["epochs"] - epoch - 1
        per_epoch = elapsed / (epoch + 1 - self.start_epoch)
        self.emit({"type": "epoch", **row, "elapsed": elapsed, "eta": left * per_epoch})
        self._save(epoch + 1)

    # ----- evaluation and results -----------------------------------------------------
    def _val_batches(self):
        if not self.data.in_memory:
            for xb, yb in self.val_loader:
                yield xb.to(self.device, non_blocking=True), yb.to(self.device, non_blocking=True)
            return
        yield from tensor_batches(self.val_x, self.val_y, max(self.settings["batch_size"], 256))

    def evaluate(self) -> tuple[float, float, torch.Tensor]:
        """Validation loss, accuracy and confusion matrix (rows: true, columns: predicted)."""
        return evaluate(
            self.model,
            self._val_batches(),
            self.loss_fn,
            self.settings["loss"],
            self.data.num_classes,
            self.device,
            self.autocast_dtype,
        )

    def _probe_predictions(self) -> dict:
        self.model.eval()
        with torch.no_grad():
            predicted = self.model(self.probe_x).float().argmax(1).cpu().tolist()
        images = self.probe_x.float().cpu()
        mean = torch.tensor(self.data.mean or [0.0])
        std = torch.tensor(self.data.std or [1.0])
        if images.ndim == 4 and len(mean) in (1, images.shape[1]):
            images = images * std.view(1, -1, 1, 1) + mean.view(1, -1, 1, 1)
        return {
            "images": images.numpy(),
            "true": self.probe_y.cpu().tolist(),
            "predicted": predicted,
        }

    def _save(self, epoch: int) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        save_state_dict(self.model, self.out_dir / "model.pt")
        save_checkpoint(
            self.out_dir / "checkpoint.pt",
            self.model,
            self.optimizer,
            self.scheduler,
            epoch,
            self.settings,
            self.source_hash,
            self.history,
        )
        write_metrics(self.out_dir / "metrics.csv", self.history)
        self.saved_epoch = epoch

    def _finish(self, reason: str) -> dict:
        self._flush_steps_quietly()
        epoch = len(self.history) if not self.history else self.history[-1]["epoch"]
        self._save(epoch)
        event = {
            "type": "finished",
            "reason": reason,
            "history": self.history,
            "weights": str(self.out_dir / "model.pt"),
            "checkpoint": str(self.out_dir / "checkpoint.pt"),
            "elapsed": time.monotonic() - getattr(self, "t0", time.monotonic()),
            "classes": self.data.class_names,
        }
        if self.data.val_size:
            val_loss, val_acc, matrix = self.evaluate()
            event.update(val_loss=val_loss, val_acc=val_acc, confusion=matrix.tolist())
        event["probe"] = self._probe_predictions()
        return event

    def _flush_steps_quietly(self) -> None:
        try:
            self._flush_steps()
        except TrainingFault:
            pass

    def _fail(self, kind: str, message: str, save: bool = True) -> dict:
        weights = None
        if save and self.model is not None and self.optimizer is not None:
            try:
                self._save(len(self.history))
                weights = str(self.out_dir / "model.pt")
            except Exception:  # saving must not hide the original fault
                weights = None
        return {
            "type": "failed",
            "kind": kind,
            "reason": message,
            "weights": weights,
            "history": self.history,
        }
