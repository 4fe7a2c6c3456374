"""The training view at small and default sizes: legends, ticks, progress after stop, failure
and finish, the results panel, and where file dialogs start."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtGui import QImage, QPainter
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog

from tests.ui.helpers import broken_mnist, press, type_into
from torchcanvas.app.ui.dialogs import Dialogs
from torchcanvas.app.ui.results import EMPTY_TEXT, ResultsView

CTRL = Qt.KeyboardModifier.ControlModifier
LONG = 60_000  # ms; the first run spawns a process that imports torch
SERIES = {
    "loss": ["train loss", "train loss, smoothed", "validation loss"],
    "acc": ["train accuracy", "validation accuracy"],
    "lr": ["learning rate"],
}


def choose(box, value) -> None:
    """Pick the entry whose data is `value` in a combo box, with the keyboard."""
    box.setFocus()
    while box.currentData() != value and box.currentIndex() < box.count() - 1:
        QTest.keyClick(box, Qt.Key.Key_Down)
    while box.currentData() != value and box.currentIndex() > 0:
        QTest.keyClick(box, Qt.Key.Key_Up)
    assert box.currentData() == value


def set_epochs(window, epochs: int) -> None:
    """Type the number of epochs into the Training panel."""
    box = window.training_panel.fields["epochs"]
    field = box.lineEdit()
    field.setFocus()
    field.selectAll()
    QTest.keyClicks(field, str(epochs))
    QTest.keyClick(field, Qt.Key.Key_Return)
    assert box.value() == epochs


def open_digits(window, epochs: int) -> None:
    window.document.open_example("digits_cnn")
    choose(window.training_panel.fields["device"], "cpu")
    set_epochs(window, epochs)


def drawn_texts(axis) -> list:
    """The rectangles of the tick labels the axis draws at its current size."""
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [rect for rect, _flags, _text in specs[2]] if specs else []


def assert_readable(window) -> None:
    """Every series in a legend, legends above the data, no tick labels overlapping."""
    curves = window.curves
    assert curves.legend_names() == SERIES
    for plot in curves.plots.values():
        item = plot.getPlotItem()
        legend = item.legend.sceneBoundingRect()
        data = item.vb.sceneBoundingRect()
        assert legend.bottom() <= data.top() + 1, "the legend covers the data"
        assert data.height() > 20, "no room left for the curves"
        for side in ("left", "bottom"):
            rects = drawn_texts(item.getAxis(side))
            for a, b in zip(rects, rects[1:]):
                assert not a.intersects(b), f"{side} tick labels overlap"


@pytest.mark.parametrize("size", [(1280, 720), (1400, 900)])
@pytest.mark.slow
def test_a_finished_run_reads_cleanly_at_small_and_default_size(window, qtbot, size):
    window.resize(*size)
    panel = window.training_panel
    assert not window.results.has_results()
    assert window.results.pages.currentWidget().text() == EMPTY_TEXT  # no empty matrix
    open_digits(window, epochs=2)
    panel.train_button.click()
    qtbot.waitUntil(lambda: not window.training.running, timeout=LONG)
    assert panel.progress.format() == "done · 2 epochs"
    assert panel.progress.value() == panel.progress.maximum()
    assert "Finished after 2 epoch(s)" in panel.status.text()
    window.docks["curves"].raise_()
    qtbot.wait(50)
    assert_readable(window)
    assert window.results.has_results() and window.results.matrix_plot.isVisible()
    assert len(window.results.labels) == 16


@pytest.mark.slow
def test_stop_leaves_no_rate_or_eta_behind(window, qtbot):
    panel = window.training_panel
    open_digits(window, epochs=300)
    panel.train_button.click()
    qtbot.waitUntil(lambda: "ETA" in panel.progress.format(), timeout=LONG)
    panel.stop_button.click()
    assert panel.progress.format().startswith("stopping at epoch")
    qtbot.waitUntil(lambda: not window.training.running, timeout=LONG)
    text = panel.progress.format()
    assert text.startswith("stopped at epoch ") and "/300 · step " in text
    assert "ETA" not in text and "samples/s" not in text
    assert "Stopped after" in panel.status.text()
    assert panel.train_button.isEnabled()


@pytest.mark.slow
def test_a_failed_start_says_so_in_the_bar_and_the_status(window, qtbot, tmp_path):
    panel = window.training_panel
    window.document.open_example("small_cnn")
    choose(panel.fields["device"], "cpu")
    choose(panel.fields["data"], "mnist")
    type_into(qtbot, panel.fields["data_root"], str(broken_mnist(tmp_path / "nothing")))
    assert window.document.project.training["data_root"] == str(tmp_path / "nothing")
    panel.train_button.click()
    assert panel.progress.format() == "starting…"
    qtbot.waitUntil(lambda: not window.training.running, timeout=LONG)
    assert panel.progress.format() == "failed to start"
    assert panel.status.text().startswith("Training failed: the MNIST files in")
    assert "cannot be read" in panel.status.text()
    assert panel.train_button.isEnabled()


def test_a_start_that_raises_is_reported_and_nothing_runs(window, monkeypatch):
    import torchcanvas.app.ui.training_controller as controller

    class Refused(controller.TrainingSession):
        def start(self):
            raise OSError("no more processes")

    monkeypatch.setattr(controller, "TrainingSession", Refused)
    panel = window.training_panel
    open_digits(window, epochs=1)
    panel.train_button.click()
    assert not window.training.running
    assert panel.progress.format() == "not started"
    assert panel.status.text() == "Could not start training: no more processes"
    assert panel.train_button.isEnabled()


@pytest.mark.slow
def test_results_for_many_long_class_names_stay_readable(qtbot):
    view = ResultsView()
    qtbot.addWidget(view)
    view.resize(760, 300)
    view.show()
    qtbot.waitExposed(view)
    n = 60
    names = [f"{'very_long_category_' * (i % 3)}class {i}" for i in range(n)]
    rng = np.random.default_rng(0)
    matrix = rng.integers(0, 3, (n, n)) + 20 * np.eye(n, dtype=int)
    probe = {
        "images": rng.random((16, 3, 12, 12)).tolist(),
        "true": list(range(16)),
        "predicted": [(7 * i) % n for i in range(16)],
    }
    event = {
        **{"val_acc": 0.5, "val_loss": 1.0, "history": [{}], "reason": "completed"},
        **{"classes": names, "confusion": matrix.tolist(), "probe": probe},
    }
    view.show_results(event)
    for side in ("left", "bottom"):  # (an axis widens to its labels when painted)
        qtbot.waitUntil(lambda s=side: drawn_texts(view.matrix_plot.getAxis(s)) != [])
    for side in ("left", "bottom"):
        axis = view.matrix_plot.getAxis(side)
        rects = drawn_texts(axis)
        assert len(rects) >= 5
        assert all(not a.intersects(b) for a, b in zip(rects, rects[1:]))
    width = view.probes.width() / 4
    for label in view._probe_labels:
        assert label.item.boundingRect().width() <= width
    # Hovering a cell names both classes in full.
    vb = view.matrix_plot.getPlotItem().vb
    scene_point = vb.mapViewToScene(QPointF(2.5, 1.5))  # row 1, column 2
    QTest.mouseMove(view.matrix_plot.viewport(), view.matrix_plot.mapFromScene(scene_point))
    qtbot.waitUntil(lambda: view.matrix_plot.toolTip() != "")
    assert view.matrix_plot.toolTip() == (
        f"true {names[1]}, predicted {names[2]}: {matrix[1, 2]} sample"
        + ("s" if matrix[1, 2] != 1 else "")
    )


def _answer_file_dialog(seen: dict, answer: str | None) -> None:
    """Read where the open file dialog starts and what it proposes, then answer it."""
    dialog = QApplication.activeModalWidget()
    if not isinstance(dialog, QFileDialog):
        QTimer.singleShot(20, lambda: _answer_file_dialog(seen, answer))
        return
    seen["folder"] = dialog.directory().absolutePath()
    seen["files"] = dialog.selectedFiles()
    if answer is None:
        dialog.reject()
    else:
        dialog.selectFile(answer)
        dialog.accept()


@pytest.mark.slow
def test_file_dialogs_start_in_the_project_folder_and_propose_its_name(
    window, qtbot, tmp_path, monkeypatch
):
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    (tmp_path / "user").mkdir()
    folder = tmp_path / "projects"
    folder.mkdir()
    window.document.open_example("digit_classifier")
    window.dialogs.save_paths = [str(folder / "digit_classifier.json")]
    assert window.save_project()
    window.dialogs = Dialogs(window)  # the real file dialogs from here on
    seen: dict = {}
    QTimer.singleShot(0, lambda: _answer_file_dialog(seen, None))
    press(window, Qt.Key.Key_E, CTRL)
    qtbot.waitUntil(lambda: "folder" in seen)
    assert seen["folder"] == str(folder)
    assert seen["files"] == [str(folder / "digit_classifier.py")]

    # An untitled project: the folder used last.
    window.document.open_example("digits_cnn")
    seen.clear()
    target = tmp_path / "elsewhere"
    target.mkdir()
    window.dialogs.last_folder = None
    QTimer.singleShot(0, lambda: _answer_file_dialog(seen, str(target / "mine.py")))
    press(window, Qt.Key.Key_E, CTRL)
    qtbot.waitUntil(lambda: "folder" in seen)
    assert seen["files"] == [str(tmp_path / "user" / "digits_cnn.py")]
    qtbot.waitUntil(lambda: (target / "mine.py").exists())
    seen.clear()
    QTimer.singleShot(0, lambda: _answer_file_dialog(seen, None))
    press(window, Qt.Key.Key_E, CTRL)
    qtbot.waitUntil(lambda: "folder" in seen)
    assert seen["folder"] == str(target)


def test_help_lists_the_train_shortcut(window):
    help_menu = next(
        action.menu()
        for action in window.menuBar().actions()
        if action.text().replace("&", "") == "Help"
    )
    shortcuts = next(a for a in help_menu.actions() if "Shortcuts" in a.text())
    shortcuts.trigger()
    assert "Ctrl+T" in window.dialogs.infos[-1][1]


def test_results_panel_is_plain_text_before_a_run(window):
    window.docks["results"].raise_()
    results = window.results
    assert results.pages.currentWidget().text() == EMPTY_TEXT
    assert not results.matrix_plot.isVisible() and not results.probes.isVisible()
    assert results.pages.currentWidget().isVisible()
