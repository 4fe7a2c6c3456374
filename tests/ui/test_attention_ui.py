"""Transformer stacks and the attention function, drawn from the palette and set in the
inspector as a user does."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt

from tests.ui.helpers import click_node, drop_layer, type_into, wire


def _column(window, qtbot, middle: str, shape: str) -> None:
    window.document.model.clear()
    for type_name, y in (("Input", 0), (middle, 250), ("Output", 500)):
        drop_layer(window, type_name, QPointF(95, y))
    window.view.fit()
    click_node(window, "input")
    type_into(qtbot, window.inspector.editors["shape"].widget, shape)


def _tick(qtbot, window, name: str) -> None:
    """Tick a checkbox in the inspector with the keyboard (focus, Space)."""
    box = window.inspector.editors[name].widget
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_Space)


def _wait_code(qtbot, window, text: str) -> None:
    qtbot.waitUntil(lambda: text in window.code_view.source(), timeout=3000)


def test_a_transformer_encoder_from_the_palette_with_layers_and_a_final_norm(window, qtbot):
    _column(window, qtbot, "TransformerEncoder", "10, 16")
    wire(window, "input", "encoder1")
    wire(window, "encoder1", "output")
    model = window.document.model
    qtbot.waitUntil(lambda: model.analysis().ok)
    click_node(window, "encoder1")
    type_into(qtbot, window.inspector.editors["num_layers"].widget, "3")
    _tick(qtbot, window, "norm")
    qtbot.waitUntil(lambda: model.params(model.id_of("encoder1")).get("norm") is True)
    _wait_code(qtbot, window, "num_layers=3")
    _wait_code(qtbot, window, "norm=nn.LayerNorm(16)")
    _wait_code(qtbot, window, "nn.TransformerEncoderLayer(16, 4, batch_first=True)")


def test_scaled_dot_product_attention_from_the_palette_made_causal(window, qtbot):
    _column(window, qtbot, "ScaledDotProductAttention", "2, 10, 8")
    for port in ("query", "key", "value"):
        wire(window, "input", "attn1", dst_port=port)
    wire(window, "attn1", "output")
    model = window.document.model
    qtbot.waitUntil(lambda: model.analysis().ok)
    click_node(window, "attn1")
    _tick(qtbot, window, "is_causal")
    _wait_code(qtbot, window, "x = F.scaled_dot_product_attention(x, x, x, is_causal=True)")
    assert "import torch.nn.functional as F" in window.code_view.source()
