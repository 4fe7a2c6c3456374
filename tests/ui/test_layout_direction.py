"""View ▸ Lay Out Left to Right, used from the keyboard: cards turn their ports to their
sides, the network is arranged in columns, skip edges keep clear of cards, undo turns it
back, and the project remembers it."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.ui.helpers import click_node, node, press
from tests.ui.test_edge_routing import crossings

CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def ports_on_sides(scene) -> bool:
    """Every card's inputs on its left edge and outputs on its right edge."""
    for card in scene.nodes.values():
        rect = card.sceneBoundingRect().adjusted(3, 3, -3, -3)  # the bounds' margin
        for port in card.in_ports.values():
            if abs(port.anchor().x() - rect.left()) > 1:
                return False
        for port in card.out_ports.values():
            if abs(port.anchor().x() - rect.right()) > 8:  # a stacked card's bounds are wider
                return False
    return True


def test_left_to_right_from_the_view_menu_shortcut_and_back(window, qtbot, tmp_path):
    window.open_example("resnet18_expanded")
    scene, graph = window.scene, window.document.graph
    chain = [node(window, n) for n in ("conv1", "bn1", "relu", "maxpool", "fc")]
    press(window, Qt.Key.Key_L, CTRL_SHIFT)  # View ▸ Lay Out Left to Right
    assert window.document.direction == "right"
    assert window.actions_by_name["layout_right"].isChecked()
    assert ports_on_sides(scene)
    xs = [graph.pos(n)[0] for n in chain]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)
    assert crossings(scene) == []

    # quick-add with a node selected puts the new layer to its right, wired from it
    click_node(window, "fc")
    window.editing.add_layer("Softmax")
    added = window.document.last_added
    assert graph.pos(added)[0] > graph.pos(node(window, "fc"))[0]
    assert abs(graph.pos(added)[1] - graph.pos(node(window, "fc"))[1]) < 1

    path = tmp_path / "lr.json"
    window.dialogs.save_paths.append(str(path))
    press(window, Qt.Key.Key_S, CTRL_SHIFT)  # File ▸ Save As…
    assert '"view": {"direction": "right"}' in path.read_text()
    window.open_project(str(path))
    assert window.document.direction == "right" and ports_on_sides(window.scene)

    press(window, Qt.Key.Key_L, CTRL_SHIFT)  # back to top to bottom
    assert window.document.direction == "down" and not ports_on_sides(window.scene)
    press(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo: right again
    assert window.document.direction == "right" and ports_on_sides(window.scene)
