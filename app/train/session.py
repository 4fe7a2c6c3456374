"""TrainingSession: run a TrainJob in a separate process and stream its events.

A crash, an out-of-memory or a hung CUDA kernel in training cannot take the editor down,
because the editor only ever reads a queue. `poll()` never blocks.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import threading
import time

from torchcanvas.app.train.events import Failed
from torchcanvas.app.train.job import TrainJob
from torchcanvas.app.worker import Parent, die_with_parent, this_parent

TERMINAL = ("finished", "failed")
WORKER_NICENESS = 10


class QueueControl:
    """Commands from the session, read by the loop between steps."""

    def __init__(self, commands) -> None:
        self.commands = commands

    def check(self) -> list:
        """Commands waiting now (never blocks)."""
        found = []
        while True:
            try:
                found.append(self.commands.get_nowait())
            except queue.Empty:
                return found

    def wait_resume(self) -> list:
        """Block while paused; returns the commands that ended the pause."""
        pending = []
        while True:
            command = self.commands.get()
            if command[0] in ("resume", "stop"):
                return pending + ([command] if command[0] == "stop" else [])
            pending.append(command)


def _lower_priority() -> None:
    """Let the editor's thread run first whenever it wakes; training takes what is left."""
    try:
        os.nice(WORKER_NICENESS)
    except (AttributeError, OSError):  # not on this platform, or not allowed: run as is
        pass


def _run(job: TrainJob, commands, events) -> None:
    from torchcanvas.app.train.loop import Trainer

    Trainer(job, events.put, QueueControl(commands)).run()


def _worker(job: TrainJob, commands, events, parent: Parent) -> None:
    """A training process of its own: it follows the window's process and yields to it."""
    die_with_parent(parent)
    _lower_priority()
    _run(job, commands, events)


def _spare_worker(jobs, commands, events, parent: Parent) -> None:
    """A process that imports torch ahead of time, then runs the one job it is given."""
    die_with_parent(parent)
    # The slow imports (torch, torchvision, scikit-learn) happen before Train is pressed.
    import sklearn.datasets  # noqa: F401
    import torchvision.datasets  # noqa: F401

    import torchcanvas.app.train.loop  # noqa: F401

    job = jobs.get()
    if job is not None:
        _lower_priority()
        _run(job, commands, events)


class _Spare:
    """A pre-started worker process with its queues."""

    def __init__(self) -> None:
        context = mp.get_context("spawn")
        self.jobs, self.commands, self.events = context.Queue(), context.Queue(), context.Queue()
        self.process = context.Process(
            target=_spare_worker,
            daemon=True,
            args=(self.jobs, self.commands, self.events, this_parent()),
            name="torchcanvas-training",
        )
        self.process.start()


_spare: _Spare | None = None


def prewarm() -> None:
    """Start a spare training process now so the next Train starts without import delay."""
    global _spare
    if _spare is None or not _spare.process.is_alive():
        _spare = _Spare()


def _take_spare() -> _Spare | None:
    global _spare
    spare, _spare = _spare, None
    return spare if spare is not None and spare.process.is_alive() else None


def shutdown_spare() -> None:
    """Stop the spare process (at exit)."""
    spare = _take_spare()
    if spare is not None:
        spare.jobs.put(None)
        spare.process.join(timeout=2)


class TrainingSession:
    """Start, pause, resume and stop a run; read its events with `poll()`."""

    def __init__(self, job: TrainJob, mode: str = "process") -> None:
        self.job = job
        self.mode = mode
        self.state = "idle"
        self.final: dict | None = None
        self._worker = None
        self.started_at: float | None = None
        if mode == "process":
            context = mp.get_context("spawn")
            self._commands, self._events = context.Queue(), context.Queue()
            self._context = context
        else:
            self._commands, self._events = queue.Queue(), queue.Queue()

    def start(self) -> None:
        """Launch the run."""
        if self.state != "idle":
            raise RuntimeError("a session runs once; make a new one to train again")
        self.started_at = time.monotonic()
        self.state = "starting"
        spare = _take_spare() if self.mode == "process" else None
        if spare is not None:
            self._commands, self._events, self._worker = spare.commands, spare.events, spare.process
            # Held as long as the session: a queue dropped while the spare is still starting
            # takes its semaphores with it, and the spare dies unpickling them.
            self._jobs = spare.jobs
            self._jobs.put(self.job)
            return
        args = (self.job, self._commands, self._events)
        if self.mode == "process":
            self._worker = self._context.Process(
                target=_worker,
                args=(*args, this_parent()),
                daemon=True,
                name="torchcanvas-training",
            )
        else:
            # A thread shares the editor's process: leave its priority alone.
            self._worker = threading.Thread(
                target=_run, args=args, daemon=True, name="torchcanvas-training"
            )
        self._worker.start()

    def pause(self) -> None:
        """Pause after the current step."""
        self._send("pause")

    def resume(self) -> None:
        """Carry on after a pause."""
        self._send("resume")

    def stop(self) -> None:
        """Stop after the current step; the weights reached so far are saved."""
        self._send("stop")

    def set_capture(self, nodes: dict[str, str], map_nodes: list[str] | None = None) -> None:
        """Capture statistics of `nodes` (id -> module path) and pictures of `map_nodes`."""
        self._send("capture", dict(nodes), list(map_nodes if map_nodes is not None else nodes))

    def _send(self, *command) -> None:
        if self.state not in TERMINAL and self._worker is not None:
            self._commands.put(tuple(command))

    @property
    def running(self) -> bool:
        """Whether the run has not yet finished or failed."""
        return self.state not in ("idle", *TERMINAL)

    def poll(self, limit: int = 10_000) -> list[dict]:
        """Every event that has arrived, without waiting."""
        events = []
        while len(events) < limit:
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                break
            except (EOFError, OSError):
                break
            self._track(event)
            events.append(event)
        if not events and self._died():
            event = Failed(
                "crash",
                f"the training process ended unexpectedly (exit code "
                f"{self._worker.exitcode}); the editor and project are safe.",
            )
            self._track(event)
            events.append(event)
        return events

    def _track(self, event: dict) -> None:
        kind = event.get("type")
        if kind == "started" or kind == "resumed":
            self.state = "running"
        elif kind == "paused":
            self.state = "paused"
        elif kind in TERMINAL:
            self.state = kind
            self.final = event

    def _died(self) -> bool:
        if self.mode != "process" or self._worker is None or self.state in TERMINAL:
            return False
        return self.state != "idle" and not self._worker.is_alive() and self._events.empty()

    def wait(self, timeout: float = 600.0, on_event=None) -> dict | None:
        """Block until the run ends (for scripts and tests); returns the final event."""
        deadline = time.monotonic() + timeout
        while self.state not in TERMINAL and time.monotonic() < deadline:
            for event in self.poll():
                if on_event:
                    on_event(event)
            time.sleep(0.01)
        return self.final

    def kill(self) -> None:
        """End the worker process at once (used when the window closes mid-run)."""
        if self.mode == "process" and self._worker is not None and self._worker.is_alive():
            self._worker.terminate()
            self._worker.join(timeout=5)
        if self.state not in TERMINAL:
            self._track(Failed("killed", "training was ended with the window"))
