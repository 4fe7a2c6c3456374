"""Loss, accuracy and confusion matrix of a classifier, loss, MSE, MAE and R² of a regressor."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from torchcanvas.app.train.inputs import call, first
from torchcanvas.app.train.job import LOSS_NEEDS_LABELS


def targets_for(loss_name: str, labels: torch.Tensor, classes: int) -> torch.Tensor:
    """Class labels for classification losses, one-hot floats for regression-style losses.

    Real-valued targets (regression) are already what every regression loss takes.
    """
    if loss_name in LOSS_NEEDS_LABELS or labels.is_floating_point():
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
            out = call(model, xb).float()
        total += loss_fn(out, targets_for(loss_name, yb, classes)) * len(yb)
        confusion += torch.bincount(yb * classes + out.argmax(1), minlength=classes**2)
        count += len(yb)
    model.train(was_training)
    matrix = confusion.view(classes, classes).cpu()
    return float(total) / max(count, 1), float(matrix.diag().sum()) / max(count, 1), matrix


@torch.no_grad()
def evaluate_regression(model, batches, loss_fn, device, autocast_dtype=None) -> dict:
    """{"loss", "mse", "mae", "r2"} over all batches, and the predictions and targets."""
    was_training = model.training
    model.eval()
    total = torch.zeros((), device=device)
    predicted, true = [], []
    for xb, yb in batches:
        with torch.autocast(device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
            out = call(model, xb).float()
        total += loss_fn(out, yb) * len(yb)
        predicted.append(out)
        true.append(yb)
    model.train(was_training)
    if not true:
        return {"loss": None, "mse": None, "mae": None, "r2": None}
    predicted, true = torch.cat(predicted).cpu(), torch.cat(true).cpu()
    metrics = regression_metrics(predicted, true)
    return {"loss": float(total) / len(true), **metrics, "predicted": predicted, "true": true}


def regression_metrics(predicted: torch.Tensor, true: torch.Tensor) -> dict:
    """MSE and MAE over every value; R² per target column, averaged (as scikit-learn does)."""
    predicted, true = (
        predicted.double().reshape(len(true), -1),
        true.double().reshape(len(true), -1),
    )
    error = predicted - true
    residual = (error**2).sum(dim=0)
    spread = ((true - true.mean(dim=0)) ** 2).sum(dim=0)
    varying = spread > 0  # a constant column has no variance to explain
    r2 = (1 - residual[varying] / spread[varying]).mean() if varying.any() else None
    return {
        "mse": float((error**2).mean()),
        "mae": float(error.abs().mean()),
        "r2": float(r2) if r2 is not None else None,
    }


def tensor_batches(x: torch.Tensor, y: torch.Tensor, size: int):
    """Consecutive slices of in-memory data."""
    for start in range(0, len(x), size):
        yield x[start : start + size], y[start : start + size]


def probe_predictions(model, probe_x, probe_y, mean, std) -> dict:
    """The probe images (de-normalized), their labels (or targets) and the model's predictions."""
    model.eval()
    with torch.no_grad():
        out = call(model, probe_x).float()
    regression = probe_y.is_floating_point()
    predicted = (out if regression else out.argmax(1)).cpu().tolist()
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
