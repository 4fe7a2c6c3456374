"""The inspector: a form generated from the selected node's parameter specs."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from torchcanvas.app.ui.block_form import BindingField, CountRow, DefinitionForm
from torchcanvas.app.ui.canvas.card_text import child_count
from torchcanvas.app.ui.editors import ParamEditor
from torchcanvas.app.ui.flag_form import FLAGGED_KINDS, FlagRows
from torchcanvas.graph.model import ModelGraph
from torchcanvas.graph.registry import BLOCK, CONTAINER
from torchcanvas.graph.symbolic import Bound


class Inspector(QScrollArea):
    """Edits one node (or the model's class name when nothing is selected)."""

    rename_requested = Signal(str, str)  # node id, new name
    param_requested = Signal(str, str, object)  # node, param, value (None unpins)
    model_rename_requested = Signal(str)
    bind_requested = Signal(str, str, str)  # node, param, expression ('' unbinds)
    when_requested = Signal(str, str)  # node, condition ('' always)
    count_requested = Signal(str, int)  # container, number of children
    open_requested = Signal(str)  # a block instance or container to open
    block_default_requested = Signal(str, object)  # definition parameter, default
    block_param_added = Signal(str, str, object)  # name, kind, default
    block_param_removed = Signal(str)
    flag_requested = Signal(str, str, object)  # node, "frozen" or "lr_scale", value or text

    def __init__(self, model: ModelGraph, parent=None) -> None:
        super().__init__(parent)
        self.model = model
        self._analysis = None  # () -> Analysis of the shown graph
        self.scope = None  # the BlockDef whose parameters inner values may use
        self.definition = None  # the BlockDef shown, when the canvas shows one
        self.body: str | None = None  # the container whose body the canvas shows
        self.uses = 0
        self.definition_form: DefinitionForm | None = None
        self.node: str | None = None
        self.editors: dict[str, ParamEditor] = {}
        self.pins: dict[str, QCheckBox] = {}
        self.auto_labels: dict[str, QLabel] = {}
        self.bindings: dict[str, BindingField] = {}
        self.bind_buttons: dict[str, QToolButton] = {}
        self.when_edit: QLineEdit | None = None
        self.count_row: CountRow | None = None
        self.flag_rows: FlagRows | None = None
        self.setWidgetResizable(True)
        self._body = QWidget()
        self.setWidget(self._body)
        self._layout = QVBoxLayout(self._body)
        self._layout.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")
        self._subscribe()
        self.show_node(None)

    def _subscribe(self, on: bool = True) -> None:
        events = self.model.events
        for signal, slot in (
            (events.node_removed, self._on_node_removed),
            (events.reset, self._on_reset),
        ):
            signal.connect(slot) if on else signal.disconnect(slot)

    def _on_node_removed(self, node: str) -> None:
        if node == self.node:
            self.show_node(None)

    def _on_reset(self) -> None:
        self.show_node(None)

    def set_model(
        self, model: ModelGraph, analysis=None, scope=None, definition=None, body=None
    ) -> None:
        """Inspect another graph: the model, or a definition (`definition`) or the body of
        the container called `body`, opened from it; `scope` is the definition whose
        parameters bindings may use."""
        self._subscribe(False)
        self.model, self._analysis = model, analysis
        self.scope, self.definition, self.body = scope, definition, body
        self._subscribe()
        self.show_node(None)

    def analysis(self):
        """The shown graph's analysis."""
        return self._analysis() if self._analysis is not None else self.model.analysis()

    def rebuild(self, uses: int = 0) -> None:
        """Build the form again (a definition's parameters changed)."""
        self.uses = uses
        self.show_node(self.node)

    # ----- building the form ------------------------------------------------------
    def _clear(self) -> None:
        focus = QApplication.focusWidget()
        if focus is not None and self._body.isAncestorOf(focus):
            # A focused field taken out of the window would take the window's activation
            # (and its shortcuts) with it.
            self.setFocus(Qt.FocusReason.OtherFocusReason)
        while self._layout.count():
            item = self._layout.takeAt(0)
            widget = item.widget()
            if widget is not None and widget is not self.error:
                widget.hide()  # deleteLater is deferred; the old form must vanish now
                widget.deleteLater()
        self.editors, self.pins, self.auto_labels = {}, {}, {}
        self.bindings, self.bind_buttons, self.when_edit = {}, {}, None
        self.definition_form, self.count_row, self.flag_rows = None, None, None

    def show_node(self, node: str | None, count: int = 1) -> None:
        """Show the form for node id `node` (None: the model; count > 1: a selection note)."""
        self._clear()
        self.node = node if node in self.model else None
        self.error.setText("")
        if count > 1:
            self._layout.addWidget(QLabel(f"{count} nodes selected"))
            return
        if self.node is None and self.definition is not None:
            form = self.definition_form = DefinitionForm(self.definition, self.uses)
            form.default_requested.connect(self.block_default_requested)
            form.param_added.connect(self.block_param_added)
            form.param_removed.connect(self.block_param_removed)
            self._layout.addWidget(self.definition_form)
        elif self.node is None and self.body is not None:
            self._body_note()
        elif self.node is None:
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
            "palette (or press Tab on the canvas); drag from an output port to an input "
            "port to connect."
        )
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #616161;")
        for widget in (title, box, hint):
            self._layout.addWidget(widget)

    def _body_note(self) -> None:
        title = QLabel(f"<b>Inside {self.body}</b>")
        note = QLabel(
            f"{self.body} is a container (nn.Sequential or nn.ModuleList): its children run "
            f"one after the other, numbered 0, 1, 2… in the state_dict. Chain layers or "
            f"blocks between input and output; select one to edit it."
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: #616161;")
        self._layout.addWidget(title)
        self._layout.addWidget(note)

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
        self._block_rows(node, spec, form)
        box = QWidget()
        box.setLayout(form)
        for widget in (title, doc, box):
            self._layout.addWidget(widget)
        if spec.kind in FLAGGED_KINDS:
            self._layout.addWidget(self._flag_rows())
        self.refresh_values()

    def _flag_rows(self) -> FlagRows:
        rows = self.flag_rows = FlagRows()
        rows.frozen_requested.connect(lambda on: self._on_flag("frozen", on))
        rows.scale_requested.connect(lambda text: self._on_flag("lr_scale", text))
        return rows

    def _block_rows(self, node: str, spec, form: QFormLayout) -> None:
        """A condition inside a block; a repeat count; a button to look inside."""
        if self.scope is not None:
            self.when_edit = QLineEdit(placeholderText="always")
            self.when_edit.setToolTip(
                f"Keep this layer only when the condition over {self.scope.name}'s parameters "
                f"holds (e.g. stride != 1); otherwise its input passes through."
            )
            self.when_edit.editingFinished.connect(self._on_when_edited)
            form.addRow("present when", self.when_edit)
        if spec.kind == CONTAINER:
            count = CountRow(child_count(self.model, node) or 1)
            count.count_requested.connect(lambda n: self.count_requested.emit(self.node, n))
            self.count_row = count
            form.addRow("children", count)
        if spec.kind in (BLOCK, CONTAINER):
            label = "Open the definition" if spec.kind == BLOCK else "Open"
            button = QPushButton(f"{label} (double-click the card)")
            button.clicked.connect(lambda: self.open_requested.emit(self.node))
            form.addRow("", button)

    def _param_row(self, name: str, param) -> QWidget:
        editor = ParamEditor(param)
        editor.edited.connect(lambda value, key=param.name: self._on_param_edited(key, value))
        self.editors[param.name] = editor
        if self.scope is not None and param.ctor and not param.auto:
            return self._bindable_row(param, editor)
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

    def _bindable_row(self, param, editor: ParamEditor) -> QWidget:
        """A value, or (ƒ) an expression over the block's parameters."""
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        binding = BindingField()
        binding.committed.connect(lambda text, key=param.name: self._on_bound(key, text))
        button = QToolButton(text="ƒ", checkable=True)
        button.setToolTip(f"Bind {param.name} to an expression over {self.scope.name}'s parameters")
        button.toggled.connect(lambda on, key=param.name: self._on_bind_toggled(key, on))
        self.bindings[param.name], self.bind_buttons[param.name] = binding, button
        for widget in (editor, binding, button):
            layout.addWidget(widget)
        return row

    # ----- showing values ---------------------------------------------------------
    def refresh_values(self) -> None:
        """Show the node's current values (after any model change)."""
        if self.node is None or self.node not in self.model:
            return
        spec = self.model.spec(self.node)
        params = self.model.params(self.node)
        resolved = self.analysis().resolved(self.node)
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
            elif param.name in self.bindings:
                self._show_binding(param, params.get(param.name), resolved.get(param.name))
            else:
                editor.set_value(params.get(param.name, param.default))
        if self.when_edit is not None and not self.when_edit.isModified():
            when = self.model.when(self.node)
            self.when_edit.setText(when.text if when is not None else "")
        if self.flag_rows is not None:
            flag = self.model.flag
            self.flag_rows.show_flags(flag(self.node, "frozen"), flag(self.node, "lr_scale"))
        if self.count_row is not None:
            self.count_row.spin.blockSignals(True)
            self.count_row.spin.setValue(child_count(self.model, self.node) or 1)
            self.count_row.spin.blockSignals(False)

    def _show_binding(self, param, value, resolved) -> None:
        bound = isinstance(value, Bound)
        editor, binding, button = (
            self.editors[param.name],
            self.bindings[param.name],
            self.bind_buttons[param.name],
        )
        button.blockSignals(True)
        button.setChecked(bound)
        button.blockSignals(False)
        editor.setVisible(not bound)
        binding.setVisible(bound)
        if bound:
            binding.show_binding(value.text, resolved)
        else:
            editor.set_value(value if value is not None else param.default)

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

    def _on_flag(self, key: str, value) -> None:
        if self.node:
            self.error.setText("")
            self.flag_requested.emit(self.node, key, value)

    def _on_bound(self, key: str, text: str) -> None:
        if self.node and text:
            self.error.setText("")
            self.bind_requested.emit(self.node, key, text)

    def _on_bind_toggled(self, key: str, on: bool) -> None:
        if not self.node:
            return
        if on:  # the expression is typed next; until then nothing changes
            self.editors[key].setVisible(False)
            self.bindings[key].setVisible(True)
            self.bindings[key].edit.setFocus()
        else:
            self.bind_requested.emit(self.node, key, "")

    def _on_when_edited(self) -> None:
        if self.node and self.when_edit is not None and self.when_edit.isModified():
            self.when_edit.setModified(False)
            self.when_requested.emit(self.node, self.when_edit.text().strip())

    def _on_pin_toggled(self, key: str, on: bool) -> None:
        if not self.node:
            return
        if on:
            value = self.analysis().resolved(self.node).get(key)
            if value is None:
                value = self.model.spec(self.node).param(key).initial
            self.param_requested.emit(self.node, key, value)
        else:
            self.param_requested.emit(self.node, key, None)


def _text(value) -> str:
    if isinstance(value, (tuple, list)):
        return "×".join(str(v) for v in value)
    return str(value)
