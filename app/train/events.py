"""The events a training run reports, as small dataclasses.

They cross the process boundary as they are (pickled), and read like the dicts they replace
(`event["epoch"]`, `event.get("val_acc")`, `{**event}`) so that logs, tests and TensorBoard
see the same keys. Consumers dispatch on the class with an explicit table (`handlers`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar


class Event(Mapping):
    """A run's event; its fields (and `type`) read as mapping keys."""

    type: ClassVar[str] = "event"

    def _values(self) -> dict[str, Any]:
        values = {"type": self.type}
        values.update((f.name, getattr(self, f.name)) for f in fields(self))
        return values

    def __getitem__(self, key: str) -> Any:
        return self._values()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values())

    def __len__(self) -> int:
        return len(self._values())


@dataclass(eq=False)
class Log(Event):
    """A line for the status bar or the console."""

    type: ClassVar[str] = "log"
    message: str


@dataclass(eq=False)
class Started(Event):
    """What the run trains: device, sizes, task, classes or targets, parameters, precision."""

    type: ClassVar[str] = "started"
    device: str
    epochs: int
    start_epoch: int
    steps_per_epoch: int
    train_size: int
    val_size: int
    classes: list
    task: str
    targets: list
    parameters: int
    amp: str
    in_memory: bool


@dataclass(eq=False)
class Steps(Event):
    """Per-step training losses since the last Steps."""

    type: ClassVar[str] = "steps"
    epoch: int
    steps: list
    losses: list
    lr: float


@dataclass(eq=False)
class Progress(Event):
    """Where the epoch is, the speed and the time left."""

    type: ClassVar[str] = "progress"
    epoch: int
    epochs: int
    step: int
    steps_per_epoch: int
    samples_per_s: float
    elapsed: float
    eta: float | None
    global_step: int


@dataclass(eq=False)
class Epoch(Event):
    """An epoch's metrics row (as metrics.csv has it), the time spent and the time left."""

    type: ClassVar[str] = "epoch"
    row: dict
    elapsed: float
    eta: float

    def _values(self) -> dict[str, Any]:
        return {"type": self.type, **self.row, "elapsed": self.elapsed, "eta": self.eta}


@dataclass(eq=False)
class Capture(Event):
    """Activation statistics and pictures of the captured nodes at a step."""

    type: ClassVar[str] = "capture"
    step: int
    nodes: dict


@dataclass(eq=False)
class Paused(Event):
    """The run waits for resume or stop."""

    type: ClassVar[str] = "paused"
    epoch: int


@dataclass(eq=False)
class Resumed(Event):
    """The run goes on."""

    type: ClassVar[str] = "resumed"
    epoch: int


@dataclass(eq=False)
class Finished(Event):
    """The run ended (completed or stopped) with its weights saved; `scores` holds the
    task's final validation part and the probe predictions."""

    type: ClassVar[str] = "finished"
    reason: str
    history: list
    weights: str
    checkpoint: str
    elapsed: float
    classes: list
    targets: list
    scores: dict = field(default_factory=dict)
    task: str = "classification"

    def _values(self) -> dict[str, Any]:
        values = super()._values()
        values.update(values.pop("scores"))
        return values


@dataclass(eq=False)
class Failed(Event):
    """The run failed; `weights` names the last good ones, if any were saved."""

    type: ClassVar[str] = "failed"
    kind: str
    reason: str
    weights: str | None = None
    history: list = field(default_factory=list)
    details: list = field(default_factory=list)  # which tensors did not fit, node by node
    node: str | None = None  # the node a crash happened in


EVENT_TYPES = {
    cls.type: cls
    for cls in (Log, Started, Steps, Progress, Epoch, Capture, Paused, Resumed, Finished, Failed)
}


def handlers(table: dict[type, Callable[[Event], None]]) -> Callable[[Event], None]:
    """A dispatcher that calls the handler of an event's class (events with none pass)."""

    def dispatch(event: Event) -> None:
        handler = table.get(type(event))
        if handler is not None:
            handler(event)

    return dispatch
