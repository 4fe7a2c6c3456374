"""`torchcanvas predict`: a run's classes or values for CSV rows and image files agree with
the exported `.py` + `model.pt` + its `preprocess()`; bad inputs are one message, exit 2."""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import EXAMPLES
from tests.datafiles import write_image_folder
from torchcanvas.app.__main__ import main
from torchcanvas.app.train.predict import PredictError, load_predictor, predict_files
from torchcanvas.graph.project import load_project

WINE, DIABETES = EXAMPLES / "wine_mlp.json", EXAMPLES / "diabetes_mlp.json"
IMAGE_SIZE = (3, 16, 16)


def _train(project: Path, out: Path, epochs: int = 3) -> Path:
    args = ["train", str(project), "--epochs", str(epochs), "--device", "cpu", "--out", str(out)]
    assert main(args) == 0
    return out


def _exported(project: Path, run: Path, folder: Path):
    """The exported module's class, built and loaded with model.pt, and the module."""
    path = folder / f"{project.stem}_export.py"
    assert main(["export", str(project), "-o", str(path), "--weights", str(run)]) == 0
    spec = importlib.util.spec_from_file_location(f"user_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = getattr(module, load_project(project).model.name)()
    model.load_state_dict(torch.load(run / "model.pt", weights_only=True))
    return model.eval(), module


def _printed(capsys, argv) -> list[tuple[str, list[tuple[str, float]]]]:
    """(label, [(name, number)]) per line `torchcanvas predict` printed."""
    capsys.readouterr()
    assert main(["predict", *argv]) == 0
    lines = []
    for line in capsys.readouterr().out.splitlines():
        label, *words = line.split()
        lines.append((label, [(n, float(v)) for n, v in zip(words[::2], words[1::2])]))
    return lines


def _rows(table: Path, columns: list[str]) -> np.ndarray:
    with table.open(newline="") as handle:
        return np.array([[float(r[c]) for c in columns] for r in csv.DictReader(handle)])


@pytest.fixture(scope="module")
def wine_run(tmp_path_factory):
    return _train(WINE, tmp_path_factory.mktemp("wine") / "run")


@pytest.mark.slow
def test_wine_rows_get_the_classes_the_exported_py_gives(wine_run, tmp_path, capsys):
    table = EXAMPLES / "data" / "wine.csv"
    printed = _printed(capsys, [str(WINE), "--weights", str(wine_run), str(table), "--top", "3"])
    model, module = _exported(WINE, wine_run, tmp_path)
    with torch.no_grad():
        probabilities = torch.softmax(model(module.preprocess(_rows(table, module.FEATURES))), 1)
    assert len(printed) == len(probabilities) == 178
    assert printed[0][0] == "wine.csv:2"  # the first row of values is the file's line 2
    for (_, pairs), p in zip(printed, probabilities):
        names = [module.CLASSES[i] for i in p.argsort(descending=True, stable=True)]
        assert [n for n, _ in pairs] == names[:3] or max(p) - sorted(p)[-2] < 1e-3
        for name, value in pairs:
            assert value == pytest.approx(float(p[module.CLASSES.index(name)]), abs=6e-4)
    predictions = predict_files(load_predictor(load_project(WINE), wine_run / "model.pt"), [table])
    best = torch.tensor(
        [dict(x.pairs)[module.CLASSES[int(p.argmax())]] for x, p in zip(predictions, probabilities)]
    )
    assert torch.allclose(best, probabilities.max(1).values, atol=1e-6)


@pytest.mark.slow
def test_diabetes_rows_get_the_values_the_exported_py_gives(tmp_path, capsys):
    run = _train(DIABETES, tmp_path / "run")
    table = EXAMPLES / "data" / "diabetes.csv"
    printed = _printed(capsys, [str(DIABETES), "--weights", str(run), str(table)])
    model, module = _exported(DIABETES, run, tmp_path)
    with torch.no_grad():
        values = model(module.preprocess(_rows(table, module.FEATURES))).reshape(-1)
    assert [names for _, names in printed][0][0][0] == "progression"
    assert [v for _, pairs in printed for _, v in pairs] == pytest.approx(values.tolist(), rel=1e-3)
    predictions = predict_files(load_predictor(load_project(DIABETES), run), [table])
    mine = torch.tensor([p.pairs[0][1] for p in predictions])
    assert not predictions[0].classes and torch.allclose(mine, values, rtol=1e-5, atol=1e-5)


def image_project(tmp_path: Path) -> Path:
    """A small CNN of a 3x16x16 Input and 3 classes, trained on an image folder."""
    root = write_image_folder(tmp_path / "pets")
    data = json.loads((EXAMPLES / "small_cnn.json").read_text())
    for node in data["nodes"]:
        if node["type"] == "Input":
            node["params"]["shape"] = list(IMAGE_SIZE)
        if node["type"] == "Linear":
            node["params"]["out_features"] = 3
    data["training"].update(data="image_folder", data_root=str(root), batch_size=8)
    path = tmp_path / "pets.json"
    path.write_text(json.dumps(data))
    return path


@pytest.fixture(scope="module")
def pets(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pets")
    project = image_project(folder)
    return project, _train(project, folder / "run", epochs=1)


@pytest.mark.slow
def test_two_images_get_the_classes_the_exported_py_gives(pets, tmp_path, capsys):
    from PIL import Image

    project, run = pets
    images = [project.parent / "pets" / "cat" / "0.png", project.parent / "pets" / "fox" / "5.png"]
    printed = _printed(capsys, [str(project), "--weights", str(run), *map(str, images)])
    assert [label for label, _ in printed] == ["0.png", "5.png"]
    model, module = _exported(project, run, tmp_path)
    raw = np.stack(  # what the image folder source does: RGB, resized bilinear, 0..255
        [np.asarray(Image.open(p).convert("RGB").resize((16, 16), Image.BILINEAR)) for p in images]
    ).transpose(0, 3, 1, 2)
    with torch.no_grad():
        probabilities = torch.softmax(model(module.preprocess(raw.astype(np.float32))), 1)
    for (_, pairs), p in zip(printed, probabilities):
        assert {n for n, _ in pairs} == {"cat", "dog", "fox"}
        for name, value in pairs:
            assert value == pytest.approx(float(p[module.CLASSES.index(name)]), abs=6e-4)
    predictions = predict_files(load_predictor(load_project(project), run), images, top=1)
    mine = torch.tensor([p.pairs[0][1] for p in predictions])
    assert torch.allclose(mine, probabilities.max(1).values, atol=1e-6)


def _refused(capsys, argv) -> str:
    capsys.readouterr()
    assert main(["predict", *argv]) == 2
    return capsys.readouterr().err


@pytest.mark.slow
def test_bad_images_are_one_message_each(pets, tmp_path, capsys):
    project, run = pets
    good = (project.parent / "pets" / "dog" / "1.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(good[: len(good) // 2])
    (tmp_path / "notes.png").write_text("not a picture\n")
    argv = [str(project), "--weights", str(run)]
    for name in ("cut.png", "notes.png"):
        err = _refused(capsys, [*argv, str(tmp_path / name)])
        assert f"{name}: not an image that can be read" in err and len(err.splitlines()) == 1
    assert "missing.png: no such file" in _refused(capsys, [*argv, str(tmp_path / "missing.png")])
    (tmp_path / "rows.csv").write_text("a,b\n1,2\n")
    assert "trained on images" in _refused(capsys, [*argv, str(tmp_path / "rows.csv")])


@pytest.mark.slow
def test_bad_tables_and_weights_are_one_message_each(wine_run, tmp_path, capsys):
    argv = [str(WINE), "--weights", str(wine_run)]
    lines = (EXAMPLES / "data" / "wine.csv").read_text().splitlines()
    short = [",".join(line.split(",")[1:]) for line in lines[:3]]  # no alcohol column
    (tmp_path / "short.csv").write_text("\n".join(short) + "\n")
    err = _refused(capsys, [*argv, str(tmp_path / "short.csv")])
    assert "short.csv has no feature column 'alcohol'" in err
    header = lines[0].split(",")
    cells = lines[2].split(",")
    cells[header.index("hue")] = "n/a"
    (tmp_path / "text.csv").write_text("\n".join([lines[0], lines[1], ",".join(cells)]) + "\n")
    err = _refused(capsys, [*argv, str(tmp_path / "text.csv")])
    assert "text.csv: row 3, column 'hue': 'n/a' is not a number" in err
    (tmp_path / "p.png").write_bytes(b"\x89PNG")
    assert "trained on table rows" in _refused(capsys, [*argv, str(tmp_path / "p.png")])
    err = _refused(capsys, [str(DIABETES), "--weights", str(wine_run), str(tmp_path / "p.png")])
    assert "does not fit exactly" in err and "head: mismatched" in err
    with pytest.raises(PredictError, match="no such file"):
        predict_files(load_predictor(load_project(WINE), wine_run), [tmp_path / "none.csv"])


@pytest.mark.slow  # imports torchvision's datasets: seconds on a busy machine
def test_an_image_is_read_as_the_image_folder_source_reads_it(tmp_path):
    from torchcanvas.app.train.images import image_spec
    from torchcanvas.app.train.predict import read_image
    from torchcanvas.app.train.sources import load_image_folder

    root = write_image_folder(tmp_path / "pets", per_class=2)
    for shape in ((1, 12, 10), (3, 16, 16)):  # RGB files to a grayscale Input, and as they are
        settings = {"data_root": str(root)}
        x, _, classes, _, _held = load_image_folder(settings, root, shape, False)
        files = sorted((root / "cat").glob("*.png"))
        assert classes == ["cat", "dog", "fox"]
        assert torch.equal(
            torch.stack([read_image(f, image_spec(shape)) for f in files]), x[: len(files)]
        )
