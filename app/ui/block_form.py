"""Inspector parts for blocks: a definition's parameters, bindings, conditions, repeats."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from torchcanvas.app.ui.editors import ParamEditor, parse_value
from torchcanvas.graph.params import BOOL, FLOAT, INT, Param

KINDS = {"int": INT, "float": FLOAT, "bool": BOOL}
HINT_STYLE = "color: #616161;"


class DefinitionForm(QWidget):
    """A block definition's constructor parameters: defaults, add and remove."""

    default_requested = Signal(str, object)  # parameter, new default
    param_added = Signal(str, str, object)  # name, kind, default
    param_removed = Signal(str)

    def __init__(self, block, uses: int, parent=None) -> None:
        super().__init__(parent)
        self.block = block
        self.editors: dict[str, ParamEditor] = {}
        self.remove_buttons: dict[str, QToolButton] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel(f"<b>Block {block.name}</b>")
        where = f"used {uses} time{'s' * (uses != 1)} in this project" if uses else "not used yet"
        note = QLabel(
            f"{block.doc + ' ' if block.doc else ''}The class {block.name}, {where}. Edits here "
            f"change every instance. Inner values can be bound to the parameters below (ƒ)."
        )
        note.setWordWrap(True)
        note.setStyleSheet(HINT_STYLE)
        form = QFormLayout()
        for param in block.params:
            form.addRow(param.name, self._row(param))
        layout.addWidget(title)
        layout.addWidget(note)
        layout.addLayout(form)
        layout.addWidget(self._adder())

    def _row(self, param: Param) -> QWidget:
        row = QWidget()
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        if param.auto:
            shown = QLabel(f"from the input's {'channels' if param.auto == 'channels' else 'size'}")
            shown.setStyleSheet("color: #2e7d32;")
            line.addWidget(shown, 1)
        elif param.required:
            line.addWidget(QLabel("required"), 1)
        else:
            editor = ParamEditor(param)
            editor.set_value(param.default)
            editor.edited.connect(lambda value, n=param.name: self.default_requested.emit(n, value))
            self.editors[param.name] = editor
            line.addWidget(editor, 1)
        remove = QToolButton(text="✕")
        remove.setToolTip(f"Remove the parameter {param.name}")
        remove.clicked.connect(lambda _c=False, n=param.name: self.param_removed.emit(n))
        self.remove_buttons[param.name] = remove
        line.addWidget(remove)
        return row

    def _adder(self) -> QWidget:
        box = QWidget()
        line = QHBoxLayout(box)
        line.setContentsMargins(0, 6, 0, 0)
        self.new_name = QLineEdit(placeholderText="new parameter")
        self.new_kind = QComboBox()
        self.new_kind.addItems(list(KINDS))
        self.new_default = QLineEdit(placeholderText="default")
        self.add_button = QPushButton("Add")
        self.add_button.clicked.connect(self._on_add)
        for widget, stretch in ((self.new_name, 2), (self.new_kind, 0), (self.new_default, 1)):
            line.addWidget(widget, stretch)
        line.addWidget(self.add_button)
        return box

    def _on_add(self) -> None:
        kind = KINDS[self.new_kind.currentText()]
        text = self.new_default.text().strip()
        if kind == BOOL:
            default = text.lower() in ("1", "true", "yes")
        else:
            default = parse_value(Param("default", kind, ""), text) if text else 0
        self.param_added.emit(self.new_name.text().strip(), kind, default)


class BindingField(QWidget):
    """The expression a bound parameter takes (`out_channels * 4`) and its value here."""

    committed = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.edit = QLineEdit(placeholderText="expression, e.g. out_channels * 4")
        self.value = QLabel()
        self.value.setStyleSheet("color: #2e7d32;")
        line = QHBoxLayout(self)
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(QLabel("="))
        line.addWidget(self.edit, 1)
        line.addWidget(self.value)
        self.edit.editingFinished.connect(self._on_finished)

    def show_binding(self, text: str, value) -> None:
        """Show the expression (unless the user is typing) and what it evaluates to."""
        if not self.edit.isModified():
            self.edit.setText(text)
        self.value.setText(f"→ {_text(value)}" if value is not None else "")

    def _on_finished(self) -> None:
        if self.edit.isModified():
            self.edit.setModified(False)
            self.committed.emit(self.edit.text().strip())


class CountRow(QWidget):
    """A container's number of children: a ResNet stage's block count."""

    count_requested = Signal(int)

    def __init__(self, count: int, parent=None) -> None:
        super().__init__(parent)
        self.spin = QSpinBox()
        self.spin.setRange(1, 64)
        self.spin.setValue(count)
        self.spin.setKeyboardTracking(False)
        self.spin.setToolTip("More copies of the last child, or fewer children.")
        self.spin.valueChanged.connect(self.count_requested)
        line = QHBoxLayout(self)
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(self.spin)
        line.addStretch(1)


def _text(value) -> str:
    if isinstance(value, (tuple, list)):
        return "×".join(str(v) for v in value)
    return str(int(value)) if isinstance(value, int) and not isinstance(value, bool) else str(value)
