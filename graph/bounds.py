"""How far a design may expand: layers once every block is unfolded, and parameters.

Analysis visits every instance of every block (each has its own module path), so a file
of a few nodes that nests blocks eight deep, ten instances a level, asks for 10^8
analyses. The count here is made from the definitions alone, once per definition, before
any analysis; the design is refused with the count and the chain that multiplies it.
"""

from __future__ import annotations

from collections import Counter

from torchcanvas.graph.validate import ERROR, Problem

MAX_LAYERS = 100_000  # 10^4 layers analyse in about 5 s, 10^5 in about 45 s
MAX_PARAMETERS = 1 << 32  # 16 GB as float32: more than any run here could hold
_CAP = 10**30  # counts stop growing here: 10,000 nested definitions would make huge ints
_ENDS = ("Input", "Output")


def expansion_problem(graph) -> Problem | None:
    """An error when `graph` unfolds to more than MAX_LAYERS layers (None: it fits)."""
    library = graph.library
    if library is None or not len(library):
        return None
    layers, used, node_of = _own(graph, library)
    totals = _definition_totals(used, library)
    total = min(_CAP, layers + sum(n * totals.get(name, 0) for name, n in used.items()))
    if total <= MAX_LAYERS:
        return None
    chain, first = _chain(used, totals, library)
    node = node_of.get(first)
    count = f"{total:,}" if total < _CAP else f"more than {_CAP:,}"
    return Problem(
        node,
        f"the design expands to {count} layers once its blocks are unfolded (limit "
        f"{MAX_LAYERS:,}): {chain}; use fewer instances or fewer levels of blocks",
        ERROR,
        graph.node_name(node) if node else None,
    )


def parameter_problem(analysis) -> Problem | None:
    """An error when the analysed model holds more than MAX_PARAMETERS parameters."""
    facts = [(n, f) for n, f in analysis.facts.items() if n in analysis.live]
    total = sum(f.params for _, f in facts if isinstance(f.params, int))
    if total <= MAX_PARAMETERS:
        return None
    node, _ = max(facts, key=lambda item: item[1].params if isinstance(item[1].params, int) else 0)
    return Problem(
        node,
        f"the model has {total:,} parameters ({total * 4 / 2**30:,.0f} GB as float32; limit "
        f"{MAX_PARAMETERS:,}), this layer the most; use fewer features or channels",
        ERROR,
        analysis.names.get(node),
    )


def _own(graph, library) -> tuple[int, Counter, dict[str, str]]:
    """(layers written in `graph` and its container bodies, instances of each definition
    there, the top-level node holding the first instance of each)."""
    layers, used, node_of = 0, Counter(), {}
    for top in graph.nodes():
        stack = [(graph, top)]
        while stack:
            owner, node = stack.pop()
            type_name = owner.node_type(node)
            layers += type_name not in _ENDS
            if type_name in library:
                used[type_name] += 1
                node_of.setdefault(type_name, top)
            body = owner.body(node)
            if body is not None:
                stack += [(body, inner) for inner in body.nodes()]
    return layers, used, node_of


def _definition_totals(used: Counter, library) -> dict[str, int]:
    """Layers one instance of each definition unfolds to, without recursion (a chain of a
    thousand definitions would overflow Python's stack). A definition that uses itself
    counts its own use as nothing: analysis names that cycle."""
    direct: dict[str, tuple[int, Counter]] = {}
    totals: dict[str, int] = {}
    active: set[str] = set()
    stack = [(name, False) for name in used]
    while stack:
        name, ready = stack.pop()
        if name in totals or (name in active and not ready):
            continue
        if name not in direct:
            direct[name] = _own(library.get(name).graph, library)[:2]
        layers, inner = direct[name]
        if ready:
            active.discard(name)
            totals[name] = min(_CAP, layers + sum(n * totals.get(u, 0) for u, n in inner.items()))
            continue
        active.add(name)
        stack.append((name, True))
        stack += [(u, False) for u in inner if u not in totals and u not in active]
    return totals


def _chain(used: Counter, totals: dict[str, int], library) -> tuple[str, str]:
    """'B1 ×10 → B2 ×10 → …': at each level the definition that adds the most layers."""
    steps, seen, first = [], set(), ""
    while used and len(steps) < 40:
        name = max(used, key=lambda u: used[u] * totals.get(u, 0))
        if name in seen:
            break
        first = first or name
        seen.add(name)
        steps.append(f"{name} ×{used[name]}")
        used = _own(library.get(name).graph, library)[1]
    return " → ".join(steps), first
