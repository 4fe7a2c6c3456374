"""Structural checks of a ModelGraph: inputs and outputs, ports, cycles, unused nodes.

Everything here is linear in nodes + edges, so that wide graphs stay fast.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from torchcanvas.graph.ports import is_slot
from torchcanvas.graph.registry import INPUT, OUTPUT

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the graph: its node, and a sentence saying what to change."""

    node: str | None  # the node's id
    message: str
    severity: str = ERROR
    name: str | None = None  # the node's name when the problem was found, for messages
    trail: tuple[
        str, ...
    ] = ()  # ids of the inner nodes it is about, inside a block, outermost first

    def __post_init__(self) -> None:
        # One style for every message: a sentence without a closing period.
        object.__setattr__(self, "message", self.message.rstrip("."))

    def __str__(self) -> str:
        if self.trail:  # from inside a block: the message starts with the inner node's path
            return self.message
        label = self.name or self.node
        return f"{label}: {self.message}" if label else self.message


def execution_order(model) -> list[str]:
    """Topological order, depth first so that chains stay together; cycles are left out."""
    nodes = model.nodes()
    index = {node: i for i, node in enumerate(nodes)}
    waiting = {node: len(model.inputs(node)) for node in nodes}
    stack = sorted((n for n, count in waiting.items() if count == 0), key=index.get, reverse=True)
    order: list[str] = []
    while stack:
        node = stack.pop()
        order.append(node)
        ready = []
        for edge in model.outputs(node):
            waiting[edge.dst] -= 1
            if waiting[edge.dst] == 0:
                ready.append(edge.dst)
        stack.extend(sorted(ready, key=index.get, reverse=True))
    return order


def live_nodes(model) -> set[str]:
    """Nodes that contribute to an Output (the ones the generated model contains)."""
    live = set(model.nodes_of_kind(OUTPUT))
    frontier = list(live)
    while frontier:
        node = frontier.pop()
        for edge in model.inputs(node):
            if edge.src not in live:
                live.add(edge.src)
                frontier.append(edge.src)
    return live


def structural_problems(model, order: list[str], live: set[str]) -> list[Problem]:
    """Problems that do not need shapes: missing Input/Output, ports, cycles, unused nodes."""
    names = model.names()
    problems = _io_problems(model)
    problems += _cycle_problems(model, order, names)
    for node in model.nodes():
        problems += _port_problems(model, node, names[node])
    problems += _unused_problems(model, live, names)
    return problems


def _io_problems(model) -> list[Problem]:
    problems = []
    for kind, label in ((INPUT, "Input"), (OUTPUT, "Output")):
        if not model.nodes_of_kind(kind):
            problems.append(
                Problem(
                    None,
                    f"The model has no {label}; drag one in from the palette's Input / Output "
                    f"group.",
                )
            )
    return problems


def _cycle_problems(model, order: list[str], names: dict) -> list[Problem]:
    stuck = set(model.nodes()) - set(order)
    if not stuck:
        return []
    cycle = nx.find_cycle(model.nx_graph.subgraph(stuck))
    loop = [u for u, *_ in cycle]
    text = " -> ".join(names[n] for n in loop + [loop[0]])
    return [
        Problem(
            node,
            f"is part of a cycle ({text}); remove one of these connections.",
            ERROR,
            names[node],
        )
        for node in loop
    ]


def _port_problems(model, node: str, name: str) -> list[Problem]:
    spec = model.spec(node)
    edges = model.inputs(node)
    problems = [Problem(node, text, ERROR, name) for text in _unknown_ports(model, node, edges)]
    connected = {e.dst_port for e in edges}
    for port in spec.inputs:
        if port.variadic:
            problems += _slot_problems(
                node, name, port, sorted(int(p) for p in connected if is_slot(p))
            )
        elif not port.optional and port.name not in connected:
            where = "" if len(spec.inputs) == 1 else f"its {port.name} input "
            text = (
                "has no input; connect a layer's output to it"
                if not where
                else (f"{where}is not connected; connect a layer's output to it")
            )
            problems.append(Problem(node, text, ERROR, name))
    return problems


def _unknown_ports(model, node: str, edges) -> list[str]:
    spec, texts = model.spec(node), []
    for edge in edges:
        if spec.input_port(edge.dst_port) is None:
            texts.append(f"has no input {edge.dst_port!r}; reconnect that edge")
    ports = set(model.output_ports(node))  # a Split may have many outputs, all in use
    for edge in model.outputs(node):
        if edge.src_port not in ports:
            texts.append(
                f"has no output {edge.src_port!r} any more; reconnect "
                f"{model.node_name(edge.dst)} or change the parameters back"
            )
    return texts


def _slot_problems(node: str, name: str, port, slots: list[int]) -> list[Problem]:
    if len(slots) < port.minimum:
        missing = port.minimum - len(slots)
        return [
            Problem(
                node,
                f"needs at least {port.minimum} inputs but has {len(slots)}; connect "
                f"{missing} more.",
                ERROR,
                name,
            )
        ]
    if slots != list(range(len(slots))):
        return [Problem(node, f"input slots {slots} have a gap; reconnect them.", ERROR, name)]
    return []


def _unused_problems(model, live: set[str], names: dict) -> list[Problem]:
    if not model.nodes_of_kind(OUTPUT):
        return []
    problems = []
    for node in model.nodes():
        if node in live:
            continue
        if model.spec(node).kind == INPUT:
            text = "does not reach an Output; connect it to the first layer."
        else:
            text = "does not reach an Output, so it is left out of the model; connect or delete it."
        problems.append(Problem(node, text, WARNING, names[node]))
    return problems
