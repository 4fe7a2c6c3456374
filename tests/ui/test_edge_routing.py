"""Skip edges run beside the cards they skip, not behind them, also after a card is moved
onto them."""

from __future__ import annotations

from PySide6.QtCore import QPointF
from PySide6.QtGui import QPainterPathStroker

from tests.ui.helpers import drag, node


def crossings(scene) -> list[tuple[str, str, str]]:
    """(source, target, card) for every edge whose line passes over another card."""
    stroker = QPainterPathStroker()
    stroker.setWidth(2)
    found = []
    for edge, item in scene.edges.items():
        line = stroker.createStroke(item.mapToScene(item.path()))
        for other, card in scene.nodes.items():
            if other not in (edge.src, edge.dst):
                if line.intersects(card.sceneBoundingRect().adjusted(2, 2, -2, -2)):
                    found.append((edge.src, edge.dst, other))
    return found


def ends(scene, edge) -> tuple[QPointF, QPointF]:
    """The anchors of the ports an edge joins."""
    start = scene.nodes[edge.src].out_ports[edge.src_port].anchor()
    return start, scene.nodes[edge.dst].in_ports[edge.dst_port].anchor()


def test_residual_edges_go_around_the_blocks_they_skip(window, qtbot):
    window.open_example("resnet18_expanded")
    scene = window.scene
    assert crossings(scene) == []
    for edge, item in scene.edges.items():  # still port to port
        path = item.mapToScene(item.path())
        start, end = ends(scene, edge)
        assert (path.pointAtPercent(0) - start).manhattanLength() < 0.5
        assert (path.pointAtPercent(1) - end).manhattanLength() < 0.5
    add = node(window, "layer1_0_add")
    skip = next(e for e in scene.edges if e.dst == add and e.src == node(window, "maxpool"))
    assert scene.edges[skip].path().elementCount() > 4  # a lane, not one curve

    # a card dragged onto the lane: the edge moves around it when the card is dropped
    lane = scene.edges[skip].mapToScene(scene.edges[skip].path()).pointAtPercent(0.5)
    card = scene.nodes[node(window, "fc")]
    grip = card.sceneBoundingRect().center()
    drag(window, grip, lane)
    assert card.sceneBoundingRect().contains(lane)
    assert [c for c in crossings(scene) if c[:2] == (skip.src, skip.dst)] == []
