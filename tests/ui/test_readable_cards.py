"""Cards read at the start view of every example at 1280×720: text as large as the menus,
names shortened by whole segments, the minimap off the cards, warnings unlike selection."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QFontInfo
from PySide6.QtTest import QTest

from tests.ui.helpers import click_node, drop_layer, node, press, wire
from torchcanvas.app.editing.examples import EXAMPLES
from torchcanvas.app.ui import style
from torchcanvas.app.ui.canvas.card_compact import CARD_TEXT_PT
from torchcanvas.app.ui.canvas.card_names import fit_name
from torchcanvas.app.ui.canvas.node_item import COMPACT_ZOOM

STEMS = sorted(path.stem for path in EXAMPLES.glob("*.json"))


def open_example(window, qtbot, stem: str) -> None:
    """File ▸ Open Example ▸ `stem`, then wait for the start view and the minimap."""
    menu = window.examples_menu
    next(a for a in menu.actions() if a.text() == stem.replace("_", " ")).trigger()
    QTest.qWait(1)  # the start view is set once the new graph is drawn
    qtbot.waitUntil(lambda: not window.view.minimap._redraw.isActive())


def seen(window) -> QRectF:
    return window.view.mapToScene(window.view.viewport().rect()).boundingRect()


def on_screen(window, item) -> QRect:
    """Where an item is drawn, in viewport pixels."""
    return window.view.mapFromScene(item.sceneBoundingRect()).boundingRect()


def cut_in_a_segment(name: str, shown: str) -> bool:
    """Whether `shown` cuts `name` inside a `_`/`.` segment (whole-segment shortening is fine)."""
    if shown == name:
        return False
    head, _, tail = shown.rpartition("…")
    whole_tail = name.endswith(tail) and name[-len(tail) - 1] in "_."
    whole_head = not head or (name.startswith(head) and name[len(head)] in "_.")
    return not (tail and whole_tail and whole_head)


@pytest.fixture
def screen_window(window, qtbot):
    window.resize(1280, 720)
    qtbot.waitUntil(lambda: window.width() == 1280)
    return window


@pytest.mark.parametrize("stem", STEMS)
def test_the_start_view_of_each_example_reads_at_1280x720(screen_window, qtbot, stem):
    window = screen_window
    open_example(window, qtbot, stem)
    menu_px = QFontInfo(window.examples_menu.font()).pixelSize()
    zoom = window.view.zoom()
    assert zoom >= COMPACT_ZOOM  # full cards: name, type and shape
    assert QFontInfo(style.font(CARD_TEXT_PT)).pixelSize() * zoom >= menu_px
    window.view.viewport().grab()  # paint: each card decides how to show its name
    shown = [
        i for i in window.scene.nodes.values() if seen(window).intersects(i.sceneBoundingRect())
    ]
    assert shown
    for item in shown:
        assert not cut_in_a_segment(item.name, item.shown_name), (item.name, item.shown_name)
    minimap = window.view.minimap
    if minimap.isVisible():
        assert not minimap.faded()
        parts = [*window.scene.nodes.values()]
        parts += [
            p
            for i in window.scene.nodes.values()
            for p in (*i.in_ports.values(), *i.out_ports.values())
        ]
        for part in parts:
            assert not on_screen(window, part).intersects(minimap.geometry()), stem


def test_zoomed_out_cards_write_names_at_the_menus_size(screen_window, qtbot):
    window = screen_window
    open_example(window, qtbot, "resnet18")
    window.view.setFocus()
    press(window, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    press(window, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    press(window, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert window.view.zoom() < COMPACT_ZOOM  # the compact card
    stage = window.scene.nodes[node(window, "layer2")]
    window.view.centerOn(stage)
    window.view.viewport().grab()
    name, kind = stage.shown_lines[:2]  # a container: its class (maybe elided) and ×N whole
    assert name == "layer2" and kind.startswith("Basic") and kind.endswith(" ×2")
    assert stage.shown_pixels == QFontInfo(window.examples_menu.font()).pixelSize()
    for item in window.scene.nodes.values():
        assert not cut_in_a_segment(item.name, item.shown_name), (item.name, item.shown_name)
        assert item.name in item.toolTip()  # the full name on hover


def test_a_name_too_long_for_its_card_loses_leading_segments_not_letters():
    def width(text):
        return len(text)

    assert fit_name("layer1_0_downsample_0", width, 30) == "layer1_0_downsample_0"
    assert fit_name("layer1_0_downsample_0", width, 19) == "layer1…downsample_0"
    assert fit_name("layer1_0_downsample_0", width, 13) == "…downsample_0"
    assert fit_name("encoder.layers.0.self_attn", width, 12) == "…0.self_attn"
    assert fit_name("encoder.layers.0.self_attn", width, 10) == "…self_attn"  # one segment
    assert fit_name("classifier", width, 3) == "classifier"  # a leaf is never cut


def test_a_layer_that_reaches_no_output_is_marked_unlike_a_selected_one(window, qtbot):
    for type_name, y in (("Input", 0), ("Output", 200), ("ReLU", 400)):
        drop_layer(window, type_name, QPointF(100, y))
    wire(window, "input", "output")
    wire(window, "input", "relu1")  # fed, but its value goes nowhere
    item = window.scene.nodes[node(window, "relu1")]
    qtbot.waitUntil(lambda: item.severity == "warning")
    assert "does not reach an Output" in item.toolTip()
    window.scene.clearSelection()
    unreached = item.border_pen()
    click_node(window, "relu1")
    assert item.isSelected()
    selected = item.border_pen()
    assert unreached.style() == Qt.PenStyle.DashLine != selected.style()
    assert unreached.color() != selected.color()


def test_a_long_name_beside_a_long_type_keeps_its_meaning(screen_window, qtbot):
    window = screen_window
    open_example(window, qtbot, "resnet18_expanded")
    item = window.scene.nodes[node(window, "layer3_0_downsample_1")]  # a BatchNorm2d
    window.view.centerOn(item)
    window.view.viewport().grab()
    assert item.shown_name.endswith("downsample_1")  # not "…1"
    assert not cut_in_a_segment(item.name, item.shown_name)


def test_a_frozen_card_shows_its_lock_when_zoomed_out(screen_window, qtbot):
    """The lock of a frozen layer is drawn on the compact card too (white pixels in its top
    right corner that the same card, unfrozen, lacks)."""
    window = screen_window
    open_example(window, qtbot, "finetune_resnet18")
    window.view.setFocus()
    for _ in range(3):
        press(window, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert window.view.zoom() < COMPACT_ZOOM
    stage = window.scene.nodes[node(window, "layer2")]
    window.view.centerOn(stage)

    def corner_whites() -> int:
        image = window.view.viewport().grab().toImage()
        box = on_screen(window, stage)
        corner = QRect(box.right() - 20, box.top() + 1, 18, 16)
        return sum(
            image.pixelColor(x, y).name() == "#ffffff"
            for x in range(corner.left(), corner.right())
            for y in range(corner.top(), corner.bottom())
        )

    assert stage.frozen
    locked = corner_whites()
    assert window.document.set_frozen([stage.node], False) is None
    assert not stage.frozen and locked > corner_whites() + 10
