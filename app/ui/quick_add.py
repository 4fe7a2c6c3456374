"""A search box that pops up where the user is: add a layer (Tab, double-click), find a node.

Type a few letters, Enter takes the top match (or the one picked with the arrow keys);
Esc or a click elsewhere closes it with nothing done. Adding layers, it also takes
arguments and a chain (`conv 16 k3 p1, relu, pool 2`; see quick_args): bad arguments are
refused with a message in the box, which stays open to fix them.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtWidgets import QFrame, QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout

from torchcanvas.app.ui.quick_args import (
    LayerRequest,
    QuickAddError,
    alias_target,
    first_word,
    is_plain,
    parse_chain,
)

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


def ranked_layers(entries: list[Entry], word: str) -> list[Entry]:
    """`ranked`, with the layer a short name means first (`conv`: Conv2d, `pool`:
    MaxPool2d)."""
    found = ranked(entries, word)
    target = alias_target(word.strip(), [entry.key for entry in entries])
    first = [entry for entry in entries if entry.key == target][:1]  # `fc` matches no name
    return first + [entry for entry in found if entry.key != target]


def layer_parser(entries: list[Entry], spec_of):
    """The box's parser for adding layers: the text's layers, each name taken as the box
    ranks it (the last one: the row picked in the list)."""

    def parse(text: str, current: str | None) -> list[LayerRequest]:
        def resolve(word: str, last: bool) -> str | None:
            if last and current is not None:
                return current
            found = ranked_layers(entries, word)
            return found[0].key if found else None

        return parse_chain(text, resolve, spec_of)

    return parse


class SearchPopup(QFrame):
    """The pop-up: a line to type in over a list of matches."""

    chosen = Signal(str)  # the key of the entry taken
    chain_chosen = Signal(object)  # what the parser made of text with arguments or commas

    def __init__(self, parent=None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel()
        self.line = QLineEdit()
        self.line.setClearButtonEnabled(True)
        self.message = QLabel()  # why the arguments typed cannot be taken
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #c0392b;")
        self.message.hide()
        self.list = QListWidget()
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # typing stays in the line
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.title)
        layout.addWidget(self.line)
        layout.addWidget(self.message)
        layout.addWidget(self.list)
        self.entries: list[Entry] = []
        self.parser = None  # (text, current key) -> layers; None: a name only
        self.again = False  # the text taken ended with a comma: open again for the next
        self.line.textChanged.connect(self._refill)
        self.line.returnPressed.connect(self._take_current)
        self.list.itemClicked.connect(lambda item: self._take(item.data(KEY_ROLE)))
        self.line.installEventFilter(self)

    def open_at(
        self, global_pos: QPoint, title: str, entries: list[Entry], text="", parser=None
    ) -> None:
        """Show `entries` under `title` at `global_pos`, with `text` typed already; with a
        `parser`, text with arguments or commas goes to it and `chain_chosen` says what it
        made."""
        self.title.setText(title)
        self.entries, self.parser = entries, parser
        self.message.hide()
        self.line.setPlaceholderText("" if parser is None else "e.g. conv 16 k3 p1, relu, pool 2")
        self.line.setText(text)
        self._refill(text)
        width = 300 if parser is None else 440  # room for a chain with its arguments
        self.resize(width, 60 + SHOWN * self.list.sizeHintForRow(0) if entries else 120)
        self.move(global_pos)
        self.show()
        self.line.setFocus()

    def _refill(self, text: str) -> None:
        self.list.clear()
        self.message.hide()
        if self.parser is None:
            found = ranked(self.entries, text)
        else:  # the list follows the name being typed, the last step of a chain
            found = ranked_layers(self.entries, first_word(text))
        for entry in found:
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
        text = self.line.text()
        if self.parser is not None and not is_plain(text):
            self._take_chain(text, item.data(KEY_ROLE) if item is not None else None)
        elif item is not None:
            self._take(item.data(KEY_ROLE))

    def _take_chain(self, text: str, current: str | None) -> None:
        """Parse `text`; say in the box what is wrong, or close and hand the result on."""
        self.again = text.rstrip().endswith(",")
        try:
            result = self.parser(text.rstrip().removesuffix(","), current)
        except QuickAddError as error:
            self.message.setText(str(error))
            self.message.show()
            return
        self.hide()
        self.chain_chosen.emit(result)

    def _take(self, key: str) -> None:
        self.hide()
        self.chosen.emit(key)
