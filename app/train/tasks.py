"""The training tasks as the app sees them: each one owns how its targets are read and
checked, the losses that fit it, its metrics' words, its curves and its results view.

The torch-only half (loss targets, tallies, the epoch row) lives in core/tasks.py, which the
exported training script carries; these classes add what only the app and the CLI need.
Nothing outside this module branches on the task's name.
"""

from __future__ import annotations

from torchcanvas.app.train.bundle import SOURCE_TITLES, DataError, shape_text
from torchcanvas.app.train.core.tasks import ClassificationTask, RegressionTask
from torchcanvas.graph.settings import DEFAULT_LOSS, REGRESSION_LOSSES

SCATTER_POINTS = 2000  # validation predictions sent with a finished regression run


class Classification(ClassificationTask):
    """Class labels: one score per class out; accuracy, a confusion matrix, probe pictures."""

    default_loss = DEFAULT_LOSS["classification"]
    score_label = "accuracy"  # the middle plot's axis
    score_percent = True  # the axis runs from 0 to 100%
    series = (("train_acc", "train accuracy"), ("val_acc", "validation accuracy"))
    results = "confusion"  # what the Results tab shows
    probes_show_classes = True

    def predictions(self, output):
        """What the model predicts from its output: the class with the highest score."""
        return output.argmax(1)

    def ranked(self, output, record: dict, top: int) -> list[list[tuple[str, float]]]:
        """Per sample, the `top` classes with their softmax probabilities, best first."""
        import torch

        probabilities = torch.softmax(output.float(), dim=1)
        # A stable sort puts the prediction (argmax: the first highest) first
        order = output.argsort(dim=1, descending=True, stable=True)[:, : max(1, top)]
        order[:, 0] = self.predictions(output)
        names = record["class_names"]
        return [
            [(names[i] if i < len(names) else f"class {i}", float(p[i])) for i in row.tolist()]
            for p, row in zip(probabilities, order)
        ]

    def builtin_problem(self, source: str) -> str | None:
        """Why a built-in data set cannot serve this task (None: every one can)."""
        return None

    def loss_problem(self, loss: str) -> str | None:
        """Why `loss` does not fit this task (None: it does)."""
        return None

    def table_targets(self, rows, where, targets: list[str]):
        """(labels, class names) of a table's target column."""
        from torchcanvas.app.train.tables import class_labels

        return class_labels(rows, where, targets)

    def check_target_columns(self, targets: list[str]) -> None:
        """One column of class labels."""
        if len(targets) != 1:
            raise DataError(
                f"classification takes one target column of class labels; targets names "
                f"{len(targets)} ({', '.join(targets)}). Set task to regression for several."
            )

    def array_targets(self, arrays: dict, targets: list[str], file: str, count: int, classes=None):
        """(labels, class names) of an archive's target array (labels below `classes`)."""
        from torchcanvas.app.train.arrays import class_labels

        return class_labels(arrays, targets, file, classes)

    def check_output(self, bundle, output_shape: tuple[int, ...], loss: str) -> None:
        """Refuse a model whose output does not give one score per class."""
        want = bundle.num_classes
        if tuple(output_shape) == (want,):
            return
        title = SOURCE_TITLES.get(bundle.name, bundle.name)
        if len(output_shape) != 1:
            raise DataError(
                f"the model outputs {shape_text(output_shape)} per sample but "
                f"{loss} on {title} needs one score per class ({want},); add a "
                f"Flatten and a Linear with out_features={want} before the Output."
            )
        raise DataError(
            f"the model outputs {output_shape[0]} values per sample but {title} has "
            f"{want} classes; set the last Linear's out_features to {want}."
        )

    def target_lines(self, bundle) -> list[str]:
        """What the data's targets are, for the data preview."""
        names = ", ".join(bundle.class_names[:8]) + (" …" if len(bundle.class_names) > 8 else "")
        return [f"{bundle.num_classes} classes: {names}"]

    def epoch_text(self, row: dict) -> str:
        """The validation part of an epoch's status line ('' before validation)."""
        acc = row.get("val_acc")
        return f", validation accuracy {acc:.1%}" if acc is not None else ""

    def finish_text(self, event: dict) -> str:
        """The validation sentence of a finished run's status line."""
        acc = event.get("val_acc")
        return f" Validation accuracy {acc:.2%}." if acc is not None else ""

    def console_epoch(self, row: dict) -> str:
        """What `torchcanvas train` prints of an epoch after its training loss."""
        val = ""
        if row["val_loss"] is not None:
            val = f"  val loss {row['val_loss']:.4f} acc {row['val_acc']:.2%}"
        return f" acc {row['train_acc']:.2%}{val}"

    def console_finish(self, event: dict) -> tuple[str, str]:
        """(a line printed before the final one, the final line's validation part)."""
        acc = f", validation accuracy {event['val_acc']:.2%}" if "val_acc" in event else ""
        return "", acc

    def results_summary(self, event: dict) -> str | None:
        """The Results tab's line on the validation scores (None: not validated)."""
        if "val_acc" not in event:
            return None
        return f"Validation accuracy <b>{event['val_acc']:.2%}</b>, loss {event['val_loss']:.4f}"

    def final_scores(self, scores: dict) -> dict:
        """The finished event's validation part: loss, accuracy and the confusion matrix."""
        confusion = scores["confusion"].tolist()
        return {"val_loss": scores["loss"], "val_acc": scores["acc"], "confusion": confusion}

    def report_lines(self, scores: dict, class_names: list[str]) -> list[str]:
        """`torchcanvas eval`'s lines: loss, accuracy and the confusion matrix."""
        from torchcanvas.app.train.evaluate import confusion_text

        return [
            f"loss: {scores['loss']:.4f}",
            f"accuracy: {scores['acc']:.2%}",
            confusion_text(scores["confusion"], class_names),
        ]


class Regression(RegressionTask):
    """Real-valued targets: MSE, MAE and R²; predicted-vs-true and residual plots."""

    default_loss = DEFAULT_LOSS["regression"]
    score_label = "R²"
    score_percent = False  # R² is at most 1, with no floor: the axis follows the values
    series = (("val_r2", "validation R²"),)
    results = "scatter"
    probes_show_classes = False

    def predictions(self, output):
        """What the model predicts: its output values."""
        return output

    def ranked(self, output, record: dict, top: int) -> list[list[tuple[str, float]]]:
        """Per sample, each target's value, named by the record's targets."""
        flat = self.predictions(output).reshape(len(output), -1)
        names = record["targets"]
        if len(names) != flat.shape[1]:
            names = [f"value {i}" for i in range(flat.shape[1])]
        return [list(zip(names, map(float, row))) for row in flat]

    def builtin_problem(self, source: str) -> str | None:
        """Built-in data sets give class labels, not real values."""
        return (
            f"regression needs real-valued targets, and {SOURCE_TITLES.get(source, source)} "
            f"gives class labels; choose the csv or npz data source."
        )

    def loss_problem(self, loss: str) -> str | None:
        """A classification loss on real-valued targets."""
        if loss in REGRESSION_LOSSES:
            return None
        return (
            f"{loss} is a classification loss; regression trains with "
            f"{', '.join(REGRESSION_LOSSES)}."
        )

    def table_targets(self, rows, where, targets: list[str]):
        """(real values, no class names) of a table's target columns."""
        import torch

        from torchcanvas.app.train.tables import numbers

        y = torch.tensor([numbers(rows, where, column) for column in targets]).T
        return y.float(), []

    def check_target_columns(self, targets: list[str]) -> None:
        """Any number of real-valued columns."""

    def array_targets(self, arrays: dict, targets: list[str], file: str, count: int, classes=None):
        """(real values, no class names) of an archive's target arrays; one shaped target
        keeps its shape."""
        import numpy as np
        import torch

        from torchcanvas.app.train.arrays import finite

        y = np.concatenate([finite(arrays[n], n, file).reshape(count, -1) for n in targets], 1)
        if len(targets) == 1 and arrays[targets[0]].ndim > 2:
            y = arrays[targets[0]]
        return torch.from_numpy(y.astype(np.float32)), []

    def check_output(self, bundle, output_shape: tuple[int, ...], loss: str) -> None:
        """Refuse a classification loss, or an output that is not the targets' shape."""
        problem = self.loss_problem(loss)
        if problem:
            raise DataError(problem)
        want = bundle.target_shape
        if tuple(output_shape) == want:
            return
        hint = (
            f"set the last Linear's out_features to {want[0]}"
            if len(want) == 1 and len(output_shape) == 1
            else f"make the model output {shape_text(want)} per sample"
        )
        raise DataError(
            f"the model outputs {shape_text(output_shape)} values per sample but the regression "
            f"targets ({', '.join(bundle.target_names)}) are {shape_text(want)}; {hint}."
        )

    def target_lines(self, bundle) -> list[str]:
        """What the data's targets are, for the data preview."""
        return [f"targets (real values): {', '.join(bundle.target_names) or 'y'}"]

    def epoch_text(self, row: dict) -> str:
        """The validation part of an epoch's status line ('' before validation)."""
        if row.get("val_r2") is None:
            return ""
        return f", validation R² {row['val_r2']:.3f}, MAE {row['val_mae']:.4g}"

    def finish_text(self, event: dict) -> str:
        """The validation sentence of a finished run's status line."""
        if "val_r2" not in event:
            return ""
        r2 = "n/a" if event["val_r2"] is None else f"{event['val_r2']:.3f}"
        return f" Validation R² {r2}, MAE {event['val_mae']:.4g}."

    def console_epoch(self, row: dict) -> str:
        """What `torchcanvas train` prints of an epoch after its training loss."""
        return f"  val {scores_text(row, 'val_')}" if row["val_loss"] is not None else ""

    def console_finish(self, event: dict) -> tuple[str, str]:
        """(a line printed before the final one, the final line's validation part)."""
        if event.get("val_mae") is None:
            return "", ""
        return f"validation {scores_text(event, 'val_')}\n", ""

    def results_summary(self, event: dict) -> str | None:
        """The Results tab's line on the validation scores (None: not validated)."""
        if "val_r2" not in event:
            return None
        r2 = "n/a" if event["val_r2"] is None else f"{event['val_r2']:.3f}"
        return f"Validation R² <b>{r2}</b>, MAE {event['val_mae']:.4g}, MSE {event['val_mse']:.4g}"

    def final_scores(self, scores: dict) -> dict:
        """The finished event's validation part: the metrics and a predicted-vs-true sample."""
        metrics = {f"val_{k}": scores[k] for k in ("loss", "mse", "mae", "r2")}
        if scores.get("true") is None:
            return metrics
        true = scores["true"].reshape(len(scores["true"]), -1)
        predicted = scores["predicted"].reshape(len(true), -1)
        # predicted against true for the first target: enough points for a plot
        scatter = {
            "true": true[:SCATTER_POINTS, 0].tolist(),
            "predicted": predicted[:SCATTER_POINTS, 0].tolist(),
        }
        return {**metrics, "scatter": scatter}

    def report_lines(self, scores: dict, class_names: list[str]) -> list[str]:
        """`torchcanvas eval`'s line: loss, MSE, MAE and R²."""
        if scores.get("loss") is None:
            return ["no samples to evaluate"]
        return [scores_text(scores)]


def scores_text(scores: dict, prefix: str = "") -> str:
    """'loss 0.0123 MSE 0.0123 MAE 0.0871 R² 0.9991' (a missing R²: n/a)."""
    r2 = scores.get(f"{prefix}r2")
    return (
        f"loss {scores[f'{prefix}loss']:.4f} MSE {scores[f'{prefix}mse']:.4g} "
        f"MAE {scores[f'{prefix}mae']:.4g} R² {'n/a' if r2 is None else f'{r2:.4f}'}"
    )


TASKS = {"classification": Classification, "regression": Regression}


def task_for(settings: dict, classes: int = 0):
    """The task object of a run's settings (the class count from its data)."""
    name = settings.get("task", "classification")
    if name not in TASKS:
        raise DataError(f"unknown task {name!r}; choose {' or '.join(TASKS)}.")
    return TASKS[name](classes)


def task_named(name: str | None):
    """The task object called `name` (classification when unnamed), for views and reports."""
    return TASKS.get(name or "classification", Classification)(0)


def fitting_loss(task: str, loss: str, ends_in_log_softmax: bool = False) -> str:
    """The loss to train `task` with when it is chosen: `loss` if it fits, else the task's
    own (NLLLoss for a classifier whose last layer is LogSoftmax: it outputs log-probabilities)."""
    if task == "regression":
        return loss if loss in REGRESSION_LOSSES else DEFAULT_LOSS["regression"]
    if loss not in REGRESSION_LOSSES:
        return loss
    return "NLLLoss" if ends_in_log_softmax else DEFAULT_LOSS["classification"]


def gives_log_probs(model) -> bool:
    """Whether the design's one Output comes straight from a LogSoftmax."""
    outputs = model.nodes_of_type("Output")
    edges = model.inputs(outputs[0]) if len(outputs) == 1 else []
    return len(edges) == 1 and model.node_type(edges[0].src) == "LogSoftmax"
