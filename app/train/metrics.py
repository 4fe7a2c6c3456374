"""metrics.csv: one row per epoch."""

from __future__ import annotations

import csv
import io

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
REGRESSION_COLUMNS = ["val_mse", "val_mae", "val_r2"]  # after the others, for regression runs


def metrics_bytes(history: list[dict]) -> bytes:
    """The epoch history as CSV."""
    regression = any("val_r2" in row for row in history)
    columns = COLUMNS + REGRESSION_COLUMNS if regression else COLUMNS
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in history:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in columns})
    return buffer.getvalue().encode("utf-8")
