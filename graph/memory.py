"""Activation memory: shapes that are fine on the meta device but not in a real run.

Analysis never allocates, so a 4096x4096x512 feature map costs it nothing; a real batch
of it needs gigabytes. These warnings say so on the node, before Train is pressed.
"""

from __future__ import annotations

from torchcanvas.graph.validate import WARNING, Problem

TENSOR_LIMIT = 256 * 2**20  # one output, per sample
TOTAL_LIMIT = 1024 * 2**20  # every output in the model together, per sample
TYPICAL_BATCH = 32
DTYPE_BYTES = {"float16": 2, "bfloat16": 2, "float32": 4, "float64": 8, "int64": 8, "bool": 1}


def activation_problems(analysis) -> list[Problem]:
    """Warnings for an output above TENSOR_LIMIT and a model above TOTAL_LIMIT, per sample."""
    largest: dict[str, tuple[int, str]] = {}  # top-level node -> its largest tensor, where
    total = 0
    for node, path, size in _tensors(analysis):
        total += size
        if size > largest.get(node, (0, ""))[0]:
            largest[node] = (size, path)
    problems = [
        _problem(
            analysis,
            node,
            f"its output{f' ({path})' if path else ''} takes {_bytes(size)} per sample, "
            f"{_bytes(size * TYPICAL_BATCH)} at batch size {TYPICAL_BATCH}; a real run may "
            f"not fit in memory (downsample earlier or use fewer channels)",
        )
        for node, (size, path) in largest.items()
        if size > TENSOR_LIMIT
    ]
    if total > TOTAL_LIMIT and not problems and largest:
        node = max(largest, key=lambda n: largest[n][0])
        problems.append(
            _problem(
                analysis,
                node,
                f"the model's activations take {_bytes(total)} per sample "
                f"({_bytes(total * TYPICAL_BATCH)} at batch size {TYPICAL_BATCH}); training "
                f"keeps them all for the backward pass, and this layer's are the largest",
            )
        )
    return problems


def activation_bytes(analysis) -> int:
    """Bytes of every output in the model for one sample (what a forward keeps for backward)."""
    return sum(size for _, _, size in _tensors(analysis))


def _problem(analysis, node: str, text: str) -> Problem:
    return Problem(node, text, WARNING, analysis.names.get(node))


def _tensors(analysis, top: str | None = None):
    """(top-level node, module path, bytes per sample) of every output, blocks included."""
    for node, facts in analysis.facts.items():
        owner = top or node
        if facts.inner is not None:  # its outputs are its body's: count those once
            yield from _tensors(facts.inner, owner)
            continue
        for meta in facts.outputs.values():
            yield owner, facts.path if top else "", tensor_bytes(meta)


def tensor_bytes(meta) -> int:
    """Bytes of one sample of `meta` (0 when a dimension is not a plain integer)."""
    count = 1
    for dim in meta.per_sample:
        if not isinstance(dim, int):
            return 0
        count *= dim
    return count * DTYPE_BYTES.get(meta.dtype, 4)


def _bytes(size: int) -> str:
    for unit, scale in (("TB", 2**40), ("GB", 2**30), ("MB", 2**20)):
        if size >= scale:
            return f"{size / scale:,.1f} {unit}"
    return f"{size:,} bytes"
