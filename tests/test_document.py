"""The editing core without Qt: open, edit, undo, redo, save and reopen a design; the lock
while a run trains; one change event per edit; the plain undo stack's rules."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from torchcanvas.app.editing import (
    EXAMPLES,
    READ_ONLY,
    Command,
    DesignLocked,
    Document,
    UndoStack,
)
from torchcanvas.graph.project import dumps_project


@pytest.fixture
def doc(tmp_path):
    document = Document(home=tmp_path / "home")
    document.open(EXAMPLES / "digit_classifier.json")
    return document


def _edges(graph) -> set[tuple[str, str]]:
    return {(graph.node_name(e.src), graph.node_name(e.dst)) for e in graph.edges()}


def _dropout_between_fc_and_softmax(doc: Document) -> str:
    """Add a Dropout, set its p, and wire fc -> dropout -> log_softmax (four steps)."""
    graph = doc.graph
    assert doc.add_node("Dropout", (0.0, 900.0)) is None
    new = doc.last_added
    assert doc.set_param(new, "p", 0.25) is None
    assert doc.connect(graph.find("fc"), new) is None
    assert doc.connect(new, graph.find("log_softmax")) is None  # replaces fc -> log_softmax
    return new


def test_a_design_is_edited_undone_redone_saved_and_reopened_without_qt(doc, tmp_path):
    graph, original = doc.graph, dumps_project(doc.project)
    new = _dropout_between_fc_and_softmax(doc)
    name = graph.node_name(new)
    assert graph.node_type(new) == "Dropout" and graph.params(new)["p"] == 0.25
    assert {("fc", name), (name, "log_softmax")} <= _edges(graph)
    assert ("fc", "log_softmax") not in _edges(graph)
    assert doc.dirty and doc.undo.undo_text() == f"Connect {name} to log_softmax"
    doc.undo.undo()
    assert ("fc", "log_softmax") in _edges(graph) and (name, "log_softmax") not in _edges(graph)
    doc.undo.redo()
    assert (name, "log_softmax") in _edges(graph) and doc.analysis().ok
    edited = dumps_project(doc.project)
    while doc.undo.can_undo():
        doc.undo.undo()
    assert dumps_project(doc.project) == original and not doc.dirty  # back at the saved state
    while doc.undo.can_redo():
        doc.undo.redo()
    assert dumps_project(doc.project) == edited

    path = tmp_path / "designs" / "digits.json"
    path.parent.mkdir()
    doc.save(path)
    assert not doc.dirty and doc.path == path and doc.label == "digits.json"
    assert os.listdir(path.parent) == ["digits.json"]  # the temporary file was renamed
    again = Document(home=tmp_path / "home")
    again.open(path)
    assert dumps_project(again.project) == edited
    assert _edges(again.graph) == _edges(doc.graph) and not again.dirty


def test_a_failed_save_leaves_the_previous_file_whole(doc, tmp_path, monkeypatch):
    path = tmp_path / "digits.json"
    doc.save(path)
    before = path.read_bytes()
    _dropout_between_fc_and_softmax(doc)

    def refuse(*_args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        doc.save()
    assert path.read_bytes() == before and doc.dirty
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]


def test_a_locked_document_refuses_every_edit_with_one_message(doc):
    graph = doc.graph
    conv1, relu1 = graph.find("conv1"), graph.find("relu1")
    assert doc.rename(relu1, "act1") is None  # one step to undo later
    before, steps = dumps_project(doc.project), doc.undo.count()
    seen = []
    doc.lock_changed.connect(seen.append)
    doc.run.begin("runs/one")
    assert doc.locked and seen == [True]
    refused = [
        doc.add_node("ReLU", (0, 0)),
        doc.add_node("BasicBlock", (0, 0)),  # a block from the library goes the same way
        doc.set_param(conv1, "out_channels", 12),
        doc.connect(graph.find("input"), graph.find("fc")),
        doc.delete([relu1]),
        doc.rename(conv1, "c1"),
        doc.rename_model("Other"),
        doc.moved({conv1: graph.pos(conv1)}, {conv1: (500.0, 500.0)}),
        doc.arrange(),
        doc.set_direction("right", dict),
        doc.paste(doc.copy_data([conv1])),
        doc.set_training("epochs", 3),
        doc.blocks.make_block([conv1, relu1], "Stem", []),
        doc.blocks.repeat(conv1, 2),
    ]
    assert refused == [READ_ONLY] * len(refused)
    for step in (doc.undo.undo, doc.undo.redo, lambda: doc.undo.begin_macro("x")):
        with pytest.raises(DesignLocked, match="read-only until the run ends"):
            step()
    assert dumps_project(doc.project) == before and doc.undo.count() == steps
    doc.run.end()
    assert not doc.locked and seen == [True, False]
    assert doc.set_param(conv1, "out_channels", 12) is None
    doc.undo.undo()
    doc.undo.undo()
    assert graph.node_name(relu1) == "relu1"


def test_one_change_event_per_edit_and_per_macro(doc):
    events, model_changes = [], []
    doc.edited.connect(events.append)
    doc.graph.events.changed.connect(lambda: model_changes.append(1))
    _dropout_between_fc_and_softmax(doc)
    assert len(events) == 4  # add, set, connect, connect
    events.clear()
    model_changes.clear()
    with doc.undo.macro("Insert dropout twice"):
        _dropout_between_fc_and_softmax(doc)
    assert events == ["Insert dropout twice"] and len(model_changes) > 1
    doc.undo.undo()
    doc.undo.redo()
    assert events == ["Insert dropout twice"] * 3
    doc.open_example("mlp")
    assert events[-1] == "" and not doc.undo.can_undo()


def test_importing_the_editing_core_leaves_qt_out(tmp_path):
    code = (
        "import torchcanvas.app.editing, sys; "
        "assert not any(m.startswith(('PySide6','pyqtgraph')) for m in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


class _Note(Command):
    """Appends to a list; fails on redo when told to."""

    def __init__(self, log: list, item: str, fail: bool = False) -> None:
        super().__init__(f"Note {item}")
        self.log, self.item, self.fail = log, item, fail

    def redo(self) -> None:
        if self.fail:
            raise ValueError(f"cannot note {self.item}")
        self.log.append(self.item)

    def undo(self) -> None:
        self.log.remove(self.item)


def test_the_undo_stack_keeps_qundostacks_rules():
    log, cleans = [], []
    stack = UndoStack()
    stack.clean_changed.connect(cleans.append)
    stack.push(_Note(log, "a"))
    stack.push(_Note(log, "b"))
    stack.set_clean()
    assert (stack.index(), stack.count(), stack.is_clean(), cleans) == (2, 2, True, [False, True])
    stack.undo()
    assert log == ["a"] and stack.redo_text() == "Note b" and not stack.is_clean()
    stack.push(_Note(log, "c"))  # drops "b": the saved state is out of reach
    assert stack.count() == 2 and not stack.can_redo()
    stack.undo()
    stack.redo()
    assert not stack.is_clean()
    with pytest.raises(ValueError):
        stack.push(_Note(log, "d", fail=True))
    assert stack.count() == 2 and log == ["a", "c"]  # a command that failed is not recorded
    stack.begin_macro("two")
    stack.push(_Note(log, "e"))
    stack.push(_Note(log, "f"))
    assert not stack.can_undo()  # not in the middle of a macro
    stack.end_macro()
    assert stack.undo_text() == "two" and stack.count() == 3
    stack.undo()
    assert log == ["a", "c"]
    stack.redo()
    with stack.macro("nothing") as _:
        pass
    assert stack.undo_text() == "nothing"  # an empty macro is still a step, as in Qt
    with pytest.raises(ValueError), stack.macro("half"):
        stack.push(_Note(log, "g"))
        stack.push(_Note(log, "h", fail=True))
    assert log == ["a", "c", "e", "f"] and stack.undo_text() == "nothing"  # all or nothing
    stack.clear()
    assert (stack.count(), stack.is_clean(), stack.undo_text()) == (0, True, "")


def test_the_layout_direction_is_saved_undone_and_reopened(doc, tmp_path):
    assert doc.set_direction("right", dict) is None and doc.direction == "right"
    doc.undo.undo()
    assert doc.direction == "down"
    doc.undo.redo()
    doc.save(tmp_path / "sideways.json")
    doc.open_example("mlp")  # a file laid out top to bottom
    assert doc.direction == "down"
    doc.open(tmp_path / "sideways.json")
    assert doc.direction == "right"
