"""The inspector: a form generated from the selected node's parameter specs."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from torchcanvas.app.ui.editors import ParamEditor
from torchcanvas.graph.model import ModelGraph


class Inspector(QScrollArea):
    """Edits one node (or the model's class name when nothing is selected)."""

    rename_requested = Signal(str, str)  # node id, new name
    param_requested = Signal(str, str, object)  # node, param, value (None unpins)
    model_rename_requested = Signal(str)

    def __init__(self, model: ModelGraph, parent=None) -> None:
        super().__init__(parent)
        self.model = model
        self.node: str | None = None
        self.editors: dict[str, ParamEditor] = {}
        self.pins: dict[str, QCheckBox] = {}
        self.auto_labels: dict[str, QLabel] = {}
        self.setWidgetResizable(True)
        self._body = QWidget()
        self.setWidget(self._body)
        self._layout = QVBoxLayout(self._body)
        self._layout.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")
        model.events.node_removed.connect(self._on_node_removed)
        model.events.reset.connect(lambda: self.show_node(None))
        self.show_node(None)

    def _on_node_removed(self, node: str) -> None:
        if node == self.node:
            self.show_node(None)

    def set_model(self, model: ModelGraph) -> None:
        """Inspect another model (after New or Open)."""
        self.model = model
        self.show_node(None)

    # ----- building the form ------------------------------------------------------
    def _clear(self) -> None:
        while self._layout.count():
            item = self._layout.takeAt(0)
            widget = item.widget()
            if widget is not None and widget is not self.error:
                widget.hide()  # deleteLater is deferred; the old form must vanish now
                widget.setParent(None)
                widget.deleteLater()
        self.editors, self.pins, self.auto_labels = {}, {}, {}

    def show_node(self, node: str | None, count: int = 1) -> None:
        """Show the form for node id `node` (None: the model; count > 1: a selection note)."""
        self._clear()
        self.node = node if node in self.model else None
        self.error.setText("")
        if count > 1:
            self._layout.addWidget(QLabel(f"{count} nodes selected"))
            return
        if self.node is None:
            self._model_form()
        else:
            self._node_form(self.node)
        self._layout.addWidget(self.error)

    def _model_form(self) -> None:
        title = QLabel("<b>Model</b>")
        form = QFormLayout()
        self.class_name = QLineEdit(self.model.name)
        self.class_name.setToolTip("The class name of the generated nn.Module.")
        self.class_name.editingFinished.connect(self._on_class_name_edited)
        form.addRow("Class name", self.class_name)
        box = QWidget()
        box.setLayout(form)
        hint = QLabel(
            "Select a node to edit its parameters. Drag layers in from the "
            "palette; drag from an output port (bottom) to an input port (top) to "
            "connect."
        )
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #616161;")
        for widget in (title, box, hint):
            self._layout.addWidget(widget)

    def _node_form(self, node: str) -> None:
        spec = self.model.spec(node)
        title = QLabel(f"<b>{spec.type}</b>")
        doc = QLabel(spec.doc)
        doc.setWordWrap(True)
        doc.setStyleSheet("color: #616161;")
        form = QFormLayout()
        self.name_edit = QLineEdit(self.model.node_name(node))
        self.name_edit.setToolTip("A Python identifier: the attribute name and state_dict prefix.")
        self.name_edit.editingFinished.connect(self._on_name_edited)
        form.addRow("Name", self.name_edit)
        for param in spec.params:
            form.addRow(param.name, self._param_row(node, param))
        box = QWidget()
        box.setLayout(form)
        for widget in (title, doc, box):
            self._layout.addWidget(widget)
        self.refresh_values()

    def _param_row(self, name: str, param) -> QWidget:
        editor = ParamEditor(param)
        editor.edited.connect(lambda value, key=param.name: self._on_param_edited(key, value))
        self.editors[param.name] = editor
        if not param.auto:
            return editor
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        label = QLabel()
        label.setStyleSheet("color: #2e7d32;")
        pin = QCheckBox("pin")
        pin.setToolTip("Pin a value instead of taking it from the incoming shape.")
        pin.toggled.connect(lambda on, key=param.name: self._on_pin_toggled(key, on))
        self.auto_labels[param.name], self.pins[param.name] = label, pin
        for widget in (label, editor, pin):
            layout.addWidget(widget)
        return row

    # ----- showing values ---------------------------------------------------------
    def refresh_values(self) -> None:
        """Show the node's current values (after any model change)."""
        if self.node is None or self.node not in self.model:
            return
        spec = self.model.spec(self.node)
        params = self.model.params(self.node)
        resolved = self.model.analysis().resolved(self.node)
        if not self.name_edit.isModified():  # an edit in progress is not overwritten
            self.name_edit.setText(self.model.node_name(self.node))
        for param in spec.params:
            editor = self.editors[param.name]
            if param.auto:
                pinned = param.name in params
                self.pins[param.name].blockSignals(True)
                self.pins[param.name].setChecked(pinned)
                self.pins[param.name].blockSignals(False)
                editor.setVisible(pinned)
                auto = resolved.get(param.name)
                self.auto_labels[param.name].setVisible(not pinned)
                self.auto_labels[param.name].setText(
                    f"auto ({_text(auto)})" if auto is not None else "auto"
                )
                editor.set_value(params.get(param.name, auto))
            else:
                editor.set_value(params.get(param.name, param.default))

    def show_error(self, text: str) -> None:
        """A refused edit, shown under the form."""
        self.error.setText(text)

    # ----- user edits -------------------------------------------------------------
    def _on_name_edited(self) -> None:
        new = self.name_edit.text().strip()
        self.name_edit.setModified(False)
        if self.node and self.node in self.model and new != self.model.node_name(self.node):
            self.rename_requested.emit(self.node, new)

    def _on_class_name_edited(self) -> None:
        new = self.class_name.text().strip()
        if new != self.model.name:
            self.model_rename_requested.emit(new)

    def _on_param_edited(self, key: str, value) -> None:
        if self.node:
            self.error.setText("")
            self.param_requested.emit(self.node, key, value)

    def _on_pin_toggled(self, key: str, on: bool) -> None:
        if not self.node:
            return
        if on:
            value = self.model.analysis().resolved(self.node).get(key)
            if value is None:
                value = self.model.spec(self.node).param(key).initial
            self.param_requested.emit(self.node, key, value)
        else:
            self.param_requested.emit(self.node, key, None)


def _text(value) -> str:
    if isinstance(value, (tuple, list)):
        return "×".join(str(v) for v in value)
    return str(value)
