"""The inspector's training rows for a layer: Frozen and its learning-rate factor."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QFormLayout, QLabel, QLineEdit, QWidget

from torchcanvas.graph.registry import BLOCK, CONTAINER, MODULE, PARAMETER

FLAGGED_KINDS = (MODULE, BLOCK, CONTAINER, PARAMETER)  # the kinds that hold parameters
FROZEN_TIP = (
    "Frozen: training keeps this layer's weights and its batch-norm statistics as they are "
    "(requires_grad off, batch norm and dropout kept in eval mode)."
)
SCALE_TIP = (
    "Learning-rate factor: this layer trains at lr × factor, e.g. 10 for a new head, 0.1 for "
    "a pretrained backbone. Empty: 1 (at the top), or as the layer that holds it."
)


class FlagRows(QWidget):
    """A "Frozen" check box and a "Learning-rate factor" field, with a hint."""

    frozen_requested = Signal(bool)
    scale_requested = Signal(str)  # the typed text ('' clears)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.frozen = QCheckBox("keep its weights")
        self.frozen.setToolTip(FROZEN_TIP)
        self.frozen.toggled.connect(self.frozen_requested.emit)
        self.scale = QLineEdit(placeholderText="1 (follows)")
        self.scale.setToolTip(SCALE_TIP)
        self.scale.editingFinished.connect(self._on_scale_edited)
        hint = QLabel(
            "Frozen keeps the weights and batch-norm statistics. The factor multiplies the "
            "learning rate: 10 for a new head, 0.1 for a backbone."
        )
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #616161;")
        form.addRow("Frozen", self.frozen)
        form.addRow("Learning-rate factor", self.scale)
        form.addRow(hint)

    def show_flags(self, frozen, scale) -> None:
        """Show a node's flags (an edit in progress in the field is kept)."""
        self.frozen.blockSignals(True)
        self.frozen.setChecked(frozen is True)
        self.frozen.blockSignals(False)
        if not self.scale.isModified():
            self.scale.setText("" if scale is None else f"{scale:g}")

    def _on_scale_edited(self) -> None:
        if self.scale.isModified():
            self.scale.setModified(False)
            self.scale_requested.emit(self.scale.text().strip())
