"""What a set of weights was trained on: the generated class, and what changed since.

The emitted source is the design as far as weights are concerned: names, layer types and
sizes and the forward pass are in it, card positions are not. Comparing two sources says
in a user's words what differs ("conv1: nn.Conv2d(1, 16, ...) is now nn.Conv2d(1, 8, ...)").
"""

from __future__ import annotations

import hashlib
import re

from torchcanvas.codegen.emit import emit_module

_MODULE = re.compile(r"^\s*self\.(\w+) = (.+)$")
SHOWN = 5  # changes listed; the rest are counted


def design_source(model) -> str:
    """The generated source of `model` (CodegenError when it has problems)."""
    return emit_module(model).source


def fingerprint(source: str) -> str:
    """A short stable hash of a generated source."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


def design_changes(old: str, new: str) -> list[str]:
    """What differs between the design `old` was generated from and `new`'s, in lines a
    user can act on (empty: the same design)."""
    if old == new:
        return []
    before, after = _modules(old), _modules(new)
    changes = [
        f"{name}: {before[name]} is now {after[name]}"
        for name in before
        if name in after and before[name] != after[name]
    ]
    changes += [f"{name} added ({after[name]})" for name in after if name not in before]
    changes += [f"{name} removed" for name in before if name not in after]
    if not changes:
        changes = ["the forward pass changed (connections or operations)"]
    if len(changes) > SHOWN:
        changes = changes[:SHOWN] + [f"and {len(changes) - SHOWN} more"]
    return changes


def _modules(source: str) -> dict[str, str]:
    """`self.name = expression` lines of __init__, by name (later classes included)."""
    found = {}
    for line in source.splitlines():
        match = _MODULE.match(line)
        if match:
            found.setdefault(match.group(1), match.group(2).strip())
    return found
