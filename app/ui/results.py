"""After training: the confusion matrix and probe samples with true and predicted labels."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import PySide6.QtWidgets  # noqa: F401  (pyqtgraph must bind to PySide6)
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

PROBE_COLUMNS = 4


class ResultsView(QWidget):
    """Filled from the run's `finished` event."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.summary = QLabel("Results appear here when a run finishes.")
        self.matrix_plot = pg.PlotWidget(background="w", title="Confusion matrix (validation)")
        self.matrix_plot.setLabel("left", "true class")
        self.matrix_plot.setLabel("bottom", "predicted class")
        self.matrix_plot.invertY(True)
        self.matrix_plot.setAspectLocked(True)
        self.matrix_image = pg.ImageItem()
        self.matrix_image.setColorMap(pg.colormap.get("viridis"))
        self.matrix_plot.addItem(self.matrix_image)
        self.probes = pg.GraphicsLayoutWidget()
        self.probes.setBackground("w")
        self.labels: list[str] = []
        self._texts: list[pg.TextItem] = []
        row = QHBoxLayout()
        row.addWidget(self.matrix_plot, 1)
        row.addWidget(self.probes, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.summary)
        layout.addLayout(row)

    def show_results(self, event: dict) -> None:
        """Draw the confusion matrix and the probe grid of a finished run."""
        classes = event.get("classes", [])
        if "val_acc" in event:
            self.summary.setText(
                f"Validation accuracy <b>{event['val_acc']:.2%}</b>, loss "
                f"{event['val_loss']:.4f}, after {len(event['history'])} "
                f"epoch(s) ({event['reason']})."
            )
        if event.get("confusion"):
            self._show_matrix(np.asarray(event["confusion"]), classes)
        if event.get("probe"):
            self._show_probes(event["probe"], classes)

    def _show_matrix(self, matrix: np.ndarray, classes: list[str]) -> None:
        for text in self._texts:
            self.matrix_plot.removeItem(text)
        self._texts = []
        rows = matrix.sum(axis=1, keepdims=True).clip(min=1)
        self.matrix_image.setImage((matrix / rows).T, levels=(0, 1))
        if len(matrix) <= 20:
            for r in range(len(matrix)):
                for c in range(len(matrix)):
                    if matrix[r, c]:
                        text = pg.TextItem(
                            str(int(matrix[r, c])),
                            anchor=(0.5, 0.5),
                            color="w" if matrix[r, c] / rows[r, 0] < 0.6 else "k",
                        )
                        text.setPos(c + 0.5, r + 0.5)
                        self.matrix_plot.addItem(text)
                        self._texts.append(text)
        ticks = [(i + 0.5, name[:6]) for i, name in enumerate(classes)]
        for axis in ("left", "bottom"):
            self.matrix_plot.getAxis(axis).setTicks([ticks])

    def _show_probes(self, probe: dict, classes: list[str]) -> None:
        self.probes.clear()
        self.labels = []
        images = np.asarray(probe["images"])
        for index, (image, true, predicted) in enumerate(
            zip(images, probe["true"], probe["predicted"])
        ):
            name = lambda i: classes[i] if i < len(classes) else str(i)  # noqa: E731
            ok = true == predicted
            label = f"{name(true)} → {name(predicted)}"
            self.labels.append(label)
            view = self.probes.addViewBox(
                row=2 * (index // PROBE_COLUMNS), col=index % PROBE_COLUMNS, lockAspect=True
            )
            view.invertY(True)
            view.addItem(pg.ImageItem(_displayable(image)))
            self.probes.addLabel(
                label,
                row=2 * (index // PROBE_COLUMNS) + 1,
                col=index % PROBE_COLUMNS,
                size="8pt",
                color="#2e7d32" if ok else "#c62828",
            )


def _displayable(image: np.ndarray) -> np.ndarray:
    """(C, H, W) -> an array ImageItem shows: (W, H) grey or (W, H, 3) colour."""
    if image.ndim == 3 and image.shape[0] == 1:
        return image[0].T
    if image.ndim == 3 and image.shape[0] == 3:
        return np.clip(image.transpose(2, 1, 0), 0, 1)
    flat = image.reshape(-1)
    side = int(np.ceil(np.sqrt(len(flat))))
    return np.pad(flat, (0, side * side - len(flat))).reshape(side, side).T
