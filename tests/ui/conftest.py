"""GUI test set-up: an isolated home folder and a window whose dialogs are scripted."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

UI_TESTS = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(items) -> None:
    """Mark every test under tests/ui `gui` (make test-fast keeps only the `smoke` ones)."""
    for item in items:
        if UI_TESTS in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.gui)


@pytest.fixture(autouse=True)
def no_exception_escapes_a_slot(monkeypatch):
    """Fail the test when an exception reaches sys.excepthook (an escape from a Qt slot).

    pytest-qt captures the same way while the test body runs; this also covers set-up and
    tear-down (closing windows, timers firing late).
    """
    escaped = []
    monkeypatch.setattr(sys, "excepthook", lambda *info: escaped.append(info))
    yield
    assert not escaped, f"an exception escaped a slot: {escaped[0][0].__name__}: {escaped[0][1]}"


class ScriptedDialogs:
    """Answers the window's questions from queues; records what it was told."""

    def __init__(self) -> None:
        self.open_paths: list[str] = []
        self.save_paths: list[str] = []
        self.open_lists: list[list[str]] = []
        self.save_answers: list[str] = []
        self.ask_answers: list[bool] = []
        self.errors: list[tuple[str, str]] = []
        self.weights_answers: list[str | None] = []
        self.weights_reports: list = []
        self.infos: list[tuple[str, str]] = []
        self.int_answers: list[int | None] = []
        self.text_answers: list[str | None] = []

    def open_path(self, *args, **kwargs):
        return self.open_paths.pop(0) if self.open_paths else None

    def open_files(self, *args, **kwargs):
        return self.open_lists.pop(0) if self.open_lists else []

    def save_path(self, *args, **kwargs):
        return self.save_paths.pop(0) if self.save_paths else None

    def ask_save(self, label: str) -> str:
        return self.save_answers.pop(0) if self.save_answers else "cancel"

    def ask(self, title: str, text: str) -> bool:
        return self.ask_answers.pop(0) if self.ask_answers else False

    def ask_int(self, title: str, text: str, value: int, low: int, high: int):
        return self.int_answers.pop(0) if self.int_answers else None

    def ask_text(self, title: str, text: str, value: str = ""):
        return self.text_answers.pop(0) if self.text_answers else None

    def weights_choice(self, report, file_name: str):
        self.weights_reports.append(report)
        return self.weights_answers.pop(0) if self.weights_answers else None

    def error(self, title: str, text: str) -> None:
        self.errors.append((title, text))

    def info(self, title: str, text: str) -> None:
        self.infos.append((title, text))

    def reference(self, title: str, text: str) -> None:
        self.infos.append((title, text))


def make_window(qtbot):
    """A MainWindow with scripted dialogs, shown offscreen."""
    from torchcanvas.app.ui.main_window import MainWindow

    win = MainWindow()
    win.dialogs = ScriptedDialogs()
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    return win


def close_window(win) -> None:
    """Quit as a user would, without prompts (this also hands the clipboard back)."""
    win.document.undo.set_clean()
    win.document._settings_dirty = False
    if win.training.running:
        win.training.kill()
    win.close()


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    """A MainWindow with an empty project."""
    monkeypatch.setenv("TORCHCANVAS_HOME", str(tmp_path / "home"))
    win = make_window(qtbot)
    yield win
    close_window(win)
