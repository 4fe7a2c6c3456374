"""The Trainer: sets a run up, trains it with the core loop and the app's callbacks, and
turns how it ended (completed, stopped, a fault) into one final event."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from pathlib import Path

import torch

from torchcanvas.app.train import events, runfolder
from torchcanvas.app.train.augment import augmenter_for
from torchcanvas.app.train.callbacks import (
    Capturing,
    Control,
    Counting,
    Guarding,
    Recording,
    Reporting,
    RunClock,
)
from torchcanvas.app.train.capture import Capture
from torchcanvas.app.train.checkpoint import (
    CheckpointError,
    epoch_files,
    epoch_problem,
    fit_problem,
    read_checkpoint,
    saved_stats,
)
from torchcanvas.app.train.core.loop import (
    Unfreeze,
    build_model,
    evaluate,
    fit,
    layer_scales,
    make_loss,
    make_optimizer,
    make_scheduler,
    precision,
)
from torchcanvas.app.train.core.records import CommitSchedule
from torchcanvas.app.train.data import (
    DataBundle,
    DataError,
    check_targets,
    load_data,
    output_classes,
)
from torchcanvas.app.train.evaluate import probe_predictions
from torchcanvas.app.train.fastpath import speed_ups
from torchcanvas.app.train.faults import TrainingFault, TrainingStopped, describe, device_memory
from torchcanvas.app.train.feed import Feed
from torchcanvas.app.train.guard import LossGuard
from torchcanvas.app.train.inputs import head, loader_args
from torchcanvas.app.train.job import TrainJob, resolve_device
from torchcanvas.app.train.tasks import task_for
from torchcanvas.app.train.weights import WeightsError, apply, graph_hash, read_state_dict
from torchcanvas.codegen.build import compile_source


class NullControl:
    """No pause or stop: for the CLI and tests that run to the end."""

    def check(self) -> list:
        """Commands that arrived since the last check."""
        return []


class Trainer:
    """Runs one TrainJob, reporting through `emit(event)`."""

    def __init__(
        self,
        job: TrainJob,
        emit: Callable[[events.Event], None],
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
        self.model = self.optimizer = self.scheduler = self.device = None
        self.start_epoch = 0
        self.schedule, self.saved_epoch = CommitSchedule(), None
        self.commits = runfolder.BackgroundCommits(self.out_dir)
        self.t0 = time.monotonic()
        self.stage = "preparing the run"  # what runs before the batches: None once they do

    def run(self) -> events.Event:
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
                final.details = report.lines()
        except Exception as error:  # a crash must become a message, never a dead window
            final = self._crashed(error)
        self.emit(final)
        return final

    def _train(self) -> None:
        """The epochs: the core loop with the app's callbacks."""
        settings, clock = self.settings, self.clock
        clock.start()
        control = Control(
            self.control, self.emit, clock, self.capture, lambda: None, self._save_pending
        )
        guarding = Guarding(LossGuard(self.model, self.device), self.emit, clock, self.optimizer)
        control.flush = guarding.flush
        callbacks = [
            Counting(clock, self.job.max_steps),
            control,
            guarding,
            Capturing(self.capture, self.emit, clock),
            Reporting(self.emit, clock),
            Recording(
                self.history,
                lambda epoch: self._save(epoch, True),
                self.schedule,
                settings["epochs"],
            ),
            Unfreeze(self.model, settings.get("unfreeze_epoch", 0), self._unfrozen),
        ]
        self.flush = guarding.flush
        self.stage = None  # from here an out-of-memory comes from a batch
        fit(self.model, self.feed, self.task, self.loss_fn, self.optimizer, self.scheduler,
            settings["epochs"], self.start_epoch, callbacks, step_model=self.step_model,
            amp=self.autocast_dtype, scaler=self.scaler)  # fmt: skip

    def _unfrozen(self, epoch: int, count: int) -> None:
        self.emit(
            events.Log(f"epoch {epoch}: the frozen layers train from now on ({count:,} parameters)")
        )

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
        named["pipeline"] = self.job.pipeline
        named["classes"] = output_classes(self.job.output_shape)
        self.stage = "loading the data"
        self.data = self.given_data or load_data(settings, self.job.input_shape, **named)
        self.task = task_for(settings, self.data.num_classes)
        check_targets(self.data, self.job.output_shape, settings)
        if self.data.train_size < 2:
            raise DataError("the training split has fewer than 2 samples; lower val_split.")
        self.stage = "building the model"
        self._build_model()
        if checkpoint is not None:
            self._resume(checkpoint)
        self.feed = Feed(self.data, self.device, settings["batch_size"], settings["seed"])
        self.probe_x, self.probe_y = self.feed.probe_x, self.feed.probe_y
        self.capture = Capture(self.model, head(self.probe_x, 1), self.job.capture_interval)
        self.capture.set_nodes(self.job.capture_nodes, self.job.map_nodes)
        self.autocast_dtype, self.scaler = precision(self.device, settings.get("amp", True))
        self.channels_last, self.step_model = speed_ups(self)
        if self.channels_last:
            self.feed.channels_last = True
        self.feed.augment = bool(settings.get("augment"))
        self.feed.augmenter = augmenter_for(settings, self.data)  # None: crop + flip, or none
        if self.feed.augmenter is not None:
            self.emit(events.Log(f"augment: {', '.join(settings['augment_ops'])}, per sample"))
        steps = math.ceil(self.data.train_size / settings["batch_size"])
        samples = (settings["epochs"] - self.start_epoch) * self.data.train_size
        self.clock = RunClock(settings["epochs"], self.start_epoch, steps, samples)
        self.emit(self._started(steps))

    def _started(self, steps: int) -> events.Started:
        dtype = self.autocast_dtype
        return events.Started(
            str(self.device), self.settings["epochs"], self.start_epoch, steps,
            self.data.train_size, self.data.val_size, self.data.class_names, self.task.name,
            self.data.target_names, sum(p.numel() for p in self.model.parameters()),
            str(dtype).replace("torch.", "") if dtype else "off", self.data.in_memory,
        )  # fmt: skip

    def _build_model(self) -> None:
        settings = self.settings
        cls = compile_source(self.job.source, self.job.class_name, self.filename)
        self.model = build_model(cls, settings["seed"], self.device)
        if self.job.weights:
            report = apply(
                self.model, read_state_dict(self.job.weights), strict=not self.job.partial
            )
            self.emit(events.Log(f"loaded weights: {report.summary()}"))
        self.loss_fn = make_loss(settings["loss"])
        self.optimizer = make_optimizer(settings, self.model)
        self.scheduler = make_scheduler(settings, self.optimizer)
        line = flags_line(self.model)
        if line:
            self.emit(events.Log(line))

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
        self.emit(events.Log(f"resumed after epoch {self.start_epoch}"))

    # ----- evaluation and the end -------------------------------------------------------
    def validation_scores(self) -> dict:
        """The task's validation scores: loss and acc (and the confusion matrix), or loss,
        mse, mae and r2 (and the predictions)."""
        return evaluate(self.model, self.feed.val(), self.task, self.loss_fn, self.autocast_dtype)

    def _save(self, epoch: int, background: bool = False) -> None:
        """Commit the run files of `epoch` as one step: now, or on the commit thread while
        training goes on (`background`; skipped while the previous commit is under way)."""
        try:
            self.commits.raise_error()
            if background and self.commits.busy():
                return
            blobs = epoch_files(
                self.model,
                self.optimizer,
                self.scheduler,
                epoch,
                self.settings,
                self.source_hash,
                self.history,
                self.data.preprocess,  # preprocess.json: the statistics go with the weights
                self.task.columns,
            )
            if background:
                self.commits.submit(epoch, blobs)
            else:
                self.commits.wait()
                runfolder.save_epoch(self.out_dir, epoch, blobs)
            self.schedule.done()
            self.saved_epoch = epoch
        except OSError as error:
            raise self._disk_fault(error) from None

    def _save_behind(self, epoch: int) -> None:
        """Commit `epoch` on the commit thread while training goes on."""
        self._save(epoch, background=True)

    def _disk_fault(self, error: OSError) -> TrainingFault:
        kept = runfolder.committed(self.out_dir)
        where = f"the last saved weights are in {kept}" if kept else "nothing was saved"
        return TrainingFault(
            "disk", f"cannot write {self.out_dir}: {error.strerror or error}; {where}"
        )

    def _save_pending(self) -> None:
        """Have the latest epoch committed before a pause (the run may be closed there)."""
        if self.history and self.history[-1]["epoch"] != self.saved_epoch:
            self._save(self.history[-1]["epoch"])
        try:
            self.commits.wait()  # the latest epoch's background commit
        except OSError as error:
            raise self._disk_fault(error) from None

    def _finish(self, reason: str) -> events.Finished:
        with contextlib.suppress(TrainingFault):  # a late bad loss: still save and report
            self.flush()
        epoch = len(self.history) if not self.history else self.history[-1]["epoch"]
        self._save(epoch)
        scores = self.task.final_scores(self.validation_scores()) if self.data.val_size else {}
        scores["probe"] = probe_predictions(
            self.model, self.probe_x, self.probe_y, self.data.mean, self.data.std, self.task
        )
        return events.Finished(
            reason,
            self.history,
            str(runfolder.committed(self.out_dir, "model")),
            str(runfolder.committed(self.out_dir, "checkpoint")),
            time.monotonic() - self.clock.t0,
            self.data.class_names,
            self.data.target_names,
            scores,
            self.task.name,
        )

    def flush(self) -> None:
        """Send recorded step losses (replaced by the guard's once training starts)."""

    def _crashed(self, error: Exception) -> events.Failed:
        fault = describe(
            error,
            self.filename,
            self.job.node_lines,
            self.settings["batch_size"],
            self.job.node_names,
            self.model,
            self.job.activation_bytes,
            device_memory(self.device),
            self.stage,
        )
        final = self._fail(fault.kind, str(fault))
        final.node = fault.node
        return final

    def _fail(self, kind: str, message: str, save: bool = True) -> events.Failed:
        weights = None
        if save and self.model is not None and self.optimizer is not None:
            try:
                self._save(len(self.history))
            except Exception:  # saving must not hide the original fault
                pass
            kept = runfolder.committed(self.out_dir)  # this save's, or the last complete one
            weights = str(kept) if kept else None
        return events.Failed(kind, message, weights, self.history)


def flags_line(model) -> str:
    """What the design's training flags do to this run ('' when it sets none): the frozen
    parameters and the learning-rate factors."""
    parts = []
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    if frozen:
        total = sum(p.numel() for p in model.parameters())
        parts.append(f"frozen: {frozen:,} of {total:,} parameters")
    scales = layer_scales(model)
    if scales:
        listed = ", ".join(f"{name} ×{scale:g}" for name, scale in scales.items())
        parts.append(f"learning-rate factors: {listed}")
    return "; ".join(parts)
