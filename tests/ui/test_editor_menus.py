"""Right-click menus, Replace With, Delete keeping the chain, Ctrl+F, the Inspector's keys
and the shortcuts table, used with the mouse and keyboard."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel

from tests.ui.helpers import click_node, drop_chain, node, press, view_point
from tests.ui.test_editor_gestures import choose, inputs_of, selected


def right_click(window, scene_point: QPointF):
    """Right-click the canvas at a scene point; returns the menu that opened."""
    viewport = window.view.viewport()
    local = view_point(window, scene_point)
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, local, viewport.mapToGlobal(local))
    QApplication.sendEvent(viewport, event)
    return window.context_menu


def pick(menu, text: str) -> None:
    """Click the menu entry called `text`."""
    entries = {a.text().replace("&", ""): a for a in menu.actions()}
    assert text in entries, sorted(entries)
    QTest.mouseClick(
        menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(entries[text]).center()
    )


def card_point(window, name: str) -> QPointF:
    return window.scene.nodes[node(window, name)].scenePos() + QPointF(60, 30)


def test_each_place_has_its_own_menu(window, qtbot):
    drop_chain(window, qtbot, ["Input", "ReLU"])
    texts = lambda menu: {a.text().replace("&", "") for a in menu.actions()}  # noqa: E731
    assert {"Replace With…", "Delete", "Delete, Keeping the Chain"} <= texts(
        right_click(window, card_point(window, "relu1"))
    )
    assert selected(window) == ["relu1"]
    window.context_menu.close()
    (edge,) = window.scene.edges.values()
    assert {"Insert Layer…", "Delete Connection"} <= texts(
        right_click(window, edge.path().pointAtPercent(0.5))
    )
    window.context_menu.close()
    port = next(iter(window.scene.nodes[node(window, "input")].out_ports.values()))
    assert texts(right_click(window, port.anchor())) == {"Add a Layer Reading This…"}
    window.context_menu.close()
    far = window.scene.content_bounds().bottomRight() + QPointF(150, 150)
    assert {"Add Layer Here…", "Paste", "Fit"} <= texts(right_click(window, far))


def test_insert_and_delete_a_connection_from_the_edge_menu(window, qtbot):
    drop_chain(window, qtbot, ["Input", "ReLU"])
    (edge,) = window.scene.edges.values()
    pick(right_click(window, edge.path().pointAtPercent(0.5)), "Insert Layer…")
    choose(window, qtbot, "Dropout")
    assert inputs_of(window, "relu1") == ["dropout1"]
    press(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)  # room between cards
    edge = next(e for e in window.scene.edges.values() if e.edge.dst == node(window, "relu1"))
    pick(right_click(window, edge.path().pointAtPercent(0.5)), "Delete Connection")
    assert inputs_of(window, "relu1") == []


def test_replace_with_keeps_the_place_connections_and_parameters(window, qtbot):
    drop_chain(window, qtbot, ["Input", "Conv2d", "ReLU"])
    conv = node(window, "conv1")
    window.document.set_param(conv, "padding", 1)
    pos = window.document.graph.pos(conv)
    pick(right_click(window, card_point(window, "conv1")), "Replace With…")
    choose(window, qtbot, "ConvTranspose2d")
    graph = window.document.graph
    (new,) = graph.nodes_of_type("ConvTranspose2d")
    name = graph.node_name(new)
    assert graph.pos(new) == pos and inputs_of(window, name) == ["input"]
    assert inputs_of(window, "relu1") == [name]
    assert graph.params(new)["padding"] == 1 and graph.params(new)["out_channels"] == 16
    press(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # one step
    assert graph.node_type(node(window, "conv1")) == "Conv2d"
    assert inputs_of(window, "relu1") == ["conv1"]


def test_shift_delete_keeps_the_chain_connected(window, qtbot):
    drop_chain(window, qtbot, ["Input", "Dropout", "ReLU"])
    click_node(window, "dropout1")
    press(window, Qt.Key.Key_Delete, Qt.KeyboardModifier.ShiftModifier)
    assert "dropout1" not in window.document.graph.names().values()
    assert inputs_of(window, "relu1") == ["input"]
    click_node(window, "relu1")
    press(window, Qt.Key.Key_Delete)  # plain Delete leaves the gap
    assert "relu1" not in window.document.graph.names().values()


def test_ctrl_f_finds_a_node_by_name_or_type_and_centres_it(window, qtbot):
    drop_chain(window, qtbot, ["Input", "Linear", "ReLU", "Linear"])
    window.view.centerOn(5000, 5000)
    press(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    choose(window, qtbot, "fc2")
    assert selected(window) == ["fc2"]
    card = window.scene.nodes[node(window, "fc2")].sceneBoundingRect()
    shown = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    assert shown.contains(card.center())


@pytest.mark.slow
def test_enter_in_the_inspector_commits_and_gives_the_keys_back_to_the_canvas(window, qtbot):
    drop_chain(window, qtbot, ["Input", "Conv2d"])
    click_node(window, "conv1")
    field = window.inspector.editors["out_channels"].widget
    QTest.mouseClick(field.lineEdit(), Qt.MouseButton.LeftButton)
    field.lineEdit().selectAll()
    QTest.keyClicks(field.lineEdit(), "32")
    QTest.keyClick(field.lineEdit(), Qt.Key.Key_Return)
    conv = node(window, "conv1")
    assert window.document.graph.params(conv)["out_channels"] == 32
    qtbot.waitUntil(lambda: QApplication.focusWidget() is window.view)
    press(window, Qt.Key.Key_Tab, widget=window.view)  # so Tab goes on adding layers
    choose(window, qtbot, "relu")
    assert inputs_of(window, "relu1") == ["conv1"]


def test_undo_and_redo_work_while_an_inspector_field_has_focus(window, qtbot):
    drop_chain(window, qtbot, ["Input", "Conv2d"])
    click_node(window, "conv1")
    conv = node(window, "conv1")
    field = window.inspector.editors["out_channels"].widget.lineEdit()
    QTest.mouseClick(field, Qt.MouseButton.LeftButton)
    field.selectAll()
    QTest.keyClicks(field, "48")  # typed, not yet committed
    QTest.keyClick(field, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    graph = window.document.graph
    assert graph.params(conv)["out_channels"] == 16  # committed, then undone
    qtbot.waitUntil(lambda: field.text() == "16")
    QTest.keyClick(field, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert graph.params(conv)["out_channels"] == 48
    QTest.keyClick(field, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(
        field, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    assert graph.params(conv)["out_channels"] == 48


def test_the_shortcuts_table_lists_every_action_key_once(window, qtbot, monkeypatch):
    shown = []
    monkeypatch.setattr(window.dialogs, "reference", lambda title, text: shown.append(text))
    window.actions_by_name["shortcuts"].trigger()  # Help ▸ Keyboard Shortcuts
    (text,) = shown
    label = QLabel(text)  # how the box shows it: rich text
    assert label.textFormat() in (Qt.TextFormat.AutoText, Qt.TextFormat.RichText)
    for keys in ("Ctrl+T", "Ctrl+F", "Shift+Del", "Ctrl+Y", "Ctrl+G", "Tab"):
        assert f"<b>{keys}" in text or f"or {keys}" in text, keys
    keys = [k for k in re.findall(r"<b>(.*?)</b>", text) if k]  # two halves side by side
    assert len(keys) == len(set(keys)) > 30
