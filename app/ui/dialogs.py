"""Modal questions the window asks; tests replace this object to answer them."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMessageBox,
    QScrollArea,
    QVBoxLayout,
)

from torchcanvas.graph.library import snake_case

PROJECT_FILTER = "TorchCanvas projects (*.json);;All files (*)"
PYTHON_FILTER = "Python files (*.py)"
WEIGHTS_FILTER = "PyTorch weights (*.pt *.pth);;All files (*)"


def suggested_name(document, suffix: str) -> str:
    """A file name for something made from the open project: the project file's own name
    (digit_classifier.json -> digit_classifier.py), else the model's (DigitsCNN ->
    digits_cnn.py)."""
    path = getattr(document, "path", None)
    stem = Path(path).stem if path else snake_case(document.model.name)
    return f"{stem}{suffix}"


def installed_folders() -> list[Path]:
    """The program's own folders: the bundled examples and the packages' code."""
    from torchcanvas import app, codegen, graph
    from torchcanvas.app.editing.examples import EXAMPLES

    return [EXAMPLES.resolve()] + [Path(m.__file__).resolve().parent for m in (app, codegen, graph)]


def is_installed_folder(folder) -> bool:
    """Whether `folder` is in the installed program (a Save there would write into it)."""
    folder = Path(folder).resolve()
    return any(folder == root or root in folder.parents for root in installed_folders())


class Dialogs:
    """File choosers and message boxes parented to the window.

    File choosers start in the open project's folder; for an untitled project, in the
    folder last used (then Documents, then the home folder), never in the process's working
    folder nor in the installed program (a bundled example opened from there).
    """

    def __init__(self, parent) -> None:
        self.parent = parent
        self.last_folder: str | None = None

    def start_folder(self) -> str:
        """Where a file chooser opens now: never inside the installed program."""
        document = getattr(self.parent, "document", None)
        path = getattr(document, "path", None)
        project_folder = str(Path(path).resolve().parent) if path else None
        for folder in (project_folder, self.last_folder):
            if folder and Path(folder).is_dir() and not is_installed_folder(folder):
                return folder
        documents = QStandardPaths.writableLocation(
            QStandardPaths.StandardLocation.DocumentsLocation
        )
        if documents and Path(documents).is_dir() and not is_installed_folder(documents):
            return documents
        return str(Path.home())

    def _used(self, path: str) -> str | None:
        if path:
            self.last_folder = str(Path(path).resolve().parent)
        return path or None

    def open_path(self, title: str = "Open project", filter_: str = PROJECT_FILTER) -> str | None:
        """A file to open, or None."""
        path, _ = QFileDialog.getOpenFileName(self.parent, title, self.start_folder(), filter_)
        return self._used(path)

    def open_files(self, title: str, filter_: str) -> list[str]:
        """Files to open (none: an empty list)."""
        paths, _ = QFileDialog.getOpenFileNames(self.parent, title, self.start_folder(), filter_)
        if paths:
            self._used(paths[0])
        return paths

    def save_path(self, title: str, suggestion: str, filter_: str) -> str | None:
        """A file to write, or None; a bare suggested name is proposed in the start folder."""
        if not Path(suggestion).is_absolute():
            suggestion = str(Path(self.start_folder()) / suggestion)
        path, _ = QFileDialog.getSaveFileName(self.parent, title, suggestion, filter_)
        return self._used(path)

    def ask_save(self, label: str) -> str:
        """'save', 'discard' or 'cancel' for unsaved changes."""
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self.parent,
            "Unsaved changes",
            f"Save the changes to {label}?",
            buttons.Save | buttons.Discard | buttons.Cancel,
            buttons.Save,
        )
        return {buttons.Save: "save", buttons.Discard: "discard"}.get(answer, "cancel")

    def ask(self, title: str, text: str) -> bool:
        """A yes/no question."""
        buttons = QMessageBox.StandardButton
        return (
            QMessageBox.question(self.parent, title, text, buttons.Yes | buttons.No) == buttons.Yes
        )

    def ask_int(self, title: str, text: str, value: int, low: int, high: int) -> int | None:
        """A number from the user, or None when cancelled."""
        number, ok = QInputDialog.getInt(self.parent, title, text, value, low, high)
        return number if ok else None

    def ask_text(self, title: str, text: str, value: str = "") -> str | None:
        """A line of text from the user, or None when cancelled."""
        answer, ok = QInputDialog.getText(self.parent, title, text, text=value)
        return answer if ok else None

    def weights_choice(self, report, file_name: str) -> str | None:
        """'strict', 'partial' or None after showing the match report."""
        from torchcanvas.app.ui.weights_dialog import WeightsDialog

        dialog = WeightsDialog(report, file_name, self.parent)
        dialog.exec()
        return dialog.choice

    def error(self, title: str, text: str) -> None:
        """Report a refused action."""
        QMessageBox.warning(self.parent, title, text)

    def reference(self, title: str, text: str) -> None:
        """Show a long rich-text reference (a table of keys) at its natural width, scrolled
        when taller than the screen (a message box wraps it into a narrow column)."""
        dialog = QDialog(self.parent)
        dialog.setWindowTitle(title)
        label = QLabel(text)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        area = QScrollArea()
        area.setWidget(label)
        area.setWidgetResizable(True)
        area.setFrameShape(QScrollArea.Shape.NoFrame)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(dialog.reject)
        layout = QVBoxLayout(dialog)
        layout.addWidget(area)
        layout.addWidget(buttons)
        screen = (self.parent.screen() if self.parent else dialog.screen()).availableGeometry()
        hint = label.sizeHint()
        dialog.resize(
            min(hint.width() + 48, screen.width() - 40),
            min(hint.height() + 80, screen.height() - 80),
        )
        dialog.exec()

    def info(self, title: str, text: str) -> None:
        """Tell the user something."""
        QMessageBox.information(self.parent, title, text)
