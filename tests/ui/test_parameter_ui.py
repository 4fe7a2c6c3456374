"""A Parameter edited in the inspector: an empty shape makes it a single number."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt

from tests.ui.helpers import click_node, drop_layer, wire


def test_clearing_a_parameters_shape_makes_a_single_learned_number(window, qtbot):
    window.document.model.clear()
    for type_name, y in (("Input", 0), ("Parameter", 150), ("Mul", 300), ("Output", 450)):
        drop_layer(window, type_name, QPointF(95 if type_name != "Parameter" else 395, y))
    model = window.document.model
    window.view.fit()
    wire(window, "input", "mul1", dst_port="0")
    wire(window, "param1", "mul1", dst_port="1")
    wire(window, "mul1", "output")
    click_node(window, "param1")
    field = window.inspector.editors["shape"].widget
    assert "empty: a single number" in field.placeholderText()
    field.setFocus()
    field.selectAll()
    qtbot.keyClick(field, Qt.Key.Key_Delete)
    qtbot.keyClick(field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: model.params(model.id_of("param1"))["shape"] == ())
    qtbot.waitUntil(lambda: model.analysis().ok)
    code = "self.param1 = nn.Parameter(torch.zeros(()))"
    qtbot.waitUntil(lambda: code in window.code_view.source(), timeout=3000)
