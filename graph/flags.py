"""A node's training flags: which there are, and what values each takes."""

from __future__ import annotations

TRAINING_FLAGS = ("frozen", "lr_scale")


def flag_problem(key: str, value) -> str | None:
    """Why `value` cannot be the node flag `key` (None: it can; None clears the flag)."""
    if key not in TRAINING_FLAGS:
        return f"unknown node flag {key!r:.40} (known: {', '.join(TRAINING_FLAGS)})"
    if value is None:
        return None
    if key == "frozen":
        return None if isinstance(value, bool) else "frozen must be true or false"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return "lr_scale must be a number"
    if value <= 0:
        return "lr_scale must be greater than 0 (to keep a layer as it is, freeze it)"
    if value > 1e6:
        return "lr_scale must be at most 1000000"
    return None
