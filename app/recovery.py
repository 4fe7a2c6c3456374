"""Crash recovery: one autosave file per window, never taken from a window still alive.

Each window writes `recovery/<id>.json` (the project, the file it came from, when) and
holds an exclusive lock on `recovery/<id>.lock` while it lives. The lock goes with the
process however it ends, so at the next start a recovery file whose lock can be taken
belongs to a window that did not close normally; one whose lock is held is another
window's live work and is left alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from torchcanvas.graph.fileio import FileRefused, atomic_write, read_limited
from torchcanvas.graph.project import MAX_FILE_BYTES, Project, project_from_dict

try:
    import fcntl
except ImportError:  # not on this platform: fall back to "is the process alive"
    fcntl = None

FORMAT = "torchcanvas-recovery"


@dataclass
class Recovered:
    """An orphaned autosave: where it is, the project's own path, and when it was written."""

    file: Path
    path: str | None
    label: str
    saved_at: float

    def describe(self) -> str:
        """`mlp.json (/home/me/mlp.json), autosaved 14:02` for a question."""
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))
        where = f" ({self.path})" if self.path else ""
        return f"{self.label}{where}, autosaved {when}"

    def load(self) -> Project:
        """The project as it was autosaved; ProjectError, OSError or ValueError if damaged."""
        document = json.loads(read_limited(self.file, MAX_FILE_BYTES + 2**20, "recovery file"))
        if isinstance(document, dict) and document.get("format") == FORMAT:
            document = document["project"]
        return project_from_dict(document)  # an autosave of an older version is the project

    def discard(self) -> None:
        """Delete it (the user said no)."""
        with contextlib.suppress(OSError):
            self.file.unlink(missing_ok=True)
            self.file.with_suffix(".lock").unlink(missing_ok=True)


class RecoveryStore:
    """This window's autosave file, and the orphans other windows left behind."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.id = uuid.uuid4().hex[:12]
        self.file = self.folder / f"{self.id}.json"
        self._lock = None

    def write(self, project_dict: dict, path: str | None, label: str) -> None:
        """Autosave (atomically); OSError when the folder cannot be written."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self._hold_lock()
        document = {
            "format": FORMAT,
            "pid": os.getpid(),
            "path": path,
            "label": label,
            "saved_at": time.time(),
            "project": project_dict,
        }
        atomic_write(self.file, json.dumps(document, allow_nan=False).encode("utf-8"))

    def remove(self) -> None:
        """This window's work is saved (or the window closed cleanly): forget its autosave."""
        with contextlib.suppress(OSError):  # an unwritable folder had no autosave to remove
            self.file.unlink(missing_ok=True)

    def close(self) -> None:
        """The window closed cleanly: drop its file and its lock."""
        self.remove()
        if self._lock is not None:
            self._lock.close()
            self._lock = None
            with contextlib.suppress(OSError):
                self.file.with_suffix(".lock").unlink(missing_ok=True)

    def orphans(self) -> list[Recovered]:
        """Autosaves of windows that are gone, newest first."""
        found = []
        for file in sorted(self.folder.glob("*.json")) if self.folder.is_dir() else []:
            if file == self.file or not _orphaned(file):
                continue
            entry = _describe(file)
            if entry is not None:
                found.append(entry)
        legacy = self.folder.parent / "recovery.json"  # one shared file, before version 0.4
        if legacy.is_file():
            found.append(Recovered(legacy, None, "Recovered project", legacy.stat().st_mtime))
        return sorted(found, key=lambda entry: entry.saved_at, reverse=True)

    def _hold_lock(self) -> None:
        if self._lock is not None:
            return
        lock = open(self.file.with_suffix(".lock"), "a+")  # noqa: SIM115  held for the window's life
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        if fcntl is not None:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._lock = lock


def _orphaned(file: Path) -> bool:
    """No live window holds this autosave's lock."""
    lock_path = file.with_suffix(".lock")
    if not lock_path.exists():
        return True
    if fcntl is None:
        return not _alive(_pid_in(lock_path))
    try:
        with open(lock_path, "a") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
    except OSError:
        return False  # held: a live window's work
    return True


def _pid_in(lock_path: Path) -> int:
    try:
        return int(lock_path.read_text()[:20] or 0)
    except (OSError, ValueError):
        return 0


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _describe(file: Path) -> Recovered | None:
    """The header of an autosave, or None when it is not one (left alone, never deleted)."""
    try:
        document = json.loads(read_limited(file, MAX_FILE_BYTES + 2**20, "recovery file"))
    except (OSError, FileRefused, ValueError, RecursionError):
        return None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        return None
    path = document.get("path")
    label = document.get("label")
    saved_at = document.get("saved_at")
    return Recovered(
        file=file,
        path=path if isinstance(path, str) else None,
        label=label if isinstance(label, str) else file.name,
        saved_at=float(saved_at) if isinstance(saved_at, int | float) else file.stat().st_mtime,
    )
