"""The Problems panel; clicking a problem selects its node (inside a block: opens it there)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QListWidget, QListWidgetItem

NODE_ROLE = Qt.ItemDataRole.UserRole
TRAIL_ROLE = Qt.ItemDataRole.UserRole + 1


class ProblemsView(QListWidget):
    """One line per problem, errors first."""

    node_clicked = Signal(str, tuple)  # node id, ids of the inner nodes it is about

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.itemClicked.connect(self._on_item_clicked)

    def update_from(self, analysis) -> None:
        """Show the analysis' problems."""
        self.clear()
        ordered = sorted(analysis.problems, key=lambda p: p.severity != "error")
        for problem in ordered:
            mark = "✖" if problem.severity == "error" else "⚠"
            item = QListWidgetItem(f"{mark} {problem}")
            item.setData(NODE_ROLE, problem.node)
            item.setData(TRAIL_ROLE, list(problem.trail))
            item.setForeground(QColor("#c62828" if problem.severity == "error" else "#8d6e00"))
            self.addItem(item)
        if not ordered:
            item = QListWidgetItem("✔ No problems: the graph is valid.")
            item.setForeground(QColor("#2e7d32"))
            self.addItem(item)

    def _on_item_clicked(self, item: QListWidgetItem) -> None:
        node = item.data(NODE_ROLE)
        if node:
            self.node_clicked.emit(node, tuple(item.data(TRAIL_ROLE) or ()))
