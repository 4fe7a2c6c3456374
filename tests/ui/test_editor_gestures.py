"""Adding and wiring in one gesture: quick-add, auto-connect, wires dropped on the canvas,
drops onto edges, Enter in the palette search, arrow-key nudges."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from tests.ui.helpers import click_node, drag, drop_layer, first, node, press, view_point, wire


def popup_rows(window) -> list[str]:
    """The search box's matches, as shown (type, then its category)."""
    rows = window.editing.popup.list
    return [rows.item(i).text().split()[0] for i in range(rows.count())]


def choose(window, qtbot, text: str) -> None:
    """Type into the open search box and press Enter."""
    popup = window.editing.popup
    qtbot.waitUntil(popup.isVisible)
    QTest.keyClicks(popup.line, text)
    QTest.keyClick(popup.line, Qt.Key.Key_Return)
    assert not popup.isVisible()


def inputs_of(window, name: str) -> list[str]:
    """Names of the nodes feeding `name`, in port order."""
    graph = window.document.graph
    return [graph.node_name(e.src) for e in graph.inputs(node(window, name))]


def selected(window) -> list[str]:
    graph = window.document.graph
    return [graph.node_name(item.node) for item in window.scene.selected_nodes()]


@pytest.mark.slow
def test_tab_adds_the_top_match_below_the_selected_node_wired_and_selected(window, qtbot):
    drop_layer(window, "Input", QPointF(95, 0))
    assert selected(window) == ["input"]  # a dropped layer is selected
    press(window, Qt.Key.Key_Tab, widget=window.view)
    choose(window, qtbot, "conv2")
    assert inputs_of(window, "conv1") == ["input"]
    assert selected(window) == ["conv1"]
    graph = window.document.graph
    (x0, y0), (x1, y1) = graph.pos(node(window, "input")), graph.pos(node(window, "conv1"))
    assert x1 == x0 and y1 > y0 + window.scene.nodes[node(window, "input")].height()
    qtbot.waitUntil(lambda: "16×26×26" in window.scene.nodes[node(window, "conv1")].shape_text)
    press(window, Qt.Key.Key_Tab, widget=window.view)  # and on down the chain
    choose(window, qtbot, "relu")
    assert inputs_of(window, "relu1") == ["conv1"]
    press(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # one step per gesture
    assert "relu1" not in window.document.graph.names().values()
    assert inputs_of(window, "conv1") == ["input"]


def test_a_second_layer_below_the_same_node_goes_beside_the_first(window, qtbot):
    drop_layer(window, "Input", QPointF(95, 0))
    for text in ("relu", "tanh"):
        click_node(window, "input")
        press(window, Qt.Key.Key_Tab, widget=window.view)
        choose(window, qtbot, text)
    relu = window.scene.nodes[node(window, "relu1")].sceneBoundingRect()
    tanh = window.scene.nodes[node(window, "tanh1")].sceneBoundingRect()
    assert not relu.intersects(tanh)
    assert inputs_of(window, "tanh1") == ["input"]


def test_double_click_on_empty_canvas_adds_there(window, qtbot):
    spot = QPoint(300, 250)
    QTest.mouseDClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=spot)
    assert popup_rows(window)[:3]  # every layer before typing
    choose(window, qtbot, "dropout")
    (dropout,) = window.document.graph.nodes_of_type("Dropout")
    card = window.scene.nodes[dropout]
    aimed = window.view.mapToScene(spot)
    assert abs(card.x() + card.width / 2 - aimed.x()) < 2 and abs(card.y() + 11 - aimed.y()) < 2


def test_a_wire_dropped_on_empty_canvas_offers_the_layers_that_fit(window, qtbot):
    drop_layer(window, "Input", QPointF(95, 0))  # 1x28x28
    start = first(window.scene.nodes[node(window, "input")].out_ports).anchor()
    drag(window, start, start + QPointF(0, 220))
    shown = popup_rows(window)
    assert "Conv2d" in shown and "Linear" in shown
    assert "Conv1d" not in shown and "Embedding" not in shown  # a 3-D float tensor
    choose(window, qtbot, "Conv2d")
    assert inputs_of(window, "conv1") == ["input"]


def test_a_wire_dragged_back_from_an_input_adds_a_layer_feeding_it(window, qtbot):
    drop_layer(window, "Output", QPointF(95, 300))
    end = first(window.scene.nodes[node(window, "output")].in_ports).anchor()
    drag(window, end, end - QPointF(0, 200))
    assert "Output" not in popup_rows(window)  # it has no output to give
    choose(window, qtbot, "Input")
    assert inputs_of(window, "output") == ["input"]


def test_a_layer_dropped_onto_an_edge_is_inserted(window, qtbot):
    drop_layer(window, "Input", QPointF(95, 0))
    drop_layer(window, "ReLU", QPointF(95, 400))
    wire(window, "input", "relu1")
    (edge,) = window.scene.edges.values()
    middle = edge.path().pointAtPercent(0.5)
    drop_layer(window, "Dropout", middle)
    assert inputs_of(window, "dropout1") == ["input"]
    assert inputs_of(window, "relu1") == ["dropout1"]
    press(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert inputs_of(window, "relu1") == ["input"]
    assert "dropout1" not in window.document.graph.names().values()


def test_a_layer_that_does_not_fit_the_edge_leaves_it_alone(window, qtbot):
    drop_layer(window, "Input", QPointF(95, 0))
    drop_layer(window, "ReLU", QPointF(95, 400))
    wire(window, "input", "relu1")
    (edge,) = window.scene.edges.values()
    drop_layer(window, "Embedding", edge.path().pointAtPercent(0.5))  # takes integer ids
    assert inputs_of(window, "relu1") == ["input"]
    assert not window.document.graph.nodes_of_type("Embedding")
    assert "Embedding" in window.statusBar().currentMessage()


def test_enter_in_the_palette_search_adds_the_top_match_after_the_selection(window, qtbot):
    drop_layer(window, "Input", QPointF(95, 0))
    QTest.mouseClick(window.palette.search, Qt.MouseButton.LeftButton)  # into the search box
    QTest.keyClicks(window.palette.search, "flatten")
    QTest.keyClick(window.palette.search, Qt.Key.Key_Return)
    (flatten,) = window.document.graph.nodes_of_type("Flatten")
    name = window.document.graph.node_name(flatten)
    assert inputs_of(window, name) == ["input"]
    assert selected(window) == [name]


def test_arrow_keys_nudge_the_selection_and_undo_puts_it_back(window, qtbot):
    drop_layer(window, "ReLU", QPointF(95, 0))
    relu = node(window, "relu1")
    before = window.document.graph.pos(relu)
    click_node(window, "relu1")
    press(window, Qt.Key.Key_Right, widget=window.view)
    press(window, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier, widget=window.view)
    after = window.document.graph.pos(relu)
    assert (after[0] - before[0], after[1] - before[1]) == (20, 2)
    assert window.scene.nodes[relu].pos().toTuple() == after
    press(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    press(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.document.graph.pos(relu) == before
    assert view_point(window, QPointF(*before)) is not None


def test_adding_after_a_node_in_a_chain_inserts_and_moves_the_rest_down(window, qtbot):
    drop_layer(window, "Input", QPointF(95, 0))
    drop_layer(window, "Output", QPointF(95, 150))
    wire(window, "input", "output")
    output = node(window, "output")
    before = window.document.graph.pos(output)
    click_node(window, "input")
    press(window, Qt.Key.Key_Tab, widget=window.view)
    choose(window, qtbot, "relu")
    assert inputs_of(window, "relu1") == ["input"] and inputs_of(window, "output") == ["relu1"]
    cards = window.scene.nodes
    relu, out = cards[node(window, "relu1")], cards[output]
    assert not relu.sceneBoundingRect().intersects(out.sceneBoundingRect())
    assert relu.y() < out.y()
    press(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # one step back
    assert inputs_of(window, "output") == ["input"]
    assert window.document.graph.pos(output) == before
