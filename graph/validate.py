"""Structural checks of a ModelGraph: inputs and outputs, ports, cycles, unused nodes."""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from torchcanvas.graph.registry import INPUT, OUTPUT

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the graph: its node, and a sentence saying what to change."""

    node: str | None
    message: str
    severity: str = ERROR

    def __post_init__(self) -> None:
        # One style for every message: a sentence without a closing period.
        object.__setattr__(self, "message", self.message.rstrip("."))

    def __str__(self) -> str:
        return f"{self.node}: {self.message}" if self.node else self.message


def execution_order(model) -> list[str]:
    """Topological order that keeps chains together; nodes on a cycle are left out."""
    graph = model.nx_graph
    index = {name: i for i, name in enumerate(graph.nodes)}
    waiting = {name: graph.in_degree(name) for name in graph.nodes}
    ready = [name for name, count in waiting.items() if count == 0]
    order: list[str] = []
    last = None
    while ready:
        followers = [n for n in ready if last is not None and graph.has_edge(last, n)]
        pick = min(followers or ready, key=index.__getitem__)
        ready.remove(pick)
        order.append(pick)
        last = pick
        for _, succ in graph.out_edges(pick):
            waiting[succ] -= 1
            if waiting[succ] == 0:
                ready.append(succ)
    return order


def structural_problems(model, order: list[str]) -> list[Problem]:
    """Problems that do not need shapes: missing or extra Input/Output, ports, cycles."""
    problems = _io_problems(model)
    problems += _cycle_problems(model, order)
    for name in model.nodes():
        problems += _port_problems(model, name)
    problems += _unused_problems(model)
    return problems


def _io_problems(model) -> list[Problem]:
    problems = []
    for kind, label in ((INPUT, "Input"), (OUTPUT, "Output")):
        found = [n for n in model.nodes() if model.spec(n).kind == kind]
        if not found:
            problems.append(
                Problem(
                    None,
                    f"The model has no {label}; drag one in from the "
                    f"palette's Input / Output group.",
                )
            )
        for extra in found[1:]:
            problems.append(
                Problem(
                    extra,
                    f"only one {label} is supported; delete this one or merge it into {found[0]}.",
                )
            )
    return problems


def _cycle_problems(model, order: list[str]) -> list[Problem]:
    stuck = set(model.nodes()) - set(order)
    if not stuck:
        return []
    cycle = nx.find_cycle(model.nx_graph.subgraph(stuck))
    loop = [u for u, *_ in cycle]
    text = " -> ".join(loop + [loop[0]])
    return [
        Problem(node, f"is part of a cycle ({text}); remove one of these connections.")
        for node in loop
    ]


def _port_problems(model, name: str) -> list[Problem]:
    spec = model.spec(name)
    ports = [port for _, port in model.inputs(name)]
    count = len(ports)
    if spec.max_inputs is not None and count > spec.max_inputs:
        noun = "input" if spec.max_inputs == 1 else "inputs"
        return [
            Problem(
                name,
                f"takes {spec.max_inputs} {noun} but has {count}; "
                f"disconnect {count - spec.max_inputs}.",
            )
        ]
    if count < spec.min_inputs:
        if spec.min_inputs == 1:
            return [Problem(name, "has no input; connect a layer's output to it.")]
        return [
            Problem(
                name,
                f"needs at least {spec.min_inputs} inputs but has {count}; "
                f"connect {spec.min_inputs - count} more.",
            )
        ]
    if sorted(ports) != list(range(count)):
        return [Problem(name, f"input ports {sorted(ports)} have a gap; reconnect them.")]
    return []


def _unused_problems(model) -> list[Problem]:
    outputs = [n for n in model.nodes() if model.spec(n).kind == OUTPUT]
    if not outputs:
        return []
    live = set(outputs).union(*(nx.ancestors(model.nx_graph, out) for out in outputs))
    problems = []
    for name in model.nodes():
        if name in live:
            continue
        if model.spec(name).kind == INPUT:
            text = "does not reach the Output; connect it to the first layer."
        else:
            text = (
                "does not reach the Output, so it is left out of the model; connect or delete it."
            )
        problems.append(Problem(name, text, WARNING))
    return problems


def live_nodes(model) -> set[str]:
    """Nodes that contribute to an Output (the ones the generated model contains)."""
    outputs = [n for n in model.nodes() if model.spec(n).kind == OUTPUT]
    return set(outputs).union(*(nx.ancestors(model.nx_graph, out) for out in outputs))
