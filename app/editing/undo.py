"""A plain undo stack: commands, macros (several commands as one step) and a clean state.

It keeps QUndoStack's rules, which the window's behaviour was built on: `push` runs the
command's `redo` and drops whatever could be redone; the clean state is an index, so
undoing back to where the file was saved is clean again; a macro is one step even when
nothing was pushed inside it. Unlike Qt it never swallows an exception raised by a command:
a `redo` that raises leaves the stack as it was, and the error reaches the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from torchcanvas.graph.events import Signal


class Command:
    """One undoable change: `redo` does it (also the first time), `undo` takes it back."""

    def __init__(self, text: str = "") -> None:
        self._text = text

    def text(self) -> str:
        """What the Edit menu says after Undo/Redo."""
        return self._text

    def redo(self) -> None:
        """Do (or do again) the change."""

    def undo(self) -> None:
        """Take the change back."""


class Macro(Command):
    """Commands done one by one and undone together, in reverse order."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.children: list[Command] = []

    def redo(self) -> None:
        for child in self.children:
            child.redo()

    def undo(self) -> None:
        for child in reversed(self.children):
            child.undo()


class UndoStack:
    """Done and undone commands with an index, a clean mark and open macros.

    `guard`, when given, is called before every push, undo, redo and macro, and refuses by
    raising (the Document's lock while a run trains). `changed` fires after anything that
    can change what the Edit menu shows; `clean_changed(bool)` when the saved state is
    reached or left; `stepped(kind, text)` once per whole step ("do", "undo", "redo") —
    a macro is one step, announced when it ends.
    """

    def __init__(self, guard: Callable[[], None] | None = None) -> None:
        self._commands: list[Command] = []
        self._index = 0  # commands[:index] are done
        self._clean: int | None = 0  # the index of the saved state; None: unreachable
        self._macros: list[Macro] = []
        self._guard = guard or (lambda: None)
        self.changed = Signal("undo_changed")  # ()
        self.clean_changed = Signal("clean_changed")  # (clean)
        self.stepped = Signal("stepped")  # (kind, text)

    # ----- reading --------------------------------------------------------------------
    def count(self) -> int:
        """Steps on the stack, done or undone."""
        return len(self._commands)

    def index(self) -> int:
        """Steps done (the next undo takes back step index - 1)."""
        return self._index

    def is_clean(self) -> bool:
        """Whether the design is as it was when the clean mark was set (saved)."""
        return self._clean == self._index

    def in_macro(self) -> bool:
        """Whether a macro is open (pushes join it)."""
        return bool(self._macros)

    def can_undo(self) -> bool:
        """Whether there is a step to undo (never while a macro is open)."""
        return self._index > 0 and not self._macros

    def can_redo(self) -> bool:
        """Whether there is an undone step to redo (never while a macro is open)."""
        return self._index < len(self._commands) and not self._macros

    def undo_text(self) -> str:
        """The text of the step Undo would take back, or ''."""
        return self._commands[self._index - 1].text() if self.can_undo() else ""

    def redo_text(self) -> str:
        """The text of the step Redo would do again, or ''."""
        return self._commands[self._index].text() if self.can_redo() else ""

    # ----- changing -------------------------------------------------------------------
    def push(self, command: Command) -> None:
        """Do `command` and record it (inside the open macro, if there is one)."""
        self._guard()
        command.redo()  # first: a command that fails is never recorded
        if self._macros:
            self._macros[-1].children.append(command)
            return
        self._record(command)

    def undo(self) -> None:
        """Take back the last step done."""
        self._guard()
        if not self.can_undo():
            return
        with self._announcing():
            command = self._commands[self._index - 1]
            command.undo()
            self._index -= 1
        self.stepped.emit("undo", command.text())

    def redo(self) -> None:
        """Do the last undone step again."""
        self._guard()
        if not self.can_redo():
            return
        with self._announcing():
            command = self._commands[self._index]
            command.redo()
            self._index += 1
        self.stepped.emit("redo", command.text())

    def begin_macro(self, text: str) -> None:
        """Open a macro: what is pushed until `end_macro` is one step (macros nest)."""
        self._guard()
        with self._announcing():  # Undo and Redo wait for the macro's end
            self._macros.append(Macro(text))

    def end_macro(self) -> None:
        """Close the innermost macro; the outermost one becomes one step on the stack."""
        macro = self._macros.pop()
        if self._macros:
            self._macros[-1].children.append(macro)
        else:
            self._record(macro)

    def abort_macro(self) -> None:
        """Close the innermost macro taking back what was done in it: no step is left."""
        with self._announcing():  # Undo and Redo are back
            macro = self._macros.pop()
            macro.undo()

    @contextmanager
    def macro(self, text: str) -> Iterator[Macro]:
        """`with stack.macro(text):` one step; an exception inside takes it all back."""
        self.begin_macro(text)
        try:
            yield self._macros[-1]
        except BaseException:
            self.abort_macro()
            raise
        self.end_macro()

    def set_clean(self) -> None:
        """Mark the current state as saved."""
        with self._announcing():
            self._clean = self._index

    def clear(self) -> None:
        """Forget every step (another project); the state is clean."""
        with self._announcing():
            self._commands, self._index, self._clean, self._macros = [], 0, 0, []

    def _record(self, command: Command) -> None:
        with self._announcing():
            del self._commands[self._index :]  # what could be redone is gone
            if self._clean is not None and self._clean > self._index:
                self._clean = None  # the saved state was undone and can no longer be reached
            self._commands.append(command)
            self._index += 1
        self.stepped.emit("do", command.text())

    @contextmanager
    def _announcing(self) -> Iterator[None]:
        """Emit `clean_changed` (if it did) and `changed` after the block."""
        was_clean = self.is_clean()
        yield
        if self.is_clean() != was_clean:
            self.clean_changed.emit(self.is_clean())
        self.changed.emit()
