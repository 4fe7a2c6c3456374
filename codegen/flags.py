"""The design's training flags in the generated class: frozen layers (`requires_grad_(False)`
in `__init__`, and a `train()` that keeps their batch norm and dropout in eval mode) and
per-layer learning-rate factors (`LR_SCALES`, read when the optimizer is built)."""

from __future__ import annotations

from torchcanvas.graph.registry import BLOCK, CONTAINER, MODULE, PARAMETER

_I1, _I2 = "    ", "        "
HELD = (MODULE, BLOCK, CONTAINER, PARAMETER)  # kinds that own an attribute of the class


def _flagged(model, analysis, key: str) -> list[tuple[str, object, str, str | None]]:
    """(attribute name, value, kind, condition) of the live nodes that set `key`, in forward
    order; the condition is a block node's `when` (None: always there)."""
    found = []
    for node in analysis.order:
        value = model.flag(node, key)
        if value is None or node not in analysis.live or model.spec(node).kind not in HELD:
            continue
        when = model.when(node)
        found.append((analysis.names[node], value, model.spec(node).kind, when and when.text))
    return found


def scales_lines(model, analysis) -> list[str]:
    """`LR_SCALES = {...}`: the learning-rate factor of each layer that sets one."""
    scales = [(name, value) for name, value, *_rest in _flagged(model, analysis, "lr_scale")]
    if not scales:
        return []
    items = ", ".join(f"{name!r}: {float(value)!r}" for name, value in scales)
    return [
        f"{_I1}# Learning-rate factors: these layers train at lr times the factor.",
        f"{_I1}LR_SCALES = {{{items}}}",
        "",
    ]


def frozen_names(model, analysis) -> list[tuple[str, str, str | None]]:
    """(attribute name, kind, condition) of the frozen layers."""
    found = _flagged(model, analysis, "frozen")
    return [(name, kind, when) for name, value, kind, when in found if value]


def freeze_lines(model, analysis) -> list[str]:
    """`__init__`'s last lines: the frozen layers' parameters take no gradient."""
    frozen = frozen_names(model, analysis)
    if not frozen:
        return []
    lines = [f"{_I2}# Frozen: these layers keep the weights they are given."]
    for name, _kind, when in frozen:
        if when:  # a block's optional layer: frozen where it exists
            lines += [f"{_I2}if {when}:", f"{_I2}{_I1}self.{name}.requires_grad_(False)"]
        else:
            lines.append(f"{_I2}self.{name}.requires_grad_(False)")
    return lines


def train_lines(model, analysis) -> list[str]:
    """A `train()` that keeps the frozen layers in eval mode (batch norm statistics and
    dropout stay as they are while the rest trains)."""
    modules = [(n, when) for n, kind, when in frozen_names(model, analysis) if kind != PARAMETER]
    if not modules:
        return []
    lines = [
        f"{_I1}def train(self, mode=True):",
        f'{_I2}"""Train, with the frozen layers\' batch norm and dropout kept in eval mode."""',
        f"{_I2}super().train(mode)",
    ]
    for name, when in modules:
        if when:
            lines += [f'{_I2}if hasattr(self, "{name}"):', f"{_I2}{_I1}self.{name}.eval()"]
        else:
            lines.append(f"{_I2}self.{name}.eval()")
    return [*lines, f"{_I2}return self", ""]
