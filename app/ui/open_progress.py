"""A progress dialog while a big project is read and drawn; Cancel stops the reading."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QProgressDialog

SHOW_AFTER_MS = 400  # small projects open without a flash of a dialog
_STEPS = 1000
_READING = 700  # of _STEPS: reading the file (cancellable); then the drawing


class OpenCancelled(Exception):
    """The user pressed Cancel while the file was read: nothing was changed."""


class OpenProgress:
    """Reports from the reading (graph.project.load_project) and the drawing of the scene."""

    def __init__(self, parent, name: str) -> None:
        self.dialog = QProgressDialog(f"Reading {name}…", "Cancel", 0, _STEPS, parent)
        self.dialog.setWindowTitle("Opening project")
        self.dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog.setMinimumDuration(SHOW_AFTER_MS)
        self.dialog.setAutoReset(False)
        self.dialog.setAutoClose(False)
        self.dialog.setValue(0)
        self._shown_at = 0.0

    def reading(self, done: int, total: int) -> None:
        """How far the reading is; OpenCancelled once Cancel was pressed."""
        self._show(int(_READING * done / total))
        if self.dialog.wasCanceled():
            raise OpenCancelled

    def drawing(self) -> None:
        """The reading is done and the canvas is being built (no Cancel now: the project is
        open). No events are processed from here on: a repaint of a half-built canvas
        would cost more than building it."""
        self.dialog.setLabelText("Drawing the canvas…")
        self.dialog.setCancelButton(None)
        if self.dialog.isVisible():
            self.dialog.setValue(_READING)
            self.dialog.repaint()

    def _show(self, value: int) -> None:
        # Once shown, setValue lets the window-modal dialog process events (Cancel, repaints;
        # the window behind takes no input). A few times a second is enough.
        now = time.monotonic()
        if now - self._shown_at >= 0.05:
            self._shown_at = now
            self.dialog.setValue(value)

    def close(self) -> None:
        """Take the dialog down."""
        self.dialog.reset()
        self.dialog.hide()
        self.dialog.deleteLater()
