"""After a regression run: predicted against true values, and the residuals."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import PySide6.QtWidgets  # noqa: F401  (pyqtgraph must bind to PySide6)
from PySide6.QtWidgets import QHBoxLayout, QWidget

POINT = (30, 90, 200, 150)
LINE = pg.mkPen((117, 117, 117), width=1, style=pg.QtCore.Qt.PenStyle.DashLine)


def _plot(title: str, left: str, bottom: str) -> pg.PlotWidget:
    plot = pg.PlotWidget(background="w")
    plot.setTitle(title, color="#424242", size="9pt")
    plot.setLabel("left", left)
    plot.setLabel("bottom", bottom)
    plot.setMenuEnabled(False)
    return plot


class RegressionView(QWidget):
    """Two scatter plots of the validation split: predicted vs true (with y = x), and
    residuals (predicted - true) vs true (with 0)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.scatter_plot = _plot("Predicted vs true (validation)", "predicted", "true")
        self.residual_plot = _plot("Residuals (validation)", "predicted − true", "true")
        self.points = self.scatter_plot.plot([], [], pen=None, symbol="o", symbolSize=5)
        self.diagonal = self.scatter_plot.plot([], [], pen=LINE)
        self.residuals = self.residual_plot.plot([], [], pen=None, symbol="o", symbolSize=5)
        self.zero = self.residual_plot.plot([], [], pen=LINE)
        for item in (self.points, self.residuals):
            item.setSymbolBrush(pg.mkBrush(POINT))
            item.setSymbolPen(None)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scatter_plot, 1)
        layout.addWidget(self.residual_plot, 1)

    def show_scatter(self, true: list[float], predicted: list[float], target: str) -> None:
        """Plot the validation predictions of the first target column, named `target`."""
        true_values = np.asarray(true, dtype=float)
        predicted_values = np.asarray(predicted, dtype=float)
        self.points.setData(true_values, predicted_values)
        self.residuals.setData(true_values, predicted_values - true_values)
        low = float(min(true_values.min(), predicted_values.min())) if len(true_values) else 0.0
        high = float(max(true_values.max(), predicted_values.max())) if len(true_values) else 1.0
        self.diagonal.setData([low, high], [low, high])
        self.zero.setData([low, high], [0.0, 0.0])
        for plot in (self.scatter_plot, self.residual_plot):
            plot.setLabel("bottom", f"true {target}")
        self.scatter_plot.setLabel("left", f"predicted {target}")
        self.scatter_plot.autoRange()
        self.residual_plot.autoRange()

    def residual_values(self) -> np.ndarray:
        """The residuals as drawn (for tests)."""
        return np.asarray(self.residuals.getData()[1])
