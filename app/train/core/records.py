"""A run folder's records: metrics.csv, the checkpoint's contents, and the commit that writes
an epoch's files as one step (new names, then manifest.json, then the plain names)."""

import csv
import hashlib
import io
import json
import os
import tempfile
import time

import torch

METRIC_COLUMNS = (
    "epoch",
    "train_loss",
    "train_acc",
    "val_loss",
    "val_acc",
    "lr",
    "seconds",
    "samples_per_s",
)
RUN_FORMAT = "torchcanvas-run"
CHECKPOINT_FORMAT = "torchcanvas-checkpoint"
CHECKPOINT_VERSION = 1
COMMIT_SECONDS = 2.0  # the most training a kill can lose, beyond the epoch under way
STABLE_NAMES = {
    "model": "model.pt",
    "checkpoint": "checkpoint.pt",
    "metrics": "metrics.csv",
    "preprocess": "preprocess.json",
}


class CommitSchedule:
    """When an epoch's files are committed: the first epoch's, then the first to end
    COMMIT_SECONDS after the last commit, and the final one (a commit's fsyncs cost more
    than a small model's epoch, so committing each one would slow training severalfold)."""

    def __init__(self, seconds=COMMIT_SECONDS):
        self.seconds, self.last = seconds, None

    def due(self, final=False):
        """Whether the epoch that just ended should be committed now."""
        return final or self.last is None or time.monotonic() - self.last >= self.seconds

    def done(self):
        """A commit has just ended."""
        self.last = time.monotonic()


def metrics_bytes(history, columns=()):
    """The epoch history as CSV: the common columns, then the task's (`columns`)."""
    if not columns:  # a history read back from a checkpoint names its task's columns
        columns = [c for c in ("val_mse", "val_mae", "val_r2") if any(c in r for r in history)]
    names = [*METRIC_COLUMNS, *columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, names, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in history:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in names})
    return buffer.getvalue().encode("utf-8")


def state_bytes(state):
    """`state` as torch.save writes it, tensors on the CPU (torch.load(weights_only=True)
    reads it back)."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def cpu_state(model):
    """The model's state_dict with every tensor on the CPU."""
    return {k: v.detach().cpu() for k, v in model.state_dict().items()}


def checkpoint_state(model, optimizer, scheduler, epoch, settings, graph_hash, history):
    """What checkpoint.pt holds: enough to resume at `epoch`, and what trained it."""
    return {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "epoch": epoch,
        "model": cpu_state(model),
        "optimizer": optimizer.state_dict(),
        "optimizer_type": type(optimizer).__name__,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "settings": dict(settings),
        "graph_hash": graph_hash,
        "history": history,
    }


def write_file(path, data):
    """Write `data` through a temporary file in the same folder, flushed and synced, then
    renamed, so that a killed process never leaves half a file."""
    folder = os.path.dirname(path) or "."
    fd, temporary = tempfile.mkstemp(
        prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder
    )
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def commit_epoch(folder, epoch, blobs, keep=(), write=write_file):
    """Commit one epoch's files (role -> bytes) at once: each under a new name, then
    manifest.json names them (the commit), then they take their plain names. A failure
    before the commit removes the new files; `keep` names files the last commit holds."""
    files, written = {}, []
    try:
        for role, data in blobs.items():
            digest = hashlib.sha256(data).hexdigest()
            stem, suffix = STABLE_NAMES[role].split(".")
            name = f"{stem}.{digest[:16]}.{suffix}"
            write(os.path.join(folder, name), data)
            written.append(name)
            files[role] = {"name": name, "sha256": digest}
        write_manifest(folder, epoch, files, write)
    except BaseException:
        for name in written:
            if name not in keep:
                path = os.path.join(folder, name)
                if os.path.exists(path):
                    os.unlink(path)
        raise
    plain_names(folder, epoch, files, write)


def plain_names(folder, epoch, files, write=write_file):
    """Rename committed files to their plain names, then name those in the manifest."""
    moved = False
    for role, entry in files.items():
        if entry["name"] != STABLE_NAMES[role]:
            os.replace(
                os.path.join(folder, entry["name"]), os.path.join(folder, STABLE_NAMES[role])
            )
            entry["name"] = STABLE_NAMES[role]
            moved = True
    if moved:  # until this rewrite, readers find the moved files by their sha256
        write_manifest(folder, epoch, files, write)


def write_manifest(folder, epoch, files, write=write_file):
    """manifest.json: the run's committed epoch and each file's name and sha256."""
    data = {"format": RUN_FORMAT, "version": 1, "epoch": epoch, "files": files}
    write(os.path.join(folder, "manifest.json"), (json.dumps(data, indent=1) + "\n").encode())
    sync_folder(folder)


def sync_folder(folder):
    """Make the renames durable too (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
