"""The canvas view over big and spread-out graphs: fit, room to work, crowded repaints."""

from __future__ import annotations

import json

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtTest import QTest

from tests.test_large_graphs import merge_document
from tests.ui.helpers import drag, drop_layer, node, press


def card_rect(window, name: str) -> QRectF:
    """Where the card of node `name` is drawn, by Qt's own account."""
    return window.scene.nodes[node(window, name)].sceneBoundingRect()


def seen(window) -> QRectF:
    """The part of the scene the viewport shows."""
    return window.view.mapToScene(window.view.viewport().rect()).boundingRect()


def click_empty_canvas(window) -> None:
    """Click the canvas where no card is (it takes the keyboard focus)."""
    QTest.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(5, 5))


def test_fit_shows_every_card_of_a_spread_out_graph(window):
    click_empty_canvas(window)
    for _ in range(4):
        press(window, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    corners = window.view.viewport().rect().adjusted(120, 40, -120, -80)
    for corner in (corners.topLeft(), corners.topRight(), corners.bottomLeft()):
        drop_layer(window, "ReLU", window.view.mapToScene(corner))
    for _ in range(8):
        press(window, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    cards = [card_rect(window, name) for name in ("relu1", "relu2", "relu3")]
    assert not all(seen(window).contains(card) for card in cards)
    click_empty_canvas(window)
    press(window, Qt.Key.Key_F)
    assert all(seen(window).contains(card) for card in cards)
    union = cards[0].united(cards[1]).united(cards[2])
    bounds = window.scene.content_bounds()
    assert bounds.contains(union.adjusted(3, 3, -3, -3))  # Qt's rect has the 3 px shadow
    assert bounds.width() < union.width() + 100 and bounds.height() < union.height() + 40


def test_a_card_dragged_far_out_leaves_room_to_scroll_to_it(window, qtbot):
    drop_layer(window, "ReLU", QPointF(300, 200))
    start = card_rect(window, "relu1").topLeft() + QPointF(60, 30)
    drag(window, start, start + QPointF(2500, 1800))
    moved = card_rect(window, "relu1")
    assert window.document.model.pos(node(window, "relu1"))[0] > 2500
    assert window.scene.sceneRect().contains(moved)
    window.view.centerOn(moved.center())
    assert seen(window).contains(moved)


def open_file(window, path) -> None:
    """File ▸ Open by keyboard, the chooser answered with `path`."""
    window.dialogs.open_paths.append(str(path))
    press(window, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)


def fan_document(readers: int) -> dict:
    """The Input read by `readers` ReLUs, each into its own slot of one Add: every edge has
    its own source, so none are bundled (see edge_bundles)."""
    document = merge_document(0, sources=())
    nodes, edges = document["nodes"], document["edges"]
    for index in range(readers):
        nodes.insert(1, {"id": f"r{index}", "name": f"relu{index}", "type": "ReLU"})
        nodes[1].update(params={}, pos=[0, 0])
        edges += [{"from": "n1", "to": f"r{index}"}, {"from": f"r{index}", "to": "add"}]
        edges[-1]["to_port"] = index
    return document


def test_a_view_crowded_with_edges_draws_them_plain(window, qtbot, tmp_path):
    crowded, sparse = tmp_path / "crowded.json", tmp_path / "sparse.json"
    # A thousand sources fanned into 1,024 merge slots: two thousand edges cross the first view.
    crowded.write_text(json.dumps(fan_document(1024)))
    sparse.write_text(json.dumps(merge_document(4)))
    open_file(window, crowded)
    assert len(window.scene.edges) > 2048
    qtbot.wait(50)  # the view goes to the top of the graph once the events run
    window.view.centerOn(window.scene.nodes[node(window, "relu0")])  # where the fan starts
    image = window.view.viewport().grab().toImage()
    assert window.scene.crowded
    assert image.pixelColor(image.width() // 2, image.height() // 2).isValid()
    open_file(window, sparse)
    window.view.viewport().grab()
    assert not window.scene.crowded


def test_the_view_stays_put_after_drops_moves_and_pastes(window, qtbot):
    drop_layer(window, "Input", QPointF(95, 0))
    anchor = window.scene.nodes[node(window, "input")]

    def on_screen():
        return window.view.mapFromScene(anchor.scenePos())

    before = on_screen()
    visible = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    drop_layer(window, "ReLU", visible.bottomRight() - QPointF(120, 80))
    assert on_screen() == before
    start = card_rect(window, "relu1").topLeft() + QPointF(60, 30)
    drag(window, start, start - QPointF(60, 40))
    assert on_screen() == before
    press(window, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    press(window, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert len(window.document.graph.nodes()) == 3
    assert on_screen() == before


def test_the_minimap_shows_a_big_graph_and_moves_the_view(window, qtbot):
    from torchcanvas.app.editing.examples import EXAMPLES
    from torchcanvas.app.ui.canvas.card_compact import readable_zoom

    open_file(window, EXAMPLES / "resnet18_expanded.json")
    minimap = window.view.minimap
    # Opened, and shown from the top at a zoom where the cards read: the map shows the rest.
    qtbot.waitUntil(minimap.isVisible)
    assert seen(window).contains(card_rect(window, "input"))
    assert window.view.zoom() >= readable_zoom()
    click_empty_canvas(window)
    press(window, Qt.Key.Key_F)
    qtbot.waitUntil(lambda: minimap._picture is not None, timeout=3000)
    assert not minimap.isVisible()  # all of it in view: no need
    for _ in range(6):
        press(window, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(minimap.isVisible)
    output = window.scene.nodes[node(window, "output")].sceneBoundingRect()
    assert not seen(window).intersects(output)
    bottom = QPoint(minimap.width() // 2, minimap.height() - 6)
    QTest.mouseClick(minimap, Qt.MouseButton.LeftButton, pos=bottom)
    assert seen(window).center().y() > output.top() - seen(window).height()


def test_ports_are_easy_to_hit_when_zoomed_out(window, qtbot):
    drop_layer(window, "Input", QPointF(95, 0))
    drop_layer(window, "ReLU", QPointF(95, 300))
    click_empty_canvas(window)
    for _ in range(5):
        press(window, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    zoom = window.view.zoom()
    assert zoom < 0.4
    cards = window.scene.nodes
    start = next(iter(cards[node(window, "input")].out_ports.values())).anchor()
    end = next(iter(cards[node(window, "relu1")].in_ports.values())).anchor()
    off = QPointF(5 / zoom, 4 / zoom)  # 5 px beside the port on screen: a speck at this zoom
    drag(window, start + off, end - off)
    relu = node(window, "relu1")
    assert [e.src for e in window.document.graph.inputs(relu)] == [node(window, "input")]


def test_a_right_click_inside_a_small_card_is_on_the_card_not_its_ports(window, qtbot):
    from tests.ui.test_editor_menus import right_click

    drop_layer(window, "Input", QPointF(95, 0))
    drop_layer(window, "Linear", QPointF(95, 300))
    click_empty_canvas(window)
    for _ in range(5):
        press(window, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    card = window.scene.nodes[node(window, "fc1")]
    menu = right_click(window, card.sceneBoundingRect().center())
    assert "Replace With…" in [a.text() for a in menu.actions()]
