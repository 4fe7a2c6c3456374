"""How block definitions may use one another: no block inside itself, not too deep.

Works on names only ({block: [blocks it uses]}), so that a project file's definitions
are checked before any of their graphs is built, and the same messages come from the
analysis of definitions built in code.
"""

from __future__ import annotations

MAX_DEPTH = 32  # blocks inside blocks, counting the outermost one
_SHOWN = 6  # names a long chain shows before it is shortened


class NestingError(ValueError):
    """Definitions that cannot be expanded; the message names the chain that is at fault."""


def chain_text(chain) -> str:
    """A → B → C, shortened in the middle when long (the ends say where to look)."""
    names = list(chain)
    if len(names) > _SHOWN:
        names = [*names[: _SHOWN - 2], "…", *names[-2:]]
    return " → ".join(names)


def cycle_message(cycle) -> str:
    """The message for a block that uses itself, directly (A → A) or through others."""
    if len(cycle) == 2:
        return f"{cycle[0]} uses itself; a block cannot be used inside itself"
    return (
        f"{chain_text(cycle)}: these blocks use each other in a cycle; "
        f"a block cannot be used inside itself"
    )


def depth_message(chain) -> str:
    """The message for blocks nested deeper than MAX_DEPTH."""
    return (
        f"{chain_text(chain)}: blocks nest {len(chain)} levels deep; "
        f"at most {MAX_DEPTH} are allowed"
    )


def expansion_order(uses: dict[str, list[str]]) -> list[str]:
    """The blocks of `uses`, each after the blocks it uses; NestingError for a cycle or a
    chain deeper than MAX_DEPTH (names `uses` does not hold are layer types: ignored)."""
    order: list[str] = []
    deepest: dict[str, tuple[int, str | None]] = {}  # block -> (levels, next block down)
    for root in uses:
        if root not in deepest:
            _visit(root, uses, order, deepest)
    top = max(deepest, key=lambda name: deepest[name][0], default=None)
    if top is not None and deepest[top][0] > MAX_DEPTH:
        chain = [top]
        while deepest[chain[-1]][1] is not None:
            chain.append(deepest[chain[-1]][1])
        raise NestingError(depth_message(chain))
    return order


def _visit(root: str, uses: dict, order: list[str], deepest: dict) -> None:
    """Depth-first from `root` without recursion (a file may chain thousands of blocks)."""
    path, on_path = [root], {root}
    stack = [(root, iter(uses[root]))]
    while stack:
        name, following = stack[-1]
        used = next((u for u in following if u in uses and u not in deepest), None)
        if used is None:
            stack.pop()
            on_path.discard(path.pop())
            below = [u for u in uses[name] if u in deepest]
            down = max(below, key=lambda u: deepest[u][0], default=None)
            deepest[name] = (1 + (deepest[down][0] if down else 0), down)
            order.append(name)
        elif used in on_path:
            raise NestingError(cycle_message([*path[path.index(used) :], used]))
        else:
            path.append(used)
            on_path.add(used)
            stack.append((used, iter(uses[used])))
