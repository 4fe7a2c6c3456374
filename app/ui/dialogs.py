"""Modal questions the window asks; tests replace this object to answer them."""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

PROJECT_FILTER = "TorchCanvas projects (*.json);;All files (*)"
PYTHON_FILTER = "Python files (*.py)"
WEIGHTS_FILTER = "PyTorch weights (*.pt *.pth);;All files (*)"


class Dialogs:
    """File choosers and message boxes parented to the window."""

    def __init__(self, parent) -> None:
        self.parent = parent

    def open_path(self, title: str = "Open project", filter_: str = PROJECT_FILTER) -> str | None:
        """A file to open, or None."""
        path, _ = QFileDialog.getOpenFileName(self.parent, title, "", filter_)
        return path or None

    def save_path(self, title: str, suggestion: str, filter_: str) -> str | None:
        """A file to write, or None."""
        path, _ = QFileDialog.getSaveFileName(self.parent, title, suggestion, filter_)
        return path or None

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

    def info(self, title: str, text: str) -> None:
        """Tell the user something."""
        QMessageBox.information(self.parent, title, text)
