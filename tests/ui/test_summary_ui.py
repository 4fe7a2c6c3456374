"""The Summary panel, used as a user uses it: a tab behind Problems, read after edits."""

from __future__ import annotations

import torch
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QTabBar

from tests.ui.helpers import drop_layer, node, wire
from torchcanvas.graph.summary import summarize


def click_tab(window, title: str) -> None:
    """Click the dock tab called `title`."""
    for bar in window.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly):
        for index in range(bar.count()):
            if bar.tabText(index) == title and bar.isVisible():
                QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
                return
    raise AssertionError(f"no tab {title!r}")


def shown_rows(window) -> list[tuple[str, ...]]:
    """The summary table's cells as the user reads them."""
    table = window.summary.table
    rows = table.model()
    return [
        tuple(rows.index(r, c).data() for c in range(rows.columnCount()))
        for r in range(rows.rowCount())
    ]


def build(window) -> None:
    drop_layer(window, "Input", QPointF(95, 0))
    drop_layer(window, "Linear", QPointF(95, 200))
    drop_layer(window, "Output", QPointF(95, 400))
    wire(window, "input", "fc1")
    wire(window, "fc1", "output")


def test_summary_shows_each_node_and_follows_edits(window, qtbot):
    build(window)
    click_tab(window, "Summary")
    qtbot.waitUntil(window.summary.table.isVisible)
    window.scene.refresh_analysis()
    expected = summarize(window.document.model)
    assert [row[:3] for row in shown_rows(window)] == [(r.name, r.type, r.shape) for r in expected]
    model = window.document.model
    fc1 = node(window, "fc1")
    facts = model.analysis().facts[fc1]
    width = facts.inputs["input"].shape[-1]
    torch_linear = torch.nn.Linear(width, model.params(fc1)["out_features"])
    count = sum(p.numel() for p in torch_linear.parameters())
    assert next(row for row in shown_rows(window) if row[0] == "fc1")[3] == f"{count:,}"
    assert f"<b>{sum(r.params for r in expected):,}</b> parameters" in window.summary.totals.text()

    drop_layer(window, "ReLU", QPointF(395, 400))  # shown: the table follows at once
    window.scene.refresh_analysis()
    assert "relu1" in [row[0] for row in shown_rows(window)]


def test_a_hidden_summary_catches_up_when_its_tab_is_clicked(window, qtbot):
    click_tab(window, "Problems")
    build(window)
    window.scene.refresh_analysis()
    assert window.summary.table.model().rowCount() == 0  # out of sight: not filled yet
    click_tab(window, "Summary")
    qtbot.waitUntil(window.summary.table.isVisible)
    assert [row[0] for row in shown_rows(window)] == ["input", "fc1", "output"]
