"""The events a Trainer reports that are plain summaries of its state."""

from __future__ import annotations

import math

SCATTER_POINTS = 2000  # validation predictions sent with a finished regression run


def steps_per_epoch(trainer) -> int:
    """Optimizer steps in one pass over the training split."""
    return math.ceil(trainer.data.train_size / trainer.settings["batch_size"])


def started_event(trainer) -> dict:
    """What the run trains: device, sizes, task, classes or targets, parameters, precision."""
    dtype = trainer.autocast_dtype
    return {
        "type": "started",
        "device": str(trainer.device),
        "epochs": trainer.settings["epochs"],
        "start_epoch": trainer.start_epoch,
        "steps_per_epoch": steps_per_epoch(trainer),
        "train_size": trainer.data.train_size,
        "val_size": trainer.data.val_size,
        "classes": trainer.data.class_names,
        "task": trainer.settings.get("task", "classification"),
        "targets": trainer.data.target_names,
        "parameters": sum(p.numel() for p in trainer.model.parameters()),
        "amp": str(dtype).replace("torch.", "") if dtype else "off",
        "in_memory": trainer.data.in_memory,
    }


def progress_event(trainer, step: int, now: float) -> dict:
    """Where the epoch is, the speed and the time left."""
    elapsed = now - trainer.t0
    rate = trainer.samples_seen / elapsed if elapsed > 0 else 0.0
    left = trainer.run_samples - trainer.samples_seen
    return {
        "type": "progress",
        "epoch": trainer.epoch,
        "epochs": trainer.settings["epochs"],
        "step": step,
        "steps_per_epoch": steps_per_epoch(trainer),
        "samples_per_s": rate,
        "elapsed": elapsed,
        "eta": left / rate if rate > 0 else None,
        "global_step": trainer.global_step,
    }


def final_scores(scores: dict, regression: bool) -> dict:
    """The finished event's validation part: a confusion matrix, or metrics and a scatter."""
    if not regression:
        confusion = scores["confusion"].tolist()
        return {"val_loss": scores["loss"], "val_acc": scores["acc"], "confusion": confusion}
    if scores.get("true") is None:
        return {f"val_{k}": scores[k] for k in ("loss", "mse", "mae", "r2")}
    true = scores["true"].reshape(len(scores["true"]), -1)
    predicted = scores["predicted"].reshape(len(true), -1)
    return {
        **{f"val_{k}": scores[k] for k in ("loss", "mse", "mae", "r2")},
        # predicted against true for the first target: enough points for a plot
        "scatter": {
            "true": true[:SCATTER_POINTS, 0].tolist(),
            "predicted": predicted[:SCATTER_POINTS, 0].tolist(),
        },
    }
