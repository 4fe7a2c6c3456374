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


def wire(window, src: str, dst: str, port: int = 0) -> None:
    """Drag from `src`'s output port to `dst`'s input port."""
    nodes = window.scene.nodes
    drag(window, nodes[src].out_port.anchor(), nodes[dst].in_ports[port].anchor())


def click_node(window, name: str) -> None:
    """Select a node by clicking its card body."""
    item = window.scene.nodes[name]
    point = view_point(window, item.scenePos() + QPointF(60, 30))
    QTest.mouseClick(
        window.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point
    )
