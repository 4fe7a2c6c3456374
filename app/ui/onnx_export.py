"""File ▸ Export ONNX…: the design (and its current weights) as an .onnx file.

The export runs `torchcanvas export --format onnx` in a child process: it takes seconds
(tracing, then a check in onnxruntime), the window stays responsive, and Cancel kills it.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, Signal
from PySide6.QtWidgets import QProgressDialog

from torchcanvas.app.worker import parent_variable

ONNX_FILTER = "ONNX model (*.onnx)"


def export_command(project: Path, out: str, weights: Path | None) -> list[str]:
    """The arguments of the child process."""
    args = ["-m", "torchcanvas.app", "export", str(project), "--format", "onnx", "-o", out]
    return args + (["--weights", str(weights)] if weights else [])


class OnnxExport(QObject):
    """One export in a child process, with a progress dialog; `finished` says how it ended."""

    finished = Signal(bool, str)  # written, the message for the user

    def __init__(self, window, out: str, weights: Path | None) -> None:
        super().__init__(window)
        self.window = window
        self._folder = tempfile.TemporaryDirectory(prefix="torchcanvas-onnx-")
        project = Path(self._folder.name) / "design.json"
        project.write_text(window.document.text(), encoding="utf-8")
        self.process = QProcess(self)
        self.process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        environment = QProcessEnvironment.systemEnvironment()
        environment.insert(*parent_variable())  # the export ends if the window is killed
        self.process.setProcessEnvironment(environment)
        self.process.finished.connect(self._on_finished)
        self.progress = QProgressDialog("Exporting to ONNX…", "Cancel", 0, 0, window)
        self.progress.setWindowTitle("Export ONNX")
        self.progress.canceled.connect(self.process.kill)
        self.progress.show()
        self.process.start(sys.executable, export_command(project, out, weights))

    def _on_finished(self, code: int, _status) -> None:
        self.progress.close()
        lines = bytes(self.process.readAll()).decode("utf-8", "replace").strip().splitlines()
        last = lines[-1] if lines else ""
        self._folder.cleanup()
        if code == 0:  # "wrote x.onnx (ONNX opset 18, ...)" and its notes
            said = [line for line in lines if line.startswith(("wrote", "note:"))]
            self.finished.emit(True, " · ".join(said) or last)
        elif self.progress.wasCanceled():
            self.finished.emit(False, "")
        else:
            self.finished.emit(False, last.removeprefix("error: ") or f"the export exited {code}")


def export_onnx(window) -> OnnxExport | None:
    """Ask where (and whether to include the current weights), then export."""
    analysis = window.document.model.analysis()
    if not analysis.ok:
        listed = "\n".join(str(p) for p in analysis.errors)
        window.dialogs.error("Cannot export yet", f"Fix these problems first:\n{listed}")
        return None
    suggestion = f"{file_stem(window.document)}.onnx"
    out = window.dialogs.save_path("Export ONNX", suggestion, ONNX_FILTER)
    if not out:
        return None
    weights = window.training.weights_path
    if weights is not None and window.training.weights_changes():
        weights = None  # trained on an earlier design: they would not load
        window.statusBar().showMessage(
            "The current weights belong to an earlier design: exporting fresh ones.", 8000
        )
    if weights is not None and not window.dialogs.ask(
        "Export the current weights?",
        "Put the weights trained or loaded in this window into the ONNX file? "
        "(No: freshly initialized weights.)",
    ):
        weights = None
    run = OnnxExport(window, out, weights)
    run.finished.connect(lambda ok, text: _report(window, ok, text))
    window.onnx_export = run  # kept while it runs (and for tests)
    return run


def file_stem(document) -> str:
    """The project file's name, or the model's class name in snake_case."""
    if document.path is not None:
        return document.path.stem
    name = document.model.name
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_") or "model"


def _report(window, written: bool, text: str) -> None:
    if written:
        window.statusBar().showMessage(text, 8000)
    elif text:
        window.dialogs.error("Cannot export to ONNX", text)
