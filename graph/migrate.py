"""Older project files brought up to the current format, step by step, as plain JSON data.

Each step takes a document of one version and returns the next version's document; the
loader then checks the result as it checks any file. A step never drops information.
"""

from __future__ import annotations

from typing import Any

from torchcanvas.graph.registry import get_spec, has_spec


class MigrationError(ValueError):
    """An old file that cannot be brought forward; the message says where."""


# A step is lenient: what it cannot make sense of it passes on unchanged, and the loader
# reports it, so that errors come in file order and name the field.
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
    types = {
        node["id"]: node.get("type")
        for node in nodes
        if isinstance(node, dict) and isinstance(node.get("id"), str)
    }
    new_edges = [_v1_edge(edge, ids, types, f"edges[{i}]") for i, edge in enumerate(edges)]
    return {**document, "version": 2, "nodes": new_nodes, "edges": new_edges}


def _v1_edge(edge: Any, ids: dict, types: dict, where: str) -> Any:
    """A v1 edge in v2 terms; anything odd is passed on for the loader to report."""
    if not isinstance(edge, dict) or set(edge) - {"from", "to", "port"}:
        return edge
    src, dst, port = edge.get("from"), edge.get("to"), edge.get("port", 0)
    upgraded = {"from": _id(ids, src), "to": _id(ids, dst)}
    if not isinstance(port, int) or isinstance(port, bool):
        upgraded["to_port"] = port
        return upgraded
    type_name = types.get(dst) if isinstance(dst, str) else None
    spec = get_spec(type_name) if isinstance(type_name, str) and has_spec(type_name) else None
    if port or (spec is not None and spec.variadic):
        upgraded["to_port"] = str(port)  # a merge's slot; elsewhere the loader reports it
    return upgraded


def _v2_to_v3(document: dict) -> dict:
    """v3 keeps block definitions in the file; ResidualBlock was built in and becomes one."""
    nodes = document.get("nodes")
    uses = isinstance(nodes, list) and any(
        isinstance(node, dict) and node.get("type") == "ResidualBlock" for node in nodes
    )
    upgraded = {**document, "version": 3}
    if uses and "blocks" not in document:
        from torchcanvas.graph.builtin_blocks import residual_block
        from torchcanvas.graph.graphjson import block_to_dict

        upgraded = {"blocks": [block_to_dict(residual_block())], **upgraded}
    return upgraded


def _id(ids: dict, name: Any) -> Any:
    return ids.get(name, name) if isinstance(name, str) else name


_STEPS = ((1, _v1_to_v2), (2, _v2_to_v3))
