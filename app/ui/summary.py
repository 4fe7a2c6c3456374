"""The Summary panel: per node name, type, output shape, parameters and FLOPs, with totals."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from torchcanvas.graph.summary import human, summarize, totals

COLUMNS = ("Node", "Type", "Output shape", "Parameters", "FLOPs")


class SummaryView(QWidget):
    """A table that follows the graph."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.totals = QLabel()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.table)
        layout.addWidget(self.totals)

    def update_from(self, model, analysis) -> None:
        """Refill from the model's current analysis."""
        rows = summarize(model, analysis)
        self.table.setRowCount(len(rows))
        for index, row in enumerate(rows):
            values = (
                row.name,
                row.type,
                row.shape,
                f"{row.params:,}",
                human(row.flops) if row.flops else "",
            )
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                if column >= 3:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(index, column, item)
        self.table.resizeColumnsToContents()
        params, flops = totals(rows)
        self.totals.setText(
            f"<b>{params:,}</b> parameters · {params * 4 / 2**20:.2f} MB "
            f"(float32) · {human(flops, 'FLOPs')} per sample"
        )
