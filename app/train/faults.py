"""Training faults turned into messages a user can act on."""

from __future__ import annotations

import traceback


class TrainingStopped(Exception):
    """The user asked the run to stop; the weights reached so far are kept."""


class TrainingFault(Exception):
    """A run that cannot go on; `kind` is nan, oom, model, data or error."""

    def __init__(self, kind: str, message: str, node: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.node = node  # the id of the node whose line raised it, when known


def node_of(error: BaseException, filename: str, node_lines: dict[int, str]) -> str | None:
    """The node whose generated line raised `error`, if any."""
    found = None
    for frame, line in traceback.walk_tb(error.__traceback__):
        if frame.f_code.co_filename == filename and line in node_lines:
            found = node_lines[line]
    return found


def is_out_of_memory(error: BaseException) -> bool:
    """CUDA, MPS or CPU allocation failures."""
    text = str(error).lower()
    return (
        type(error).__name__ == "OutOfMemoryError"
        or "out of memory" in text
        or "can't allocate memory" in text
        or isinstance(error, MemoryError)
    )


def describe(
    error: BaseException,
    filename: str,
    node_lines: dict[int, str],
    batch_size: int,
    names: dict[str, str] | None = None,
) -> TrainingFault:
    """A TrainingFault for an exception raised inside a step."""
    if is_out_of_memory(error):
        smaller = max(1, batch_size // 2)
        return TrainingFault(
            "oom",
            f"out of memory at batch size {batch_size}; try batch "
            f"size {smaller} (or a smaller model or input).",
        )
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    node = node_of(error, filename, node_lines)
    if node:
        name = (names or {}).get(node, node)
        fault = TrainingFault("model", f"{name}: {type(error).__name__}: {text[:300]}")
        fault.node = node
        return fault
    return TrainingFault("error", f"{type(error).__name__}: {text[:300]}")
