"""The layer palette: the registry grouped by category, searchable, draggable onto the canvas."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QDrag, QFont
from PySide6.QtWidgets import (
    QLineEdit,
    QMenu,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from torchcanvas.app.ui.canvas.view import LAYER_MIME
from torchcanvas.app.ui.quick_add import Entry, ranked
from torchcanvas.graph.registry import CATEGORIES, all_specs

TYPE_ROLE = Qt.ItemDataRole.UserRole
HIDDEN = {"External"}  # made by imports; a class path is not something to drag in
SOURCE_ROLE = Qt.ItemDataRole.UserRole + 1  # "project", "builtin" or "user" for blocks
BLOCK_GROUPS = (
    ("project", "In this project"),
    ("builtin", "Built-in blocks"),
    ("user", "My blocks"),
)


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
    """Search box plus layer tree; double-click adds a layer at the centre of the view.

    Under Blocks: the project's own definitions, the built-in ones and the user's saved
    ones; their context menu opens, copies, saves or removes a definition.
    """

    layer_activated = Signal(str)
    block_action = Signal(str, str)  # action (open, copy, save, remove, forget), block name

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
        self.block_groups: dict[str, QTreeWidgetItem] = {}
        self._fill()
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._on_context_menu)
        self.search.textChanged.connect(self._on_search_changed)
        self.search.returnPressed.connect(self._on_search_entered)
        self.tree.itemDoubleClicked.connect(self._on_item_double_clicked)

    def _fill(self) -> None:
        groups = {}
        for category in CATEGORIES:
            group = QTreeWidgetItem([category])
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            groups[category] = group
            self.tree.addTopLevelItem(group)
        for spec in all_specs():
            if spec.type in HIDDEN:
                continue
            item = QTreeWidgetItem([spec.type])
            item.setData(0, TYPE_ROLE, spec.type)
            item.setToolTip(0, spec.doc)
            item.setFlags(
                Qt.ItemFlag.ItemIsEnabled
                | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemIsDragEnabled
            )
            groups[spec.category].addChild(item)
        for source, title in BLOCK_GROUPS:
            group = QTreeWidgetItem([title])
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = QFont(group.font(0))
            font.setItalic(True)
            group.setFont(0, font)
            self.block_groups[source] = group
            groups["Blocks"].addChild(group)
        self.tree.expandAll()

    def set_blocks(self, blocks: dict[str, list[tuple[str, str]]]) -> None:
        """Show these blocks: source -> [(name, doc)] for project, builtin and user."""
        for source, group in self.block_groups.items():
            group.takeChildren()
            for name, doc in blocks.get(source, []):
                item = QTreeWidgetItem([name])
                item.setData(0, TYPE_ROLE, name)
                item.setData(0, SOURCE_ROLE, source)
                item.setToolTip(0, doc or f"The block {name}.")
                item.setFlags(
                    Qt.ItemFlag.ItemIsEnabled
                    | Qt.ItemFlag.ItemIsSelectable
                    | Qt.ItemFlag.ItemIsDragEnabled
                )
                group.addChild(item)
            group.setHidden(group.childCount() == 0)
            group.setExpanded(True)
        self._on_search_changed(self.search.text())

    def items(self) -> list[QTreeWidgetItem]:
        """Every layer and block item (not the group headers)."""
        found = []
        todo = [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())]
        while todo:
            item = todo.pop(0)
            if item.data(0, TYPE_ROLE):
                found.append(item)
            todo[:0] = [item.child(j) for j in range(item.childCount())]
        return found

    def item_for(self, type_name: str) -> QTreeWidgetItem:
        """The palette item of a layer type."""
        return next(i for i in self.items() if i.data(0, TYPE_ROLE) == type_name)

    def _on_search_changed(self, text: str) -> None:
        needle = text.strip().lower()
        for i in range(self.tree.topLevelItemCount()):
            _filter(self.tree.topLevelItem(i), needle, "")

    def _on_search_entered(self) -> None:
        """Enter in the search box adds the top match."""
        shown = [
            Entry(item.data(0, TYPE_ROLE), item.text(0), item.toolTip(0))
            for item in self.items()
            if not _hidden(item)
        ]
        best = ranked(shown, self.search.text())
        if best and self.search.text().strip():
            self.layer_activated.emit(best[0].key)

    def _on_context_menu(self, point) -> None:
        item = self.tree.itemAt(point)
        source = item.data(0, SOURCE_ROLE) if item is not None else None
        if not source:
            return
        name = item.data(0, TYPE_ROLE)
        menu = QMenu(self)
        entries = [("open", "Open the definition"), ("copy", "Make a copy…")]
        if source == "project":
            entries += [("save", "Save to My Blocks"), ("remove", "Remove from the project")]
        if source == "user":
            entries.append(("forget", "Delete from My Blocks"))
        for action, text in entries:
            menu.addAction(text).triggered.connect(
                lambda _c=False, a=action: self.block_action.emit(a, name)
            )
        menu.popup(self.tree.viewport().mapToGlobal(point))
        self.menu = menu  # kept for tests and so it is not collected while open

    def _on_item_double_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        type_name = item.data(0, TYPE_ROLE)
        if type_name:
            self.layer_activated.emit(type_name)


def _hidden(item: QTreeWidgetItem) -> bool:
    """Whether `item` or a group it is in is hidden."""
    while item is not None:
        if item.isHidden():
            return True
        item = item.parent()
    return False


def _filter(item: QTreeWidgetItem, needle: str, context: str) -> bool:
    """Hide what does not match `needle`; returns whether anything under `item` shows."""
    text = f"{item.text(0)} {item.toolTip(0)} {context}".lower()
    if item.data(0, TYPE_ROLE):
        hidden = bool(needle) and needle not in text
        item.setHidden(hidden)
        return not hidden
    visible = False
    for j in range(item.childCount()):
        visible = _filter(item.child(j), needle, f"{context} {item.text(0)}") or visible
    item.setHidden(not visible)
    return visible
