"""Predictions on new inputs with a run's weights: image files or rows of a CSV table in,
the top classes with their probabilities (or the regression values) out.

Raw inputs become the model's input as training made them: images through the image
folder source's own transform, table rows through the table reader's checks, then the
scale, reshape and statistics of the run's preprocess record. The scores come from
core's `forward` and the task's `predictions`. No Qt here: the CLI and the window share it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from torchcanvas.app.train.bundle import DataError

TABLE_SUFFIXES = (".csv", ".tsv", ".tab", ".txt")
IMAGE_SCALE = 255.0  # ToTensor divides 0..255 pixels by this, as the image sources do
BATCH = 256
DEFAULT_TOP = 3


class PredictError(ValueError):
    """Inputs or weights that cannot be predicted on; `details` lists what did not fit."""

    def __init__(self, message: str, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.details = details or []


@dataclass
class Prediction:
    """What the model says about one input: ranked (class, probability) or (target, value)."""

    label: str  # "cat.png", or "wine.csv:7" for the row on line 7
    path: str
    pairs: list[tuple[str, float]] = field(default_factory=list)
    classes: bool = True

    def text(self) -> str:
        """'cat 0.912  dog 0.071' or 'progression 151.3'."""
        form = "{:.3f}" if self.classes else "{:.4g}"
        return "  ".join(f"{name} {form.format(value)}" for name, value in self.pairs)


@dataclass
class Predictor:
    """A model with a run's weights and the record of how its inputs were prepared."""

    model: torch.nn.Module
    task: object
    record: dict
    entry: dict  # the record's one Input
    spec: object  # the design's one Input (inputs.InputSpec)


def load_predictor(project, weights) -> Predictor:
    """The project's model with `weights` (a run folder or its model.pt) loaded strictly.

    Raises PredictError (a WeightsError's report as details) when they cannot serve.
    """
    from torchcanvas.app.train.inputs import input_specs
    from torchcanvas.app.train.preprocess import PreprocessError, find_record, misfit
    from torchcanvas.app.train.tasks import task_for
    from torchcanvas.app.train.weights import WeightsError, apply, read_state_dict
    from torchcanvas.codegen.build import build_model

    specs = input_specs(project.model.analysis())
    if len(specs) != 1:
        raise PredictError(f"predict takes models of one Input; this one has {len(specs)}")
    try:
        model = build_model(project.model)
        apply(model, read_state_dict(weights), strict=True)
        record, _ = find_record(weights)
    except WeightsError as error:
        raise PredictError(str(error), error.report.lines() if error.report else []) from None
    except PreprocessError as error:
        raise PredictError(str(error)) from None
    if record is None:
        raise PredictError(
            f"no preprocess record with {weights} (a run from before they were saved, or a "
            f"plain state_dict): predict needs a run folder or the model.pt inside one"
        )
    problem = misfit(record, specs, record["source"])
    if problem:
        raise PredictError(f"the preprocess record of {weights} does not fit: {problem}")
    task = task_for({"task": record.get("task", "classification")}, len(record["class_names"]))
    return Predictor(model.eval(), task, record, record["inputs"][0], specs[0])


def predict_files(predictor: Predictor, paths, top: int = DEFAULT_TOP) -> list[Prediction]:
    """One Prediction per image file and per table row, in the order given."""
    labels, paths_of, batches = [], [], []
    for path in map(Path, paths):
        x, row_labels = read_input(predictor, path)
        labels += row_labels
        paths_of += [str(path)] * len(row_labels)
        batches.append(x)
    if not batches:
        return []
    output = scores(predictor, model_input(predictor, torch.cat(batches)))
    ranked = rank(predictor, output, top)
    return [
        Prediction(lab, p, pairs, predictor.task.probes_show_classes)
        for lab, p, pairs in zip(labels, paths_of, ranked)
    ]


def read_input(predictor: Predictor, path: Path) -> tuple[torch.Tensor, list[str]]:
    """(raw samples, their labels) of one file: a table's rows, or one image."""
    if not path.is_file():
        raise PredictError(f"{path}: no such file")
    source = predictor.record["source"]
    if source == "csv":
        if path.suffix.lower() not in TABLE_SUFFIXES:
            raise PredictError(
                f"{path}: this run was trained on table rows; give a CSV file with the "
                f"columns {', '.join(predictor.record['features'])}"
            )
        return read_rows(path, predictor.record["features"])
    if predictor.record.get("scale") != IMAGE_SCALE or not _image_shape(predictor.entry):
        raise PredictError(
            f"predict reads image files and CSV rows; this run was trained on "
            f"{predictor.record.get('title', source)}, which is neither"
        )
    if path.suffix.lower() in TABLE_SUFFIXES:
        raise PredictError(f"{path}: this run was trained on images; give image files")
    return read_image(path, image_of(predictor.record)).unsqueeze(0), [path.name]


def image_of(record: dict) -> dict:
    """How the run read its images: the record's `image` entry, or (records from before it
    was kept) the image folder's stretch to the Input's size."""
    from torchcanvas.app.train.images import image_spec

    return record.get("image") or image_spec(record["inputs"][0]["shape"])


def _image_shape(entry: dict) -> bool:
    shape = entry["shape"]
    return len(shape) == 3 and shape[0] in (1, 3) and entry["dtype"] == "float32"


def read_image(path: Path, spec: dict) -> torch.Tensor:
    """One image file as the image folder source reads it (`spec`: images.image_spec):
    (C, H, W) values 0..1."""
    from torchcanvas.app.train.images import image_transform
    from torchcanvas.app.train.sources import UnreadableImage, checked_image

    try:
        image = checked_image(str(path))  # what the image folder source opens each file with
    except UnreadableImage as error:
        raise PredictError(f"{path}: not an image that can be read ({error.why})") from None
    return image_transform(spec)(image)


def read_rows(path: Path, features: list[str]) -> tuple[torch.Tensor, list[str]]:
    """(N, F) float rows of a table's FEATURES columns, labelled 'file:line'."""
    from torchcanvas.app.train.tables import Where, column_list, numbers, parse_table

    try:
        header, rows, lines = parse_table(path)
        missing = [name for name in features if name not in header]
        if missing:
            raise DataError(
                f"{path.name} has no feature column {missing[0]!r} (the run was trained on "
                f"{column_list(features)}); its columns are {column_list(header)}"
            )
        where = Where(path.name, header, lines)
        x = torch.tensor([numbers(rows, where, column) for column in features]).T
    except DataError as error:
        raise PredictError(str(error).rstrip(".")) from None
    return x.float().reshape(len(rows), len(features)), [f"{path.name}:{n}" for n in lines]


def model_input(predictor: Predictor, x: torch.Tensor) -> torch.Tensor:
    """Raw samples -> the model's input: shaped, typed and standardized as in training."""
    from torchcanvas.app.train.core.data import normalize, standardized
    from torchcanvas.app.train.inputs import as_input
    from torchcanvas.app.train.preprocess import FILE_SOURCES

    entry, record = predictor.entry, predictor.record
    if record["source"] == "csv":
        from torchcanvas.app.train.tables import fit_rows

        try:
            x = fit_rows(x, tuple(entry["shape"]), record["features"], "the rows")
            x = as_input(x, predictor.spec, "the rows")
        except DataError as error:
            raise PredictError(str(error).rstrip(".")) from None
    if not entry["mean"]:
        return x
    # File sources standardize per feature, the built-in ones per channel (data.py)
    scale = standardized if record["source"] in FILE_SOURCES else normalize
    return scale(x, entry["mean"], entry["std"])


def scores(predictor: Predictor, x: torch.Tensor) -> torch.Tensor:
    """The model's output for prepared samples, in batches, without gradients."""
    from torchcanvas.app.train.core.loop import forward

    with torch.no_grad():
        parts = [forward(predictor.model, x[i : i + BATCH]) for i in range(0, len(x), BATCH)]
    return torch.cat(parts)


def rank(predictor: Predictor, output: torch.Tensor, top: int) -> list[list[tuple[str, float]]]:
    """Per sample: the top classes with softmax probabilities, or each target's value."""
    return predictor.task.ranked(output, predictor.record, top)
