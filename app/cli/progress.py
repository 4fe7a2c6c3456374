"""A per-epoch progress bar for `torchcanvas train`, fed by training events."""

from __future__ import annotations

from torchcanvas.app.train import events
from torchcanvas.app.train.tasks import task_named

BAR = 24


class ProgressPrinter:
    """Turns training events into terminal output."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.epochs = 0
        self.last_loss = None
        self.task = task_named(None)
        self.dispatch = events.handlers(
            {
                events.Started: self._on_started,
                events.Log: self._on_log,
                events.Steps: self._on_steps,
                events.Progress: self._on_progress,
                events.Epoch: self._on_epoch,
                events.Finished: self._on_finished,
            }
        )

    def __call__(self, event: events.Event) -> None:
        self.dispatch(event)

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()

    def _on_started(self, event: dict) -> None:
        self.epochs = event["epochs"]
        self.task = task_named(event["task"])
        self._write(
            f"training {event['parameters']:,} parameters on {event['device']} "
            f"({event['train_size']} train / {event['val_size']} validation samples, "
            f"mixed precision {event['amp']})\n"
        )

    def _on_log(self, event: dict) -> None:
        self._write(f"{event['message']}\n")

    def _on_steps(self, event: dict) -> None:
        self.last_loss = event["losses"][-1]

    def _on_progress(self, event: dict) -> None:
        if not self.tty:
            return
        done = event["step"] / max(event["steps_per_epoch"], 1)
        filled = int(done * BAR)
        loss = f" loss {self.last_loss:.4f}" if self.last_loss is not None else ""
        self._write(
            f"\repoch {event['epoch'] + 1}/{event['epochs']} "
            f"[{'#' * filled}{'.' * (BAR - filled)}] {event['step']}/"
            f"{event['steps_per_epoch']}{loss} {event['samples_per_s']:.0f} samples/s"
        )

    def _on_epoch(self, event: dict) -> None:
        clear = "\r" + " " * 100 + "\r" if self.tty else ""
        self._write(
            f"{clear}epoch {event['epoch']}/{self.epochs} [{'#' * BAR}]  loss "
            f"{event['train_loss']:.4f}{self.task.console_epoch(event)}  "
            f"{event['samples_per_s']:.0f} samples/s  {event['seconds']:.1f}s\n"
        )

    def _on_finished(self, event: dict) -> None:
        before, acc = self.task.console_finish(event)
        if before:
            self._write(before)
        if event["reason"] != "stopped":
            self._write(f"done in {event['elapsed']:.1f}s{acc}\n")
            return
        done = event["history"][-1]["epoch"] if event["history"] else 0
        clear = "\r" + " " * 100 + "\r" if self.tty else ""  # a stop mid-epoch: over the bar
        self._write(
            f"{clear}stopped after {done} of {self.epochs} epochs in {event['elapsed']:.1f}s"
            f"{acc}; the weights are in {event['weights']} "
            f"(continue with --resume {event['checkpoint']})\n"
        )
