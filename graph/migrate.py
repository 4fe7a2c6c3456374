"""Older project files brought up to the current format, step by step, as plain JSON data.

Each step takes a document of one version and returns the next version's document; the
loader then checks the result as it checks any file. A step never drops information.
"""

from __future__ import annotations

from typing import Any

from torchcanvas.graph.registry import get_spec, has_spec


class MigrationError(ValueError):
    """An old file that cannot be brought forward; the message says where."""


def migrate(document: dict) -> dict:
    """`document` at the current version (a new dict; the argument is not changed)."""
    version = document.get("version")
    for step_from, step in _STEPS:
        if version == step_from:
            document = step(document)
            version = document["version"]
    return document


def _v1_to_v2(document: dict) -> dict:
    """v1 keyed nodes by name and edges by an input number; v2 has ids, names and ports."""
    nodes = document.get("nodes")
    edges = document.get("edges")
    if not isinstance(nodes, list) or not isinstance(edges, list):
        return {**document, "version": 2}  # the loader reports the missing lists
    ids: dict[Any, str] = {}
    new_nodes = []
    for index, node in enumerate(nodes):
        if not isinstance(node, dict):
            new_nodes.append(node)
            continue
        node_id = f"n{index + 1}"
        if isinstance(node.get("id"), str):
            ids.setdefault(node["id"], node_id)
        upgraded = {"id": node_id, "name": node.get("id")}
        upgraded.update({k: v for k, v in node.items() if k != "id"})
        new_nodes.append(upgraded)
    types = {node.get("id"): node.get("type") for node in nodes if isinstance(node, dict)}
    new_edges = [_v1_edge(edge, ids, types, f"edges[{i}]") for i, edge in enumerate(edges)]
    return {**document, "version": 2, "nodes": new_nodes, "edges": new_edges}


def _v1_edge(edge: Any, ids: dict, types: dict, where: str) -> Any:
    if not isinstance(edge, dict):
        return edge
    unknown = set(edge) - {"from", "to", "port"}
    if unknown:
        raise MigrationError(f"{where}: unknown key {sorted(unknown)[0]!r:.40}")
    src, dst, port = edge.get("from"), edge.get("to"), edge.get("port", 0)
    for key, value in (("from", src), ("to", dst)):
        if value not in ids:
            raise MigrationError(f"{where}.{key}: no node called {value!r:.40}")
    if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port < 1024:
        raise MigrationError(f"{where}.port: expected an integer from 0")
    upgraded = {"from": ids[src], "to": ids[dst]}
    type_name = types.get(dst)
    spec = get_spec(type_name) if isinstance(type_name, str) and has_spec(type_name) else None
    if spec is not None and spec.variadic:
        if port:
            upgraded["to_port"] = str(port)
    elif port:
        raise MigrationError(f"{where}.port: {dst} ({type_name}) has no input port {port}")
    return upgraded


_STEPS = ((1, _v1_to_v2),)
