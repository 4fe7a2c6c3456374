"""What a data source gives, in a line or two, checked before a run (the Training panel's
preview of a CSV or NPZ file)."""

from __future__ import annotations

from torchcanvas.app.train.data import DataError, load_data
from torchcanvas.app.train.tasks import task_named


def describe_source(settings: dict, input_shape: tuple[int, ...], inputs=None) -> tuple[bool, str]:
    """(usable, text): the samples, split, shapes and targets the source gives, or why not."""
    try:
        bundle = load_data(settings, input_shape, inputs=inputs)
    except DataError as error:
        return False, str(error)
    except (OSError, ValueError) as error:
        return False, f"{type(error).__name__}: {error}"
    train = len(bundle.train_y) if bundle.train_y is not None else len(bundle.train_set)
    val = len(bundle.val_y) if bundle.val_y is not None else len(bundle.val_set)
    shape = "×".join(str(d) for d in bundle.sample_shape) or "1"
    lines = [f"{train + val:,} samples ({train:,} train, {val:,} validation), each {shape}"]
    if bundle.feature_names:
        shown = ", ".join(bundle.feature_names[:6])
        more = f" and {len(bundle.feature_names) - 6} more" if len(bundle.feature_names) > 6 else ""
        lines.append(f"features: {shown}{more}")
    lines += task_named(bundle.task).target_lines(bundle)
    return True, "\n".join(lines)


def data_sample_shape(settings: dict, spec) -> tuple[int, ...] | None:
    """The per-sample shape the source gives one Input `spec` on its own terms (a table's
    feature count, an array's sample shape, a data set's image size); None if unknown."""
    from torchcanvas.app.train.data import FILE_SOURCES, KNOWN_SHAPES

    source = settings.get("data")
    if source in KNOWN_SHAPES:
        return KNOWN_SHAPES[source]
    if source not in FILE_SOURCES or not settings.get("data_path"):
        return None
    try:
        if source == "csv":
            return (len(_table_features(settings)),)
        return _array_sample_shape(settings, spec)
    except (DataError, OSError, ValueError):
        return None


def _table_features(settings: dict) -> list[str]:
    from torchcanvas.app.train.bundle import data_file
    from torchcanvas.app.train.tables import choose_columns, parse_table

    path = data_file(settings, "CSV")
    header, _rows, _lines = parse_table(path)
    return choose_columns(header, settings, path.name)[0]


def _array_sample_shape(settings: dict, spec) -> tuple[int, ...] | None:
    from torchcanvas.app.train.arrays import input_array, read_arrays
    from torchcanvas.app.train.bundle import data_file

    path = data_file(settings, "npz")
    arrays, _targets = read_arrays(path, list(settings.get("targets") or ()))
    array = arrays[input_array(arrays, spec, 1, path.name)]
    return tuple(array.shape[1:]) or (1,)
