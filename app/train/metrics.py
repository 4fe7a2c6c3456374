"""metrics.csv: one row per epoch."""

from __future__ import annotations

import csv
import io

from torchcanvas.graph.fileio import atomic_write

COLUMNS = [
    "epoch",
    "train_loss",
    "train_acc",
    "val_loss",
    "val_acc",
    "lr",
    "seconds",
    "samples_per_s",
]


def write_metrics(path, history: list[dict]) -> None:
    """Write the epoch history as CSV, atomically."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in history:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in COLUMNS})
    atomic_write(path, buffer.getvalue().encode("utf-8"))
