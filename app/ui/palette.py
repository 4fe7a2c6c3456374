"""The layer palette: the registry grouped by category, searchable, draggable onto the canvas."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QDrag
from PySide6.QtWidgets import QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from torchcanvas.app.ui.canvas.view import LAYER_MIME
from torchcanvas.graph.registry import CATEGORIES, all_specs

TYPE_ROLE = Qt.ItemDataRole.UserRole


def layer_mime(type_name: str) -> QMimeData:
    """The drag payload of one layer type."""
    mime = QMimeData()
    mime.setData(LAYER_MIME, type_name.encode("utf-8"))
    mime.setText(type_name)
    return mime


class LayerTree(QTreeWidget):
    """The tree of layers; starts a real drag with the layer type as MIME data."""

    def mimeData(self, items) -> QMimeData:
        type_name = items[0].data(0, TYPE_ROLE) if items else None
        return layer_mime(type_name) if type_name else QMimeData()

    def mimeTypes(self) -> list[str]:
        return [LAYER_MIME]

    def startDrag(self, actions) -> None:
        item = self.currentItem()
        type_name = item.data(0, TYPE_ROLE) if item else None
        if not type_name:
            return
        drag = QDrag(self)
        drag.setMimeData(layer_mime(type_name))
        drag.exec(Qt.DropAction.CopyAction)


class Palette(QWidget):
    """Search box plus layer tree; double-click adds a layer at the centre of the view."""

    layer_activated = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.search = QLineEdit(placeholderText="Search layers…")
        self.search.setClearButtonEnabled(True)
        self.tree = LayerTree()
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setRootIsDecorated(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self._fill()
        self.search.textChanged.connect(self._on_search_changed)
        self.tree.itemDoubleClicked.connect(self._on_item_double_clicked)

    def _fill(self) -> None:
        groups = {}
        for category in CATEGORIES:
            group = QTreeWidgetItem([category])
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            groups[category] = group
            self.tree.addTopLevelItem(group)
        for spec in all_specs():
            item = QTreeWidgetItem([spec.type])
            item.setData(0, TYPE_ROLE, spec.type)
            item.setToolTip(0, spec.doc)
            item.setFlags(
                Qt.ItemFlag.ItemIsEnabled
                | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemIsDragEnabled
            )
            groups[spec.category].addChild(item)
        self.tree.expandAll()

    def items(self) -> list[QTreeWidgetItem]:
        """Every layer item (not the category headers)."""
        found = []
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            found += [group.child(j) for j in range(group.childCount())]
        return found

    def item_for(self, type_name: str) -> QTreeWidgetItem:
        """The palette item of a layer type."""
        return next(i for i in self.items() if i.data(0, TYPE_ROLE) == type_name)

    def _on_search_changed(self, text: str) -> None:
        needle = text.strip().lower()
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            visible = 0
            for j in range(group.childCount()):
                item = group.child(j)
                spec_text = f"{item.text(0)} {item.toolTip(0)} {group.text(0)}".lower()
                hidden = bool(needle) and needle not in spec_text
                item.setHidden(hidden)
                visible += not hidden
            group.setHidden(visible == 0)

    def _on_item_double_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        type_name = item.data(0, TYPE_ROLE)
        if type_name:
            self.layer_activated.emit(type_name)
