"""Many edges from one output into one merge are drawn as one wire labelled with their count."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.test_large_graphs import merge_document
from tests.ui.helpers import node, press, view_point
from torchcanvas.app.ui.canvas.edge_bundles import BUNDLE, bundles_into
from torchcanvas.graph.model import Edge


def open_merge(window, tmp_path, fan_in: int) -> str:
    """Open an Add of `fan_in` slots read in turn from the Input and a ReLU; its id."""
    path = tmp_path / "merge.json"
    document = merge_document(fan_in, sources=("ReLU",))
    for item, pos in zip(document["nodes"], ([0, 0], [-400, 200], [0, 600], [0, 900])):
        item["pos"] = pos  # apart, so that each wire can be clicked
    path.write_text(json.dumps(document))
    assert window.open_project(str(path))
    return node(window, "total")


def wires_into(window, dst: str) -> dict[str, int]:
    """{source name: edges its wire stands for} of the wires drawn into `dst`."""
    graph = window.document.graph
    return {
        graph.node_name(item.edge.src): item.count
        for item in window.scene.edges.values()
        if item.edge.dst == dst
    }


def test_parallel_edges_into_a_merge_become_one_wire_and_deleting_it_keeps_the_rest(
    window, qtbot, tmp_path
):
    total = open_merge(window, tmp_path, 40)
    assert wires_into(window, total) == {"input": 20, "relu": 20}
    wire = next(i for i in window.scene.edges.values() if i.edge.dst == total)
    assert wire.text().endswith("×20") and wire.edge.dst_port in ("0", "1")
    window.view.centerOn(wire.path().pointAtPercent(0.5))
    point = view_point(window, wire.path().pointAtPercent(0.5))
    QTest.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert window.scene.selected_edges() == [wire]
    press(window, Qt.Key.Key_Delete)  # deletes the edge the wire starts from, not all 20
    source = window.document.graph.node_name(wire.edge.src)
    qtbot.waitUntil(lambda: wires_into(window, total)[source] == 19)
    assert len(window.document.graph.edges()) == 40 + 1 + 1 - 1
    press(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: wires_into(window, total)[source] == 20)


def test_a_few_parallel_edges_are_each_drawn(window, tmp_path):
    total = open_merge(window, tmp_path, 2 * BUNDLE)
    items = [i for i in window.scene.edges.values() if i.edge.dst == total]
    assert len(items) == 2 * BUNDLE and {i.count for i in items} == {1}
    assert all(i.text() == i.label for i in items)


def test_bundles_start_above_the_limit_from_the_lowest_slot():
    edges = [Edge("a", "output", "m", str(slot)) for slot in range(BUNDLE + 1)]
    edges += [Edge("b", "output", "m", str(slot)) for slot in range(20, 20 + BUNDLE)]
    edges.append(Edge("m", "output", "out", "input"))  # leaves the merge: not its bundle
    shown = bundles_into("m", reversed(edges))
    assert shown == {edges[0]: BUNDLE + 1, **dict.fromkeys(edges[BUNDLE + 1 : -1], 1)}
