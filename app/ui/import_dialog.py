"""File ▸ Import Model…: a class from a Python file, or a torchvision model, into a project."""

from __future__ import annotations

import ast
import re
import time
from pathlib import Path

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from torchcanvas.app.import_process import ImportRun
from torchcanvas.app.importing import (
    TORCHVISION_MODELS,
    SourceError,
    parse_arguments,
    parse_shape,
)
from torchcanvas.graph.fileio import read_limited

MAX_SOURCE_BYTES = 5 * 2**20
NO_WEIGHTS = "none (random initialization)"


def module_classes(path: Path) -> list[str]:
    """Classes a Python file defines (read with ast, without running the file)."""
    try:
        tree = ast.parse(read_limited(path, MAX_SOURCE_BYTES).decode("utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError, RecursionError):
        return []
    return [node.name for node in tree.body if isinstance(node, ast.ClassDef)]


class ImportDialog(QDialog):
    """Asks what to import, runs the import in its own process, shows the report."""

    imported = Signal(object)  # the ImportOutcome

    def __init__(self, parent=None, weights_folder: Path | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import Model")
        self.setObjectName("import_dialog")
        self.result = None
        self.weights_folder = Path(weights_folder or Path.cwd())
        self._run: ImportRun | None = None
        self._timer = QTimer(self, interval=50)
        self._timer.timeout.connect(self._poll)
        self._build()

    # ----- layout ---------------------------------------------------------------------------
    def _build(self) -> None:
        self.from_file = QRadioButton("A class in a Python file")
        self.from_torchvision = QRadioButton("A torchvision model")
        self.from_file.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.from_file)
        group.addButton(self.from_torchvision)
        self.path = QLineEdit(placeholderText="path/to/model.py")
        self.path.textChanged.connect(self._on_path_changed)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.class_name = QComboBox(editable=True)
        self.torchvision = QComboBox()
        self.torchvision.addItems(TORCHVISION_MODELS)
        self.torchvision.currentIndexChanged.connect(lambda: self.from_torchvision.setChecked(True))
        self.pretrained = QComboBox()
        self.pretrained.setToolTip(
            "torchvision's pretrained weights, read from $TORCH_HOME/hub/checkpoints "
            "(downloaded when online); the input shape follows them"
        )
        self.pretrained.addItem(NO_WEIGHTS)
        self.pretrained.setEnabled(False)
        self.from_torchvision.toggled.connect(self._refresh_weights)
        self.torchvision.currentIndexChanged.connect(self._refresh_weights)
        self.pretrained.currentIndexChanged.connect(self._on_weights_changed)
        self.arguments = QLineEdit("{}")
        self.shapes = QLineEdit("3x224x224")
        self.shapes.setToolTip(
            "Per-sample shape of each input, in forward's order; separate with ;"
        )
        self.dtypes = QLineEdit("float32")
        self.dtypes.setToolTip("float32, int64, ... for each input; separate with ;")
        form = QFormLayout()
        row = QWidget()
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(self.path, 1)
        line.addWidget(browse)
        form.addRow(self.from_file)
        form.addRow("File", row)
        form.addRow("Class", self.class_name)
        form.addRow(self.from_torchvision)
        form.addRow("Model", self.torchvision)
        form.addRow("Pretrained weights", self.pretrained)
        form.addRow("Constructor arguments (JSON)", self.arguments)
        form.addRow("Input shapes", self.shapes)
        form.addRow("Input dtypes", self.dtypes)
        self._finish(form)

    def _finish(self, form: QFormLayout) -> None:
        note = QLabel(
            "Importing a file runs its top-level code, as importing it in Python would "
            "(the part under if __name__ == '__main__' does not run)."
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: #616161;")
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy
        self.progress.hide()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.report = QPlainTextEdit(readOnly=True)
        self.report.setMinimumHeight(120)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.import_button = self.buttons.addButton(
            "Import", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        for widget in (note, self.progress, self.status, self.report, self.buttons):
            layout.addWidget(widget)
        self.resize(560, 520)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Python file", "", "Python files (*.py)")
        if path:
            self.path.setText(path)

    def _on_path_changed(self, text: str) -> None:
        self.from_file.setChecked(True)
        classes = module_classes(Path(text)) if text.endswith(".py") else []
        current = self.class_name.currentText()
        self.class_name.clear()
        self.class_name.addItems(classes)
        if current in classes:
            self.class_name.setCurrentText(current)

    def _refresh_weights(self) -> None:
        """List the chosen torchvision model's weights; none for a file's class."""
        names = []
        if self.from_torchvision.isChecked():
            from torchcanvas.app.pretrained import available_weights

            names = available_weights(self.torchvision.currentText())
        self.pretrained.blockSignals(True)  # one shape update below, not one per item
        self.pretrained.clear()
        self.pretrained.addItems([NO_WEIGHTS, *names])
        self.pretrained.blockSignals(False)
        self.pretrained.setEnabled(bool(names))

    def _on_weights_changed(self) -> None:
        """Pretrained weights set the input shape to their crop size (still editable)."""
        name = self.weights_name()
        if name is None:
            return
        from torchcanvas.app.pretrained import choose

        try:
            shape = choose(self.torchvision.currentText(), name).input_shape()
        except SourceError as error:
            self._show(str(error), error=True)
            return
        self.shapes.setText("x".join(str(size) for size in shape))
        self.dtypes.setText("float32")

    def weights_name(self) -> str | None:
        """The chosen pretrained weights (DEFAULT, IMAGENET1K_V1, ...), or None."""
        if not self.pretrained.isEnabled() or self.pretrained.currentIndex() <= 0:
            return None
        return self.pretrained.currentText()

    # ----- running --------------------------------------------------------------------------
    def source(self) -> str:
        """`file.py:Class` or `torchvision.models:name`, as the CLI takes it."""
        if self.from_torchvision.isChecked():
            return f"torchvision.models:{self.torchvision.currentText()}"
        return f"{self.path.text().strip()}:{self.class_name.currentText().strip()}"

    def start(self) -> None:
        """Check the fields, then import in the background."""
        try:
            shapes = [parse_shape(s) for s in self.shapes.text().split(";") if s.strip()]
            dtypes = [d.strip() for d in self.dtypes.text().split(";") if d.strip()]
            arguments = parse_arguments(self.arguments.text().strip() or "{}")
        except SourceError as error:
            self._show(str(error), error=True)
            return
        self.import_button.setEnabled(False)
        self.progress.show()
        self._show(f"Importing {self.source()}…")
        self.report.clear()
        request = {"source": self.source(), "arguments": arguments, "shapes": shapes}
        request["dtypes"] = dtypes
        request["pretrained"] = self.weights_name()
        self._run = ImportRun(request, self._weights_path())
        self._run.start()
        self._timer.start()

    def _weights_path(self) -> Path:
        stem = re.sub(r"[^A-Za-z0-9_]+", "_", self.source().rsplit(":", 1)[-1])[:60] or "model"
        return self.weights_folder / f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}.pt"

    def _poll(self) -> None:
        outcome = self._run.poll() if self._run is not None else None
        if outcome is None:
            return
        self._timer.stop()
        self._run = None
        self.progress.hide()
        self.import_button.setEnabled(True)
        self.report.setPlainText(outcome.report)
        if not outcome.ok:
            self._show(outcome.error, error=True)
            return
        self.result = outcome
        self._show(f"Imported {outcome.project.model.name}; the design is open in the window.")
        self.import_button.hide()
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Close")
        self.imported.emit(outcome)

    def done(self, code: int) -> None:
        """Closing the dialog stops an import still running."""
        if self._run is not None:
            self._timer.stop()
            self._run.cancel()
            self._run = None
        super().done(code)

    def _show(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #c62828;" if error else "")
