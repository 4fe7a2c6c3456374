"""The module hierarchy of a trace: which ops ran inside which module call.

Each scope is one call of a non-leaf module (`layer1.0`); its elements, in order, are its
own ops and its child scopes. Its boundary is the values that cross it: what it reads
from outside and what outside reads from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import nn

from torchcanvas.graph.fximport.ir import Op, Ref


@dataclass
class Scope:
    """One call of a module: its ops and child scopes, in the order they ran."""

    key: str  # the module-stack key: `layer1.0`, or `layer1.0@1` for a second call
    module: nn.Module
    parent: Scope | None = None
    elements: list = field(default_factory=list)  # Op or Scope, in order
    ops: set[int] = field(default_factory=set)  # every op inside, deep
    inputs: list[Ref] = field(default_factory=list)
    outputs: list[Ref] = field(default_factory=list)

    @property
    def path(self) -> str:
        """The module path (`layer1.0`)."""
        return self.key.split("@")[0]

    @property
    def attribute(self) -> str:
        """The module's name in its parent (`0`, `conv1`, `denselayer3`)."""
        return self.path.rpartition(".")[2]

    def height(self) -> int:
        """0 for a scope without child scopes; else one more than its tallest child."""
        children = [e for e in self.elements if isinstance(e, Scope)]
        return 1 + max(c.height() for c in children) if children else 0

    def walk(self):
        """This scope and every scope inside it, children first."""
        for element in self.elements:
            if isinstance(element, Scope):
                yield from element.walk()
        yield self


def build_tree(root: nn.Module, ops: list[Op]) -> Scope:
    """The scope tree of `ops`; Inputs and Outputs belong to the root."""
    top = Scope("", root)
    scopes = {"": top}
    for op in ops:
        scope = top
        for key in op.scope:
            if key not in scopes:
                module = root.get_submodule(key.split("@")[0])
                child = Scope(key, module, scope)
                scopes[key] = child
                scope.elements.append(child)
            scope = scopes[key]
        scope.elements.append(op)
    for scope in top.walk():
        scope.ops = {e.id for e in _deep(scope)}
    return top


def _deep(scope: Scope):
    for element in scope.elements:
        if isinstance(element, Scope):
            yield from _deep(element)
        else:
            yield element


def mark_boundaries(top: Scope, ops: list[Op]) -> None:
    """Fill each scope's inputs (read from outside) and outputs (read outside)."""
    readers: dict[Ref, list[int]] = {}
    for op in ops:
        for ref in op.inputs.values():
            readers.setdefault(ref, []).append(op.id)
    for scope in top.walk():
        if scope is top:
            continue
        inputs, outputs = [], []
        for op in (ops[i] for i in sorted(scope.ops)):
            for ref in op.inputs.values():
                if ref.op not in scope.ops and ref not in inputs:
                    inputs.append(ref)
        for ref, users in readers.items():
            if ref.op in scope.ops and any(u not in scope.ops for u in users):
                outputs.append(ref)
        scope.inputs, scope.outputs = inputs, sorted(outputs, key=lambda r: (r.op, r.port))


def hoist_concats(top: Scope, ops: list[Op]) -> None:
    """Move a concatenation of everything a scope reads out to its caller.

    DenseNet's layer starts with `torch.cat(inputs, 1)` of every earlier feature map, so
    each layer would read a different number of tensors and no two could share a class.
    With the cat outside, every layer reads one tensor, as a person would write it.
    """
    for scope in list(top.walk()):
        if scope is top or scope.parent is None:
            continue
        direct = [e for e in scope.elements if isinstance(e, Op)]
        reading = [
            op
            for op in (ops[i] for i in scope.ops)
            if any(r.op not in scope.ops for r in op.inputs.values())
        ]
        if len(reading) != 1 or reading[0].type != "Concat" or reading[0] not in direct:
            continue
        concat = reading[0]
        if any(r.op in scope.ops for r in concat.inputs.values()):
            continue
        scope.elements.remove(concat)
        parent = scope.parent
        parent.elements.insert(parent.elements.index(scope), concat)
        concat.scope = concat.scope[: concat.scope.index(scope.key)]
        scope.ops.discard(concat.id)


def is_sequential(module: nn.Module) -> bool:
    """An nn.Sequential whose forward is Sequential's own (subclasses included)."""
    return isinstance(module, nn.Sequential) and type(module).forward is nn.Sequential.forward
