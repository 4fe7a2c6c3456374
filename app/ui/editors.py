"""One editor widget per parameter kind, built from a Param spec."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from torchcanvas.graph.params import (
    BOOL,
    CHOICE,
    DIMS,
    FLOAT,
    INT,
    SHAPE,
    SIZE,
    STR,
    Param,
    to_json,
)

_OPTIONAL_BOOL = {"default": None, "true": True, "false": False}


class ParamEditor(QWidget):
    """Shows one value and emits `edited(value)` when the user commits a change."""

    edited = Signal(object)

    def __init__(self, param: Param, parent=None) -> None:
        super().__init__(parent)
        self.param = param
        self._setting = False
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.widget = self._make()
        layout.addWidget(self.widget)
        self.setToolTip(param.doc)

    def _make(self) -> QWidget:
        p = self.param
        if p.optional and p.kind == BOOL:
            box = QComboBox()
            box.addItems(list(_OPTIONAL_BOOL))
            box.currentTextChanged.connect(lambda text: self._commit(_OPTIONAL_BOOL[text]))
            return box
        if p.optional and p.kind in (INT, FLOAT):
            return self._line()
        if p.kind == INT:
            box = QSpinBox()
            box.setRange(
                int(p.minimum if p.minimum is not None else -(2**31 - 1)),
                int(p.maximum if p.maximum is not None else 2**31 - 1),
            )
            box.setKeyboardTracking(False)
            box.valueChanged.connect(self._commit)
            return box
        if p.kind == FLOAT:
            box = QDoubleSpinBox()
            box.setDecimals(6)
            box.setRange(
                p.minimum if p.minimum is not None else -1e9,
                p.maximum if p.maximum is not None else 1e9,
            )
            box.setSingleStep(0.01 if (p.maximum or 1) <= 1 else 0.1)
            box.setKeyboardTracking(False)
            box.valueChanged.connect(self._commit)
            return box
        if p.kind == BOOL:
            box = QCheckBox()
            box.toggled.connect(self._commit)
            return box
        if p.kind == CHOICE:
            box = QComboBox()
            box.addItems(list(p.choices))
            box.currentTextChanged.connect(self._commit)
            return box
        return self._line()

    def _line(self) -> QLineEdit:
        line = QLineEdit()
        line.setPlaceholderText(_placeholder(self.param))
        line.editingFinished.connect(lambda: self._commit(line.text()))
        return line

    def set_value(self, value) -> None:
        """Show `value` without emitting `edited`."""
        self._setting = True
        try:
            w, kind = self.widget, self.param.kind
            if isinstance(w, QLineEdit):
                text = format_value(value)
                if w.text() != text:  # setText would drop a selection made by Tab
                    w.setText(text)
            elif self.param.optional and kind == BOOL:
                w.setCurrentText({None: "default", True: "true", False: "false"}[value])
            elif kind in (INT, FLOAT):
                w.setValue(value if value is not None else 0)
            elif kind == BOOL:
                w.setChecked(bool(value))
            elif kind == CHOICE:
                w.setCurrentText(str(value))
        finally:
            self._setting = False

    def _commit(self, raw) -> None:
        if self._setting:
            return
        textual = isinstance(self.widget, QLineEdit)
        self.edited.emit(parse_value(self.param, raw) if textual and isinstance(raw, str) else raw)


def format_value(value) -> str:
    """Text for a tuple, list, int or None."""
    if value is None:
        return ""
    value = to_json(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def parse_value(param: Param, text: str):
    """Text typed into a line edit as a raw value for Param.coerce (which validates it)."""
    text = text.strip()
    if param.kind == STR:
        return text
    if not text:
        return [] if param.kind == SHAPE and param.scalar else None  # [] : a single number
    if param.kind in (INT, FLOAT):
        try:
            return int(text) if param.kind == INT else float(text)
        except ValueError:
            return text  # let coerce produce the message
    if param.kind == SIZE and text in param.choices:
        return text
    parts = [part.strip() for part in text.strip("()[]").split(",") if part.strip()]
    try:
        numbers = [int(part) for part in parts]
    except ValueError:
        return text  # let coerce produce the message
    if param.kind == SIZE and len(numbers) == 1:
        return numbers[0]
    return numbers


def _placeholder(param: Param) -> str:
    if param.kind == SHAPE:
        return "e.g. 1, 28, 28" + (" (empty: a single number)" if param.scalar else "")
    if param.kind == DIMS:
        return "e.g. 0, 2, 1" + (" (empty: none)" if param.optional else "")
    if param.optional and param.kind in (INT, FLOAT):
        return "empty: none"
    if param.kind == SIZE:
        text = "e.g. 3 or 3, 5"
        if param.choices:
            text += " or " + " / ".join(param.choices)
        return text + (" (empty: default)" if param.optional else "")
    return ""
