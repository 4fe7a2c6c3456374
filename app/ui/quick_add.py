"""A search box that pops up where the user is: add a layer (Tab, double-click), find a node.

Type a few letters, Enter takes the top match (or the one picked with the arrow keys);
Esc or a click elsewhere closes it with nothing done.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtWidgets import QFrame, QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout

KEY_ROLE = Qt.ItemDataRole.UserRole + 1
SHOWN = 12  # rows visible without scrolling


@dataclass(frozen=True)
class Entry:
    """One thing the box can choose: its key (a layer type, a node id) and its text."""

    key: str
    text: str
    detail: str = ""  # searched too, shown dimmed (a category, a layer type)


def ranked(entries: list[Entry], needle: str) -> list[Entry]:
    """`entries` that match `needle`, best first: name starts with it, contains it, then
    the detail does; ties keep their order."""
    needle = needle.strip().lower()
    if not needle:
        return list(entries)
    scored = []
    for index, entry in enumerate(entries):
        text, detail = entry.text.lower(), entry.detail.lower()
        if text == needle:
            score = 0
        elif text.startswith(needle):
            score = 1
        elif needle in text:
            score = 2
        elif needle in detail:
            score = 3
        else:
            continue
        scored.append((score, index, entry))
    return [entry for *_, entry in sorted(scored, key=lambda s: s[:2])]


class SearchPopup(QFrame):
    """The pop-up: a line to type in over a list of matches."""

    chosen = Signal(str)  # the key of the entry taken

    def __init__(self, parent=None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel()
        self.line = QLineEdit()
        self.line.setClearButtonEnabled(True)
        self.list = QListWidget()
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # typing stays in the line
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.title)
        layout.addWidget(self.line)
        layout.addWidget(self.list)
        self.entries: list[Entry] = []
        self.line.textChanged.connect(self._refill)
        self.line.returnPressed.connect(self._take_current)
        self.list.itemClicked.connect(lambda item: self._take(item.data(KEY_ROLE)))
        self.line.installEventFilter(self)

    def open_at(self, global_pos: QPoint, title: str, entries: list[Entry], text="") -> None:
        """Show `entries` under `title` at `global_pos`, with `text` typed already."""
        self.title.setText(title)
        self.entries = entries
        self.line.setText(text)
        self._refill(text)
        self.resize(300, 60 + SHOWN * self.list.sizeHintForRow(0) if entries else 120)
        self.move(global_pos)
        self.show()
        self.line.setFocus()

    def _refill(self, text: str) -> None:
        self.list.clear()
        for entry in ranked(self.entries, text):
            label = f"{entry.text}    {entry.detail}" if entry.detail else entry.text
            item = QListWidgetItem(label)
            item.setData(KEY_ROLE, entry.key)
            self.list.addItem(item)
        self.list.setCurrentRow(0)

    def eventFilter(self, watched, event) -> bool:
        if watched is self.line and event.type() == event.Type.KeyPress:
            step = {Qt.Key.Key_Down: 1, Qt.Key.Key_Up: -1}.get(event.key())
            if step and self.list.count():
                row = (self.list.currentRow() + step) % self.list.count()
                self.list.setCurrentRow(row)
                return True
        return super().eventFilter(watched, event)

    def _take_current(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self._take(item.data(KEY_ROLE))

    def _take(self, key: str) -> None:
        self.hide()
        self.chosen.emit(key)
