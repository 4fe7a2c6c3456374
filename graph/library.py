"""Block definitions: reusable sub-networks that become their own nn.Module classes.

A definition is a graph whose Input nodes are the block's inputs and whose Output nodes
are its outputs, plus the parameters its constructor takes. Inner layers use those
parameters through bindings (`out_channels * 4`) and `when` conditions. A project holds
its definitions in one Library; every graph of the project (the model, each definition,
each container body) refers to it, so a node's type is a registry layer or a definition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from torchcanvas.graph.autoparams import RULES
from torchcanvas.graph.events import Signal
from torchcanvas.graph.nesting import NestingError, expansion_order
from torchcanvas.graph.params import CHOICE, FLOAT, INT, Param, ParamError
from torchcanvas.graph.ports import ANY, PortSpec
from torchcanvas.graph.registry import BLOCK, LayerSpec, ModuleCall


@dataclass
class BlockDef:
    """One definition: a class name, constructor parameters and the body graph."""

    name: str
    graph: object  # ModelGraph (not imported here: the model imports this module)
    params: tuple[Param, ...] = ()
    doc: str = ""

    def param(self, name: str) -> Param | None:
        """The parameter called `name`, if the block has one."""
        return next((p for p in self.params if p.name == name), None)


class StampedCache:
    """Values by key, all dropped when the stamp they were computed under changes (or
    when more than `limit` pile up)."""

    def __init__(self, limit: int = 4096) -> None:
        self.limit = limit
        self._stamp: object = None
        self._values: dict = {}

    def get(self, stamp, key, compute):
        """The value of `key` under `stamp`, computed by `compute()` when not yet known."""
        if stamp != self._stamp or (key not in self._values and len(self._values) >= self.limit):
            self._values.clear()
            self._stamp = stamp
        if key not in self._values:
            self._values[key] = compute()
        return self._values[key]

    def clear(self) -> None:
        """Forget every value."""
        self._values.clear()
        self._stamp = None


class Library:
    """The definitions of one project, by class name."""

    def __init__(self) -> None:
        self._defs: dict[str, BlockDef] = {}
        self._specs: dict[str, tuple[tuple, LayerSpec]] = {}
        # (definition, instance context) -> its body's analysis (graph.blockrun), kept
        # until any definition changes.
        self.analyses = StampedCache()
        self._counter = 0
        self.changed = Signal("library_changed")  # () a definition was added, removed or edited

    # ----- reading ------------------------------------------------------------------
    def __contains__(self, name: object) -> bool:
        return name in self._defs

    def __iter__(self):
        return iter(self._defs.values())

    def __len__(self) -> int:
        return len(self._defs)

    def get(self, name: str) -> BlockDef | None:
        """The definition called `name`, or None."""
        return self._defs.get(name)

    def names(self) -> list[str]:
        """Definition names in the order they were added."""
        return list(self._defs)

    @property
    def revision(self) -> tuple:
        """Changes whenever any definition changes (analysis caches key on it)."""
        return (self._counter, *(d.graph.revision for d in self._defs.values()))

    def spec(self, name: str) -> LayerSpec | None:
        """The LayerSpec an instance of definition `name` has (cached until it changes)."""
        block = self._defs.get(name)
        if block is None:
            return None
        key = (self._counter, block.graph.revision)
        cached = self._specs.get(name)
        if cached is None or cached[0] != key:
            cached = (key, block_spec(block))
            self._specs[name] = cached
        return cached[1]

    def order(self) -> list[str]:
        """Definitions in dependency order: a block comes after the blocks it uses."""
        done: list[str] = []
        visiting: set[str] = set()

        def visit(name: str) -> None:
            if name in done or name in visiting or name not in self._defs:
                return
            visiting.add(name)
            for used in uses(self._defs[name].graph, self):
                visit(used)
            visiting.discard(name)
            done.append(name)

        for name in self._defs:
            visit(name)
        return done

    # ----- editing ------------------------------------------------------------------
    def add(self, block: BlockDef) -> None:
        """Add (or replace) a definition."""
        block.graph.library = self
        block.graph.events.changed.connect(self._touch)
        self._defs[block.name] = block
        self._touch()

    def remove(self, name: str) -> BlockDef:
        """Remove a definition; returns it (for undo)."""
        block = self._defs.pop(name)
        block.graph.events.changed.disconnect(self._touch)
        self._touch()
        return block

    def set_params(self, name: str, params: tuple[Param, ...]) -> None:
        """Replace a definition's constructor parameters."""
        self._defs[name].params = tuple(params)
        self._touch()

    def _touch(self) -> None:
        self._counter += 1
        self.changed.emit()


def uses(graph, library: Library) -> list[str]:
    """Definitions used by `graph`, directly or inside its containers."""
    found: list[str] = []
    for node in graph.nodes():
        type_name = graph.node_type(node)
        if type_name in library and type_name not in found:
            found.append(type_name)
        body = graph.body(node)
        if body is not None:
            found += [name for name in uses(body, library) if name not in found]
    return found


def placing_problem(library: Library, inside: str | None, name: str) -> str | None:
    """Why an instance of block `name` cannot go into definition `inside` (a cycle, or
    blocks nested too deep), or None; `inside` None is the model, where any block goes."""
    if inside is None or inside not in library:
        return None
    used = {block.name: uses(block.graph, library) for block in library}
    used[inside] = [*used[inside], name]
    used.setdefault(name, [])
    try:
        expansion_order(used)
    except NestingError as error:
        return str(error)
    return None


def block_spec(block: BlockDef) -> LayerSpec:
    """The LayerSpec of a definition's instances: its Inputs and Outputs become ports."""
    graph = block.graph
    # By type, not by spec: asking for the specs of a body that uses this very block would
    # ask for this spec again.
    inputs = tuple(
        PortSpec(graph.node_name(n), dtypes=ANY, batched=False)
        for n in graph.nodes_of_type("Input")
    )
    outputs = tuple(PortSpec(graph.node_name(n)) for n in graph.nodes_of_type("Output"))
    returns = outputs[0].name if len(outputs) == 1 else tuple(p.name for p in outputs)
    return LayerSpec(
        block.name,
        "Blocks",
        block.doc or f"The block {block.name}.",
        snake_case(block.name),
        BLOCK,
        params=block.params,
        inputs=inputs,
        outputs=outputs,
        call=ModuleCall(args=tuple(p.name for p in inputs)),
        returns=returns,
        torch_class=block.name,
        key_params=tuple(p.name for p in block.params if not p.auto)[:3],
    )


def block_param(
    name: str,
    kind: str,
    default=None,
    *,
    auto: str | None = None,
    required: bool = False,
    choices: tuple = (),
    positional: bool = False,
    doc: str = "",
) -> Param:
    """A constructor parameter of a block; ParamError when the pieces do not fit."""
    if auto is not None and (auto not in RULES or kind != INT):
        raise ParamError(f"auto: expected one of {', '.join(RULES)} (int parameters)")
    if kind == CHOICE and (not choices or not all(isinstance(c, str) for c in choices)):
        raise ParamError("choices: expected a list of strings")
    required = bool(auto) or required
    param = Param(
        name,
        kind,
        doc,
        None,
        required=required,
        initial=1 if auto else None,
        minimum=-(1 << 30) if kind in (INT, FLOAT) else None,
        maximum=1 << 30 if kind in (INT, FLOAT) else None,
        choices=tuple(choices),
        positional=positional,
        auto=auto,
    )
    if not required:
        param = replace(param, default=param.coerce(default))
    return param


def snake_case(name: str) -> str:
    """BasicBlock -> basic_block (node names of instances: basic_block1, ...)."""
    text = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()
    return re.sub(r"\W+", "_", text).strip("_") or "block"
