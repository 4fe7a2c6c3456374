"""The design's training flags in the generated class: frozen layers (`requires_grad_(False)`
in `__init__`, and a `train()` that keeps their batch norm and dropout in eval mode) and
per-layer learning-rate factors (`LR_SCALES`, read when the optimizer is built)."""

from __future__ import annotations

from torchcanvas.graph.registry import BLOCK, CONTAINER, MODULE, PARAMETER

_I1, _I2 = "    ", "        "
HELD = (MODULE, BLOCK, CONTAINER, PARAMETER)  # kinds that own an attribute of the class


def _flagged(model, analysis, key: str) -> list[tuple[str, object]]:
    """(attribute name, value) of the live nodes that set `key`, in forward order."""
    found = []
    for node in analysis.order:
        value = model.flag(node, key)
        if value is None or node not in analysis.live or model.spec(node).kind not in HELD:
            continue
        found.append((analysis.names[node], value, model.spec(node).kind))
    return found


def scales_lines(model, analysis) -> list[str]:
    """`LR_SCALES = {...}`: the learning-rate factor of each layer that sets one."""
    scales = [(name, value) for name, value, _kind in _flagged(model, analysis, "lr_scale")]
    if not scales:
        return []
    items = ", ".join(f"{name!r}: {float(value)!r}" for name, value in scales)
    return [
        f"{_I1}# Learning-rate factors: these layers train at lr times the factor.",
        f"{_I1}LR_SCALES = {{{items}}}",
        "",
    ]


def frozen_names(model, analysis) -> list[tuple[str, str]]:
    """(attribute name, kind) of the frozen layers."""
    return [(name, kind) for name, value, kind in _flagged(model, analysis, "frozen") if value]


def freeze_lines(model, analysis) -> list[str]:
    """`__init__`'s last lines: the frozen layers' parameters take no gradient."""
    frozen = frozen_names(model, analysis)
    if not frozen:
        return []
    lines = [f"{_I2}# Frozen: these layers keep the weights they are given."]
    return lines + [f"{_I2}self.{name}.requires_grad_(False)" for name, _kind in frozen]


def train_lines(model, analysis) -> list[str]:
    """A `train()` that keeps the frozen layers in eval mode (batch norm statistics and
    dropout stay as they are while the rest trains)."""
    modules = [name for name, kind in frozen_names(model, analysis) if kind != PARAMETER]
    if not modules:
        return []
    return [
        f"{_I1}def train(self, mode=True):",
        f'{_I2}"""Train, with the frozen layers\' batch norm and dropout kept in eval mode."""',
        f"{_I2}super().train(mode)",
        *(f"{_I2}self.{name}.eval()" for name in modules),
        f"{_I2}return self",
        "",
    ]
