"""After training: the confusion matrix and probe samples with true and predicted labels, or
for regression the predicted-vs-true and residual plots."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
import PySide6.QtWidgets  # noqa: F401  (pyqtgraph must bind to PySide6)
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QStackedWidget, QVBoxLayout, QWidget

from torchcanvas.app.train.tasks import task_named
from torchcanvas.app.ui.regression_results import RegressionView

PROBE_COLUMNS = 4
EMPTY_TEXT = "Train a model to see results here."
NAME_CHARS = 14  # class names on the matrix's axis are cut to this
CHAR_PX = 7  # about one character of 8-9 pt text, for fitting labels to the room
LINE_PX = 15
MAX_CELL_COUNTS = 40  # counts are written in the cells (when they fit) up to this many


def elide(name: str, chars: int) -> str:
    """`name`, cut to `chars` characters with an ellipsis."""
    return name if len(name) <= chars else name[: chars - 1] + "…"


def class_name(classes: list[str], index: int) -> str:
    """The name of class `index`, or its number when the data has no names."""
    return str(classes[index]) if 0 <= index < len(classes) else str(index)


class ResultsView(QWidget):
    """Filled from the run's `finished` event; a plain line until then."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.empty = QLabel(EMPTY_TEXT)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet("color: #757575;")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.matrix_plot = self._matrix_plot()
        self.probes = pg.GraphicsLayoutWidget()
        self.probes.setBackground("w")
        self.labels: list[str] = []
        self.classes: list[str] = []
        self.matrix: np.ndarray | None = None
        self._texts: list[pg.TextItem] = []
        self._probe_labels: list[pg.LabelItem] = []
        self._probe_classes: list[tuple[int, int]] = []
        self.regression = RegressionView()
        row = QHBoxLayout()
        row.addWidget(self.matrix_plot, 1)
        row.addWidget(self.probes, 1)
        row.addWidget(self.regression, 2)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.summary)
        layout.addLayout(row)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.empty)
        self.pages.addWidget(page)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.pages)
        self.probes.installEventFilter(self)
        # The view box gets its size after the widget does: follow the view box.
        self.matrix_plot.getPlotItem().vb.sigResized.connect(lambda _view: self._fit_matrix())

    def _matrix_plot(self) -> pg.PlotWidget:
        plot = pg.PlotWidget(background="w")
        plot.setTitle("Confusion matrix (validation)", color="#424242", size="9pt")
        plot.setLabel("left", "true class")
        plot.setLabel("bottom", "predicted class (number)")
        plot.invertY(True)
        plot.setAspectLocked(True)
        plot.setMenuEnabled(False)
        self.matrix_image = pg.ImageItem()
        self.matrix_image.setColorMap(pg.colormap.get("viridis"))
        plot.addItem(self.matrix_image)
        plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
        return plot

    def clear(self) -> None:
        """Back to the plain line (another project was opened)."""
        self.pages.setCurrentIndex(0)
        self.summary.clear()

    def has_results(self) -> bool:
        """Whether a run's results are shown (otherwise the plain line is)."""
        return self.pages.currentIndex() == 1

    def show_results(self, event: dict) -> None:
        """Draw the confusion matrix and the probe grid of a finished run."""
        self.classes = [str(name) for name in event.get("classes") or []]
        task = task_named(event.get("task"))
        epochs = f"after {len(event['history'])} epoch(s) ({event['reason']})"
        scores = task.results_summary(event)
        if scores:
            self.summary.setText(f"{scores}, {epochs}.")
        else:
            self.summary.setText(f"{epochs[0].upper()}{epochs[1:]}.")
        scatter = event.get("scatter")
        self.regression.setVisible(bool(scatter))
        if scatter:
            target = (event.get("targets") or ["y"])[0]
            self.regression.show_scatter(scatter["true"], scatter["predicted"], target)
        confusion = event.get("confusion")
        self.matrix_plot.setVisible(bool(confusion))
        if confusion:
            self._show_matrix(np.asarray(confusion), self.classes)
        # probes show class labels; real-valued predictions are in the scatter
        probes = bool(event.get("probe")) and task.probes_show_classes
        self.probes.setVisible(probes)
        if probes:
            self._show_probes(event["probe"], self.classes)
        self.pages.setCurrentIndex(1)

    def _show_matrix(self, matrix: np.ndarray, classes: list[str]) -> None:
        self.matrix = matrix
        for text in self._texts:
            self.matrix_plot.removeItem(text)
        self._texts = []
        rows = matrix.sum(axis=1, keepdims=True).clip(min=1)
        self.matrix_image.setImage((matrix / rows).T, levels=(0, 1))
        if len(matrix) <= MAX_CELL_COUNTS:
            self._write_counts(matrix, rows)
        n = len(matrix)
        self.matrix_plot.getPlotItem().setRange(xRange=(0, n), yRange=(0, n), padding=0.02)
        self.fit_labels()

    def eventFilter(self, watched, event) -> bool:
        """Probe labels are cut to the room there is, whenever that changes."""
        if event.type() == QEvent.Type.Resize:
            self.fit_labels()
        return False

    def _fit_matrix(self) -> None:
        if self.matrix is not None:
            self._fit_matrix_labels(len(self.matrix))

    def fit_labels(self) -> None:
        """Name as many rows, number as many columns, write as many counts and as much of
        the probes' class names as the current size has room for, without overlaps."""
        if self.matrix is not None:
            self._fit_matrix_labels(len(self.matrix))
        column_px = self.probes.width() / PROBE_COLUMNS
        for label, (true, predicted) in zip(self._probe_labels, self._probe_classes):
            chars = max(3, int((column_px / CHAR_PX - 3) / 2))  # "true → predicted"
            while True:  # the estimate first, then shorter until it fits
                label.setText(
                    f"{elide(class_name(self.classes, true), chars)} → "
                    f"{elide(class_name(self.classes, predicted), chars)}"
                )
                if chars <= 3 or label.item.boundingRect().width() <= column_px:
                    break
                chars -= 1
        self.labels = [label.text for label in self._probe_labels]

    def _fit_matrix_labels(self, n: int) -> None:
        view = self.matrix_plot.getPlotItem().vb
        cell = min(view.width(), view.height()) / max(n, 1)  # pixels (aspect is locked)
        # Rows carry the names (horizontal text has room); columns carry numbers, which
        # stay apart however many classes there are, and each row says its number.
        row_step = max(1, math.ceil(LINE_PX / max(cell, 1e-3)))
        column_step = max(1, math.ceil(CHAR_PX * (len(str(n - 1)) + 1) / max(cell, 1e-3)))
        names = [(i + 0.5, self._row_name(i)) for i in range(0, n, row_step)]
        self.matrix_plot.getAxis("left").setTicks([names])
        self.matrix_plot.getAxis("bottom").setTicks(
            [[(i + 0.5, str(i)) for i in range(0, n, column_step)]]
        )
        widest = CHAR_PX * len(str(int(self.matrix.max(initial=0)))) + 4
        for text in self._texts:
            text.setVisible(cell >= max(widest, LINE_PX))

    def _row_name(self, index: int) -> str:
        name = class_name(self.classes, index)
        return name if name == str(index) else f"{elide(name, NAME_CHARS)} {index}"

    def _write_counts(self, matrix: np.ndarray, rows: np.ndarray) -> None:
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

    def cell_text(self, row: int, column: int) -> str:
        """What hovering cell (row, column) of the matrix says."""
        count = int(self.matrix[row, column])
        return (
            f"true {class_name(self.classes, row)}, predicted "
            f"{class_name(self.classes, column)}: {count} sample{'s' * (count != 1)}"
        )

    def _on_mouse_moved(self, scene_pos) -> None:
        if self.matrix is None:
            return
        point = self.matrix_plot.getPlotItem().vb.mapSceneToView(scene_pos)
        row, column = math.floor(point.y()), math.floor(point.x())
        inside = 0 <= row < len(self.matrix) and 0 <= column < len(self.matrix)
        self.matrix_plot.setToolTip(self.cell_text(row, column) if inside else "")

    def _show_probes(self, probe: dict, classes: list[str]) -> None:
        self.probes.clear()
        self._probe_labels, self._probe_classes = [], []
        images = np.asarray(probe["images"])
        for index, (image, true, predicted) in enumerate(
            zip(images, probe["true"], probe["predicted"])
        ):
            row, column = 2 * (index // PROBE_COLUMNS), index % PROBE_COLUMNS
            view = self.probes.addViewBox(row=row, col=column, lockAspect=True)
            view.invertY(True)
            view.addItem(pg.ImageItem(_displayable(image)))
            ok = true == predicted
            label = self.probes.addLabel(
                "", row=row + 1, col=column, size="8pt", color="#2e7d32" if ok else "#c62828"
            )
            self._probe_labels.append(label)
            self._probe_classes.append((true, predicted))
        self.fit_labels()


def _displayable(image: np.ndarray) -> np.ndarray:
    """(C, H, W) -> an array ImageItem shows: (W, H) grey or (W, H, 3) colour."""
    if image.ndim == 3 and image.shape[0] == 1:
        return image[0].T
    if image.ndim == 3 and image.shape[0] == 3:
        return np.clip(image.transpose(2, 1, 0), 0, 1)
    flat = image.reshape(-1)
    side = int(np.ceil(np.sqrt(len(flat))))
    return np.pad(flat, (0, side * side - len(flat))).reshape(side, side).T
