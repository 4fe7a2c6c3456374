"""A tiny expression tree: how a registry entry says it is written in Python.

Codegen renders it on one line, or wraps it the way `ruff format` does. Leaves are source
atoms (variable names, literals made by `literal`), never free user text.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Call:
    """`func(arg, ..., key=value, ...)`."""

    func: str
    args: tuple = ()
    kwargs: tuple[tuple[str, object], ...] = ()

    def __str__(self) -> str:
        parts = [str(a) for a in self.args] + [f"{k}={v}" for k, v in self.kwargs]
        return f"{self.func}({', '.join(parts)})"


@dataclass(frozen=True)
class ListOf:
    """`[a, b, c]`."""

    items: tuple = ()

    def __str__(self) -> str:
        return f"[{', '.join(str(i) for i in self.items)}]"


@dataclass(frozen=True)
class TupleOf:
    """`(a, b)`; a lone item gets its trailing comma."""

    items: tuple = ()

    def __str__(self) -> str:
        if len(self.items) == 1:
            return f"({self.items[0]},)"
        return f"({', '.join(str(i) for i in self.items)})"


@dataclass(frozen=True)
class BinOp:
    """`a + b + c`: one operator between every pair of operands."""

    op: str
    operands: tuple = ()

    def __str__(self) -> str:
        return f" {self.op} ".join(str(o) for o in self.operands)


@dataclass(frozen=True)
class Index:
    """`value[index]`, with the index already written (`:, -1`)."""

    value: str
    index: str

    def __str__(self) -> str:
        return f"{self.value}[{self.index}]"


@dataclass(frozen=True)
class Unpack:
    """An assignment target: `out, (h_n, _)`; leaves are names or `_`."""

    items: tuple = field(default_factory=tuple)

    def __str__(self) -> str:
        return ", ".join(_target(i) for i in self.items)


def _target(item) -> str:
    if isinstance(item, Unpack):
        return f"({item})"
    return str(item)


def literal(value) -> str:
    """Python source for a typed parameter value (never free user text).

    Inside a block, a value computed from the block's parameters is written as that
    computation (`out_channels * 4`).
    """
    from torchcanvas.graph.symbolic import source_of

    source = source_of(value)
    if source is not None:
        return source
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        # Only validated choice strings get here; double quotes as ruff prefers.
        if not value.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"refusing to emit string {value!r:.40}")
        return f'"{value}"'
    if isinstance(value, (tuple, list)):
        items = [literal(v) for v in value]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    raise TypeError(f"cannot emit a {type(value).__name__}")
