"""Data sources: bundled digits, torchvision sets, image folders, synthetic data, CSV and npz."""

from __future__ import annotations

import math
from pathlib import Path

import torch

from torchcanvas.app.train import sources
from torchcanvas.app.train.bundle import (  # noqa: F401  (re-exported: the data API)
    DEFAULT_ROOT,
    IN_MEMORY_LIMIT,
    LABELS,
    SOURCE_TITLES,
    DataBundle,
    DataError,
    resolve_data_path,
)
from torchcanvas.app.train.core.data import (  # noqa: F401  (re-exported: the data API)
    augment_batch,
    channel_stats,
    feature_stats,
    normalize,
    split_indices,
)
from torchcanvas.app.train.sources import SYNTHETIC_SAMPLES, synthetic_size  # noqa: F401
from torchcanvas.app.train.tasks import task_for

FILE_SOURCES = ("csv", "npz")  # the user's own files, named by data_path
SEPARATE_TEST_SETS = ("mnist", "fashion_mnist", "cifar10")  # the rest test on their own data


def load_data(
    settings: dict,
    input_shape: tuple[int, ...],
    split: str = "train",
    input_name: str = "x",
    inputs: list | None = None,
    stats: dict | None = None,
    pipeline: dict | None = None,
    classes: int | None = None,
) -> DataBundle:
    """Load the source named in `settings` and split it; DataError on any failure.

    `inputs` (InputSpecs in forward order) overrides `input_shape` and `input_name`.
    `stats` ({Input name: (mean, std)}, saved with a run) replace the training split's, so
    eval and resume normalize exactly as training did. Every split uses training stats.
    `pipeline` is the project's pretrained preprocessing (graph.pipeline), or None: how image
    folders read images, and the stats `normalize_from: weights` asks for.
    `classes` (the Output's class count, when known) bounds an archive's class labels.
    """
    from torchcanvas.app.train.images import weights_stats
    from torchcanvas.app.train.inputs import InputSpec
    from torchcanvas.app.train.preprocess import make_record

    specs = list(inputs or [InputSpec(input_name, tuple(input_shape))])
    chosen = weights_stats(settings, pipeline, specs[0].shape)  # None: the training split's
    if settings["data"] in FILE_SOURCES:
        bundle = _load_file(settings, specs, split, stats, classes)
    else:
        pair = _pair(stats, specs[0]) or chosen
        bundle = _load_builtin(settings, specs, split, pair, pipeline)
    bundle.preprocess = make_record(bundle, settings, specs, pipeline)
    return bundle


def _load_builtin(settings: dict, specs: list, split: str, pair, pipeline=None) -> DataBundle:
    source = settings["data"]
    _check_plain_input(source, specs)
    input_shape = specs[0].shape
    problem = task_for(settings).builtin_problem(source)
    if problem:
        raise DataError(problem)
    loader = _LOADERS.get(source)
    if loader is None:
        raise DataError(f"unknown data source {source!r}")
    root = Path(settings.get("data_root") or DEFAULT_ROOT).expanduser()
    extra = {"pipeline": pipeline} if source == "image_folder" else {}
    x, y, names, streamed, *rest = loader(
        settings, root, tuple(input_shape), split == "test", **extra
    )
    held = rest[0] if rest else None  # a validation split the source brings (val/ folder)
    if streamed is not None:
        from torchcanvas.app.train.streamed import streamed_bundle

        return streamed_bundle(source, streamed, names, settings, input_shape, pair, split, held)
    check_fit(source, tuple(x.shape[1:]), input_shape)
    if split == "test":  # normalized as training was: with the training split's stats
        pair = pair or _training_stats(settings, specs, x)
        return _bundle(source, names, x, y, x[:0], y[:0], settings, pair)
    train_idx, val_idx = split_of(len(x), settings, held)
    pair = pair or channel_stats(x[train_idx])
    return _bundle(
        source, names, x[train_idx], y[train_idx], x[val_idx], y[val_idx], settings, pair
    )


def split_of(count: int, settings: dict, held: int | None = None):
    """(training, validation) indices: the seeded split, or the last `held` samples when the
    source brings its own validation split."""
    if held is None:
        return split_indices(count, settings["val_split"], settings["seed"])
    return torch.arange(count - held), torch.arange(count - held, count)


def _pair(stats: dict | None, spec) -> tuple[list, list] | None:
    """The saved (mean, std) of one Input; a lone entry serves a lone Input of any name."""
    if not stats:
        return None
    if spec.name in stats:
        return stats[spec.name]
    return next(iter(stats.values())) if len(stats) == 1 else None


def _training_stats(settings: dict, specs: list, x: torch.Tensor) -> tuple[list, list]:
    """The training split's stats, for a test split whose run saved none (older runs)."""
    if settings["data"] in SEPARATE_TEST_SETS:
        train = load_data(settings, specs[0].shape)
        return train.mean, train.std
    train_idx, _ = split_indices(len(x), settings["val_split"], settings["seed"])
    return channel_stats(x[train_idx])


def _load_file(settings: dict, specs: list, split: str, stats, classes) -> DataBundle:
    """A CSV table or an npz archive, split and standardized with the training split's stats."""
    from torchcanvas.app.train.arrays import load_npz
    from torchcanvas.app.train.inputs import as_input, split_bundle
    from torchcanvas.app.train.tables import load_csv

    source = settings["data"]
    if split == "test":
        raise DataError(f"the {source} source has no separate test set; evaluate on val.")
    if source == "csv":
        if len(specs) > 1:
            raise DataError(
                f"the model has {len(specs)} Inputs ({', '.join(s.name for s in specs)}) and "
                f"one table cannot say which columns go to which; save one array per Input "
                f"in an .npz archive (data: npz)."
            )
        table = load_csv(settings, specs[0].shape)
        x = as_input(table.x, specs[0], f"the {source} features")
        y, names, targets, features = table.y, table.class_names, table.targets, table.features
    else:
        arrays = load_npz(settings, specs, classes)
        x, y, names, targets = arrays.x, arrays.y, arrays.class_names, arrays.targets
        features = arrays.input_arrays
    train_idx, val_idx = split_indices(len(x), settings["val_split"], settings["seed"])
    plain = {**settings, "normalize": False} if stats else settings
    bundle = split_bundle(source, names, x, y, train_idx, val_idx, plain, specs)
    if stats and settings.get("normalize", True):
        _standardize_saved(bundle, stats, specs)
    bundle.task = task_for(settings).name
    bundle.target_names, bundle.feature_names = list(targets), list(features)
    return bundle


def _standardize_saved(bundle: DataBundle, stats: dict, specs: list) -> None:
    """Standardize a file bundle's splits with saved stats (per Input; ids pass unchanged)."""
    from torchcanvas.app.train.inputs import Inputs, standardized

    pairs = [_pair(stats, spec) or ([], []) for spec in specs]

    def apply(x):
        tensors = x.tensors if isinstance(x, Inputs) else (x,)
        for tensor, pair, spec in zip(tensors, pairs, specs):
            check_pair(pair, tensor, True, spec.name)
        done = [standardized(t, *p).contiguous() for t, p in zip(tensors, pairs)]
        return Inputs(done) if isinstance(x, Inputs) else done[0]

    bundle.train_x, bundle.val_x = apply(bundle.train_x), apply(bundle.val_x)
    if len(specs) > 1:
        bundle.mean = {s.name: p[0] for s, p in zip(specs, pairs)}
        bundle.std = {s.name: p[1] for s, p in zip(specs, pairs)}
    else:
        bundle.mean, bundle.std = pairs[0]


def check_pair(pair, x: torch.Tensor, file_source: bool, where: str) -> None:
    """Refuse saved stats whose count fits neither one value nor the data's channels/features."""
    mean = pair[0]
    if not mean or not x.is_floating_point():
        return
    axis = -1 if file_source and x.ndim in (2, 3) else 1
    size = x.shape[axis] if x.ndim >= 2 else 1
    if len(mean) not in (1, size):
        kind = "feature" if axis == -1 else "channel"
        raise DataError(
            f"the saved statistics of {where!r} hold {len(mean)} values (one per {kind}) but "
            f"the data has {size} {kind}s; these weights were trained on other data."
        )


def _check_plain_input(source: str, specs: list) -> None:
    """The built-in sources give one float32 sample per item: one float32 Input."""
    title = SOURCE_TITLES.get(source, source)
    if len(specs) > 1:
        raise DataError(
            f"the model has {len(specs)} Inputs ({', '.join(s.name for s in specs)}) but "
            f"{title} gives one sample per item; train it from an .npz archive with one "
            f"array per Input (data: npz)."
        )
    if specs[0].dtype != "float32":
        raise DataError(
            f"the Input takes {specs[0].dtype} values, but {title} gives float32 samples; "
            f"set the Input's dtype to float32, or train from an .npz archive."
        )


def _bundle(source, names, tx, ty, vx, vy, settings, pair) -> DataBundle:
    mean, std = pair  # built-in sources; files: inputs.split_bundle
    if settings.get("normalize", True):
        check_pair(pair, tx, False, "the input")
        tx, vx = normalize(tx, mean, std), normalize(vx, mean, std)
    return DataBundle(
        source,
        tuple(tx.shape[1:]),
        names,
        tx.contiguous(),
        ty,
        vx.contiguous(),
        vy,
        mean=mean,
        std=std,
    )


def check_fit(source: str, sample_shape: tuple[int, ...], input_shape: tuple[int, ...]) -> None:
    """Refuse a data set whose samples do not match the Input shape."""
    if tuple(sample_shape) == tuple(input_shape):
        return
    data_text, input_text = _shape_text(sample_shape), _shape_text(input_shape)
    hint = f"set the Input shape to {list(sample_shape)}"
    if math.prod(sample_shape) == math.prod(input_shape) and len(input_shape) == 1:
        hint += " and add a Flatten after it"
    raise DataError(
        f"{SOURCE_TITLES.get(source, source)} samples are {data_text} but the "
        f"Input expects {input_text}; {hint}."
    )


def check_classes(bundle: DataBundle, output_shape: tuple[int, ...], loss: str) -> None:
    """Refuse a model whose output does not give one score per class."""
    task_for({"task": "classification"}).check_output(bundle, output_shape, loss)


KNOWN_SIZES = {
    "digits": 1797,
    "mnist": 60000,
    "fashion_mnist": 60000,
    "cifar10": 50000,
    "synthetic": 1024,
}
KNOWN_SHAPES = {
    "digits": (1, 8, 8),
    "mnist": (1, 28, 28),
    "fashion_mnist": (1, 28, 28),
    "cifar10": (3, 32, 32),
}


def output_classes(output_shape) -> int | None:
    """The class count an Output of this per-sample shape gives (None: not one score per class)."""
    shape = tuple(output_shape or ())
    return shape[0] if len(shape) == 1 and isinstance(shape[0], int) else None


def check_targets(bundle: DataBundle, output_shape: tuple[int, ...], settings: dict) -> None:
    """Refuse a loss or an output that does not fit the task and the bundle's targets."""
    task_for(settings, bundle.num_classes).check_output(bundle, output_shape, settings["loss"])


def fit_problem(settings: dict, input_shape, output_shape, pipeline=None) -> str | None:
    """Why the data cannot train this model, found without loading it; None when it fits.
    `pipeline`: the project's pretrained preprocessing, as load_data takes it."""
    from torchcanvas.app.train.images import stats_problem

    source = settings["data"]
    try:
        problem = stats_problem(settings, pipeline)
        if problem:
            raise DataError(problem)
        if source in FILE_SOURCES:  # columns and shapes are only known once read
            if not settings.get("data_path"):
                raise DataError(f"set data_path to the {source} file to train on.")
            return task_for(settings).loss_problem(settings["loss"])
        problem = task_for(settings).builtin_problem(source)
        if problem:
            raise DataError(problem)
        if source in KNOWN_SHAPES:
            check_fit(source, KNOWN_SHAPES[source], tuple(input_shape))
            classes = 10
        elif source == "image_folder":
            classes = _count_class_folders(settings, input_shape, pipeline)
        else:
            classes = 10
        bundle = DataBundle(source, tuple(input_shape), [str(i) for i in range(classes)])
        check_classes(bundle, tuple(output_shape), settings["loss"])
    except DataError as error:
        return str(error)
    return None


def _count_class_folders(settings: dict, input_shape, pipeline=None) -> int:
    folder = Path(settings.get("data_root") or "").expanduser()
    if not settings.get("data_root") or not folder.is_dir():
        raise DataError("choose an image folder (one sub-folder of images per class).")
    if len(input_shape) != 3 or input_shape[0] not in (1, 3):
        raise DataError(
            f"an image folder needs an Input of shape [1, H, W] or [3, H, W], not "
            f"{list(input_shape)}."
        )
    from torchcanvas.app.train.images import image_spec
    from torchcanvas.app.train.sources import class_folders, image_folder_roots

    image_spec(input_shape, pipeline)  # a crop that is not the Input's size is refused now
    return len(class_folders(image_folder_roots(folder)[0]))


def _shape_text(shape) -> str:
    return "x".join(str(d) for d in shape) or "a single value"


_LOADERS = {
    "digits": sources.load_digits,
    "mnist": sources.load_torchvision,
    "fashion_mnist": sources.load_torchvision,
    "cifar10": sources.load_torchvision,
    "image_folder": sources.load_image_folder,
    "synthetic": sources.load_synthetic,
}
