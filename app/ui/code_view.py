"""The Code panel: the generated Python, read-only and syntax-highlighted."""

from __future__ import annotations

import keyword
import re

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontDatabase, QSyntaxHighlighter, QTextCharFormat
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from torchcanvas.codegen.emit import CodegenError, emit_module

PLACEHOLDER = "# Fix the problems to see the generated code."
MAX_HIGHLIGHTED = 20_000  # lines; longer code is shown plain


def _format(color: str, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(color))
    if bold:
        fmt.setFontWeight(QFont.Weight.Bold)
    fmt.setFontItalic(italic)
    return fmt


class PythonHighlighter(QSyntaxHighlighter):
    """Keywords, strings, numbers, comments, self and decorators."""

    RULES = [
        (re.compile(r"\b(" + "|".join(keyword.kwlist) + r")\b"), _format("#0033b3", bold=True)),
        (re.compile(r"\bself\b"), _format("#94558d")),
        (re.compile(r"\b(nn|torch)\b"), _format("#00627a")),
        (re.compile(r"\b\d+(\.\d+)?(e-?\d+)?\b"), _format("#1750eb")),
        (re.compile(r"\"[^\"\n]*\"|'[^'\n]*'"), _format("#067d17")),
        (re.compile(r"#[^\n]*"), _format("#8c8c8c", italic=True)),
    ]

    def highlightBlock(self, text: str) -> None:
        for pattern, fmt in self.RULES:
            for match in pattern.finditer(text):
                self.setFormat(match.start(), match.end() - match.start(), fmt)


class CodeView(QWidget):
    """Shows the module the Export writes; updates shortly after each edit."""

    export_requested = Signal()
    copied = Signal()

    def __init__(self, model, parent=None) -> None:
        super().__init__(parent)
        self.model = model
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.highlighter = PythonHighlighter(self.text.document())
        self._shown = ""  # the text in the panel (asking the editor copies it each time)
        self._version = None  # what the panel was made from: (model, its revision, blocks')
        self.copy_button = QPushButton("Copy")
        self.export_button = QPushButton("Export…")
        self.copy_button.clicked.connect(self.copy)
        self.export_button.clicked.connect(self.export_requested)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color: #c62828;")
        self.status.hide()
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.status)
        layout.addWidget(self.text)
        layout.addLayout(buttons)
        self._timer = QTimer(self, singleShot=True, interval=150)
        self._timer.timeout.connect(self.refresh)

    def set_model(self, model) -> None:
        """Show another model's code."""
        self.model = model
        self.refresh()

    def forget(self) -> None:
        """Drop the code shown (another project was opened: its last valid code is not this
        one's), then show the new project's."""
        self.text.clear()
        self._shown = ""
        self._version = None
        self.refresh()

    def schedule_refresh(self) -> None:
        """Regenerate soon (edits come in bursts)."""
        self._timer.start()

    def refresh(self) -> None:
        """Regenerate now (unless the model and its blocks are as they were last time)."""
        library = self.model.library
        version = (id(self.model), self.model.revision, library.revision if library else None)
        if version == self._version:
            return  # opening a file asked twice: code of half a million lines took seconds
        self._version = version
        try:
            source = emit_module(self.model).source
        except CodegenError as error:
            count = len(error.problems)
            shown = self._shown not in ("", PLACEHOLDER)
            below = "the code below is from the last valid graph" if shown else "fix it to see code"
            self.status.setText(
                f"⚠ The graph has {count} problem{'s' * (count != 1)}; {below}. First: "
                f"{error.problems[0]}"
            )
            self.status.show()
            self.export_button.setEnabled(False)
            if not shown:
                self._show(PLACEHOLDER)
            return
        self.status.hide()
        self.export_button.setEnabled(True)
        if source != self._shown:
            bar = self.text.verticalScrollBar()
            position = bar.value()
            self._show(source)
            bar.setValue(position)

    def _show(self, source: str) -> None:
        """Put `source` in the panel, highlighted unless it is very long (the module of a
        merge with a thousand inputs per node: highlighting took longer than drawing it)."""
        short = source.count("\n") < MAX_HIGHLIGHTED
        if not short:
            self.highlighter.setDocument(None)
        self.text.setPlainText(source)
        self._shown = source
        if short and self.highlighter.document() is None:
            self.highlighter.setDocument(self.text.document())

    def show_class(self, name: str) -> None:
        """Scroll so that `class name(` is at the top (the block on the canvas)."""
        self.refresh()
        found = self.text.document().find(f"class {name}(")
        if found.isNull():
            return
        bar = self.text.verticalScrollBar()
        bar.setValue(bar.maximum())  # then back up: the class line ends at the top
        found.setPosition(found.selectionStart())  # the cursor there, nothing selected
        self.text.setTextCursor(found)
        self.text.ensureCursorVisible()

    def copy(self) -> None:
        """Put the code on the clipboard."""
        from PySide6.QtWidgets import QApplication

        QApplication.clipboard().setText(self.text.toPlainText())
        self.copied.emit()

    def source(self) -> str:
        """What the panel shows."""
        return self.text.toPlainText()
