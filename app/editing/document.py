"""The open project, its file, its undo stack, the run state and the lock; edits go through
this, and it imports no Qt (the CLI and the tests edit designs with it as the window does).
"""

from __future__ import annotations

from pathlib import Path

from torchcanvas.app.editing.block_edits import BlockEdits
from torchcanvas.app.editing.clipboard import ClipboardEdits
from torchcanvas.app.editing.commands import SettingsCommand
from torchcanvas.app.editing.edits import DesignEdits
from torchcanvas.app.editing.examples import EXAMPLES
from torchcanvas.app.editing.flag_edits import FlagEdits
from torchcanvas.app.editing.lock import READ_ONLY, DesignLocked, RunState, refused_while_locked
from torchcanvas.app.editing.undo import UndoStack
from torchcanvas.app.navigation import Navigator
from torchcanvas.codegen.emit import emit_module
from torchcanvas.graph.analysis import Analysis
from torchcanvas.graph.events import Signal
from torchcanvas.graph.fileio import atomic_write
from torchcanvas.graph.model import ModelGraph
from torchcanvas.graph.params import ParamError
from torchcanvas.graph.project import Project, dumps_project, load_project, save_project
from torchcanvas.graph.settings import TRAINING_INDEX, default_training

# The default data (digits: scikit-learn's 8×8 images, offline) fits a new project's Input;
# a test checks this against the data sources' shapes, which need torch to import.
NEW_INPUT_SHAPE = (1, 8, 8)


class Document(DesignEdits, FlagEdits, ClipboardEdits):
    """A project with undo; one ModelGraph instance for the document's whole life.

    `model` is the network; `graph` is what the canvas shows and edits go to: the model,
    or a block definition or container body opened from it (see `navigator`). Events are
    plain callbacks (`doc.edited.connect(f)`); `edited` fires once per undo step done,
    undone or redone (a macro of many changes is one), and when a project is loaded.
    """

    def __init__(self, home: Path | None = None) -> None:
        self.replaced = Signal("replaced")  # () a different project was loaded
        self.title_changed = Signal("title_changed")  # () name, file or saved state
        self.settings_changed = Signal("settings_changed")  # () a training setting
        self.library_changed = Signal("library_changed")  # () a definition changed
        self.navigated = Signal("navigated")  # () another graph is on the canvas
        self.direction_changed = Signal("direction_changed")  # ("down" or "right")
        self.edited = Signal("edited")  # (step text) one whole edit, or a project loaded
        self.lock_changed = Signal("lock_changed")  # (locked) a run began or ended
        self.project = Project(ModelGraph("Model"))
        self.path: Path | None = None
        self.label = "Untitled"
        self.run = RunState()
        self.run.changed.connect(self.lock_changed.emit)
        self.undo = UndoStack(guard=self.check_editable)
        self.undo.clean_changed.connect(lambda _clean: self.title_changed.emit())
        self.undo.stepped.connect(lambda _kind, text: self.edited.emit(text))
        self._settings_dirty = False
        self.last_added: str | None = None  # id of the node the last add_node made
        self.navigator = Navigator(self.project.model)
        self.navigator.changed.connect(self.navigated.emit)
        self.project.model.events.changed.connect(self.navigator.prune)  # undo may remove it
        self.blocks = BlockEdits(self, home or Path.home() / ".torchcanvas")
        self._library = None
        self._watch_library()

    @property
    def model(self) -> ModelGraph:
        """The network (the class the export writes)."""
        return self.project.model

    @property
    def graph(self) -> ModelGraph:
        """The graph on the canvas, which edits change."""
        return self.navigator.graph

    def analysis(self) -> Analysis:
        """Shapes, counts and problems of the graph on the canvas (cached per revision)."""
        return self.navigator.analysis()

    def _watch_library(self) -> None:
        """Follow the current project's library (opening a file brings another one)."""
        if self._library is not None:
            self._library.changed.disconnect(self._on_library_changed)
        self._library = self.model.library
        self._library.changed.connect(self._on_library_changed)

    def _on_library_changed(self) -> None:
        self.navigator.prune()
        self.library_changed.emit()

    @property
    def dirty(self) -> bool:
        """Unsaved changes?"""
        return not self.undo.is_clean() or self._settings_dirty

    # ----- the lock ---------------------------------------------------------------
    @property
    def locked(self) -> bool:
        """Whether a run is training the design (every edit is refused)."""
        return self.run.training

    def check_editable(self) -> None:
        """Raise DesignLocked while a run trains: the one place that refuses edits."""
        if self.locked:
            raise DesignLocked(READ_ONLY)

    def refusal(self) -> str | None:
        """Why an edit would be refused now (READ_ONLY), or None."""
        try:
            self.check_editable()
        except DesignLocked as refused:
            return str(refused)
        return None

    # ----- files ------------------------------------------------------------------
    def new(self) -> None:
        """An empty project: an Input that fits the default data, wired to an Output (so a
        quick-add after the Input goes in between and the chain stays wired)."""
        project = Project(ModelGraph("Model"), default_training())
        model = project.model
        source = model.add_node("Input", pos=(0, 0), params={"shape": NEW_INPUT_SHAPE})
        model.connect(source, model.add_node("Output", pos=(0, 260)))
        self._replace(project, None, "Untitled")

    def open(self, path, report=None) -> None:
        """Open a project file; ProjectError (or whatever `report(done, total)` raises to
        stop the reading) leaves the current project untouched."""
        project = load_project(path, report)
        self._replace(project, Path(path), Path(path).name, fresh=True)

    def open_example(self, stem: str) -> None:
        """Open a bundled example as an untitled copy (Save asks where)."""
        project = load_project(EXAMPLES / f"{stem}.json")
        self._replace(project, None, f"{stem}.json (example)")

    def adopt(self, project: Project, label: str) -> None:
        """Open a project made in the app (an import); it counts as unsaved."""
        self._replace(project, None, label)
        self._settings_dirty = True
        self.title_changed.emit()

    def restore(self, project: Project, path: str | None, label: str) -> None:
        """Reopen autosaved work (crash recovery) with its file path; it counts as unsaved."""
        self._replace(project, Path(path) if path else None, label)
        self._settings_dirty = True
        self.title_changed.emit()

    def save(self, path=None) -> None:
        """Write the project atomically (to `path`, or where it came from)."""
        target = Path(path) if path else self.path
        if target is None:
            raise ValueError("no file name yet; use Save As")
        save_project(self.project, target)
        self.path, self.label = target, target.name
        self._settings_dirty = False
        self.undo.set_clean()
        self.title_changed.emit()

    def text(self) -> str:
        """The project file's text (for autosave)."""
        return dumps_project(self.project)

    def export(self, path) -> str:
        """Write the generated module; CodegenError if the graph has problems."""
        source = emit_module(self.model).source
        atomic_write(path, source.encode("utf-8"))
        return source

    def _replace(self, project: Project, path: Path | None, label: str, fresh=False) -> None:
        """Show `project`; `fresh`: nothing else holds it (just read), so its graph is moved
        into the document's rather than copied."""
        self.navigator.reset()
        if fresh:
            self.model.take_over(project.model)
        else:
            self.model.replace_with(project.model)
        self._watch_library()
        self.project.training = dict(project.training)
        self.project.direction = project.direction  # the file's layout, not the last one's
        self.project.preprocess, self.project.classes = project.preprocess, project.classes
        self.path, self.label = path, label
        self.undo.clear()
        self._settings_dirty = False
        self.replaced.emit()
        self.title_changed.emit()
        self.edited.emit("")

    @refused_while_locked
    def set_training(self, key: str, value) -> str | None:
        """Change one training setting (one undo step); returns an error message or None."""
        return self.set_trainings({key: value}, f"Set {key.replace('_', ' ')}")

    @refused_while_locked
    def set_trainings(self, changes: dict, text: str) -> str | None:
        """Change training settings that belong together as one undo step (`text`); returns
        the first error message (nothing changed then) or None."""
        new = {}
        for key, value in changes.items():
            try:
                new[key] = TRAINING_INDEX[key].coerce(value)
            except ParamError as error:
                return str(error) if len(changes) == 1 else f"{key}: {error}"
        new = {k: v for k, v in new.items() if self.project.training.get(k) != v}
        if new:
            self.undo.push(SettingsCommand(self, new, text))
        return None

    def set_setting(self, key: str, value, text: str) -> str | None:
        """Change one training setting as an undo step called `text`; returns an error
        message or None (refused while a run trains)."""
        return self.set_trainings({key: value}, text)

    def apply_training(self, values: dict) -> None:
        """Set training settings as they are given (the settings command's do and undo;
        the undo stack's clean mark says whether they are saved)."""
        self.project.training.update(values)
        self.settings_changed.emit()
        self.title_changed.emit()
