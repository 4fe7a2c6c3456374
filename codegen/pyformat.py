"""Lay out the few statement shapes codegen writes the way `ruff format` would."""

from __future__ import annotations

LINE_LENGTH = 88
INDENT = "    "


def literal(value) -> str:
    """Python source for a typed parameter value (never free user text)."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        # Only validated choice strings get here; double quotes as ruff prefers.
        if not value.replace("_", "").isalnum():
            raise ValueError(f"refusing to emit string {value!r:.40}")
        return f'"{value}"'
    if isinstance(value, (tuple, list)):
        items = [literal(v) for v in value]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
    raise TypeError(f"cannot emit a {type(value).__name__}")


class ListArg:
    """A list display argument, such as the tensors passed to torch.cat."""

    def __init__(self, items: list[str]) -> None:
        self.items = items

    def __str__(self) -> str:
        return f"[{', '.join(self.items)}]"


def assign_call(indent: str, target: str, func: str, args: list) -> list[str]:
    """`target = func(args...)`, split over lines the way ruff format does."""
    head = f"{indent}{target} = {func}("
    flat = f"{func}({', '.join(str(a) for a in args)})"
    inner = indent + INDENT
    if (
        len(head) > LINE_LENGTH
        and len(head) + len(flat) - len(func) - 1 > LINE_LENGTH
        and len(inner) + len(flat) <= LINE_LENGTH
    ):
        # Splitting the arguments would not shorten the first line: wrap the call instead.
        return [f"{indent}{target} = (", f"{inner}{flat}", f"{indent})"]
    return _call_lines(head, indent, args, ")")


def _call_lines(head: str, indent: str, args: list, close: str) -> list[str]:
    flat = ", ".join(str(a) for a in args)
    if len(head) + len(flat) + len(close) <= LINE_LENGTH:
        return [f"{head}{flat}{close}"]
    inner = indent + INDENT
    if args and len(inner) + len(flat) <= LINE_LENGTH:
        return [head, f"{inner}{flat}", f"{indent}{close}"]
    lines = [head]
    for arg in args:
        if isinstance(arg, ListArg) and len(inner) + len(str(arg)) + 1 > LINE_LENGTH:
            lines.append(f"{inner}[")
            lines += [f"{inner}{INDENT}{item}," for item in arg.items]
            lines.append(f"{inner}],")
        else:
            lines.append(f"{inner}{arg},")
    lines.append(f"{indent}{close}")
    return lines


def assign_sum(indent: str, target: str, terms: list[str]) -> list[str]:
    """`target = a + b + c`, parenthesized and split when too long, as ruff does."""
    flat = " + ".join(terms)
    line = f"{indent}{target} = {flat}"
    if len(line) <= LINE_LENGTH:
        return [line]
    inner = indent + INDENT
    if len(inner) + len(flat) <= LINE_LENGTH:
        return [f"{indent}{target} = (", f"{inner}{flat}", f"{indent})"]
    body = [f"{inner}{terms[0]}"] + [f"{inner}+ {term}" for term in terms[1:]]
    return [f"{indent}{target} = ("] + body + [f"{indent})"]
