"""The Training panel: settings saved in the project, run controls, progress and status."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from torchcanvas.app.train.data import SOURCE_TITLES
from torchcanvas.graph.settings import AUGMENT_OPS, LOSSES, OPTIMIZERS, SCHEDULES, TASKS

DATA_FILTER = "Tables and arrays (*.csv *.tsv *.npz *.npy);;All files (*)"
TABLE_SOURCES = ("csv", "npz")  # the user's own files (data_path, targets, features)
DOWNLOADED = ("mnist", "fashion_mnist", "cifar10")
FOLDER_SOURCES = (*DOWNLOADED, "image_folder")
ROW_WIDGETS = ("data_root", "data_path")  # fields shown in a row with a Browse button
FILE_KINDS = {".csv": "csv", ".tsv": "csv", ".tab": "csv", ".npz": "npz", ".npy": "npz"}
OP_TITLES = {
    "random_resized_crop": "Resized crop",
    "horizontal_flip": "Flip",
    "color_jitter": "Color jitter",
    "rotation": "Rotation",
}
STATS_TITLES = {"data": "the training split", "weights": "the pretrained weights"}


class TrainingPanel(QWidget):
    """Widgets only: the controller reads and writes them; settings go through the Document."""

    setting_edited = Signal(str, object)  # key, value
    train_clicked = Signal()
    pause_clicked = Signal()
    resume_clicked = Signal()
    stop_clicked = Signal()
    load_weights_clicked = Signal()
    save_weights_clicked = Signal()
    fit_input_clicked = Signal()  # set the Input's shape to the one the data gives
    choose_start_clicked = Signal()  # choose the project's starting weights file
    clear_start_clicked = Signal()

    def __init__(self, devices: list[str], parent=None) -> None:
        super().__init__(parent)
        self._loading = False
        self.fields: dict[str, QWidget] = {}
        form = QFormLayout()
        self._add_choice(form, "task", "Task", list(TASKS))
        self._add_choice(form, "data", "Data", list(SOURCE_TITLES), SOURCE_TITLES)
        form.addRow("Folder", self._folder_row())
        form.addRow("Data file", self._file_row())
        for key, label, hint in (
            ("targets", "Targets", "target columns or arrays (default: the last column, y)"),
            ("features", "Features", "input columns (default: all the others)"),
        ):
            line = self.fields[key] = QLineEdit(placeholderText=hint)
            line.editingFinished.connect(lambda k=key, w=line: self._edited(k, w.text().strip()))
            form.addRow(label, line)
        self.preview = QLabel()  # what the chosen file gives, or why it cannot be used
        self.preview.setWordWrap(True)
        self.preview.setStyleSheet("color: #455a64; font-size: 8pt;")
        form.addRow("", self.preview)
        self._add_check(form, "download", "Download if missing")
        self._add_choice(form, "loss", "Loss", list(LOSSES))
        self._add_choice(form, "optimizer", "Optimizer", list(OPTIMIZERS))
        self._add_number(form, "lr", "Learning rate", QDoubleSpinBox, 1e-6, 10.0)
        self._add_number(form, "batch_size", "Batch size", QSpinBox, 1, 65536)
        self._add_number(form, "epochs", "Epochs", QSpinBox, 1, 10000)
        self._add_choice(form, "schedule", "LR schedule", list(SCHEDULES))
        self._add_check(form, "augment", "Augment (crop + flip)")
        form.addRow("Augment with", self._ops_row())
        self._add_choice(
            form, "normalize_from", "Normalize with", ["data", "weights"], STATS_TITLES
        )
        self._add_choice(form, "device", "Device", devices)
        self._add_check(form, "compile", "Compile the model (torch.compile)")
        form.addRow("Starting weights", self._start_row())
        self._add_number(form, "unfreeze_epoch", "Unfreeze at epoch", QSpinBox, 0, 10000)
        self.fields["unfreeze_epoch"].setSpecialValueText("never")  # 0: frozen layers stay
        self.fields["unfreeze_epoch"].setToolTip(
            "Gradual unfreezing: the frozen layers start training at the start of this epoch"
        )
        self.start_from_weights = QCheckBox("Start from the current weights")
        self.start_from_weights.setEnabled(False)
        form.addRow("", self.start_from_weights)
        self.start_note = QLabel()  # which weights Train starts from (the controller says)
        self.start_note.setWordWrap(True)
        form.addRow("", self.start_note)
        self.tensorboard = QCheckBox("Log to TensorBoard (in the run folder)")
        form.addRow("", self.tensorboard)
        self.progress = QProgressBar()
        self.progress.setFormat("idle")
        self.progress.setValue(0)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.form = form
        # Run controls, progress and status are pinned at the top of the dock: only the
        # settings below them (locked while training) scroll, so Stop stays in sight.
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(self._buttons())
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        self.fit_input_button = QPushButton()
        self.fit_input_button.setToolTip("Change the Input node's shape to the data's (undoable)")
        self.fit_input_button.clicked.connect(self.fit_input_clicked)
        self.fit_input_button.hide()
        layout.addWidget(self.fit_input_button)
        layout.addWidget(self._scrolled_settings(form), 1)

    # ----- construction -----------------------------------------------------------
    def _scrolled_settings(self, form: QFormLayout) -> QScrollArea:
        """The settings form and the weights buttons, in their own scroll area."""
        settings = QWidget()
        column = QVBoxLayout(settings)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(form)
        column.addLayout(self._weights_buttons())
        column.addStretch(1)
        self.settings_area = QScrollArea()
        self.settings_area.setWidgetResizable(True)
        self.settings_area.setFrameShape(QScrollArea.Shape.NoFrame)
        self.settings_area.setWidget(settings)
        return self.settings_area

    def _add_choice(self, form, key, label, values, titles=None) -> None:
        box = QComboBox()
        for value in values:
            box.addItem((titles or {}).get(value, value), value)
        box.currentIndexChanged.connect(lambda _i, k=key, b=box: self._edited(k, b.currentData()))
        self.fields[key] = box
        form.addRow(label, box)

    def _add_check(self, form, key, label) -> None:
        box = QCheckBox(label)
        box.toggled.connect(lambda on, k=key: self._edited(k, on))
        self.fields[key] = box
        form.addRow("", box)

    def _add_number(self, form, key, label, kind, low, high) -> None:
        box = kind()
        if kind is QDoubleSpinBox:
            box.setDecimals(6)
            box.setSingleStep(0.0005)
        box.setRange(low, high)
        box.setKeyboardTracking(False)
        box.valueChanged.connect(lambda value, k=key: self._edited(k, value))
        self.fields[key] = box
        form.addRow(label, box)

    def _ops_row(self) -> QWidget:
        """A check box per augment op (image folders); none checked: crop + flip."""
        row = self.ops_row = QWidget()
        row.setToolTip("Image folders: these ops replace crop + flip while Augment is on")
        layout = QGridLayout(row)  # two by two: the dock is narrow
        layout.setContentsMargins(0, 0, 0, 0)
        self.op_boxes: dict[str, QCheckBox] = {}
        for index, name in enumerate(AUGMENT_OPS):
            box = self.op_boxes[name] = QCheckBox(OP_TITLES[name])
            box.toggled.connect(lambda _on: self._edited("augment_ops", self._checked_ops()))
            layout.addWidget(box, index // 2, index % 2)
        return row

    def _checked_ops(self) -> list[str]:
        return [name for name, box in self.op_boxes.items() if box.isChecked()]

    def _folder_row(self) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        line = QLineEdit()
        line.setPlaceholderText("default: ~/.torchcanvas/data")
        line.editingFinished.connect(lambda: self._edited("data_root", line.text().strip()))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        layout.addWidget(line)
        layout.addWidget(browse)
        self.fields["data_root"] = line
        return row

    def _file_row(self) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        line = self.fields["data_path"] = QLineEdit(
            placeholderText="a .csv, .tsv, .npz or .npy file"
        )
        line.editingFinished.connect(lambda: self._file_chosen(line.text().strip()))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_file)
        layout.addWidget(line)
        layout.addWidget(browse)
        return row

    def _start_row(self) -> QWidget:
        """The project's starting weights (weights_file), chosen or cleared as undo steps."""
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        line = self.fields["weights_file"] = QLineEdit(readOnly=True)
        line.setPlaceholderText("none: fresh weights")
        self.choose_start_button = QPushButton("Choose…")
        self.clear_start_button = QPushButton("Clear")
        self.choose_start_button.clicked.connect(self.choose_start_clicked)
        self.clear_start_button.clicked.connect(self.clear_start_clicked)
        for widget in (line, self.choose_start_button, self.clear_start_button):
            layout.addWidget(widget)
        return row

    def show_start(self, weights_file: str, text: str, kind: str = "info") -> None:
        """The starting weights file as the project names it, and which weights Train
        starts from (`kind` "error" when that cannot be)."""
        self.fields["weights_file"].setText(weights_file)
        self.clear_start_button.setEnabled(
            bool(weights_file) and self.choose_start_button.isEnabled()
        )
        color = "#c62828" if kind == "error" else "#455a64"
        self.start_note.setStyleSheet(f"color: {color}; font-size: 8pt;")
        self.start_note.setText(text)

    def _browse_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Data file", self.fields["data_path"].text().strip(), DATA_FILTER
        )
        if path:
            self.fields["data_path"].setText(path)
            self._file_chosen(path)

    def _file_chosen(self, path: str) -> None:
        """data_path set; a file that says what it is (.csv, .npz) picks its source too."""
        kind = FILE_KINDS.get(Path(path).suffix.lower())
        sources = self.fields["data"]
        if kind and sources.currentData() != kind and sources.findData(kind) >= 0:
            sources.setCurrentIndex(sources.findData(kind))  # emits the data edit
        self._edited("data_path", path)

    def _buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.train_button = QPushButton("Train")
        self.pause_button = QPushButton("Pause")
        self.resume_button = QPushButton("Resume")
        self.stop_button = QPushButton("Stop")
        for button, signal in (
            (self.train_button, self.train_clicked),
            (self.pause_button, self.pause_clicked),
            (self.resume_button, self.resume_clicked),
            (self.stop_button, self.stop_clicked),
        ):
            button.clicked.connect(signal)
            row.addWidget(button)
        self.train_button.setStyleSheet("font-weight: bold;")
        self.set_running(False, False)
        return row

    def _weights_buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        load = self.load_weights_button = QPushButton("Load Weights…")
        save = self.save_weights_button = QPushButton("Save Weights…")
        load.clicked.connect(self.load_weights_clicked)
        save.clicked.connect(self.save_weights_clicked)
        row.addWidget(load)
        row.addWidget(save)
        return row

    def _browse(self) -> None:
        current = self.fields["data_root"].text().strip()
        start = current if current and Path(current).expanduser().is_dir() else str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Data folder", start)
        if folder:
            self.fields["data_root"].setText(folder)
            self._edited("data_root", folder)

    def _edited(self, key: str, value) -> None:
        if not self._loading:
            self.setting_edited.emit(key, value)

    # ----- state ------------------------------------------------------------------
    def show_settings(self, settings: dict, pipeline: bool = False) -> None:
        """Show the project's settings without emitting edits; the augment ops only for image
        folders, where normalize's stats come from when the project has a `pipeline` (or
        the setting already asks for the weights')."""
        self._loading = True
        try:
            for name, box in self.op_boxes.items():
                box.setChecked(name in (settings.get("augment_ops") or ()))
            self.form.setRowVisible(self.ops_row, settings.get("data") == "image_folder")
            stats_row = pipeline or settings.get("normalize_from", "data") != "data"
            self.form.setRowVisible(self.fields["normalize_from"], stats_row)  # so it can be undone
            for key, widget in self.fields.items():
                value = settings.get(key)
                if isinstance(widget, QComboBox):
                    index = widget.findData(value)
                    widget.setCurrentIndex(max(index, 0))
                elif isinstance(widget, QCheckBox):
                    widget.setChecked(bool(value))
                elif isinstance(widget, QLineEdit):
                    listed = isinstance(value, (list, tuple))
                    widget.setText(", ".join(value) if listed else value or "")
                else:
                    widget.setValue(value)
        finally:
            self._loading = False

    def show_applicable(self, source: str) -> None:
        """Show only the rows that apply to the data source: the file, targets and features
        for tables and arrays, the folder for downloaded sets and image folders, Download
        for downloaded sets, and augmentation for images."""
        tables = source in TABLE_SOURCES
        rows = {
            "data_root": source in FOLDER_SOURCES,
            "data_path": tables,
            "targets": tables,
            "features": tables,
            "download": source in DOWNLOADED,
            "augment": not tables,
        }
        for key, shown in rows.items():
            field = self.fields[key]
            self.form.setRowVisible(field.parentWidget() if key in ROW_WIDGETS else field, shown)
        self.form.setRowVisible(self.preview, tables)

    def set_running(self, running: bool, paused: bool, can_train: bool = True) -> None:
        """Enable the buttons that make sense now."""
        self.train_button.setEnabled(not running and can_train)
        self.pause_button.setEnabled(running and not paused)
        self.resume_button.setEnabled(running and paused)
        self.stop_button.setEnabled(running)
        for widget in [*self.fields.values(), self.ops_row]:
            widget.setEnabled(not running)
        self.choose_start_button.setEnabled(not running)
        self.clear_start_button.setEnabled(not running and bool(self.fields["weights_file"].text()))

    def show_status(self, text: str, kind: str = "info") -> None:
        """A message under the progress bar: info, error or done."""
        color = {"error": "#c62828", "done": "#2e7d32"}.get(kind, "#424242")
        self.status.setStyleSheet(f"color: {color};")
        self.status.setText(text)

    def offer_input_shape(self, shape: tuple[int, ...] | None) -> None:
        """Show 'Set the Input to 1×8×8' for the data's shape, or hide it (None)."""
        if shape:
            self.fit_input_button.setText(f"Set the Input to {'×'.join(map(str, shape))}")
        self.fit_input_button.setVisible(bool(shape))

    def show_phase(self, text: str, value: float | None = None) -> None:
        """The bar reads `text` (no rate or ETA that would go stale); `value` is the share
        done, 0 to 1, or None to leave the bar as it is."""
        if value is not None:
            self.progress.setRange(0, 1000)
            self.progress.setValue(round(1000 * min(max(value, 0.0), 1.0)))
        self.progress.setFormat(text)

    def show_progress(self, event: dict) -> None:
        """Epoch, step, samples/s and ETA."""
        total = event["epochs"] * event["steps_per_epoch"]
        done = event["epoch"] * event["steps_per_epoch"] + event["step"]
        if self.progress.maximum() != max(total, 1):
            self.progress.setRange(0, max(total, 1))
        if self.progress.value() != min(done, total):
            self.progress.setValue(min(done, total))
        eta = event.get("eta")
        eta_text = f" · ETA {_duration(eta)}" if eta is not None else ""
        self.progress.setFormat(
            f"epoch {event['epoch'] + 1}/{event['epochs']} · step "
            f"{event['step']}/{event['steps_per_epoch']} · "
            f"{event['samples_per_s']:,.0f} samples/s{eta_text}"
        )


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    return (
        f"{minutes} min {seconds:02d} s"
        if minutes < 60
        else f"{minutes // 60} h {minutes % 60} min"
    )
