"""The extras of a run in the window or the CLI, as loop callbacks: pause and stop, the
NaN/inf guard, activation capture, progress and epoch events, and the run folder's commits
(every few seconds, not every epoch)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from torchcanvas.app.train import events
from torchcanvas.app.train.core.loop import Callback
from torchcanvas.app.train.faults import TrainingFault, TrainingStopped
from torchcanvas.app.train.guard import NonFiniteLoss

STEP_FLUSH_SECONDS = 0.25  # how often per-step losses are sent (in one message)
PROGRESS_SECONDS = 0.5


@dataclass
class RunClock:
    """Where a run is: its epoch and step counters and its time, shared by the callbacks."""

    epochs: int
    start_epoch: int
    steps_per_epoch: int
    run_samples: int  # samples this run trains on, over all its epochs
    epoch: int = 0
    global_step: int = 0
    samples_seen: int = 0
    t0: float = 0.0

    def start(self) -> None:
        """The run's first step is about to be taken."""
        self.t0 = time.monotonic()


class Counting(Callback):
    """Keeps the clock's epoch and step counters; stops at `max_steps` (tests, benchmarks)."""

    def __init__(self, clock: RunClock, max_steps: int | None) -> None:
        self.clock, self.max_steps = clock, max_steps

    def on_epoch_start(self, epoch):
        self.clock.epoch = epoch

    def on_step_end(self, step, loss, size):
        self.clock.global_step += 1
        self.clock.samples_seen += size
        if self.max_steps and self.clock.global_step >= self.max_steps:
            raise TrainingStopped()


class Control(Callback):
    """Pause, resume, stop and capture changes from the window, between steps."""

    def __init__(self, control, emit, clock: RunClock, capture, flush, save) -> None:
        self.control, self.emit, self.clock = control, emit, clock
        self.capture, self.flush, self.save = capture, flush, save

    def on_step_start(self, step):
        self.obey(self.control.check())

    def obey(self, commands: list) -> None:
        """Carry out the commands that arrived (a pause blocks until resume or stop)."""
        for command, *args in commands:
            if command == "stop":
                raise TrainingStopped()
            if command == "capture":
                self.capture.set_nodes(dict(args[0]), list(args[1]) if len(args) > 1 else None)
            if command == "pause":  # a paused run may be closed for good: commit it now
                self.flush()
                self.save()
                self.emit(events.Paused(self.clock.epoch))
                self.obey(self.control.wait_resume())
                self.emit(events.Resumed(self.clock.epoch))


class Guarding(Callback):
    """The NaN/inf guard around each step, and the per-step losses sent in groups."""

    def __init__(self, guard, emit, clock: RunClock, optimizer) -> None:
        self.guard, self.emit, self.clock, self.optimizer = guard, emit, clock, optimizer
        self.flushed_at = time.monotonic()

    def on_step_start(self, step):
        self.guard.before_forward()

    def on_loss(self, step, loss):
        try:
            if self.guard.record(self.clock.global_step + 1, loss):
                self.flush()
        except NonFiniteLoss as error:
            raise self.fault(error) from None

    def on_step_end(self, step, loss, size):
        if time.monotonic() - self.flushed_at >= STEP_FLUSH_SECONDS:
            self.flush()

    def on_epoch_end(self, epoch, row, val):
        self.flush()

    def flush(self) -> None:
        """Send the recorded step losses (checked: a bad one raises the NaN fault)."""
        if not self.guard.pending:
            return
        try:
            steps, values = self.guard.drain()
        except NonFiniteLoss as error:
            raise self.fault(error) from None
        self.flushed_at = time.monotonic()
        lr = self.optimizer.param_groups[0]["lr"]
        self.emit(events.Steps(self.clock.epoch, steps, values, lr))

    def fault(self, error: NonFiniteLoss) -> TrainingFault:
        """The message a bad loss stops the run with."""
        return TrainingFault(
            "nan",
            f"the loss became {error.value} at step {error.step} (epoch "
            f"{self.clock.epoch + 1}); training stopped and the last good "
            f"weights were kept. Try a lower learning rate.",
        )


class Capturing(Callback):
    """Hooks the chosen nodes on a step now and then; sends what they saw."""

    def __init__(self, capture, emit, clock: RunClock) -> None:
        self.capture, self.emit, self.clock = capture, emit, clock
        self.active = False

    def on_step_start(self, step):
        self.active = self.capture.due()
        if self.active:
            self.capture.attach()

    def on_backward(self, step):
        if self.active:
            self.capture.finish_step(self.clock.global_step)
            self.active = False

    def on_step_end(self, step, loss, size):
        captured = self.capture.collect()
        if captured:
            self.emit(events.Capture(captured["step"], captured["nodes"]))


class Reporting(Callback):
    """Progress twice a second, and each epoch's row with the time spent and left."""

    def __init__(self, emit, clock: RunClock) -> None:
        self.emit, self.clock = emit, clock
        self.reported_at = time.monotonic()

    def on_step_end(self, step, loss, size):
        now = time.monotonic()
        if now - self.reported_at >= PROGRESS_SECONDS:
            self.reported_at = now
            self.emit(self.progress(step + 1, now))

    def progress(self, step: int, now: float) -> events.Progress:
        """Where the epoch is, the speed and the time left."""
        clock = self.clock
        elapsed = now - clock.t0
        rate = clock.samples_seen / elapsed if elapsed > 0 else 0.0
        left = clock.run_samples - clock.samples_seen
        eta = left / rate if rate > 0 else None
        return events.Progress(
            clock.epoch, clock.epochs, step, clock.steps_per_epoch, rate, elapsed, eta,
            clock.global_step,
        )  # fmt: skip

    def on_epoch_end(self, epoch, row, val):
        clock = self.clock
        elapsed = time.monotonic() - clock.t0
        per_epoch = elapsed / (epoch + 1 - clock.start_epoch)
        self.emit(events.Epoch(row, elapsed, (clock.epochs - epoch - 1) * per_epoch))


class Recording(Callback):
    """Each epoch's row joins the history; its files are committed when the schedule says
    (the run's end, a pause and a fault commit the latest epoch anyway)."""

    def __init__(self, history: list, save, schedule, epochs: int) -> None:
        self.history, self.save, self.schedule, self.epochs = history, save, schedule, epochs

    def on_epoch_end(self, epoch, row, val):
        self.history.append(row)
        if epoch + 1 < self.epochs and self.schedule.due():
            self.save(epoch + 1)
