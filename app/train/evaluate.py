"""What a finished run shows of its predictions: the probe samples and the confusion table.

The scores themselves come from core/loop.py's evaluate and the task (core/tasks.py)."""

from __future__ import annotations

import torch

from torchcanvas.app.train.inputs import call, first


def probe_predictions(model, probe_x, probe_y, mean, std, task) -> dict:
    """The probe images (de-normalized), their labels (or targets) and the model's predictions."""
    model.eval()
    with torch.no_grad():
        out = call(model, probe_x).float()
    predicted = task.predictions(out).cpu().tolist()
    images = first(probe_x).float().cpu()  # several Inputs: the first is pictured
    if isinstance(mean, dict):
        mean, std = next(iter(mean.values())), next(iter(std.values()))
    mean, std = torch.tensor(mean or [0.0]), torch.tensor(std or [1.0])
    if images.ndim == 4 and len(mean) in (1, images.shape[1]):
        images = images * std.view(1, -1, 1, 1) + mean.view(1, -1, 1, 1)
    return {"images": images.numpy(), "true": probe_y.cpu().tolist(), "predicted": predicted}


def confusion_text(matrix: torch.Tensor, names: list[str]) -> str:
    """The confusion matrix as an aligned table."""
    labels = [n[:8] for n in names]
    width = max(5, *(len(n) for n in labels), len(str(int(matrix.max()) if matrix.numel() else 0)))
    corner = "true \\ predicted"
    first = max(len(corner), *(len(n) for n in labels)) + 2  # the row names' column
    lines = [corner.ljust(first) + " ".join(n.rjust(width) for n in labels)]
    for name, row in zip(labels, matrix.tolist()):
        lines.append(name.ljust(first) + " ".join(str(v).rjust(width) for v in row))
    return "\n".join(lines)
