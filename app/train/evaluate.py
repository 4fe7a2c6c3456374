"""Loss, accuracy and confusion matrix of a model over batches."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from torchcanvas.app.train.job import LOSS_NEEDS_LABELS


def targets_for(loss_name: str, labels: torch.Tensor, classes: int) -> torch.Tensor:
    """Class labels for classification losses, one-hot floats for regression-style losses."""
    if loss_name in LOSS_NEEDS_LABELS:
        return labels
    return F.one_hot(labels, classes).float()


@torch.no_grad()
def evaluate(
    model, batches, loss_fn, loss_name: str, classes: int, device, autocast_dtype=None
) -> tuple[float, float, torch.Tensor]:
    """(mean loss, accuracy, confusion matrix with rows = true class, columns = predicted)."""
    was_training = model.training
    model.eval()
    confusion = torch.zeros(classes * classes, dtype=torch.long, device=device)
    total = torch.zeros((), device=device)
    count = 0
    for xb, yb in batches:
        with torch.autocast(device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
            out = model(xb).float()
        total += loss_fn(out, targets_for(loss_name, yb, classes)) * len(yb)
        confusion += torch.bincount(yb * classes + out.argmax(1), minlength=classes**2)
        count += len(yb)
    model.train(was_training)
    matrix = confusion.view(classes, classes).cpu()
    return float(total) / max(count, 1), float(matrix.diag().sum()) / max(count, 1), matrix


def tensor_batches(x: torch.Tensor, y: torch.Tensor, size: int):
    """Consecutive slices of in-memory data."""
    for start in range(0, len(x), size):
        yield x[start : start + size], y[start : start + size]


def probe_predictions(model, probe_x, probe_y, mean, std) -> dict:
    """The probe images (de-normalized), their labels and the model's predictions."""
    model.eval()
    with torch.no_grad():
        predicted = model(probe_x).float().argmax(1).cpu().tolist()
    images = probe_x.float().cpu()
    mean, std = torch.tensor(mean or [0.0]), torch.tensor(std or [1.0])
    if images.ndim == 4 and len(mean) in (1, images.shape[1]):
        images = images * std.view(1, -1, 1, 1) + mean.view(1, -1, 1, 1)
    return {"images": images.numpy(), "true": probe_y.cpu().tolist(), "predicted": predicted}


def confusion_text(matrix: torch.Tensor, names: list[str]) -> str:
    """The confusion matrix as an aligned table."""
    labels = [n[:8] for n in names]
    width = max(5, *(len(n) for n in labels), len(str(int(matrix.max()) if matrix.numel() else 0)))
    lines = ["true \\ predicted".ljust(width + 2) + " ".join(n.rjust(width) for n in labels)]
    for name, row in zip(labels, matrix.tolist()):
        lines.append(name.ljust(width + 2) + " ".join(str(v).rjust(width) for v in row))
    return "\n".join(lines)
