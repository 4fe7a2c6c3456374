"""A tiny, Qt-free signal: views subscribe to model changes through it."""

from __future__ import annotations

from collections.abc import Callable


class Signal:
    """A list of callbacks called in order with the emitted arguments."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._slots: list[Callable] = []

    def connect(self, slot: Callable) -> None:
        """Call `slot` on every emit."""
        if slot not in self._slots:
            self._slots.append(slot)

    def disconnect(self, slot: Callable) -> None:
        """Stop calling `slot`; unknown slots are ignored."""
        if slot in self._slots:
            self._slots.remove(slot)

    def emit(self, *args) -> None:
        """Call every connected slot with `args`."""
        for slot in list(self._slots):
            slot(*args)

    def __repr__(self) -> str:
        return f"Signal({self.name!r}, {len(self._slots)} slots)"


class ModelEvents:
    """The change events of a ModelGraph, all named in the past tense."""

    def __init__(self) -> None:
        self.node_added = Signal("node_added")  # (id)
        self.node_removed = Signal("node_removed")  # (id)
        self.node_renamed = Signal("node_renamed")  # (id, old name, new name)
        self.node_moved = Signal("node_moved")  # (id, (x, y))
        self.param_changed = Signal("param_changed")  # (id, param)
        self.edge_added = Signal("edge_added")  # (Edge)
        self.edge_removed = Signal("edge_removed")  # (Edge)
        self.name_changed = Signal("name_changed")  # (class name)
        self.reset = Signal("reset")  # () the whole graph was replaced
        self.changed = Signal("changed")  # () after any structural or parameter change
