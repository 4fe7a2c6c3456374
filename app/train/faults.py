"""Training faults turned into messages a user can act on."""

from __future__ import annotations

import os
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


TRAINING_FACTOR = 3  # activations kept for backward, their gradients, and the optimizer's share


def oom_message(batch_size: int, sample_bytes: int = 0, memory_bytes: int = 0) -> str:
    """Out-of-memory advice worked out from what one sample really takes, when known."""
    if not sample_bytes or not memory_bytes:
        smaller = max(1, batch_size // 2)
        return (
            f"out of memory at batch size {batch_size}; try batch size {smaller} "
            f"(or a smaller model or input)."
        )
    per_sample = sample_bytes * TRAINING_FACTOR
    fits = int(memory_bytes // 2 // per_sample)  # leave half for weights and everything else
    if fits < 1:
        return (
            f"out of memory: one sample needs about {_gb(per_sample)} to train and this "
            f"device has {_gb(memory_bytes)}; no batch size fits. Use a smaller input "
            f"shape, downsample earlier, or use fewer channels."
        )
    suggestion = min(fits, max(1, batch_size // 2))
    return (
        f"out of memory at batch size {batch_size}: one sample needs about "
        f"{_gb(per_sample)} to train and this device has {_gb(memory_bytes)}; try batch "
        f"size {suggestion}."
    )


def device_memory(device) -> int:
    """Total memory of the device training runs on, in bytes (0 when unknown)."""
    try:
        if device is not None and device.type == "cuda":
            import torch

            return int(torch.cuda.mem_get_info(device)[1])
        if device is None or device.type == "cpu":
            return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError, RuntimeError):
        pass
    return 0


def _gb(size: float) -> str:
    return f"{size / 2**30:,.1f} GB" if size >= 2**30 else f"{size / 2**20:,.0f} MB"


def describe(
    error: BaseException,
    filename: str,
    node_lines: dict[int, str],
    batch_size: int,
    names: dict[str, str] | None = None,
    model=None,
    sample_bytes: int = 0,
    memory_bytes: int = 0,
    stage: str | None = None,
) -> TrainingFault:
    """A TrainingFault for an exception raised inside a step, or while `stage` (before the
    batches: then the batch size is not to blame)."""
    if is_out_of_memory(error) and stage:
        return TrainingFault(
            "oom",
            f"out of memory while {stage}, before any batch ran (the batch size is not the "
            f"cause); use smaller data or a smaller model.",
        )
    if is_out_of_memory(error):
        return TrainingFault("oom", oom_message(batch_size, sample_bytes, memory_bytes))
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    node, frame = node_of(error, filename, node_lines)
    if node:
        paths = {id(m): path for path, m in model.named_modules()} if model is not None else {}
        label = module_label(node, frame, names or {}, paths)
        return TrainingFault("model", f"{label}: {type(error).__name__}: {text[:300]}", node)
    return TrainingFault("error", f"{type(error).__name__}: {text[:300]}")
