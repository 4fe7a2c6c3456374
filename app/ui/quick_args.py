"""What the quick-add box accepts beyond a name: arguments inline and a chain of layers.

`conv 16 k3 p1, relu, pool 2, flatten, linear 10` is five layers: a short name or any
layer type (any case), then numbers for the layer's main parameters in order (Conv2d:
out_channels, kernel_size; Linear: out_features; MaxPool2d: kernel_size), `k3` `s2` `p1`
`d2` for kernel_size, stride, padding and dilation, and `name=value` for any parameter.
Values are checked by the parameter's own spec; a bad one is refused with one message.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from torchcanvas.app.ui.editors import parse_value
from torchcanvas.graph.params import BOOL, Param, ParamError
from torchcanvas.graph.registry import LayerSpec

# Short names people type, to the layer they mean (an image network's 2-d layers).
ALIASES = {
    "conv": "Conv2d",
    "pool": "MaxPool2d",
    "maxpool": "MaxPool2d",
    "avgpool": "AvgPool2d",
    "fc": "Linear",
    "dense": "Linear",
    "bn": "BatchNorm2d",
    "batchnorm": "BatchNorm2d",
    "drop": "Dropout",
    "softmax": "Softmax",
}
LETTERS = {"k": "kernel_size", "s": "stride", "p": "padding", "d": "dilation"}
_LETTER_NUMBER = re.compile(r"^([a-z])(\d+)$")
_WORDS = {"true": True, "false": False, "none": None}


class QuickAddError(ValueError):
    """Text the quick-add box cannot turn into layers; the message says why."""


@dataclass(frozen=True)
class LayerRequest:
    """One layer asked for: its type and the parameters given (checked, canonical)."""

    type: str
    params: dict[str, Any] = field(default_factory=dict)


def segments(text: str) -> list[str]:
    """`text` split at the commas that are not inside brackets, each stripped."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(char, 0)
        if char == "," and depth <= 0:
            parts.append(text[start:index].strip())
            start = index + 1
    parts.append(text[start:].strip())
    return parts


def is_plain(text: str) -> bool:
    """Whether `text` is only a name to search for (no arguments, no chain)."""
    return len(text.split()) <= 1 and "," not in text


def first_word(text: str) -> str:
    """The name part of the last step typed (a comma at the end opens no new one yet),
    for the search list."""
    words = segments(text.rstrip().removesuffix(","))[-1].split()
    return words[0] if words else ""


def alias_target(word: str, types: list[str]) -> str | None:
    """The type `word` means exactly: a type name in any case, or a short name."""
    lowered = word.lower()
    for name in types:
        if name.lower() == lowered:
            return name
    target = ALIASES.get(lowered)
    return target if target in types else None


def parse_chain(
    text: str, resolve: Callable[[str, bool], str | None], spec_of: Callable[[str], LayerSpec]
) -> list[LayerRequest]:
    """The layers `text` asks for, in order; QuickAddError names the first bad part.
    `resolve(word, last)` gives the type a word stands for (None: no such layer)."""
    parts = segments(text)
    if not any(parts):
        raise QuickAddError("type a layer, e.g. conv 16 k3 p1, relu, pool 2")
    requests = []
    for index, part in enumerate(parts):
        if not part:
            raise QuickAddError("an empty step between two commas")
        word, *args = part.split()
        type_name = resolve(word, index == len(parts) - 1)
        if type_name is None:
            raise QuickAddError(f"no layer called {word!r}")
        try:
            params = parse_args(spec_of(type_name), args)
        except QuickAddError as error:
            raise QuickAddError(f"{part}: {error}") from None
        requests.append(LayerRequest(type_name, params))
    return requests


def main_params(spec: LayerSpec) -> list[Param]:
    """The parameters numbers without a name fill, in order: the required ones that are
    not filled from the shapes, else the first setting that is not a switch."""
    required = [p for p in spec.params if p.required and not p.auto]
    if required:
        return required
    rest = [p for p in spec.params if p.ctor and not p.auto and p.kind != BOOL]
    return rest[:1]


def parse_args(spec: LayerSpec, args: list[str]) -> dict[str, Any]:
    """Parameter values from the words after a layer's name; QuickAddError if one is bad."""
    values: dict[str, Any] = {}
    unnamed = iter(main_params(spec))
    for arg in args:
        param, raw = _param_and_text(spec, arg, unnamed)
        if param.name in values:
            raise QuickAddError(f"{param.name} is given twice")
        values[param.name] = _value(param, raw)
    return values


def _param_and_text(spec: LayerSpec, arg: str, unnamed) -> tuple[Param, str]:
    """Which parameter `arg` sets, and the text of its value."""
    if "=" in arg:
        name, _, raw = arg.partition("=")
        param = _named(spec, name.strip())
        if param is None:
            raise QuickAddError(f"{spec.type} has no parameter {name.strip()!r}{_known(spec)}")
        return param, raw
    short = _LETTER_NUMBER.match(arg)
    if short:
        param = _named(spec, short.group(1))
        if param is None:
            raise QuickAddError(f"{spec.type} has no parameter {short.group(1)!r}{_known(spec)}")
        return param, short.group(2)
    param = next(unnamed, None)
    if param is None:
        raise QuickAddError(f"{spec.type} does not take {arg!r}{_known(spec)}")
    return param, arg


def _named(spec: LayerSpec, name: str) -> Param | None:
    """The parameter `name` (a full name, or a letter such as k) of `spec`, if it has one."""
    found = spec.param_index.get(name) or spec.param_index.get(LETTERS.get(name, ""))
    return found if found is not None and found.ctor else None


def _known(spec: LayerSpec) -> str:
    names = [p.name for p in spec.params if p.ctor and not p.auto]
    return f" (it takes {', '.join(names)})" if names else " (it takes no parameters)"


def _value(param: Param, raw: str) -> Any:
    """`raw` as a checked value of `param`."""
    word = raw.strip().lower()
    value = _WORDS[word] if word in _WORDS else parse_value(param, raw)
    try:
        return param.coerce(value)
    except ParamError as error:
        raise QuickAddError(str(error)) from None
