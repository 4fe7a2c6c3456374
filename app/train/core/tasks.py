"""What a task means for training: the targets the loss sees, what is counted while training
and validating, and the columns of an epoch's row."""

import torch
from torch import nn

LABEL_LOSSES = (nn.CrossEntropyLoss, nn.NLLLoss)  # losses that take class indices


class ClassificationTask:
    """Class labels in, one score per class out: accuracy and a confusion matrix."""

    name = "classification"
    columns = ()  # metrics.csv's columns after the common ones

    def __init__(self, classes):
        self.classes = classes

    def loss_targets(self, labels, loss_fn):
        """Class indices for label losses, one-hot rows for losses that compare vectors."""
        if isinstance(loss_fn, LABEL_LOSSES):
            return labels
        return nn.functional.one_hot(labels, self.classes).float()

    def tally(self, evaluating):
        """A fresh counter for one pass (a confusion matrix when evaluating)."""
        return ClassTally(self.classes, evaluating)

    def epoch_row(self, train, val):
        """The task's part of an epoch's row from the training and validation scores."""
        return {
            "train_acc": train.get("acc"),
            "val_loss": val.get("loss"),
            "val_acc": val.get("acc"),
        }

    def headline(self, scores):
        """The one score a status line shows."""
        return f"accuracy {scores['acc']:.2%}"


class ClassTally:
    """Correct predictions (and the confusion matrix) of one pass."""

    def __init__(self, classes, evaluating):
        self.classes, self.evaluating = classes, evaluating
        self.correct = self.confusion = None

    def add(self, output, labels):
        """Count one batch."""
        predicted = output.argmax(1)
        if self.evaluating:
            pairs = torch.bincount(labels * self.classes + predicted, minlength=self.classes**2)
            self.confusion = pairs if self.confusion is None else self.confusion + pairs
        else:
            right = (predicted == labels).sum()
            self.correct = right if self.correct is None else self.correct + right

    def scores(self, loss, count):
        """{"loss", "acc"} and, when evaluating, the confusion matrix (rows: true class)."""
        scores = {"loss": float(loss) / max(count, 1) if loss is not None else 0.0}
        if not self.evaluating:
            scores["acc"] = float(self.correct) / max(count, 1) if count else 0.0
            return scores
        matrix = torch.zeros(self.classes, self.classes, dtype=torch.long)
        if self.confusion is not None:
            matrix = self.confusion.view(self.classes, self.classes).cpu()
        scores["acc"] = float(matrix.diag().sum()) / max(count, 1)
        scores["confusion"] = matrix
        return scores


class RegressionTask:
    """Real-valued targets: MSE, MAE and R² (per target column, averaged)."""

    name = "regression"
    columns = ("val_mse", "val_mae", "val_r2")

    def __init__(self, classes=0):
        self.classes = 0

    def loss_targets(self, targets, loss_fn):
        """Real-valued targets are what every regression loss takes."""
        return targets

    def tally(self, evaluating):
        """A fresh collector for one pass (predictions are kept only when evaluating)."""
        return ValueTally(evaluating)

    def epoch_row(self, train, val):
        """The task's part of an epoch's row: no accuracy; validation MSE, MAE and R²."""
        row = {"train_acc": None, "val_loss": val.get("loss"), "val_acc": None}
        row.update({f"val_{k}": val.get(k) for k in ("mse", "mae", "r2")})
        return row

    def headline(self, scores):
        """The one score a status line shows."""
        r2 = "n/a" if scores.get("r2") is None else f"{scores['r2']:.3f}"
        return f"R² {r2}, MAE {scores['mae']:.4g}"


class ValueTally:
    """The predictions and targets of one validation pass."""

    def __init__(self, evaluating):
        self.evaluating = evaluating
        self.predicted, self.true = [], []

    def add(self, output, targets):
        """Keep one batch (when evaluating)."""
        if self.evaluating:
            self.predicted.append(output)
            self.true.append(targets)

    def scores(self, loss, count):
        """{"loss"} and, when evaluating, MSE, MAE, R² and the predictions."""
        if not self.evaluating:
            return {"loss": float(loss) / max(count, 1) if loss is not None else 0.0}
        if not self.true:
            return {"loss": None, "mse": None, "mae": None, "r2": None}
        predicted, true = torch.cat(self.predicted).cpu(), torch.cat(self.true).cpu()
        metrics = regression_metrics(predicted, true)
        return {"loss": float(loss) / count, **metrics, "predicted": predicted, "true": true}


def regression_metrics(predicted, true):
    """MSE and MAE over every value; R² per target column, averaged (as scikit-learn does)."""
    predicted = predicted.double().reshape(len(true), -1)
    true = true.double().reshape(len(true), -1)
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


TASK_TYPES = {"classification": ClassificationTask, "regression": RegressionTask}
