"""Parameter specs: the typed, bounded description of one layer argument."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

INT = "int"
FLOAT = "float"
BOOL = "bool"
CHOICE = "choice"
SIZE = "size"  # an int, or a tuple of `length` ints (kernel_size=3 or (3, 5))
SHAPE = "shape"  # a non-empty list of positive ints (Input shape, normalized_shape)
STR = "str"  # free text such as a folder path; never emitted into generated code
DIMS = "dims"  # a list of 1 to 6 integers that may be negative (dims, sizes with -1)
ARGS = "args"  # keyword arguments by name: numbers, text, true/false, none and lists of them
NAMES = "names"  # a list of distinct names, such as table columns; never emitted into code
INTEGER_KINDS = (INT, SIZE, SHAPE, DIMS)  # kinds whose values are whole numbers

_MAX_INT = 1 << 20


class ParamError(ValueError):
    """A value that does not fit its parameter spec."""


@dataclass(frozen=True)
class Param:
    """One constructor argument of a layer, named as PyTorch names it."""

    name: str
    kind: str
    doc: str
    default: Any = None  # PyTorch's default; ignored when `required`
    required: bool = False  # PyTorch has no default: always stored and emitted
    initial: Any = None  # value given to a fresh node for a required param
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple = ()  # CHOICE values, or the strings a SIZE also accepts
    length: int = 1  # tuple length for SIZE
    optional: bool = False  # None is a valid value
    positional: bool = False  # emitted positionally, like nn.Conv2d(1, 16, ...)
    auto: str | None = None  # filled from the upstream shape unless pinned (graph.autoparams)
    auto_port: str | None = None  # the input port the auto value is read from (default: first)
    ctor: bool = True  # a constructor argument; False for settings such as weight init
    scalar: bool = False  # SHAPE: [] (a 0-dim tensor, a single number) is allowed too

    def coerce(self, value: Any) -> Any:
        """Return `value` in canonical form or raise ParamError saying why."""
        if value is None:
            if self.optional:
                return None
            raise ParamError(f"{self.name} needs a value")
        check = _COERCERS[self.kind]
        return check(self, value)

    def describe(self) -> str:
        """Short description of the accepted values, for error messages."""
        return _DESCRIPTIONS[self.kind](self)

    def _bounded(self, number: float) -> float:
        if self.minimum is not None and number < self.minimum:
            raise ParamError(f"{self.name} must be at least {_fmt(self.minimum)}, got {number}")
        if self.maximum is not None and number > self.maximum:
            raise ParamError(f"{self.name} must be at most {_fmt(self.maximum)}, got {number}")
        return number


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int(param: Param, value: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not _is_int(value) or abs(value) > _MAX_INT:
        raise ParamError(f"{param.name} must be {param.describe()}, got {value!r:.40}")
    return int(param._bounded(value))


def _float(param: Param, value: Any) -> float:
    if not (_is_int(value) or isinstance(value, float)) or not math.isfinite(value):
        raise ParamError(f"{param.name} must be {param.describe()}, got {value!r:.40}")
    return float(param._bounded(float(value)))


def _bool(param: Param, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ParamError(f"{param.name} must be true or false, got {value!r:.40}")
    return value


def _choice(param: Param, value: Any) -> str:
    if value not in param.choices or not isinstance(value, str):
        raise ParamError(f"{param.name} must be {param.describe()}, got {value!r:.40}")
    return value


def _size(param: Param, value: Any) -> int | str | tuple[int, ...]:
    if isinstance(value, str) and value in param.choices:
        return value
    if isinstance(value, (list, tuple)):  # nn.Conv1d keeps kernel_size as (3,): a 1-tuple
        if len(value) != param.length:
            raise ParamError(f"{param.name} must be {param.describe()}, got {value!r:.40}")
        items = tuple(_int(param, item) for item in value)
        return items[0] if len(set(items)) == 1 else items
    try:
        return _int(param, value)
    except ParamError:
        raise ParamError(f"{param.name} must be {param.describe()}, got {value!r:.40}") from None


def _shape(param: Param, value: Any) -> tuple[int, ...]:
    if _is_int(value):
        value = [value]
    fewest = 0 if param.scalar else 1
    if not isinstance(value, (list, tuple)) or not fewest <= len(value) <= 5:
        raise ParamError(f"{param.name} must be {param.describe()}, got {value!r:.40}")
    dims = tuple(_int(param, item) for item in value)
    if any(dim < 1 for dim in dims):
        raise ParamError(f"{param.name} dimensions must be positive, got {list(dims)}")
    return dims


def _dims(param: Param, value: Any) -> tuple[int, ...]:
    if _is_int(value):
        value = [value]
    if not isinstance(value, (list, tuple)) or not 1 <= len(value) <= 6:
        raise ParamError(f"{param.name} must be {param.describe()}, got {value!r:.40}")
    return tuple(_int(param, item) for item in value)


def _str(param: Param, value: Any) -> str:
    if not isinstance(value, str) or len(value) > 4096 or "\x00" in value:
        raise ParamError(f"{param.name} must be text of at most 4096 characters")
    return value


def _names(param: Param, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):  # "a, b" from a command line or a text field
        value = [part.strip() for part in value.split(",")] if value.strip() else []
    if not isinstance(value, (list, tuple)) or len(value) > 4096:
        raise ParamError(f"{param.name} must be {param.describe()}, got {value!r:.40}")
    names = []
    for item in value:
        if not isinstance(item, str) or not item or len(item) > 200 or "\x00" in item:
            raise ParamError(
                f"{param.name}: each name must be text of 1 to 200 characters, got {item!r:.40}"
            )
        if param.choices and item not in param.choices:
            raise ParamError(f"{param.name}: {item!r:.40} is not {_choices_text(param)}")
        if item in names:
            raise ParamError(f"{param.name}: {item!r:.40} is named twice")
        names.append(item)
    return tuple(names)


class Arguments(tuple):
    """Keyword arguments as ((name, value), ...), values plain and hashable; JSON: an object."""


def _plain_value(param: Param, value: Any, depth: int = 0) -> Any:
    if value is None or isinstance(value, (bool, str)):
        if isinstance(value, str) and (
            len(value) > 200 or not value.replace("_", "").replace("-", "").isalnum()
        ):
            raise ParamError(f"{param.name}: text values are words of letters, digits, _ and -")
        return value
    if _is_int(value) and abs(value) < 1 << 40:
        return int(value)
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, (list, tuple)) and depth < 2 and len(value) <= 64:
        return tuple(_plain_value(param, item, depth + 1) for item in value)
    raise ParamError(f"{param.name}: {value!r:.40} is not a number, text, true/false or list")


def _args(param: Param, value: Any) -> Arguments:
    from torchcanvas.graph.naming import identifier_problem

    items = value.items() if isinstance(value, dict) else value
    if not isinstance(items, (list, tuple, type({}.items()))):
        raise ParamError(f"{param.name} must be an object of named values")
    out = []
    for item in items:
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            raise ParamError(f"{param.name} must be an object of named values")
        name, raw = item
        problem = identifier_problem(name)
        if problem:
            raise ParamError(f"{param.name}: {problem}")
        out.append((name, _plain_value(param, raw)))
    if len(out) > 32 or len({name for name, _ in out}) != len(out):
        raise ParamError(f"{param.name}: at most 32 arguments, each named once")
    return Arguments(out)


_COERCERS = {
    INT: _int,
    FLOAT: _float,
    BOOL: _bool,
    CHOICE: _choice,
    SIZE: _size,
    SHAPE: _shape,
    STR: _str,
    DIMS: _dims,
    ARGS: _args,
    NAMES: _names,
}


def _bounds_text(param: Param) -> str:
    if param.minimum is not None and param.maximum is not None:
        return f" from {_fmt(param.minimum)} to {_fmt(param.maximum)}"
    if param.minimum is not None:
        return f" of at least {_fmt(param.minimum)}"
    return ""


def _size_text(param: Param) -> str:
    text = f"an integer{_bounds_text(param)}"
    if param.length > 1:
        text += f" or a list of {param.length} integers"
    if param.choices:
        text += " or " + " or ".join(repr(c) for c in param.choices)
    return text


def _choices_text(param: Param) -> str:
    return "one of " + ", ".join(repr(c) for c in param.choices)


_DESCRIPTIONS = {
    INT: lambda p: f"an integer{_bounds_text(p)}",
    FLOAT: lambda p: f"a number{_bounds_text(p)}",
    BOOL: lambda p: "true or false",
    CHOICE: lambda p: _choices_text(p),
    SIZE: _size_text,
    SHAPE: lambda p: f"a list of {0 if p.scalar else 1} to 5 positive integers",
    STR: lambda p: "text",
    DIMS: lambda p: f"an integer or a list of 1 to 6 integers{_bounds_text(p)}",
    ARGS: lambda p: "named numbers, text, true/false or lists",
    NAMES: lambda p: (
        f"a list of names, each {_choices_text(p)}"
        if p.choices
        else "a list of names (or one text of names separated by commas)"
    ),
}


def to_json(value: Any) -> Any:
    """Plain-JSON form of a canonical value (tuples become lists, bindings {"bind": text})."""
    from torchcanvas.graph.symbolic import Bound

    if isinstance(value, Bound):
        return {"bind": value.text}
    if isinstance(value, Arguments):
        return {name: _nested_json(item) for name, item in value}
    return list(value) if isinstance(value, tuple) else value


def _nested_json(value: Any) -> Any:
    return [_nested_json(v) for v in value] if isinstance(value, tuple) else value
