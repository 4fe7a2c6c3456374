"""Make Block: the class name, and which inner values become its parameters."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
)

from torchcanvas.graph.grouping import Exposed
from torchcanvas.graph.naming import class_name_problem


class MakeBlockDialog(QDialog):
    """Asks for a block name and the parameters to expose; emits `chosen` on OK."""

    chosen = Signal(str, list)  # class name, [Exposed]

    def __init__(self, candidates: list[Exposed], labels: dict[str, str], parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Make Block")
        self.setObjectName("make_block_dialog")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.candidates = candidates
        self.name = QLineEdit("MyBlock")
        self.name.selectAll()
        self.name.textChanged.connect(self._check)
        self.params = QListWidget()
        for exposed in candidates:
            text = f"{labels[exposed.node]}.{exposed.param}  →  {exposed.name}"
            item = QListWidgetItem(text)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.params.addItem(item)
        self.problem = QLabel()
        self.problem.setStyleSheet("color: #c62828;")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._on_ok)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Class name of the block:"))
        layout.addWidget(self.name)
        hint = QLabel(
            "Values to make constructor parameters (the rest stay fixed). Input channels "
            "and features become parameters by themselves."
        )
        hint.setWordWrap(True)
        layout.addWidget(hint)
        layout.addWidget(self.params, 1)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.resize(420, 420)

    def item_for(self, text: str) -> QListWidgetItem:
        """The row whose text starts with `text` (conv1.out_channels)."""
        return next(
            self.params.item(i)
            for i in range(self.params.count())
            if self.params.item(i).text().startswith(text)
        )

    def exposed(self) -> list[Exposed]:
        """The checked parameters."""
        return [
            exposed
            for i, exposed in enumerate(self.candidates)
            if self.params.item(i).checkState() == Qt.CheckState.Checked
        ]

    def _check(self) -> bool:
        problem = class_name_problem(self.name.text().strip())
        self.problem.setText(problem or "")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(problem is None)
        return problem is None

    def _on_ok(self) -> None:
        if self._check():
            self.accept()
            self.chosen.emit(self.name.text().strip(), self.exposed())
