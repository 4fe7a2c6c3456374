"""Predict… on the Results tab: chosen or dropped files, the last run's weights, the same
answers `torchcanvas predict` prints."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from tests.conftest import EXAMPLES
from tests.test_predict import image_project
from torchcanvas.app.__main__ import main
from torchcanvas.app.ui.predictions import NO_WEIGHTS

WINE = EXAMPLES / "wine_mlp.json"


def _train(project, out, epochs: int) -> None:
    argv = ["train", str(project), "--epochs", str(epochs), "--device", "cpu", "--out", str(out)]
    assert main(argv) == 0


@pytest.mark.slow
def test_predict_on_chosen_rows_shows_what_the_cli_prints(window, tmp_path, capsys):
    run = tmp_path / "run"
    _train(WINE, run, 3)
    table = tmp_path / "rows.csv"
    table.write_text("\n".join((EXAMPLES / "data" / "wine.csv").read_text().splitlines()[:4]))
    assert window.open_project(str(WINE))
    predict = window.actions_by_name["predict"]
    predict.trigger()
    assert window.dialogs.errors[-1] == ("Predict", NO_WEIGHTS)
    window.training.use_weights(run / "model.pt")
    window.dialogs.open_lists = [[str(table)]]
    predict.trigger()
    capsys.readouterr()
    assert main(["predict", str(WINE), "--weights", str(run), str(table), "--top", "3"]) == 0
    printed = [line.split(None, 1) for line in capsys.readouterr().out.splitlines()]
    assert window.predictions.texts() == [f"{label}\n{text}" for label, text in printed]
    assert window.predictions.texts()[0].startswith("rows.csv:2\nclass_")
    window.predictions.button.click()  # nothing chosen: the list stays
    assert len(window.predictions.texts()) == 3


def _drop(widget, paths) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(
        QPointF(5, 5),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    widget.dropEvent(event)


@pytest.mark.slow
def test_images_dropped_on_results_show_with_their_classes(window, tmp_path):
    project = image_project(tmp_path)
    _train(project, tmp_path / "run", 1)
    assert window.open_project(str(project))
    window.training.use_weights(tmp_path / "run")
    images = [tmp_path / "pets" / "cat" / "0.png", tmp_path / "pets" / "dog" / "2.png"]
    tab = window.docks["results"].widget()
    _drop(tab, images)
    texts = window.predictions.texts()
    assert [t.split("\n")[0] for t in texts] == ["0.png", "2.png"]
    assert all({"cat", "dog", "fox"} == set(t.split("\n")[1].split()[::2]) for t in texts)
    assert not window.predictions.list.item(0).icon().isNull()  # the picture is shown
    (tmp_path / "broken.png").write_text("no picture")
    _drop(tab, [tmp_path / "broken.png"])
    title, text = window.dialogs.errors[-1]
    assert title == "Predict" and "broken.png: not an image that can be read" in text
    assert len(window.predictions.texts()) == 2  # the last answers stay
    window.open_project(str(WINE))
    assert not window.predictions.texts()
