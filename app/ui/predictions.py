"""Predict… on the Results tab: choose image files or CSV tables (or drop them on the tab)
and see each image with its top classes, or each row's values, from the last run's weights.

The work is app/train/predict's, the same code `torchcanvas predict` runs.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QIcon, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

THUMB_PX = 64
FILE_FILTER = (
    "Images and tables (*.png *.jpg *.jpeg *.bmp *.gif *.webp *.tif *.tiff *.csv *.tsv);;"
    "All files (*)"
)
DROP_TEXT = "Drop images or CSV tables here to predict with the last run."
NO_WEIGHTS = "Train the model (or load a run's weights) first: Predict uses the last run's weights."


class PredictionsView(QWidget):
    """A Predict… button and one line per input: its thumbnail, name and top classes."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.button = QPushButton("Predict…")
        self.button.setToolTip("Choose image files or CSV tables, or drop them on this tab")
        self.status = QLabel(DROP_TEXT)
        self.status.setStyleSheet("color: #757575;")
        self.list = QListWidget()
        self.list.setIconSize(QSize(THUMB_PX, THUMB_PX))
        self.list.setVisible(False)
        row = QHBoxLayout()
        row.addWidget(self.button)
        row.addWidget(self.status, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(row)
        layout.addWidget(self.list)

    def show_predictions(self, predictions, weights) -> None:
        """List each image (with its picture) or table row with what the model says."""
        self.list.clear()
        for prediction in predictions:
            item = QListWidgetItem(f"{prediction.label}\n{prediction.text()}")
            item.setToolTip(prediction.path)
            picture = QPixmap(prediction.path) if _is_image(prediction) else QPixmap()
            if not picture.isNull():
                item.setIcon(
                    QIcon(picture.scaled(THUMB_PX, THUMB_PX, Qt.AspectRatioMode.KeepAspectRatio))
                )
            self.list.addItem(item)
        self.list.setVisible(bool(predictions))
        self.status.setText(f"{len(predictions)} prediction(s) with {weights}")

    def clear(self) -> None:
        """Nothing listed (another project was opened: these were its weights' answers)."""
        self.list.clear()
        self.list.setVisible(False)
        self.status.setText(DROP_TEXT)

    def texts(self) -> list[str]:
        """Each listed line as shown (for tests and copying)."""
        return [self.list.item(i).text() for i in range(self.list.count())]


def _is_image(prediction) -> bool:
    from torchcanvas.app.train.predict import TABLE_SUFFIXES

    return Path(prediction.path).suffix.lower() not in TABLE_SUFFIXES


class ResultsTab(QWidget):
    """The Results dock: the run's results above, predictions below; accepts dropped files."""

    files_dropped = Signal(list)

    def __init__(self, results: QWidget, predictions: PredictionsView) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(results, 3)
        layout.addWidget(predictions, 1)
        self.setAcceptDrops(True)

    def dragEnterEvent(self, event) -> None:
        """Take local files; anything else is not ours."""
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        """Predict on the dropped files."""
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.files_dropped.emit(paths)


def add_predict(window, controller) -> ResultsTab:
    """The Results dock's widget with Predict…, and the action in the File menu."""
    window.predictions = PredictionsView()
    tab = ResultsTab(window.results, window.predictions)
    action = QAction("&Predict…", window)
    action.setToolTip("Predict on image files or CSV tables with the last run's weights")
    action.triggered.connect(lambda _c=False: choose_and_predict(window, controller))
    window.predictions.button.clicked.connect(
        lambda _c=False: choose_and_predict(window, controller)
    )
    tab.files_dropped.connect(lambda paths: predict_paths(window, controller, paths))
    window.document.replaced.connect(window.predictions.clear)
    window.file_menu.insertAction(window.actions_by_name["export"], action)
    window.actions_by_name["predict"] = action
    return tab


def choose_and_predict(window, controller) -> bool:
    """Ask for files, then predict on them; False when nothing was predicted."""
    if controller.weights_path is None:
        window.dialogs.error("Predict", NO_WEIGHTS)
        return False
    paths = window.dialogs.open_files("Predict on images or tables", FILE_FILTER)
    return bool(paths) and predict_paths(window, controller, paths)


def predict_paths(window, controller, paths) -> bool:
    """Predict on `paths` with the last run's weights and show the answers on Results."""
    from torchcanvas.app.train.predict import PredictError, load_predictor, predict_files

    weights = controller.weights_path
    if weights is None:
        window.dialogs.error("Predict", NO_WEIGHTS)
        return False
    try:
        predictions = predict_files(load_predictor(window.document, weights), paths)
    except PredictError as error:
        window.dialogs.error("Predict", "\n".join([str(error), *map(str, error.details)]))
        return False
    window.predictions.show_predictions(predictions, Path(weights).name)
    window.docks["results"].raise_()
    return True
