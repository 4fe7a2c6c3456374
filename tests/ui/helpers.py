"""Mouse and drag helpers that act on the canvas the way a user does."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from torchcanvas.app.ui.palette import layer_mime


def view_point(window, scene_point: QPointF) -> QPoint:
    """Viewport coordinates of a scene point."""
    return window.view.mapFromScene(scene_point)


def drop_layer(window, type_name: str, scene_point: QPointF) -> None:
    """Drag a layer from the palette and drop it at `scene_point` (real drag events)."""
    mime = layer_mime(type_name)
    target = window.view.viewport()
    point = QPointF(view_point(window, scene_point))
    action = Qt.DropAction.CopyAction
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    for event in (
        QDragEnterEvent(point.toPoint(), action, mime, buttons, mods),
        QDragMoveEvent(point.toPoint(), action, mime, buttons, mods),
        QDropEvent(point, action, mime, buttons, mods),
    ):
        QApplication.sendEvent(target, event)


def drag(window, start: QPointF, end: QPointF) -> None:
    """Press at `start`, move, release at `end` (scene coordinates)."""
    viewport = window.view.viewport()
    a, b = view_point(window, start), view_point(window, end)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
    QTest.mouseMove(viewport, (a + b) / 2)
    QTest.mouseMove(viewport, b)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, b)


def node(window, name: str) -> str:
    """The id of the node called `name` in the graph on the canvas."""
    return window.document.graph.id_of(name)


def wire(window, src: str, dst: str, src_port: str | None = None, dst_port: str | None = None):
    """Drag from a port of node `src` (by name) to an input port of node `dst`.

    Without ports: the first output, and the first input port. A dst_port of "card" drops
    the wire on the card's body.
    """
    items = window.scene.nodes
    start_item, end_item = items[node(window, src)], items[node(window, dst)]
    start = (start_item.out_ports[src_port] if src_port else first(start_item.out_ports)).anchor()
    if dst_port == "card":
        end = end_item.scenePos() + QPointF(60, 30)
    else:
        end = (end_item.in_ports[dst_port] if dst_port else first(end_item.in_ports)).anchor()
    drag(window, start, end)


def first(ports: dict):
    """The first port item of a side."""
    return next(iter(ports.values()))


def click_node(window, name: str, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """Select a node (by name) by clicking its card body."""
    item = window.scene.nodes[node(window, name)]
    point = view_point(window, item.scenePos() + QPointF(60, 30))
    QTest.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, modifier, point)


def press(window, key, modifier=Qt.KeyboardModifier.NoModifier, widget=None) -> None:
    """A key press on the canvas (or `widget`), as a user types it (into the active window:
    the offscreen platform drops activation when a tooltip window goes away)."""
    if QApplication.activeWindow() is not window:
        window.activateWindow()
        QTest.qWaitForWindowActive(window)
    QTest.keyClick(widget or window.view.viewport(), key, modifier)


def type_into(qtbot, field, text: str) -> None:
    """Replace a line edit's text by typing, then press Return."""
    field.setFocus()
    field.selectAll()
    qtbot.keyClicks(field, text)
    qtbot.keyClick(field, Qt.Key.Key_Return)


def drop_chain(window, qtbot, types: list[str]) -> list[str]:
    """Drop layers from the palette in a column and wire each to the next; returns names."""
    graph = window.document.graph
    start = len(graph.nodes())
    for row, type_name in enumerate(types):
        drop_layer(window, type_name, QPointF(95, row * 130))
    names = [graph.node_name(n) for n in graph.nodes()[start:]]
    window.view.fit()
    for src, dst in zip(names, names[1:]):
        wire(window, src, dst)
    qtbot.waitUntil(lambda: len(window.scene.edges) >= len(names) - 1)
    return names


def double_click_node(window, name: str) -> None:
    """Double-click a card's body (opens a block or container)."""
    item = window.scene.nodes[node(window, name)]
    point = view_point(window, item.scenePos() + QPointF(60, 30))
    QTest.mouseDClick(
        window.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point
    )


def broken_mnist(folder):
    """An MNIST folder whose files are all there but empty: the check passes, loading fails."""
    from torchcanvas.app.train.sources import MNIST_FILES

    raw = folder / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in MNIST_FILES:
        (raw / name).write_bytes(b"")
    return folder
