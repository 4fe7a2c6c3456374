"""Cut, copy, paste and duplicate of canvas nodes through the system clipboard."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QMimeData
from PySide6.QtWidgets import QApplication

from torchcanvas.app.editing.clipboard import CLIP_FORMAT

CLIP_MIME = "application/x-torchcanvas-nodes"


class NodeClipboard:
    """The clipboard commands of one window (they act on the graph on its canvas)."""

    def __init__(self, window) -> None:
        self.window = window

    def copy(self) -> bool:
        """Copy the selected nodes to the clipboard."""
        nodes = [i.node for i in self.window.scene.selected_nodes()]
        if not nodes:
            return False
        text = self.window.document.copy_data(nodes)
        mime = QMimeData()
        mime.setData(CLIP_MIME, QByteArray(text.encode("utf-8")))
        mime.setText(text)
        QApplication.clipboard().setMimeData(mime)
        return True

    def cut(self) -> None:
        """Copy, then delete."""
        if self.copy():
            self.window.delete_selection()

    def paste(self) -> None:
        """Paste nodes from the clipboard, offset from the originals."""
        mime = QApplication.clipboard().mimeData()
        text = (
            bytes(mime.data(CLIP_MIME)).decode("utf-8")
            if mime.hasFormat(CLIP_MIME)
            else mime.text()
        )
        status = self.window.statusBar()
        if CLIP_FORMAT not in text:
            status.showMessage("The clipboard holds no TorchCanvas nodes.", 5000)
            return
        result = self.window.document.paste(text)
        if isinstance(result, str):
            status.showMessage(result, 8000)
        else:
            self.window.scene.select_nodes(result)

    def duplicate(self) -> None:
        """Copy and paste the selection in one go."""
        if self.copy():
            self.paste()

    def release(self) -> None:
        """Leave copied nodes on the clipboard as plain text only.

        A QMimeData made in Python and still owned by the clipboard when the interpreter
        shuts down can crash PySide; plain text carries the same JSON and pastes back.
        """
        clipboard = QApplication.clipboard()
        mime = clipboard.mimeData()
        if mime is not None and mime.hasFormat(CLIP_MIME):
            clipboard.setText(mime.text())
