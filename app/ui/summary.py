"""The Summary panel: per node name, type, output shape, parameters and FLOPs, with totals."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtWidgets import QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from torchcanvas.graph.summary import NodeSummary, flag_note, human, split_text, summarize, totals

COLUMNS = ("Node", "Type", "Output shape", "Parameters", "FLOPs")
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_MEASURED_ROWS = 300  # column widths from the first rows: measuring 10,000 took 0.3 s


class SummaryRows(QAbstractTableModel):
    """The summary rows as a Qt table model: cells are written when a view asks for them."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[NodeSummary] = []

    def set_rows(self, rows: list[NodeSummary]) -> None:
        """Show `rows` instead."""
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 - Qt's own signature
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() >= 3:
            return int(_RIGHT.value)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return cell_text(self.rows[index.row()], index.column())

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None


def cell_text(row: NodeSummary, column: int) -> str:
    """What the table shows for `row` in `column`."""
    if column == 3:
        note = flag_note(row)  # frozen / lr ×10 beside the count they apply to
        return f"{row.params:,} ({note})" if note else f"{row.params:,}"
    if column == 4:
        return human(row.flops) if row.flops else ""
    return (row.name, row.type, row.shape)[column]


class SummaryView(QWidget):
    """A table that follows the graph; while out of sight (a tab behind Problems) it only
    notes that it is out of date, and catches up when its dock says it is seen again."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows = SummaryRows(self)
        self.table = QTableView()
        self.table.setModel(self.rows)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setResizeContentsPrecision(_MEASURED_ROWS)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.totals = QLabel()
        self._pending: tuple | None = None  # (model, analysis) not shown yet
        self._seen = True
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.table)
        layout.addWidget(self.totals)

    def update_from(self, model, analysis) -> None:
        """Follow the model's current analysis (now if shown, else when next shown)."""
        self._pending = (model, analysis)
        if self._seen:
            self._fill()

    def set_seen(self, seen: bool) -> None:
        """Whether the user can see the table (a tabbed dock is moved away, not hidden)."""
        self._seen = seen
        if seen:
            self._fill()

    def _fill(self) -> None:
        if self._pending is None:
            return
        model, analysis = self._pending
        self._pending = None
        rows = summarize(model, analysis)
        self.rows.set_rows(rows)
        self.table.resizeColumnsToContents()
        params, flops = totals(rows)
        split = split_text(rows, model, analysis)
        self.totals.setText(
            f"<b>{params:,}</b> parameters{split} · {params * 4 / 2**20:.2f} MB "
            f"(float32) · {human(flops, 'FLOPs')} per sample"
        )
