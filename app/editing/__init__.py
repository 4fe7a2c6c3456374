"""The editing core, without Qt: the Document (project, file, undo, run state and lock), its
undo commands and block edits. The window and the CLI edit designs through it alike."""

from torchcanvas.app.editing.document import Document
from torchcanvas.app.editing.examples import DEFAULT_EXAMPLE, EXAMPLES
from torchcanvas.app.editing.lock import READ_ONLY, DesignLocked, RunState
from torchcanvas.app.editing.undo import Command, Macro, UndoStack

__all__ = [
    "DEFAULT_EXAMPLE",
    "EXAMPLES",
    "READ_ONLY",
    "Command",
    "DesignLocked",
    "Document",
    "Macro",
    "RunState",
    "UndoStack",
]
