"""Blocks in the window: opening and leaving them, Make Block, Ungroup, Repeat, the library.

Owns the breadcrumb and keeps the canvas, inspector, palette and code panel on the graph
the navigator shows. Edits go through the Document's block edits.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence

from torchcanvas.app.blocklib import read_block_file, user_blocks
from torchcanvas.app.editing.block_graphs import project_graphs
from torchcanvas.app.ui.canvas.breadcrumb import Breadcrumb
from torchcanvas.app.ui.make_block_dialog import MakeBlockDialog
from torchcanvas.graph.builtin_blocks import BUILTIN, builtin
from torchcanvas.graph.grouping import candidates
from torchcanvas.graph.library import Library
from torchcanvas.graph.registry import BLOCK


class BlockActions:
    """The window's block commands and navigation."""

    def __init__(self, window) -> None:
        self.window = window
        self.document = window.document
        self.breadcrumb = Breadcrumb()
        self.dialog: MakeBlockDialog | None = None
        self._views: dict[int, tuple] = {}  # id(graph) -> (transform, centre) when left
        self._builtin_docs = {
            name: builtin(name, Library())[-1].doc or f"The block {name}." for name in BUILTIN
        }
        self._connect()
        self.refresh_palette()

    def _connect(self) -> None:
        doc, window, inspector = self.document, self.window, self.window.inspector
        doc.navigated.connect(self._on_navigated)
        doc.library_changed.connect(self._on_library_changed)
        doc.replaced.connect(self._views.clear)
        window.scene.node_opened.connect(self.open_node)
        self.breadcrumb.depth_chosen.connect(doc.navigator.go_to)
        inspector.open_requested.connect(self.open_node)
        inspector.bind_requested.connect(
            lambda node, key, text: self._show_error(doc.blocks.bind(node, key, text))
        )
        inspector.when_requested.connect(
            lambda node, text: self._show_error(doc.blocks.set_when(node, text))
        )
        inspector.count_requested.connect(
            lambda node, count: self._show_error(doc.blocks.set_count(node, count))
        )
        inspector.block_default_requested.connect(
            lambda name, value: self._show_error(doc.blocks.set_param_default(name, value))
        )
        inspector.block_param_added.connect(
            lambda name, kind, value: self._show_error(doc.blocks.add_param(name, kind, value))
        )
        inspector.block_param_removed.connect(
            lambda name: self._show_error(doc.blocks.remove_param(name))
        )
        window.palette.block_action.connect(self._on_palette_action)

    def actions(self) -> dict[str, QAction]:
        """The Blocks menu's actions, keyed by name."""
        window = self.window
        entries = {
            "make_block": ("&Make Block…", self.make_block, "Ctrl+G"),
            "ungroup": ("&Ungroup", self.ungroup, "Ctrl+Shift+G"),
            "repeat": ("&Repeat…", self.repeat, "Ctrl+R"),
            "open_block": ("&Open Block", self.open_selected, "Return"),
            "up": ("Back &Up", self.document.navigator.up, "Escape"),
            "expand": ("&Expand in Place", self.expand, "E"),
        }
        actions = {}
        for name, (text, slot, keys) in entries.items():
            action = QAction(text, window)
            action.setShortcut(QKeySequence(keys))
            action.triggered.connect(lambda _c=False, s=slot: s())
            actions[name] = action
        for name in ("open_block", "expand", "make_block", "ungroup", "repeat"):
            # Keys of the canvas: Enter or E typed in the inspector edit the text there.
            # Esc (up) works anywhere in the window.
            actions[name].setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            window.view.addAction(actions[name])
        return actions

    # ----- commands -----------------------------------------------------------------------
    def _selected(self) -> list[str]:
        return [item.node for item in self.window.scene.selected_nodes()]

    def _report(self, error: str | None) -> None:
        if error:
            self.window.statusBar().showMessage(error, 8000)

    def _show_error(self, error: str | None) -> None:
        self.window.inspector.show_error(error or "")
        if error:
            self.window.inspector.refresh_values()

    def make_block(self) -> None:
        """Ask for a name and the values to expose, then group the selection."""
        nodes = self._selected()
        if not nodes:
            self._report("Select the layers to put in a block first (drag a box around them).")
            return
        graph = self.document.graph
        found = candidates(graph, nodes)
        labels = {n: graph.node_name(n) for n in nodes}
        self.dialog = MakeBlockDialog(found, labels, self.window)
        self.dialog.chosen.connect(lambda name, exposed: self._make(nodes, name, exposed))
        self.dialog.open()

    def _make(self, nodes: list[str], name: str, exposed: list) -> None:
        error = self.document.blocks.make_block(nodes, name, exposed)
        if error:
            self.window.dialogs.error("Cannot make the block", error)
            return
        self.window.scene.select_nodes([self.document.last_added])
        self.window.statusBar().showMessage(
            f"Made block {name}; double-click it to open the definition.", 6000
        )

    def _single(self, what: str) -> str | None:
        nodes = self._selected()
        if len(nodes) != 1:
            self._report(f"Select one {what} first.")
            return None
        return nodes[0]

    def ungroup(self) -> None:
        """Replace the selected block instance by its layers."""
        node = self._single("block instance")
        if node is not None:
            self._report(self.document.blocks.ungroup(node))

    def repeat(self) -> None:
        """Ask how many, then turn the selected instance into an nn.Sequential of them."""
        node = self._single("block instance")
        if node is None:
            return
        if self.document.graph.spec(node).kind != BLOCK:
            self._report("Only a block instance can be repeated; make a block first (Ctrl+G).")
            return
        count = self.window.dialogs.ask_int("Repeat", "How many in a row?", 2, 1, 64)
        if count is not None:
            error = self.document.blocks.repeat(node, count)
            self._report(error)
            if not error:
                self.window.scene.select_nodes([self.document.last_added])

    def open_node(self, node: str) -> None:
        """Show the inside of a block instance or container."""
        if not self.document.navigator.enter(node):
            self._report("Only blocks and containers have an inside to open.")

    def open_selected(self) -> None:
        """Open the selected block or container."""
        node = self._single("block or container")
        if node is not None:
            self.open_node(node)

    def expand(self) -> None:
        """Show or hide the inside of the selected cards, in place."""
        self.window.scene.toggle_expanded(self._selected())

    def go_to_problem(self, node: str, trail: tuple) -> None:
        """Select a problem's node; for one inside a block, open the block there."""
        navigator, scene = self.document.navigator, self.window.scene
        for inner in trail:
            if not navigator.enter(node):
                break
            node = inner
        scene.select_nodes([node])
        if node in scene.nodes:
            self.window.view.centerOn(scene.nodes[node])

    # ----- following the model -----------------------------------------------------------
    def uses(self, name: str) -> int:
        """How many instances of definition `name` the project has."""
        return sum(len(g.nodes_of_type(name)) for g in project_graphs(self.document.model))

    def _on_navigated(self) -> None:
        window, navigator = self.window, self.document.navigator
        frame = navigator.frame
        view = window.view
        centre = view.mapToScene(view.viewport().rect().center())
        self._views[id(window.scene.model)] = (view.transform(), centre)
        window.scene.set_graph(navigator.graph, navigator.analysis)
        library = self.document.model.library
        definition = library.get(frame.block) if frame.block else None
        scope = library.get(navigator.block()) if navigator.block() else None
        window.inspector.uses = self.uses(frame.block) if frame.block else 0
        body = frame.label if frame.node is not None and not frame.block else None
        window.inspector.set_model(navigator.graph, navigator.analysis, scope, definition, body)
        self.breadcrumb.set_path(navigator.labels(), self._hint())
        window.code_view.show_class(frame.block or window.document.model.name)
        QTimer.singleShot(0, lambda: self._restore_view(navigator.graph))

    def _restore_view(self, graph) -> None:
        """Back where the user was when they left this graph; a new one from its top."""
        view = self.window.view
        saved = self._views.get(id(graph))
        if saved is None:
            view.show_top()
            return
        transform, centre = saved
        view.setTransform(transform)
        view.centerOn(centre)
        view.zoom_changed.emit(view.zoom())

    def _hint(self) -> str:
        navigator = self.document.navigator
        frame = navigator.frame
        if frame.block:
            count = self.uses(frame.block)
            where = f" (shapes of {navigator.path()})" if navigator.path() else ""
            return f"Editing class {frame.block}: changes apply to all {count} instances{where}"
        if navigator.depth:
            return "Inside a container: its children run in order, numbered 0, 1, 2…"
        return ""

    def _on_library_changed(self) -> None:
        window = self.window
        window.scene.library_changed()
        window.code_view.schedule_refresh()
        self.refresh_palette()
        frame = self.document.navigator.frame
        if frame.block and window.inspector.node is None:
            window.inspector.rebuild(self.uses(frame.block))
        self.breadcrumb.set_path(self.document.navigator.labels(), self._hint())

    def refresh_palette(self) -> None:
        """Palette Blocks: the project's, the built-in ones it lacks, and the user's."""
        library = self.document.model.library
        project = [(b.name, b.doc) for b in library]
        shipped = [(n, d) for n, d in self._builtin_docs.items() if n not in library]
        mine = [
            (name, f"Saved in {path.parent}")
            for name, path in user_blocks(self.document.blocks.folder)[0].items()
            if name not in library and name not in BUILTIN
        ]
        self.window.palette.set_blocks({"project": project, "builtin": shipped, "user": mine})

    def _on_palette_action(self, action: str, name: str) -> None:
        blocks, dialogs = self.document.blocks, self.window.dialogs
        if action == "open":
            error = blocks.adopt_definition(name)
            if not error:
                self.document.navigator.open_definition(name)
        elif action == "copy":
            new = dialogs.ask_text("Make a copy", f"Class name of the copy of {name}:", f"My{name}")
            error = blocks.copy_definition(name, new.strip()) if new else None
        elif action == "save":
            error = blocks.save_to_library(name)
            if not error:
                self.window.statusBar().showMessage(f"Saved {name} to My Blocks.", 5000)
                self.refresh_palette()
        elif action == "remove":
            error = blocks.remove_definition(name)
        else:
            error = self._forget(name)
        if error:
            dialogs.error("Blocks", error)

    def _forget(self, name: str) -> str | None:
        path = user_blocks(self.document.blocks.folder)[0].get(name)
        if path is None:
            return f"{name} is not in My Blocks"
        read_block_file(path)  # only a real block file is deleted
        if not self.window.dialogs.ask("Delete block", f"Delete {name} from My Blocks?"):
            return None
        path.unlink()
        self.refresh_palette()
        return None
