"""The run state and the lock: while a run trains, the design is read-only.

What trains is what the weights will fit, so every edit is refused until the run ends.
The Document decides in one place (`Document.check_editable`, which raises DesignLocked
with READ_ONLY); its edit methods return that message instead of raising (`refused_while
_locked`), and its undo stack asks the same check before every push, undo and redo.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from torchcanvas.graph.events import Signal

READ_ONLY = "Training: the design is read-only until the run ends or you press Stop."

F = TypeVar("F", bound=Callable)


class DesignLocked(Exception):
    """An edit was refused because a run is training the design."""


class RunState:
    """Whether a run is training the design, and where it writes."""

    def __init__(self) -> None:
        self.training = False
        self.run_dir: Path | None = None
        self.changed = Signal("run_changed")  # (training) a run began or ended

    def begin(self, run_dir=None) -> None:
        """A run started: the design locks until `end`."""
        self.run_dir = Path(run_dir) if run_dir is not None else None
        if not self.training:
            self.training = True
            self.changed.emit(True)

    def end(self) -> None:
        """The run finished, failed or was stopped: the design is editable again."""
        if self.training:
            self.training = False
            self.changed.emit(False)


def refused_while_locked(method: F) -> F:
    """Make an edit method return the lock's message, changing nothing, while locked."""

    @functools.wraps(method)
    def guarded(self, *args, **kwargs):
        document = getattr(self, "document", self)  # a Document, or a part that has one
        try:
            document.check_editable()
        except DesignLocked as refused:
            return str(refused)
        return method(self, *args, **kwargs)

    return guarded  # type: ignore[return-value]
