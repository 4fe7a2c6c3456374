"""A project's image pipeline and class names: optional keys, set by a pretrained import.

`"preprocess"` holds the weights' own preprocessing (resize, center crop, mean and std, as
`weights.transforms()` gives them) and `"classes"` the names of the output classes, so
image folders and predictions can treat images exactly as the weights expect.
"""

from __future__ import annotations

import math
from typing import Any

INTERPOLATIONS = ("nearest", "nearest-exact", "bilinear", "bicubic")
PREPROCESS_KEYS = {"weights", "resize", "crop", "mean", "std", "interpolation"}
MAX_CLASSES = 100_000


class PipelineError(ValueError):
    """A preprocess or classes value that cannot be used; the message says which part."""


def check_preprocess(value: Any) -> dict | None:
    """The "preprocess" object checked (None when absent)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise PipelineError("preprocess: expected an object")
    unknown = set(value) - PREPROCESS_KEYS
    if unknown:
        raise PipelineError(f"preprocess: unknown key {sorted(unknown)[0]!r:.40}")
    for key in ("resize", "crop"):
        sizes = value.get(key)
        if not _numbers(sizes, int, 1, 2) or min(sizes) < 1:
            raise PipelineError(f"preprocess: {key} must be a list of 1 or 2 positive sizes")
    for key in ("mean", "std"):
        if not _numbers(value.get(key), float, 1, 4):
            raise PipelineError(f"preprocess: {key} must be a list of 1 to 4 numbers")
    if min(value["std"]) <= 0:
        raise PipelineError("preprocess: every std must be > 0")
    if value.get("interpolation", "bilinear") not in INTERPOLATIONS:
        raise PipelineError(f"preprocess: interpolation must be one of {', '.join(INTERPOLATIONS)}")
    if not isinstance(value.get("weights", ""), str):
        raise PipelineError("preprocess: weights must be text")
    return dict(value)


def check_classes(value: Any) -> list[str] | None:
    """The "classes" list checked (None when absent)."""
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or not 0 < len(value) <= MAX_CLASSES
        or not all(isinstance(name, str) for name in value)
    ):
        raise PipelineError(f"classes: expected a list of 1 to {MAX_CLASSES} names")
    return list(value)


def _numbers(value: Any, kind: type, least: int, most: int) -> bool:
    if not isinstance(value, list) or not least <= len(value) <= most:
        return False
    if kind is int:
        return all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    return all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value
    )
