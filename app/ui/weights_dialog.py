"""Before weights are applied: the per-node match report, with strict and partial loading."""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
)

COLORS = {
    "matched": "#2e7d32",
    "missing": "#c62828",
    "mismatched": "#c62828",
    "unexpected": "#8d6e00",
    "NaN/inf": "#c62828",
}
MAX_TREE_NODES = 300  # a file with 100,000 stray keys must not build 100,000 rows


def report_tree(report) -> QTreeWidget:
    """One row per node, with its tensors by kind."""
    tree = QTreeWidget()
    tree.setHeaderLabels(["node / tensor", "status"])
    nodes = list(report.by_node().items())
    for node, kinds in nodes[:MAX_TREE_NODES]:
        bad = any(items for kind, items in kinds.items() if kind != "matched")
        top = QTreeWidgetItem([node, "needs attention" if bad else "all matched"])
        top.setForeground(1, QColor("#c62828" if bad else "#2e7d32"))
        for kind, items in kinds.items():
            for text in items[:MAX_TREE_NODES]:
                child = QTreeWidgetItem([text, kind])
                child.setForeground(1, QColor(COLORS[kind]))
                top.addChild(child)
            if len(items) > MAX_TREE_NODES:
                top.addChild(QTreeWidgetItem([f"… and {len(items) - MAX_TREE_NODES:,} more", kind]))
        tree.addTopLevelItem(top)
        top.setExpanded(bool(bad))
    if len(nodes) > MAX_TREE_NODES:
        tree.addTopLevelItem(QTreeWidgetItem([f"… and {len(nodes) - MAX_TREE_NODES:,} more", ""]))
    tree.resizeColumnToContents(0)
    return tree


class WeightsDialog(QDialog):
    """Shows the report; `choice` is 'strict', 'partial' or None after exec()."""

    def __init__(self, report, file_name: str, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Load weights: {file_name}")
        self.resize(560, 480)
        self.choice: str | None = None
        summary = QLabel(f"<b>{report.summary()}</b>")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        strict = QPushButton("Load all (strict)")
        strict.setEnabled(report.complete)
        strict.setToolTip("Only when every tensor matches by name and shape.")
        partial = QPushButton(f"Load {len(report.matched)} matched tensors")
        partial.setEnabled(bool(report.matched))
        buttons.addButton(strict, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(partial, QDialogButtonBox.ButtonRole.AcceptRole)
        strict.clicked.connect(lambda: self._choose("strict"))
        partial.clicked.connect(lambda: self._choose("partial"))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(summary)
        layout.addWidget(report_tree(report))
        layout.addWidget(buttons)

    def _choose(self, choice: str) -> None:
        self.choice = choice
        self.accept()
