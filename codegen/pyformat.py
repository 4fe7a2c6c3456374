"""Lay out the statements codegen writes the way `ruff format` would (line length 88).

The rules are black's "right hand split": a line that does not fit is split at its last
bracket pair; the contents go on one indented line if they fit, else one item per line
with a trailing comma, each item split the same way. An assignment whose head alone would
not fit wraps its value in parentheses instead. Operator chains split before operators.
"""

from __future__ import annotations

from torchcanvas.graph.expr import BinOp, Call, Index, ListOf, TupleOf

LINE_LENGTH = 88
INDENT = "    "

Bracketed = (Call, Index, ListOf, TupleOf)


def assign(indent: str, target: str, value) -> list[str]:
    """`target = value`, split over lines as ruff would."""
    return statement(indent, f"{target} = ", value)


def statement(indent: str, prefix: str, value, suffix: str = "") -> list[str]:
    """`prefix value suffix` (an assignment head, `return `, or nothing), split if needed."""
    flat = f"{indent}{prefix}{value}{suffix}"
    if len(flat) <= LINE_LENGTH:
        return [flat]
    inner = indent + INDENT
    if isinstance(value, Bracketed):
        head = f"{indent}{prefix}{_opening(value)}"
        wrap = prefix.endswith("= ") or prefix == "return "
        if wrap and len(head) > LINE_LENGTH and len(inner + str(value)) <= LINE_LENGTH:
            # Splitting the brackets would not shorten the first line: wrap the value instead.
            return [f"{indent}{prefix}(", f"{inner}{value}", f"{indent}){suffix}"]
        return _split(head, value, indent, suffix)
    if isinstance(value, BinOp) and prefix:
        return [f"{indent}{prefix}("] + _operator_lines(inner, value) + [f"{indent}){suffix}"]
    return [flat]


def return_values(indent: str, values: list[str]) -> list[str]:
    """`return a` or `return a, b` (a tuple), split as ruff would."""
    if len(values) == 1:
        return statement(indent, "return ", values[0])
    flat = f"{indent}return {', '.join(values)}"
    if len(flat) <= LINE_LENGTH:
        return [flat]
    return _split(f"{indent}return (", TupleOf(tuple(values)), indent, "", force_split=False)


def _opening(value) -> str:
    if isinstance(value, Call):
        return f"{value.func}("
    if isinstance(value, Index):
        return f"{value.value}["
    return "[" if isinstance(value, ListOf) else "("


def _closing(value) -> str:
    if isinstance(value, Index):
        return "]"
    return "]" if isinstance(value, ListOf) else ")"


def _items(value) -> list:
    if isinstance(value, Call):
        return list(value.args) + [_Keyword(k, v) for k, v in value.kwargs]
    if isinstance(value, Index):
        return [value.index]
    return list(value.items)


class _Keyword:
    """`key=value` inside a call; splits like its value."""

    def __init__(self, key: str, value) -> None:
        self.key, self.value = key, value

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


def _split(head: str, value, indent: str, suffix: str, force_split: bool = False) -> list[str]:
    """Break `value`'s outer brackets: contents on one line if they fit, else one per line."""
    inner = indent + INDENT
    items = _items(value)
    close = f"{indent}{_closing(value)}{suffix}"
    body = ", ".join(str(i) for i in items)
    if isinstance(value, TupleOf) and len(items) == 1:
        body += ","
    if not force_split and items and len(inner + body) <= LINE_LENGTH:
        return [head, inner + body, close]
    # One item has no comma to split at: ruff splits inside it and adds no trailing comma
    # (a one-element tuple keeps its comma).
    comma = "," if len(items) > 1 or isinstance(value, TupleOf) else ""
    lines = [head]
    for item in items:
        lines += _item_lines(inner, item, comma)
    return lines + [close]


def _item_lines(indent: str, item, comma: str = ",") -> list[str]:
    flat = f"{indent}{item}{comma}"
    if len(flat) <= LINE_LENGTH:
        return [flat]
    if isinstance(item, _Keyword) and isinstance(item.value, Bracketed):
        return _split(f"{indent}{item.key}={_opening(item.value)}", item.value, indent, comma)
    if isinstance(item, Bracketed):
        return _split(f"{indent}{_opening(item)}", item, indent, comma)
    return [flat]


def _operator_lines(indent: str, value: BinOp) -> list[str]:
    flat = f"{indent}{value}"
    if len(flat) <= LINE_LENGTH:
        return [flat]
    first, *rest = value.operands
    return [f"{indent}{first}"] + [f"{indent}{value.op} {operand}" for operand in rest]


def definition(indent: str, name: str, params: list[str]) -> list[str]:
    """`def name(params):`, split as ruff would when it does not fit."""
    flat = f"{indent}def {name}({', '.join(params)}):"
    if len(flat) <= LINE_LENGTH:
        return [flat]
    inner = indent + INDENT
    body = ", ".join(params)
    if len(inner + body) <= LINE_LENGTH:
        return [f"{indent}def {name}(", inner + body, f"{indent}):"]
    return [f"{indent}def {name}("] + [f"{inner}{p}," for p in params] + [f"{indent}):"]


def format_code(source: str) -> str:
    """`source` laid out by ruff's formatter (its defaults), read through stdin."""
    import subprocess
    import sys
    from pathlib import Path

    ruff = Path(sys.executable).parent / "ruff"
    done = subprocess.run(
        [str(ruff), "format", "--isolated", "--stdin-filename", "generated.py", "-"],
        input=source,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise ValueError(f"ruff could not format the generated code: {done.stderr.strip()}")
    return done.stdout
