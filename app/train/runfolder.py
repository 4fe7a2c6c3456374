"""A run folder's files, saved per epoch as one step that a kill or a full disk cannot split.

An epoch's files are written under new names (`model.<hash>.pt`, ...), then `manifest.json`
is replaced: that is the commit. Only then are the new files renamed to `model.pt`,
`checkpoint.pt`, `metrics.csv` and `preprocess.json` (the training statistics, from runs
that record them), and the manifest rewritten to name them. The manifest
holds each file's sha256, so a reader always finds the committed files, wherever a kill
left them; folders from older versions (no manifest) are read as they are.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from pathlib import Path

from torchcanvas.app.train.core.records import RUN_FORMAT, commit_epoch, plain_names
from torchcanvas.app.train.core.records import STABLE_NAMES as STABLE
from torchcanvas.graph.fileio import atomic_write, open_regular, read_limited

MANIFEST = "manifest.json"
_PENDING = re.compile(r"^(model|checkpoint|metrics|preprocess)\.[0-9a-f]{16}\.(pt|csv|json)$")
# What a killed atomic_write leaves: `.<name>.<random>.tmp` for one of the run's names.
_TEMP = re.compile(r"^\.(model|checkpoint|metrics|preprocess|manifest|probe)[^/]*\.tmp$")
_MANIFEST_BYTES = 64 * 1024


class RunFolderError(ValueError):
    """The output folder cannot be created or written."""


def sha256_file(path: Path) -> str:
    """The sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open_regular(path) as handle:  # never a pipe or a device, which could block
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(folder: Path) -> dict | None:
    """The folder's manifest, or None when it has none or it is not one of ours."""
    path = Path(folder) / MANIFEST
    try:
        data = json.loads(read_limited(path, _MANIFEST_BYTES, "manifest"))
    except (OSError, ValueError):  # FileRefused and JSON errors are ValueErrors
        return None
    return data if _valid_manifest(data) else None


def _valid_manifest(data) -> bool:
    if not isinstance(data, dict) or data.get("format") != RUN_FORMAT:
        return False
    epoch, files = data.get("epoch"), data.get("files")
    if type(epoch) is not int or epoch < 0 or not isinstance(files, dict):
        return False
    for role, entry in files.items():
        if role not in STABLE or not isinstance(entry, dict):
            return False
        name, digest = entry.get("name"), entry.get("sha256")
        # Names come from a file on disk: accept only the run's own, never a path elsewhere.
        if name != STABLE[role] and not (isinstance(name, str) and _PENDING.match(name)):
            return False
        if not (isinstance(digest, str) and re.fullmatch(r"[0-9a-f]{64}", digest)):
            return False
    return True


def locate(folder: Path, manifest: dict, role: str) -> Path | None:
    """Where the committed file of `role` is now (pending or stable name), or None."""
    entry = manifest["files"].get(role)
    if entry is None:
        return None
    for name in dict.fromkeys((entry["name"], STABLE[role])):
        path = Path(folder) / name
        try:
            if path.is_file() and sha256_file(path) == entry["sha256"]:
                return path
        except (OSError, ValueError):  # unreadable, or swapped for a pipe: not the file
            continue
    return None


def save_epoch(folder: str | os.PathLike, epoch: int, blobs: dict[str, bytes]) -> None:
    """Commit one epoch's files (role -> bytes) at once; the previous commit stays on failure."""
    before = read_manifest(Path(folder))
    keep = {e["name"] for e in before["files"].values()} if before else set()
    commit_epoch(str(folder), epoch, blobs, keep, write=atomic_write)


class BackgroundCommits:
    """Commits epochs on a worker thread, so that training goes on during the fsyncs, one
    at a time; a failure is raised at the next call from the training thread."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder, self.thread, self.error = folder, None, None

    def busy(self) -> bool:
        """Whether a commit is under way."""
        return self.thread is not None and self.thread.is_alive()

    def submit(self, epoch: int, blobs: dict[str, bytes]) -> None:
        """Start committing `epoch` (after the commit under way, if any)."""
        self.wait()
        self.thread = threading.Thread(target=self._commit, args=(epoch, blobs), daemon=True)
        self.thread.start()

    def _commit(self, epoch: int, blobs: dict[str, bytes]) -> None:
        try:
            save_epoch(self.folder, epoch, blobs)
        except BaseException as error:  # handed to the training thread, which reports it
            self.error = error

    def wait(self) -> None:
        """Let the commit under way end; raise its failure, if any."""
        if self.thread is not None:
            self.thread.join()
            self.thread = None
        self.raise_error()

    def raise_error(self) -> None:
        """Raise (once) the failure of the last commit."""
        error, self.error = self.error, None
        if error is not None:
            raise error


def settle(folder: Path) -> None:
    """Finish a commit that a kill interrupted: plain names, named in the manifest."""
    manifest = read_manifest(folder)
    if manifest is None:
        return
    found = {role: locate(folder, manifest, role) for role in manifest["files"]}
    if None in found.values():
        return  # not a commit of ours to finish: readers fall back to the files as named
    for role, path in found.items():  # where each file is now, pending or plain
        manifest["files"][role]["name"] = path.name
    plain_names(str(folder), manifest["epoch"], manifest["files"], write=atomic_write)


def prepare(folder: str | os.PathLike) -> None:
    """Before a run: create the folder, prove it writable, and finish or drop a killed save."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(folder / ".probe", b"")  # a temp file, a rename and an fsync, as saves do
        (folder / ".probe").unlink()
        settle(folder)
        _remove_leftovers(folder)
    except OSError as error:
        raise RunFolderError(f"cannot write {folder}: {error.strerror or error}") from None


def _remove_leftovers(folder: Path) -> None:
    """Temporary files of killed writes, and new files a killed save never committed."""
    manifest = read_manifest(folder)
    named = {e["name"] for e in manifest["files"].values()} if manifest else set()
    for path in folder.iterdir():
        if path.name in named or not path.is_file():
            continue
        if path.name == ".probe" or _TEMP.match(path.name) or _PENDING.match(path.name):
            path.unlink(missing_ok=True)


def resolve(path: str | os.PathLike, role: str) -> Path:
    """The committed file that `path` stands for (a run folder or one of its files), else `path`."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    if path.is_dir():
        path = folder / STABLE[role]
    else:
        role = _role_of(path.name) or ""
    manifest = read_manifest(folder) if role else None
    if manifest is None:
        return path
    return locate(folder, manifest, role) or path


def _role_of(name: str) -> str | None:
    for role, stable in STABLE.items():
        if name == stable:
            return role
    match = _PENDING.match(name)
    return match.group(1) if match else None


def committed(folder: str | os.PathLike, role: str = "model") -> Path | None:
    """The committed file of `role` in `folder`, or None before the first commit."""
    manifest = read_manifest(Path(folder))
    return locate(Path(folder), manifest, role) if manifest else None
