"""What the window remembers between sessions: recent files and the crash-recovery file."""

from __future__ import annotations

import os
from pathlib import Path

from torchcanvas.app.recovery import Recovered, RecoveryStore
from torchcanvas.graph.project import ProjectError, project_to_dict

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
    """Autosaves this window's unsaved work and offers orphaned work back at start."""

    def __init__(self, folder: Path, document, dialogs, report) -> None:
        self.store = RecoveryStore(folder)
        self.document = document
        self.dialogs = dialogs  # a callable returning the window's current dialogs
        self.report = report  # shows a failure in the window (once per failure)
        self._failing = False

    @property
    def path(self) -> Path:
        """This window's autosave file."""
        return self.store.file

    def autosave(self) -> None:
        """Write unsaved work (atomically); forget the autosave once the work is saved."""
        document = self.document
        try:
            if document.dirty:
                path = str(document.path) if document.path else None
                self.store.write(project_to_dict(document.project), path, document.label)
            else:
                self.store.remove()
        except OSError as error:
            if not self._failing:
                self._failing = True
                self.report(
                    f"Autosave failed: {self.store.folder}: {error.strerror or error}. "
                    f"Unsaved work is not being backed up; save the project to keep it."
                )
            return
        self._failing = False

    def saved(self) -> None:
        """The project was saved: this window's autosave is no longer needed."""
        self.store.remove()

    def close(self) -> None:
        """The window closed cleanly."""
        self.store.close()

    def offer(self, project_path: str | None = None) -> bool:
        """Offer orphaned work back (the named project's first); True when one was restored."""
        orphans = self.store.orphans()
        if project_path:
            wanted = _same_file(project_path)
            orphans = [o for o in orphans if o.path and _same_file(o.path) == wanted]
        return bool(orphans) and self._ask(orphans[0])

    def offer_any(self) -> bool:
        """File ▸ Recover Unsaved Work…: offer each orphan in turn until one is taken."""
        orphans = self.store.orphans()
        if not orphans:
            self.dialogs().info("Nothing to recover", "No unsaved work was left behind.")
            return False
        return any(self._ask(entry) for entry in orphans)

    def _ask(self, entry: Recovered) -> bool:
        dialogs = self.dialogs()
        if not dialogs.ask(
            "Recover unsaved work?",
            f"TorchCanvas did not close normally. Open {entry.describe()} as it was at "
            f"the last autosave? (No deletes this autosave.)",
        ):
            entry.discard()
            return False
        try:
            project = entry.load()
        except (ProjectError, OSError, ValueError, KeyError, RecursionError) as error:
            dialogs.error("Cannot recover", f"{entry.file.name}: {error}")
            return False
        self.document.restore(project, entry.path, entry.label)
        self.autosave()  # this window now holds the work; only then let the orphan go
        entry.discard()
        return True

    def others(self) -> int:
        """How many orphaned autosaves are still waiting."""
        return len(self.store.orphans())


def _same_file(path: str) -> str:
    return os.path.realpath(path)
