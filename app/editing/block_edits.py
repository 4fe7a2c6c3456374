"""Block edits of a Document: group, ungroup, repeat, place, bind, and edit definitions.

Each method checks first (the lock too) and pushes one undoable step; it returns an error
message, or None when done. The graph edited is the one on the canvas (the model, a definition or a
container body).
"""

from __future__ import annotations

from pathlib import Path

from torchcanvas.app.blocklib import (
    BlockFileError,
    adopt,
    blocks_folder,
    read_block_file,
    save_block,
    user_blocks,
)
from torchcanvas.app.editing import commands as cmd
from torchcanvas.app.editing.block_commands import (
    Change,
    RemoveBlockCommand,
    SetBlockParamsCommand,
    SetBodyCommand,
    SetWhenCommand,
    StructureCommand,
)
from torchcanvas.app.editing.block_graphs import (
    fresh_builtin,
    node_types,
    project_graphs,
    resize_chain,
    users_of,
)
from torchcanvas.app.editing.lock import refused_while_locked
from torchcanvas.graph.blockrun import chain_order
from torchcanvas.graph.builtin_blocks import BUILTIN
from torchcanvas.graph.grouping import Exposed, make_block, repeat, ungroup
from torchcanvas.graph.library import BlockDef, block_param, placing_problem
from torchcanvas.graph.model import GraphError, ModelGraph
from torchcanvas.graph.naming import class_name_problem, identifier_problem
from torchcanvas.graph.nesting import cycle_message
from torchcanvas.graph.params import ParamError
from torchcanvas.graph.registry import CONTAINER, has_spec
from torchcanvas.graph.symbolic import Bound, ExprError, names, plain

MAX_REPEAT = 64


class BlockEdits:
    """The block commands of one Document."""

    def __init__(self, document, home: Path) -> None:
        self.document = document
        self.folder = blocks_folder(home)

    @property
    def graph(self) -> ModelGraph:
        return self.document.graph

    @property
    def library(self):
        return self.document.model.library

    def _push(self, text: str, change: Change, graph: ModelGraph | None = None) -> None:
        self.document.undo.push(StructureCommand(text, graph or self.graph, change))

    # ----- grouping -----------------------------------------------------------------------
    @refused_while_locked
    def make_block(self, nodes: list[str], name: str, exposed: list[Exposed]) -> str | None:
        """Move `nodes` into a new definition and put one instance in their place."""
        if has_spec(name) or name in BUILTIN or name in self.user_blocks():
            return f"Cannot make the block: {name} is already the name of a layer or block"
        try:
            grouping = make_block(self.graph, nodes, name, exposed)
        except GraphError as error:
            return f"Cannot make the block: {error}"
        change = Change(grouping.records, [grouping.instance], [grouping.block])
        self._push(f"Make block {name}", change)
        self.document.last_added = grouping.instance
        return None

    @refused_while_locked
    def ungroup(self, node: str) -> str | None:
        """Replace a block instance by its layers."""
        try:
            record, added = ungroup(self.graph, node)
        except GraphError as error:
            return f"Cannot ungroup: {error}"
        self._push(f"Ungroup {record.name}", Change([record], added))
        return None

    @refused_while_locked
    def repeat(self, node: str, count: int) -> str | None:
        """Turn a block instance into an nn.Sequential of `count` of them."""
        try:
            record, container = repeat(self.graph, node, count)
        except GraphError as error:
            return f"Cannot repeat: {error}"
        self._push(f"Repeat {record.name} ×{count}", Change([record], [container]))
        self.document.last_added = container
        return None

    @refused_while_locked
    def set_count(self, node: str, count: int) -> str | None:
        """Give a repeat (a Sequential) `count` children: copies of its last one, or fewer."""
        graph = self.graph
        if node not in graph or graph.spec(node).kind != CONTAINER:
            return "only a container has a repeat count"
        if not 1 <= count <= MAX_REPEAT:
            return f"a repeat count is between 1 and {MAX_REPEAT}"
        body = graph.body(node).copy()
        chain = chain_order(body)
        if not chain:
            return "the container is empty; open it and add a layer first"
        if len(chain) == count:
            return None
        try:
            resize_chain(body, chain, count)
        except GraphError as error:
            return f"Cannot change the count: {error}"
        text = f"{graph.node_name(node)} ×{count}"
        self.document.undo.push(SetBodyCommand(graph, node, body, text))
        return None

    # ----- the library --------------------------------------------------------------------
    def user_blocks(self) -> dict[str, Path]:
        """The user's saved blocks, by name."""
        return user_blocks(self.folder)[0]

    def available(self, name: str) -> list[BlockDef] | str:
        """Definitions to add so that `name` can be used here (dependencies first)."""
        if name in self.library:
            return []
        if name in BUILTIN:
            return fresh_builtin(name, self.library)
        path = self.user_blocks().get(name)
        if path is None:
            return f"there is no block called {name}"
        try:
            return adopt(read_block_file(path), self.library)
        except BlockFileError as error:
            return str(error)

    @refused_while_locked
    def place(self, name: str, pos) -> str | None:
        """Add an instance of block `name`, with its definition when the project lacks it."""
        blocks = self.available(name)
        if isinstance(blocks, str):
            return blocks
        inside = self.document.navigator.block()
        if inside == name or inside in [b.name for b in blocks]:
            return cycle_message([inside, *([name] if inside != name else []), inside])
        problem = placing_problem(self.library, inside, name)
        if problem:
            return problem
        for block in blocks:
            self.library.add(block)
        try:
            node = self.graph.add_node(name, None, None, pos)
        except GraphError as error:
            for block in reversed(blocks):
                self.library.remove(block.name)
            return str(error)
        self._push(f"Add {name}", Change([], [node], blocks))
        self.document.last_added = node
        return None

    def adopt_definition(self, name: str) -> str | None:
        """Add definition `name` (a built-in or saved one) to the project, to open or copy it."""
        blocks = self.available(name)
        if isinstance(blocks, str):
            return blocks
        if blocks:
            problem = self.document.refusal()  # looking at a definition it has is no edit
            if problem:
                return problem
            for block in blocks:
                self.library.add(block)
            self._push(f"Add block {name}", Change([], [], blocks), self.document.model)
        return None

    @refused_while_locked
    def copy_definition(self, name: str, new: str) -> str | None:
        """A copy of definition `name` under another class name."""
        problem = self._new_block_name_problem(new) or self.adopt_definition(name)
        if problem:
            return problem
        source = self.library.get(name)
        block = BlockDef(new, source.graph.copy(), source.params, source.doc)
        block.graph.set_name(new)
        self.library.add(block)
        self._push(f"Copy {name} to {new}", Change([], [], [block]), self.document.model)
        return None

    @refused_while_locked
    def remove_definition(self, name: str) -> str | None:
        """Take an unused definition out of the project."""
        users = [g for g in project_graphs(self.document.model) if name in node_types(g)]
        if users:
            return f"{name} is still used; delete its instances first"
        block = self.library.get(name)
        if block is None:
            return f"there is no block called {name}"
        self.library.remove(name)
        self.document.undo.push(RemoveBlockCommand(self.library, block))
        return None

    def save_to_library(self, name: str) -> str | None:
        """Write definition `name` to the user's block folder."""
        try:
            save_block(self.library, name, self.folder)
        except (BlockFileError, OSError) as error:
            return f"Cannot save {name}: {error}"
        return None

    def _new_block_name_problem(self, name: str) -> str | None:
        problem = class_name_problem(name)
        if problem:
            return problem
        if name in self.library or has_spec(name) or name in BUILTIN:
            return f"there is already a layer or block called {name}"
        return None

    # ----- inside a definition ------------------------------------------------------------
    def scope(self) -> BlockDef | None:
        """The definition whose parameters inner values may use here."""
        name = self.document.navigator.block()
        return self.library.get(name) if name else None

    @refused_while_locked
    def bind(self, node: str, key: str, text: str) -> str | None:
        """Bind a parameter to an expression over the block's parameters ('' unbinds)."""
        graph = self.graph
        if node not in graph:
            return "that node was deleted"
        if not text.strip():
            current = self.document.navigator.analysis().resolved(node).get(key)
            value = plain(current) if current is not None else graph.spec(node).param(key).default
            return self.document.set_param(node, key, value, allow_bound=True)
        problem = self._expression_problem(text)
        if problem:
            return f"{key}: {problem}"
        value = Bound(text)
        if graph.params(node).get(key) != value:
            self.document.undo.push(cmd.SetParamCommand(graph, node, key, value))
        return None

    @refused_while_locked
    def set_when(self, node: str, text: str) -> str | None:
        """Keep a node only when a condition over the block's parameters holds ('' always)."""
        graph = self.graph
        if node not in graph:
            return "that node was deleted"
        text = text.strip() or None
        problem = self._expression_problem(text) if text else None
        if problem:
            return f"condition: {problem}"
        old = graph.when(node)
        if (old.text if old else None) != (Bound(text).text if text else None):
            self.document.undo.push(SetWhenCommand(graph, node, text))
        return None

    def _expression_problem(self, text: str) -> str | None:
        block = self.scope()
        if block is None:
            return "expressions use a block's parameters; open a block definition to use them"
        try:
            used = names(text)
        except ExprError as error:
            return str(error)
        known = {p.name for p in block.params}
        unknown = [n for n in used if n not in known]
        if unknown:
            listed = ", ".join(sorted(known)) or "none yet; add one in the inspector"
            return f"{unknown[0]} is not a parameter of {block.name} ({listed})"
        return None

    @refused_while_locked
    def add_param(self, name: str, kind: str, default) -> str | None:
        """Give the definition in scope another constructor parameter."""
        block = self.scope()
        if block is None:
            return "open a block definition first"
        problem = identifier_problem(name)
        if problem or block.param(name):
            return problem or f"{block.name} already has a parameter {name}"
        try:
            param = block_param(name, kind, default)
        except ParamError as error:
            return str(error)
        self.document.undo.push(
            SetBlockParamsCommand(
                self.library, block.name, (*block.params, param), f"Add {block.name}.{name}"
            )
        )
        return None

    @refused_while_locked
    def set_param_default(self, name: str, value) -> str | None:
        """Change the default of one of the definition's parameters."""
        block = self.scope()
        param = block.param(name) if block else None
        if param is None or param.required:
            return f"{name} has no default to change"
        try:
            new = block_param(name, param.kind, value, choices=param.choices, doc=param.doc)
        except ParamError as error:
            return str(error)
        if new.default == param.default:
            return None
        params = tuple(new if p.name == name else p for p in block.params)
        self.document.undo.push(
            SetBlockParamsCommand(self.library, block.name, params, f"Default of {name}")
        )
        return None

    @refused_while_locked
    def remove_param(self, name: str) -> str | None:
        """Remove a parameter nothing inside uses; instances forget their value for it."""
        block = self.scope()
        if block is None or block.param(name) is None:
            return f"there is no parameter {name}"
        users = users_of(block.graph, name)
        if users:
            return f"{users[0]} uses {name}; change that first"
        undo = self.document.undo
        with undo.macro(f"Remove {block.name}.{name}"):
            for graph in project_graphs(self.document.model):
                for node in graph.nodes_of_type(block.name):
                    if name in graph.params(node):
                        default = block.param(name).default
                        undo.push(cmd.SetParamCommand(graph, node, name, default))
            params = tuple(p for p in block.params if p.name != name)
            undo.push(SetBlockParamsCommand(self.library, block.name, params, "Remove parameter"))
        return None
