"""The bar above the canvas: Model ▸ layer2 ▸ BasicBlock, each part a way back."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

HINT_STYLE = "color: #8d6e00;"


class Breadcrumb(QWidget):
    """Where the canvas is; clicking a part shows that level again."""

    depth_chosen = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.buttons: list[QToolButton] = []
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(6, 2, 6, 2)
        self._layout.setSpacing(2)
        self.hint = QLabel()
        self.hint.setStyleSheet(HINT_STYLE)
        self.set_path(["Model"])

    def set_path(self, labels: list[str], hint: str = "") -> None:
        """Show these levels (the last is the one on the canvas) and a note beside them."""
        while self._layout.count():
            widget = self._layout.takeAt(0).widget()
            if widget is not None and widget is not self.hint:
                widget.hide()  # deleteLater waits for the event loop; it must go now
                widget.deleteLater()
        self.buttons = []
        for depth, label in enumerate(labels):
            if depth:
                self._layout.addWidget(QLabel("▸"))
            button = QToolButton(text=label)
            button.setAutoRaise(True)
            if depth == len(labels) - 1:  # where the canvas is: plain bold text
                button.setStyleSheet("font-weight: bold; color: palette(window-text);")
                button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            else:
                button.setStyleSheet("color: #1565c0; text-decoration: underline;")
                button.setToolTip(f"Back to {label} (Esc goes up one level)")
                button.clicked.connect(lambda _c=False, d=depth: self.depth_chosen.emit(d))
            self.buttons.append(button)
            self._layout.addWidget(button)
        self.hint.setText(hint)
        self._layout.addSpacing(12)
        self._layout.addWidget(self.hint)
        self._layout.addStretch(1)

    def text(self) -> str:
        """The path as shown: Model ▸ layer2 ▸ BasicBlock."""
        return " ▸ ".join(b.text() for b in self.buttons)
