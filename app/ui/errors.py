"""The last line of defence: an error that escapes a slot is logged and shown, once.

Every known failure is handled where it happens (a dialog that says what to do). This
hook is for the unknown ones: instead of a traceback on a stderr nobody reads, the user
sees what failed and that the work is still in the window, and the details go to a log.
"""

from __future__ import annotations

import sys
import time
import traceback
from pathlib import Path

MAX_LOG_BYTES = 1 << 20


def install(window_of, log_path: Path) -> None:
    """Route uncaught exceptions to `report` (window_of() gives the window to show it in)."""
    shown: set[str] = set()

    def hook(kind, error, trace) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, error, trace)
            return
        text = "".join(traceback.format_exception(kind, error, trace))
        _log(log_path, text)
        summary = f"{kind.__name__}: {error}"[:500]
        window = window_of()
        if window is None or summary in shown:
            return
        shown.add(summary)
        window.dialogs.error(
            "Something went wrong",
            f"{summary}\n\nYour work is still open; saving it now is safe. "
            f"Details are in {log_path}.",
        )

    sys.excepthook = hook


def _log(path: Path, text: str) -> None:
    try:
        if path.exists() and path.stat().st_size > MAX_LOG_BYTES:
            path.replace(path.with_suffix(".old.log"))
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')}\n{text}\n")
    except OSError:
        sys.__stderr__.write(text)
