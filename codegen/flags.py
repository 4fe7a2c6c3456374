"""The design's training flags in the generated class: frozen layers (`requires_grad_(False)`
in `__init__`, and a `train()` that keeps their batch norm and dropout in eval mode) and
per-layer learning-rate factors (`self.lr_scales`, read when the optimizer is built).

Each class carries the flags of its own graph, so a block definition's flags hold for every
instance. Layers inside a container (nn.Sequential, nn.ModuleList) are reached by their
index or name (`self.features[2]`); the innermost explicit flag wins, so a layer that says
`"frozen": false` inside a frozen container trains.
"""

from __future__ import annotations

from dataclasses import dataclass

from torchcanvas.graph.registry import BLOCK, CONTAINER, MODULE, PARAMETER

_I1, _I2, _I3 = "    ", "        ", "            "
HELD = (MODULE, BLOCK, CONTAINER, PARAMETER)  # kinds that own an attribute of the class


@dataclass
class Flagged:
    """One layer that sets a flag: how the code reaches it, and where it sits."""

    code: str  # `conv1`, `features[2]`, `features.conv`
    dotted: str  # its parameters' prefix: `features.2`
    value: object
    kind: str
    when: str | None  # a block's optional layer: the condition it exists under
    inside: tuple[str, ...]  # the dotted paths of the containers around it


def _flagged(model, analysis, key: str) -> list[Flagged]:
    """The live layers (and container children) that set `key`, outer before inner."""
    found = []
    for node in analysis.order:
        kind = model.spec(node).kind
        if node not in analysis.live or kind not in HELD:
            continue
        name, when = analysis.names[node], model.when(node)
        value = model.flag(node, key)
        if value is not None:
            found.append(Flagged(name, name, value, kind, when and when.text, ()))
        if kind == CONTAINER and not when:
            found += _children(model, node, key, name, name, (name,))
    return found


def _children(model, node: str, key: str, code: str, dotted: str, inside) -> list[Flagged]:
    """Flags inside a container's body, reached by index (or by name when named)."""
    from torchcanvas.graph.blockrun import chain_order

    body = model.body(node)
    children = chain_order(body)
    if any(body.when(child) for child in children):
        return []  # the indexes depend on the arguments: only whole-container flags apply
    named = bool(model.params(node).get("named"))
    found = []
    for index, child in enumerate(children):
        label = body.node_name(child) if named else str(index)
        child_code = f"{code}.{label}" if named else f"{code}[{index}]"
        child_dotted = f"{dotted}.{label}"
        kind = body.spec(child).kind
        value = body.flag(child, key)
        if value is not None:
            found.append(Flagged(child_code, child_dotted, value, kind, None, inside))
        if kind == CONTAINER:
            found += _children(body, child, key, child_code, child_dotted, (*inside, child_dotted))
    return found


def scales_lines(model, analysis) -> list[str]:
    """`self.lr_scales = {...}` in `__init__`: the learning-rate factor of each layer that
    sets one (read when the optimizer is built)."""
    scales = _flagged(model, analysis, "lr_scale")
    if not scales:
        return []
    items = ", ".join(f"{f.dotted!r}: {float(f.value)!r}" for f in scales)
    return [
        f"{_I2}# Learning-rate factors: these layers train at lr times the factor.",
        f"{_I2}self.lr_scales = {{{items}}}",
    ]


def _effective(model, analysis) -> list[Flagged]:
    """The frozen flags that change something: every `true`, and a `false` inside a frozen
    container (which trains again), outer before inner."""
    frozen, kept = set(), []
    for flag in _flagged(model, analysis, "frozen"):
        if flag.value:
            frozen.add(flag.dotted)
            kept.append(flag)
        elif any(path in frozen for path in flag.inside):
            kept.append(flag)
    return kept


def freeze_lines(model, analysis) -> list[str]:
    """`__init__`'s last lines: the frozen layers' parameters take no gradient."""
    flags = _effective(model, analysis)
    if not flags:
        return []
    lines = [f"{_I2}# Frozen: these layers keep the weights they are given."]
    if any(f.kind != PARAMETER for f in flags):  # train() keeps them in eval mode while set
        lines.append(f"{_I2}self.keep_frozen = True")
    for flag in flags:
        line = f"self.{flag.code}.requires_grad_({not flag.value})"
        if flag.when:  # a block's optional layer: frozen where it exists
            lines += [f"{_I2}if {flag.when}:", f"{_I2}{_I1}{line}"]
        else:
            lines.append(f"{_I2}{line}")
    return lines


def train_lines(model, analysis) -> list[str]:
    """A `train()` that keeps the frozen layers in eval mode (batch norm statistics and
    dropout stay as they are while the rest trains)."""
    flags = [f for f in _effective(model, analysis) if f.kind != PARAMETER]
    if not flags:
        return []
    lines = [
        f"{_I1}def train(self, mode=True):",
        f'{_I2}"""Train, with the frozen layers\' batch norm and dropout kept in eval mode."""',
        f"{_I2}super().train(mode)",
        f"{_I2}if self.keep_frozen:  # False once they are unfrozen (gradual unfreezing)",
    ]
    for flag in flags:
        line = f"self.{flag.code}.eval()" if flag.value else f"self.{flag.code}.train(mode)"
        if flag.when:  # an optional layer is None where it is left out
            lines += [f"{_I3}if self.{flag.code} is not None:", f"{_I3}{_I1}{line}"]
        else:
            lines.append(f"{_I3}{line}")
    return [*lines, f"{_I2}return self", ""]
