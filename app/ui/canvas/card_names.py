"""Names that fit a card: leave out path segments, never cut a segment in half.

In little room `layer1_0_downsample_0` reads `layer1…downsample_0`, then `…downsample_0`,
then `…0`: the first segment says where, the leaf says what; the full name is in the tooltip.
"""

from __future__ import annotations

import re
from collections.abc import Callable

ELLIPSIS = "…"
_UNDERSCORE = re.compile(r"[_.]")
_DOT = re.compile(r"\.")  # a dotted path: `self_attn` in `layers.0.self_attn` is one segment


def shortenings(name: str) -> list[str]:
    """Every allowed way to show `name`, in order of preference: whole; the first segment,
    `…` and the end from a later boundary (while that end says more than an index); `…`
    and the end from any boundary."""
    boundary = _DOT if "." in name else _UNDERSCORE
    starts = [match.end() for match in boundary.finditer(name) if match.end() < len(name)]
    if not starts:
        return [name]
    head = name[: starts[0] - 1]
    kept_head = [
        f"{head}{ELLIPSIS}{name[start:]}"
        for start in starts[1:]
        if not boundary.sub("", name[start:]).isdigit()
    ]
    return [name, *kept_head, *(ELLIPSIS + name[start:] for start in starts)]


def fit_name(name: str, width: Callable[[str], float], room: float) -> str:
    """The first allowed shortening of `name` whose `width` fits `room` (else the leaf)."""
    options = shortenings(name)
    for option in options:
        if width(option) <= room:
            return option
    return options[-1]


def is_whole_segments(name: str, shown: str) -> bool:
    """Whether `shown` is `name` or one of its allowed shortenings (no segment cut)."""
    return shown in shortenings(name)


def says_something(shown: str) -> bool:
    """Whether a shortened name keeps more than an index (`…1` does not)."""
    return not re.sub(r"[_.…]", "", shown).isdigit()
