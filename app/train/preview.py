"""What a data source gives, in a line or two, checked before a run (the Training panel's
preview of a CSV or NPZ file)."""

from __future__ import annotations

from torchcanvas.app.train.data import DataError, load_data


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
    if bundle.task == "regression":
        lines.append(f"targets (real values): {', '.join(bundle.target_names) or 'y'}")
    else:
        names = ", ".join(bundle.class_names[:8]) + (" …" if len(bundle.class_names) > 8 else "")
        lines.append(f"{bundle.num_classes} classes: {names}")
    return True, "\n".join(lines)
