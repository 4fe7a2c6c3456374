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


def node_of(error: BaseException, filename: str, node_lines: dict[int, str]):
    """(node key, frame) of the deepest generated line that raised `error`, or (None, None).

    Keys are node ids for the model's own lines and "Block:id" for lines of a block class.
    """
    found = (None, None)
    for frame, line in traceback.walk_tb(error.__traceback__):
        if frame.f_code.co_filename == filename and line in node_lines:
            found = (node_lines[line], frame)
    return found


def module_label(key: str, frame, names: dict[str, str], paths: dict[int, str]) -> str:
    """`fc1`, or for a line inside a block class the inner module's path: `layer3.1.conv2`."""
    name = names.get(key, key)
    if ":" not in key or frame is None:
        return name
    owner = paths.get(id(frame.f_locals.get("self")))
    return f"{owner}.{name}" if owner else name


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
    model=None,
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
    node, frame = node_of(error, filename, node_lines)
    if node:
        paths = {id(m): path for path, m in model.named_modules()} if model is not None else {}
        label = module_label(node, frame, names or {}, paths)
        return TrainingFault("model", f"{label}: {type(error).__name__}: {text[:300]}", node)
    return TrainingFault("error", f"{type(error).__name__}: {text[:300]}")
