"""The main window: docks, menus and wiring; the state lives in the Document and its model."""

from __future__ import annotations

import os
from pathlib import Path

import shiboken6
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QVBoxLayout,
    QWidget,
)

from torchcanvas.app.editing.document import Document
from torchcanvas.app.ui import window_geometry
from torchcanvas.app.ui.actions import build_actions, build_menus, shortcut_rows, shortcuts_html
from torchcanvas.app.ui.block_actions import BlockActions
from torchcanvas.app.ui.canvas.scene import GraphScene
from torchcanvas.app.ui.canvas.view import GraphView
from torchcanvas.app.ui.canvas_menu import show_menu
from torchcanvas.app.ui.clipboard import NodeClipboard
from torchcanvas.app.ui.code_view import CodeView
from torchcanvas.app.ui.design_lock import banner, follow_lock
from torchcanvas.app.ui.dialogs import PYTHON_FILTER, Dialogs, suggested_name
from torchcanvas.app.ui.direction import add_direction_action
from torchcanvas.app.ui.editing import Editing
from torchcanvas.app.ui.flag_actions import connect_inspector
from torchcanvas.app.ui.inspector import Inspector
from torchcanvas.app.ui.inspector_keys import InspectorKeys
from torchcanvas.app.ui.inspector_keys import commit as commit_field
from torchcanvas.app.ui.open_progress import OpenCancelled, OpenProgress
from torchcanvas.app.ui.palette import Palette
from torchcanvas.app.ui.persistence import RecentFiles, Recovery
from torchcanvas.app.ui.problems import ProblemsView
from torchcanvas.app.ui.qt_fixes import hide_ghost_tab_bars
from torchcanvas.app.ui.summary import SummaryView
from torchcanvas.app.ui.training_docks import add_training, show_training_views
from torchcanvas.app.ui.window_geometry import fit_to_screen
from torchcanvas.codegen.emit import CodegenError
from torchcanvas.graph.fileio import atomic_write
from torchcanvas.graph.project import ProjectError

AUTOSAVE_MS = 60_000


def app_home() -> Path:
    """Where settings, the recovery file and runs live (TORCHCANVAS_HOME overrides)."""
    home = Path(os.environ.get("TORCHCANVAS_HOME") or Path.home() / ".torchcanvas")
    home.mkdir(parents=True, exist_ok=True)
    return home


class MainWindow(QMainWindow):
    """Palette, canvas, inspector, code, summary and problems around one Document."""

    def __init__(self, parent=None, remember_layout: bool = True) -> None:
        super().__init__(parent)
        self.remember_layout = remember_layout
        self._laid_out = False
        self.home = app_home()
        self.settings = QSettings(str(self.home / "settings.ini"), QSettings.Format.IniFormat)
        self.dialogs = Dialogs(self)
        # Sized before the docks are tabified: tab bars laid out for another size linger.
        fit_to_screen(self)
        self._restored_state = False
        self.document = Document(self.home)
        navigator = self.document.navigator
        self.scene = GraphScene(
            self.document.model, self, navigator.analysis, lambda: self.document.locked
        )
        self.view = GraphView(self.scene, self)
        self.clipboard = NodeClipboard(self)
        self._build_docks()
        self.blocks = BlockActions(self)
        self.editing = Editing(self)
        self.inspector_keys = InspectorKeys(self)
        self._build_centre()
        self.actions_by_name = build_actions(self)
        build_menus(self, self.actions_by_name)
        add_direction_action(self)
        self.training = add_training(self)
        self._build_status_bar()
        self._connect_signals()
        follow_lock(self)
        self._autosave = QTimer(self, interval=AUTOSAVE_MS)
        self._autosave.timeout.connect(self.autosave)
        self._autosave.start()
        self.recent = RecentFiles(self.settings, self.recent_menu, self.open_project)
        self.recovery = Recovery(
            self.home / "recovery", self.document, lambda: self.dialogs, self.report_failure
        )
        self._restore_layout()
        hide_ghost_tab_bars(self)
        self._update_title()

    # ----- construction -------------------------------------------------------------
    def _dock(self, title: str, widget, area, name: str) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_centre(self) -> None:
        """The breadcrumb (Model ▸ layer2 ▸ BasicBlock) over the canvas."""
        centre = QWidget()
        layout = QVBoxLayout(centre)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.blocks.breadcrumb)
        self.lock_banner = banner()  # while training: the design is read-only
        layout.addWidget(self.lock_banner)
        layout.addWidget(self.view, 1)
        self.setCentralWidget(centre)

    def _build_docks(self) -> None:
        area = Qt.DockWidgetArea
        self.palette = Palette()
        self.inspector = Inspector(self.document.model)
        self.inspector.set_model(self.document.model, self.document.navigator.analysis)
        self.code_view = CodeView(self.document.model)
        self.summary = SummaryView()
        self.problems = ProblemsView()
        self.docks = {
            "palette": self._dock("Layers", self.palette, area.LeftDockWidgetArea, "palette"),
            "inspector": self._dock(
                "Inspector", self.inspector, area.RightDockWidgetArea, "inspector"
            ),
            "code": self._dock("Code", self.code_view, area.RightDockWidgetArea, "code"),
            "summary": self._dock("Summary", self.summary, area.BottomDockWidgetArea, "summary"),
            "problems": self._dock(
                "Problems", self.problems, area.BottomDockWidgetArea, "problems"
            ),
        }
        self.setCorner(Qt.Corner.BottomLeftCorner, area.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, area.RightDockWidgetArea)
        self.tabifyDockWidget(self.docks["summary"], self.docks["problems"])
        self.docks["summary"].visibilityChanged.connect(self.summary.set_seen)
        self.docks["problems"].raise_()

    def _default_dock_sizes(self) -> None:
        # The canvas gets most of the window: side columns about a quarter of it, the
        # bottom tabs a few lines (they grow when dragged, and a problem list scrolls).
        # The Training panel (a tab of this column) fits its width: Stop and the progress
        # are not cut by its scroll area on a 1280x720 screen.
        panel = self.training_panel.minimumSizeHint().width() + 32  # + its scroll bar
        right = max(340, int(self.width() * 0.26), panel)
        self.resizeDocks(
            [self.docks["palette"], self.docks["inspector"]],
            [180, right],
            Qt.Orientation.Horizontal,
        )
        self.resizeDocks(
            [self.docks["inspector"], self.docks["code"]], [300, 560], Qt.Orientation.Vertical
        )
        self.resizeDocks([self.docks["summary"]], [110], Qt.Orientation.Vertical)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._laid_out:
            self._laid_out = True
            if not self._restored_state:
                self._default_dock_sizes()

    def _build_status_bar(self) -> None:
        self.zoom_label = QLabel("100%")
        self.statusBar().addPermanentWidget(self.zoom_label)
        for name in ("palette", "inspector", "code", "summary", "problems"):
            self.panels_menu.addAction(self.docks[name].toggleViewAction())

    def _connect_signals(self) -> None:
        doc, scene = self.document, self.scene
        scene.connect_requested.connect(self._on_connect_requested)
        scene.nodes_dragged.connect(doc.moved)
        scene.selectionChanged.connect(self._on_selection_changed)
        scene.analysis_updated.connect(self._on_analysis_updated)
        scene.menu_requested.connect(lambda *where: show_menu(self, *where))
        self.view.layer_dropped.connect(self.editing.drop_layer)
        self.view.clicked.connect(self._show_inspector)
        self.view.zoom_changed.connect(lambda z: self.zoom_label.setText(f"{z:.0%}"))
        self.palette.layer_activated.connect(self.editing.add_layer)
        self.inspector.rename_requested.connect(self._on_rename_requested)
        self.inspector.param_requested.connect(self._on_param_requested)
        connect_inspector(self)
        self.inspector.model_rename_requested.connect(
            lambda new: self.inspector.show_error(doc.rename_model(new) or "")
        )
        self.problems.node_clicked.connect(self.blocks.go_to_problem)
        self.code_view.export_requested.connect(self.export_python)
        self.code_view.copied.connect(lambda: self.statusBar().showMessage("Code copied.", 3000))
        doc.title_changed.connect(self._update_title)
        doc.replaced.connect(self._on_document_replaced)
        doc.edited.connect(lambda _text: self.code_view.schedule_refresh())  # once per edit
        doc.model.events.name_changed.connect(lambda _name: self._update_title())

    # ----- model and scene events ---------------------------------------------------
    def _on_analysis_updated(self, analysis) -> None:
        self.summary.update_from(self.document.graph, analysis)
        self.problems.update_from(analysis)
        self.inspector.refresh_values()
        errors = len(analysis.errors)
        self.docks["problems"].setWindowTitle(f"Problems ({errors})" if errors else "Problems")

    def _on_selection_changed(self) -> None:
        if not shiboken6.isValid(self.scene):
            return  # the scene announces its own destruction as a selection change
        nodes = self.scene.selected_nodes()
        self.inspector.show_node(nodes[0].node if len(nodes) == 1 else None, max(1, len(nodes)))
        self._show_inspector()

    def _show_inspector(self) -> None:
        # What is typed next is for the Inspector: it must be the tab in front (the Training
        # tab stays after a run), also when the card clicked was selected already. During a
        # run, Stop and the progress stay shown.
        if self.scene.selected_nodes() and not self.training.running:
            self.docks["inspector"].raise_()

    def _on_document_replaced(self) -> None:
        self.inspector.show_node(None)
        self.code_view.forget()
        QTimer.singleShot(0, self.view.show_top)

    def _on_connect_requested(self, src: str, dst: str, src_port, dst_port) -> None:
        self._report(self.document.connect(src, dst, src_port, dst_port))

    def _on_rename_requested(self, node: str, new: str) -> None:
        error = self.document.rename(node, new)
        self.inspector.show_error(error or "")
        if error:
            self.inspector.refresh_values()

    def _on_param_requested(self, node: str, key: str, value) -> None:
        error = self.document.set_param(node, key, value)
        self.inspector.show_error(f"{key}: {error}" if error else "")
        if error:
            self.inspector.refresh_values()

    def _report(self, error: str | None) -> None:
        if error:
            self.statusBar().showMessage(error, 8000)

    # ----- editing ------------------------------------------------------------------
    def delete_selection(self) -> None:
        """Delete the selected nodes and edges."""
        nodes = [i.node for i in self.scene.selected_nodes()]
        edges = [e.key() for e in self.scene.selected_edges()]
        self.document.delete(nodes, edges)

    def select_all(self) -> None:
        """Select every node."""
        self.scene.select_nodes(list(self.scene.nodes))

    # ----- files --------------------------------------------------------------------
    def _update_title(self) -> None:
        doc = self.document
        self.setWindowTitle(f"{doc.model.name} — {doc.label}[*] — TorchCanvas")
        self.setWindowModified(doc.dirty)

    def maybe_save(self) -> bool:
        """Ask about unsaved changes; False when the user cancels."""
        if not self.document.dirty:
            return True
        answer = self.dialogs.ask_save(self.document.label)
        if answer == "save":
            return self.save_project()
        return answer == "discard"

    def new_project(self) -> None:
        """Start an empty project."""
        if self.maybe_save():
            self.document.new()

    def open_project(self, path: str | None = None) -> bool:
        """Open a project; a bad file is refused with a dialog and nothing changes."""
        if not self.maybe_save():
            return False
        path = path or self.dialogs.open_path()
        if not path:
            return False
        progress = OpenProgress(self, Path(path).name)
        self.scene.progress = progress.drawing
        try:
            self.document.open(path, progress.reading)
        except OpenCancelled:
            self.statusBar().showMessage("Opening cancelled; the project shown is unchanged.", 8000)
            return False
        except ProjectError as error:
            self.dialogs.error("Cannot open project", str(error))
            return False
        finally:
            self.scene.progress = None
            progress.close()
        self._add_recent(path)
        return True

    def open_example(self, stem: str) -> None:
        """Open a bundled example as an untitled copy."""
        if self.maybe_save():
            self.document.open_example(stem)

    def save_project(self) -> bool:
        """Save to the current file, or ask for one."""
        if self.document.path is None:
            return self.save_project_as()
        return self._save_to(self.document.path)

    def save_project_as(self) -> bool:
        """Save under a new name."""
        suggestion = suggested_name(self.document, ".json")
        path = self.dialogs.save_path("Save project", suggestion, "TorchCanvas projects (*.json)")
        if not path:
            return False
        if not path.endswith(".json"):
            path += ".json"
        return self._save_to(path)

    def _save_to(self, path) -> bool:
        try:
            self.document.save(path)
        except OSError as error:
            self.dialogs.error("Cannot save", f"{path}: {error.strerror or error}")
            return False
        self._add_recent(str(path))
        self.recovery.saved()
        self.statusBar().showMessage(f"Saved {path}", 4000)
        return True

    def export_python(self) -> bool:
        """Write the generated module to a .py file."""
        analysis = self.document.model.analysis()
        if not analysis.ok:
            listed = "\n".join(str(p) for p in analysis.errors)
            self.dialogs.error("Cannot export yet", f"Fix these problems first:\n{listed}")
            return False
        suggestion = suggested_name(self.document, ".py")
        path = self.dialogs.save_path("Export Python", suggestion, PYTHON_FILTER)
        if not path:
            return False
        try:
            self.document.export(path)
        except (OSError, CodegenError) as error:
            self.dialogs.error("Cannot export", str(error))
            return False
        written = [path]
        weights = Path(path).with_suffix(".pt")
        changes = self.training.weights_changes()
        if self.training.weights_path is not None and changes:
            listed = "\n".join(f"• {line}" for line in changes)
            self.dialogs.info(
                "Weights not exported",
                f"The current weights were trained on an earlier design and would not load "
                f"into this code. Since then:\n{listed}\nTrain again to export weights.",
            )
        elif self.training.weights_path is not None and self.dialogs.ask(
            "Export weights too?",
            f"Also write the current weights to {weights.name}, beside "
            f"the code? Load them with model.load_state_dict(torch.load('{weights.name}', "
            f"weights_only=True)).",
        ):
            if self.training.save_weights(str(weights)):
                written.append(str(weights))
                written[0] += with_preprocess(self.document.model, path, self.training.weights_path)
        self.statusBar().showMessage(f"Exported {' and '.join(written)}", 8000)
        return True

    # ----- recent files, layout, autosave -------------------------------------------
    def recent_files(self) -> list[str]:
        """Recently opened or saved projects, newest first."""
        return self.recent.paths()

    def _add_recent(self, path: str) -> None:
        self.recent.add(path)

    def _restore_layout(self) -> None:
        if self.remember_layout:
            self._restored_state = window_geometry.restore(self, self.settings)

    def recovery_path(self) -> Path:
        """The autosave file offered back after a crash."""
        return self.recovery.path

    def autosave(self) -> None:
        """Write unsaved work to the recovery file."""
        self.recovery.autosave()

    def offer_recovery(self, project_path: str | None = None) -> bool:
        """At start, offer work a crashed window left behind (the named project's first)."""
        recovered = self.recovery.offer(project_path)
        waiting = self.recovery.others()
        if waiting:
            self.statusBar().showMessage(
                f"{waiting} more unsaved project(s) from windows that did not close normally: "
                f"File ▸ Recover Unsaved Work…",
                20000,
            )
        return recovered

    def recover_unsaved_work(self) -> bool:
        """File ▸ Recover Unsaved Work…"""
        return self.maybe_save() and self.recovery.offer_any()

    def report_failure(self, text: str) -> None:
        """A background failure (autosave): say it once, in a dialog and the status bar."""
        self.statusBar().showMessage(text, 30000)
        self.dialogs.error("Autosave failed", text)

    def show_training_views(self) -> None:
        """Bring the training panel, curves and activations to the front."""
        show_training_views(self)

    def closeEvent(self, event) -> None:
        if self.training.running:
            if not self.dialogs.ask(
                "Training is running",
                "Stop training and quit? The weights reached so far are kept in the run folder.",
            ):
                event.ignore()
                return
            self.training.stop_now()  # Yes means now: not after a Save prompt is answered
        field = QApplication.focusWidget()
        if field is not None and self.inspector.isAncestorOf(field):
            commit_field(field)  # what is typed there counts as a change to save
        if not self.maybe_save():
            event.ignore()
            return
        self.training.kill()
        if self.remember_layout:
            window_geometry.remember(self, self.settings)
        self.recovery.close()
        self.clipboard.release()
        event.accept()

    # ----- help ---------------------------------------------------------------------
    def show_about(self) -> None:
        """About box."""
        self.dialogs.info(
            "About TorchCanvas",
            "TorchCanvas: design PyTorch networks visually, see every shape, "
            "export readable Python, and train while you watch.",
        )

    def show_shortcuts(self) -> None:
        """The keyboard shortcuts."""
        self.dialogs.reference("Keyboard shortcuts", shortcuts_html(shortcut_rows(self)))


def with_preprocess(model, path: str, weights) -> str:
    """Rewrite the exported `path` with the run's preprocess() and CLASSES (from the
    statistics saved beside `weights`); returns what to add to the status line."""
    from torchcanvas.app.train.preprocess import python_with_run

    try:
        source, _name, added = python_with_run(model, None, weights)
        atomic_write(path, source.encode("utf-8"))
    except Exception as error:  # noqa: BLE001  (the plain module is written already)
        return f" (without preprocess(): {error})"
    return f" ({added})" if added else ""
