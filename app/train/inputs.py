"""The model's Inputs: their specs in forward order, their samples side by side, per-Input stats."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from torchcanvas.app.train.bundle import DataBundle, DataError, shape_text
from torchcanvas.app.train.core.data import file_stats as stats
from torchcanvas.app.train.core.data import standardized
from torchcanvas.app.train.core.loop import forward as call  # noqa: F401  (the Inputs' call)

DTYPES = {
    "float32": torch.float32,
    "float64": torch.float64,
    "int64": torch.long,
    "int32": torch.int32,
    "bool": torch.bool,
}


@dataclass(frozen=True)
class InputSpec:
    """One Input node: the forward argument's name, per-sample shape and dtype."""

    name: str
    shape: tuple[int, ...]
    dtype: str = "float32"

    @property
    def numeric(self) -> bool:
        """Whether its values are real numbers (standardized), not ids, counts or flags."""
        return self.dtype.startswith("float")


def input_specs(analysis) -> list[InputSpec]:
    """The design's Inputs in the order the generated forward takes them."""
    return [
        InputSpec(analysis.names[n], tuple(analysis.meta(n).per_sample), analysis.meta(n).dtype)
        for n in analysis.inputs
    ]


class Inputs:
    """Several Inputs' samples held together: indexed, sliced and moved as one; len = samples."""

    def __init__(self, tensors) -> None:
        self.tensors = tuple(tensors)

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __getitem__(self, index) -> Inputs:
        return Inputs(t[index] for t in self.tensors)

    def to(self, *args, **kwargs) -> Inputs:
        """Every tensor moved (dtypes of integer Inputs are kept by torch's own rules)."""
        return Inputs(t.to(*args, **kwargs) for t in self.tensors)

    def contiguous(self) -> Inputs:
        """Every tensor contiguous."""
        return Inputs(t.contiguous() for t in self.tensors)

    @property
    def shape(self) -> tuple[int, ...]:
        """The first Input's shape (the batch size is what callers read)."""
        return tuple(self.tensors[0].shape)


def first(x) -> torch.Tensor:
    """The first Input's tensor (the one pictured in probes)."""
    if isinstance(x, Inputs):
        return x.tensors[0]
    return x[0] if isinstance(x, tuple) else x


def head(x, count: int):
    """The first `count` samples: a tensor, or a tuple of tensors for several Inputs."""
    if isinstance(x, Inputs):
        x = x.tensors
    return tuple(t[:count] for t in x) if isinstance(x, tuple) else x[:count]


def loader_args(specs: list[InputSpec], source: str) -> dict:
    """load_data's keyword for these Inputs; none for one float32 Input of a built-in source."""
    plain = len(specs) == 1 and specs[0].dtype == "float32" and source not in ("csv", "npz")
    return {} if plain or not specs else {"inputs": specs}


def as_input(x: torch.Tensor, spec: InputSpec, where: str) -> torch.Tensor:
    """The samples in the Input's dtype; integer Inputs need whole numbers (token ids)."""
    dtype = DTYPES.get(spec.dtype, torch.float32)
    if dtype.is_floating_point or x.dtype == dtype:
        return x.to(dtype)
    if x.is_floating_point() and not torch.equal(x, x.round()):
        raise DataError(
            f"{where} holds fractional values but the Input {spec.name!r} takes {spec.dtype} "
            f"values (token ids or counts); save whole numbers or set the Input's dtype to "
            f"float32."
        )
    return x.to(dtype)


def check_shape(x: torch.Tensor, spec: InputSpec, where: str) -> None:
    """Refuse samples that do not have the Input's shape, naming both shapes."""
    if tuple(x.shape[1:]) != tuple(spec.shape):
        raise DataError(
            f"{where} holds samples of shape {shape_text(x.shape[1:])} but the Input "
            f"{spec.name!r} expects {shape_text(spec.shape)}; set the Input shape to "
            f"{list(x.shape[1:])} or reshape the array."
        )


def split_bundle(source, names, x, y, train_idx, val_idx, settings, specs) -> DataBundle:
    """A file source split, each Input standardized with its training split's stats.

    Several Inputs keep their stats by Input name: mean = {"image": [...], "meta": [...]}.
    """
    tensors = x.tensors if isinstance(x, Inputs) else (x,)
    parts, means, stds = [], {}, {}
    for tensor, spec in zip(tensors, specs):
        train, val = tensor[train_idx], tensor[val_idx]
        mean, std = stats(train)
        if settings.get("normalize", True):
            train, val = standardized(train, mean, std), standardized(val, mean, std)
        parts.append((train.contiguous(), val.contiguous()))
        means[spec.name], stds[spec.name] = mean, std
    if isinstance(x, Inputs):
        train_x, val_x = Inputs(p[0] for p in parts), Inputs(p[1] for p in parts)
        mean, std = means, stds
    else:
        (train_x, val_x), mean, std = parts[0], means[specs[0].name], stds[specs[0].name]
    return DataBundle(
        source,
        tuple(specs[0].shape),
        names,
        train_x,
        y[train_idx],
        val_x,
        y[val_idx],
        mean=mean,
        std=std,
    )
