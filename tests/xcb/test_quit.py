"""A fresh window on a 1280×720 screen fits it; Ctrl+Q quits (asking about unsaved work,
stopping a run first); the next window opens where the last one was on that screen."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QApplication

from tests.xcb.conftest import SCREEN
from tests.xcb.xhelpers import close_window, keys, open_window


class RunningSession:
    """A run in progress; records when it was killed."""

    def __init__(self, log: list) -> None:
        self.log, self.running = log, True

    def set_capture(self, *args) -> None:
        pass

    def kill(self) -> None:
        self.log.append("killed")
        self.running = False


def inside(rect: QRect, area: QRect) -> bool:
    return area.contains(rect.topLeft()) and area.contains(rect.bottomRight())


def test_fresh_window_fits_the_screen_and_quit_remembers_it(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHCANVAS_HOME", str(tmp_path))
    win = open_window(qtbot)
    area = win.screen().availableGeometry()
    assert (area.width(), area.height()) == SCREEN
    assert inside(win.frameGeometry(), area), (win.frameGeometry(), area)
    for name, dock in win.docks.items():  # every dock on the screen, the tabbed ones too
        top_left = dock.mapToGlobal(dock.rect().topLeft())
        assert inside(QRect(top_left, dock.size()), area) or dock.visibleRegion().isEmpty(), name
    train = win.toolbar.widgetForAction(win.actions_by_name["train"])
    assert train is not None and not train.visibleRegion().isEmpty()
    win.show_training_views()  # as a run shows them: Train, Stop and the progress in sight
    panel = win.training_panel
    for widget in (panel.train_button, panel.stop_button, panel.progress):
        # whole, not cut by the panel's scroll area either
        qtbot.waitUntil(lambda w=widget: w.visibleRegion().boundingRect() == w.rect(), timeout=3000)
        corner = widget.mapToGlobal(widget.rect().bottomRight())
        assert area.contains(corner), widget

    win.setGeometry(40, 30, 1000, 600)
    qtbot.waitUntil(lambda: win.width() == 1000, timeout=3000)
    win.document.open_example("mlp")
    win.document.delete([win.document.graph.id_of("fc1")])
    assert win.document.dirty
    log = []
    win.training.session = RunningSession(log)
    win.dialogs.ask_answers.append(True)  # Stop training and quit? Yes
    win.dialogs.ask_save = lambda label: log.append("asked to save") or "discard"
    closed = win.geometry()  # as the user left it (its docks may have widened it since)
    keys("Ctrl+Q")
    qtbot.waitUntil(lambda: not win.isVisible(), timeout=3000)
    assert log[:2] == ["killed", "asked to save"]  # the run stops before the Save prompt

    again = open_window(qtbot)
    assert closed.topLeft() == QPoint(40, 30) and inside(closed, area)
    # Where it was left; as large, or wider when quitting widened it (the stopped run's
    # status can: noted in issue 21), and on the screen.
    restored = again.geometry()
    assert restored.topLeft() == closed.topLeft() and restored.height() == closed.height()
    assert closed.width() <= restored.width() and inside(again.frameGeometry(), area)
    assert QApplication.activeWindow() is again
    close_window(again)
