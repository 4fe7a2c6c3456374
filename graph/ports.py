"""Ports and the values that flow through them: TensorMeta is a tensor's shape and dtype."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

FLOAT = ("float32", "float64", "float16", "bfloat16")
INTEGER = ("int64", "int32")
BOOLEAN = ("bool",)
ANY = FLOAT + INTEGER + BOOLEAN
INPUT_DTYPES = ("float32", "float64", "int64", "int32", "bool")
DEFAULT_DTYPE = "float32"


@dataclass(frozen=True)
class PortSpec:
    """One named input or output of a layer type, and what it accepts."""

    name: str
    doc: str = ""
    ranks: tuple[int, ...] | None = None  # accepted per-sample ranks; None: any
    rank_text: str = ""  # e.g. "(C, H, W)", for messages
    dtypes: tuple[str, ...] = FLOAT
    optional: bool = False
    variadic: bool = False  # any number of slots, named "0", "1", ...
    minimum: int = 1  # slots a variadic port needs
    batched: bool = True  # the value must carry the batch dimension
    batch_first: bool = True  # ... as its first dimension (an RNN's h_0 has it second)
    label: str = ""  # short label drawn on the canvas

    @property
    def short(self) -> str:
        """The label drawn beside the port."""
        return self.label or self.name


@dataclass(frozen=True)
class TensorMeta:
    """A tensor's shape and dtype; `None` in `shape` marks the batch dimension."""

    shape: tuple[int | None, ...]
    dtype: str = DEFAULT_DTYPE

    @staticmethod
    def sample(shape, dtype: str = DEFAULT_DTYPE) -> TensorMeta:
        """A batched tensor whose per-sample shape is `shape` (batch first)."""
        return TensorMeta((None, *shape), dtype)

    @cached_property
    def batch_dim(self) -> int | None:
        """Where the batch dimension is, or None for a tensor without one (a Parameter)."""
        try:
            return self.shape.index(None)
        except ValueError:
            return None

    @property
    def batched(self) -> bool:
        """Whether the tensor has a batch dimension."""
        return None in self.shape

    @cached_property
    def per_sample(self) -> tuple[int, ...]:
        """The shape without its batch dimension."""
        return tuple(d for d in self.shape if d is not None)

    @property
    def rank(self) -> int:
        """Dimensions per sample (the batch not counted)."""
        return len(self.per_sample)

    @property
    def is_float(self) -> bool:
        """Whether the dtype is a floating-point one."""
        return self.dtype in FLOAT

    def concrete(self, batch: int) -> tuple[int, ...]:
        """The full shape with the batch dimension set to `batch`."""
        return tuple(batch if d is None else d for d in self.shape)

    def text(self) -> str:
        """The shape as shown on edges and in messages: 16x28x28, 2xNx64, 20 int64."""
        return format_meta(self)


def format_dims(dims) -> str:
    """A shape the way messages show it: 32x7x7."""
    if dims is None:
        return "?"
    return "x".join(str(d) for d in dims) if len(dims) else "scalar"


def format_meta(meta: TensorMeta | None) -> str:
    """Per-sample shape; N marks a batch that is not first; dtype when not float32."""
    if meta is None:
        return "?"
    if meta.batch_dim == 0:
        text = format_dims(meta.shape[1:])
    elif meta.batched:
        text = "x".join("N" if d is None else str(d) for d in meta.shape)
    else:
        text = format_dims(meta.shape) + " (no batch)"
    return text if meta.dtype == DEFAULT_DTYPE else f"{text} {meta.dtype}"


def slot_names(count: int) -> list[str]:
    """Names of the slots of a variadic port: "0", "1", ..."""
    return [str(i) for i in range(count)]


def is_slot(name: str) -> bool:
    """Whether a port name is a variadic slot."""
    return name.isdigit()
