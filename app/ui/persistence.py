"""What the window remembers between sessions: recent files and the crash-recovery file."""

from __future__ import annotations

from pathlib import Path

from torchcanvas.graph.fileio import atomic_write
from torchcanvas.graph.project import ProjectError

MAX_RECENT = 8


class RecentFiles:
    """Recently opened or saved projects, kept in QSettings, shown in a menu."""

    def __init__(self, settings, menu, open_project) -> None:
        self.settings, self.menu, self.open_project = settings, menu, open_project
        self.update_menu()

    def paths(self) -> list[str]:
        """Newest first."""
        value = self.settings.value("recent", [])
        return [value] if isinstance(value, str) else list(value or [])

    def add(self, path: str) -> None:
        """Put `path` at the top of the list."""
        path = str(Path(path).resolve())
        recent = [path] + [p for p in self.paths() if p != path]
        self.settings.setValue("recent", recent[:MAX_RECENT])
        self.update_menu()

    def update_menu(self) -> None:
        """One menu entry per recent file."""
        self.menu.clear()
        for path in self.paths():
            action = self.menu.addAction(path)
            action.triggered.connect(lambda _c=False, p=path: self.open_project(p))
        self.menu.setEnabled(bool(self.paths()))


class Recovery:
    """Autosaves unsaved work and offers it back after a crash."""

    def __init__(self, path: Path, document, dialogs) -> None:
        self.path, self.document = path, document
        self.dialogs = dialogs  # a callable returning the window's current dialogs

    def autosave(self) -> None:
        """Write unsaved work to the recovery file (atomically)."""
        if self.document.dirty:
            atomic_write(self.path, self.document.text().encode("utf-8"))

    def remove(self) -> None:
        """Forget the recovery file (after a save or a clean exit)."""
        self.path.unlink(missing_ok=True)

    def offer(self) -> bool:
        """If a recovery file exists, ask, and reopen it; True when recovered."""
        if not self.path.exists():
            return False
        dialogs = self.dialogs()
        if not dialogs.ask(
            "Recover unsaved work?",
            "TorchCanvas did not close normally. Open the project as it was at the last autosave?",
        ):
            self.remove()
            return False
        try:
            self.document.restore(self.path.read_text("utf-8"), "Recovered project")
        except (ProjectError, OSError) as error:
            dialogs.error("Cannot recover", str(error))
            return False
        return True
