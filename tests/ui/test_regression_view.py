"""A regression run in the window: R² curves, predicted-vs-true and residual plots, and back
to accuracy and the confusion matrix for a classification run."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.ui.test_training_ui import LONG


def train(window, qtbot, example: str, epochs: int) -> None:
    """Open a bundled example and press Train; wait for the run to end."""
    window.open_example(example)
    for key, value in {"epochs": epochs, "device": "cpu"}.items():
        window.document.set_training(key, value)
    window.training.refresh_settings()
    panel = window.training_panel
    qtbot.waitUntil(panel.train_button.isEnabled, timeout=LONG)
    QTest.mouseClick(panel.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.results.has_results(), timeout=LONG)
    qtbot.waitUntil(lambda: not window.training.running, timeout=LONG)


@pytest.mark.slow
def test_a_regression_run_shows_r2_and_its_scatter_then_a_classifier_its_matrix(window, qtbot):
    train(window, qtbot, "diabetes_mlp", 6)
    curves, results = window.curves, window.results
    curves.tick(force=True)
    assert curves.legend_names()["acc"] == ["validation R²"]
    assert curves.plots["acc"].getAxis("left").labelText == "R²"
    rows = list(csv.DictReader((window.training.weights_path.parent / "metrics.csv").open()))
    _x, r2 = curves.current.items["val_r2"].getData()
    assert np.allclose(r2, [float(row["val_r2"]) for row in rows])
    assert "Validation R²" in results.summary.text() and "MAE" in results.summary.text()
    assert "R²" in window.training_panel.status.text()
    assert results.regression.isVisible() and not results.matrix_plot.isVisible()
    true, predicted = results.regression.points.getData()
    assert len(true) == 88  # every validation sample of 442 at val_split 0.2
    assert np.allclose(results.regression.residual_values(), predicted - true)
    assert results.regression.scatter_plot.getAxis("bottom").labelText == "true progression"

    window.dialogs.save_answers = ["discard"]  # the edited epochs of the first project
    # Train right after a run: the spare process started then is still starting up (it
    # died unpickling its job queue when the queue was dropped at the hand-over)
    train(window, qtbot, "wine_mlp", 2)
    assert window.document.project.training["task"] == "classification"
    curves.tick(force=True)
    assert curves.legend_names()["acc"] == ["train accuracy", "validation accuracy"]
    assert results.matrix_plot.isVisible() and not results.regression.isVisible()
    assert "Validation accuracy" in results.summary.text()


def test_large_losses_get_short_tick_labels():
    from torchcanvas.app.ui.plots import compact_number

    assert [compact_number(v) for v in (40_000, 2_500_000, 12_345, 950)] == [
        "40k",
        "2.5M",
        "12.3k",
        "950",
    ]
