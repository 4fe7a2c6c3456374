"""Normalization travels with the weights: preprocess.json, eval, resume and the exported
preprocess() all use the training split's statistics, and reproduce the app exactly."""

from __future__ import annotations

import csv
import importlib.util
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import EXAMPLES
from tests.reference import ruff_problems
from torchcanvas.app.__main__ import main
from torchcanvas.app.train.data import load_data, normalize, split_indices
from torchcanvas.app.train.preprocess import find_record, read_record
from torchcanvas.graph.project import load_project, save_project

DIGITS = EXAMPLES / "digits_cnn.json"
WINE = EXAMPLES / "wine_mlp.json"

USER_SCRIPT = """
import importlib.util, json, sys
from pathlib import Path
import numpy as np, torch
from sklearn.datasets import load_digits

folder = Path(sys.argv[1])
spec = importlib.util.spec_from_file_location("digits_model", folder / "digits_model.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
model = module.DigitsCNN()
model.load_state_dict(torch.load(folder / "model.pt", weights_only=True))
model.eval()
digits = load_digits()
raw, labels = digits.images[:, None], digits.target  # pixel values 0..16, as scikit-learn has them
found = {}
for split, index in json.loads((folder / "splits.json").read_text()).items():
    x = module.preprocess(raw[index])
    with torch.no_grad():
        predicted = torch.cat([model(batch).argmax(1) for batch in x.split(512)])
    matrix = np.zeros((10, 10), dtype=int)
    for true, guess in zip(labels[index], predicted.tolist()):
        matrix[true, guess] += 1
    found[split] = {"matrix": matrix.tolist(), "classes": module.CLASSES}
print(json.dumps(found))
"""


def eval_output(capsys, project, weights, split: str = "val") -> tuple[str, list[list[int]]]:
    """`torchcanvas eval`'s accuracy line and its confusion matrix, read from its output."""
    assert main(["eval", str(project), "--weights", str(weights), "--split", split]) == 0
    lines = capsys.readouterr().out.splitlines()
    accuracy = next(line for line in lines if line.startswith("accuracy:"))
    start = next(i for i, line in enumerate(lines) if line.startswith("true \\ predicted"))
    matrix = [[int(v) for v in line.split()[1:]] for line in lines[start + 1 :]]
    return accuracy, matrix


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """The digits CNN trained for two epochs from the command line."""
    out = tmp_path_factory.mktemp("digits") / "run"
    args = ["train", str(DIGITS), "--epochs", "2", "--device", "cpu", "--out", str(out)]
    assert main(args) == 0
    return out


def test_the_run_folder_holds_the_training_statistics(digits_run):
    record = read_record(digits_run / "preprocess.json")
    settings = {**load_project(DIGITS).training, "device": "cpu"}
    train = load_data(settings, (1, 8, 8))
    assert record["inputs"][0]["mean"] == train.mean and record["inputs"][0]["std"] == train.std
    assert record["inputs"][0]["shape"] == [1, 8, 8] and record["scale"] == 16.0
    assert record["class_names"] == [str(i) for i in range(10)]
    assert record["source"] == "digits"
    manifest = json.loads((digits_run / "manifest.json").read_text())
    assert manifest["files"]["preprocess"]["name"] == "preprocess.json"
    checkpoint = torch.load(digits_run / "checkpoint.pt", weights_only=True)
    assert checkpoint["preprocess"] == record


@pytest.mark.slow
def test_the_exported_py_and_model_pt_reproduce_eval_exactly(digits_run, tmp_path, capsys):
    exported = tmp_path / "user" / "digits_model.py"
    exported.parent.mkdir()
    args = ["export", str(DIGITS), "-o", str(exported), "--weights", str(digits_run)]
    assert main(args) == 0
    assert "preprocess() and CLASSES" in capsys.readouterr().out
    source = exported.read_text()
    assert "def preprocess(x):" in source and "CLASSES = [" in source
    assert not ruff_problems(exported.parent)
    shutil.copy(digits_run / "model.pt", exported.parent / "model.pt")  # all the user has
    settings = load_project(DIGITS).training
    _, val_idx = split_indices(1797, settings["val_split"], settings["seed"])
    splits = {"val": sorted(val_idx.tolist()), "test": list(range(1797))}
    (exported.parent / "splits.json").write_text(json.dumps(splits))
    script = tmp_path / "user_script.py"
    script.write_text(textwrap.dedent(USER_SCRIPT))
    done = subprocess.run(
        [sys.executable, str(script), str(exported.parent)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,  # nothing of TorchCanvas on the path but what pip installed
    )
    assert done.returncode == 0, done.stderr[-2000:]
    user = json.loads(done.stdout)
    matched = []
    for split in ("val", "test"):
        accuracy, matrix = eval_output(capsys, DIGITS, digits_run / "model.pt", split)
        # every (true, predicted) count, so the same accuracy is not a coincidence of totals
        assert user[split]["matrix"] == matrix, split
        correct = sum(matrix[i][i] for i in range(10))
        assert accuracy == f"accuracy: {correct / sum(map(sum, matrix)):.2%}"
        matched.append(f"{split} {accuracy} ({correct} of {sum(map(sum, matrix))})")
    print("eval and the exported .py + model.pt agree:", "; ".join(matched))
    assert user["val"]["classes"] == [str(i) for i in range(10)]


def test_the_test_split_is_normalized_with_the_training_statistics():
    settings = {**load_project(DIGITS).training, "device": "cpu"}
    train = load_data(settings, (1, 8, 8))
    test = load_data(settings, (1, 8, 8), split="test")  # no saved stats: recomputed
    assert test.mean == train.mean and test.std == train.std
    from sklearn.datasets import load_digits

    raw = torch.tensor(load_digits().images, dtype=torch.float32).unsqueeze(1) / 16.0
    assert torch.equal(test.train_x, normalize(raw, train.mean, train.std))
    saved = {"x": ([0.5], [2.0])}
    given = load_data(settings, (1, 8, 8), split="test", stats=saved)
    assert given.mean == [0.5] and torch.equal(given.train_x, (raw - 0.5) / 2.0)


def test_a_streamed_image_folder_is_normalized_with_the_training_statistics(tmp_path, monkeypatch):
    from PIL import Image

    from torchcanvas.app.train import sources

    rng = np.random.default_rng(0)
    for name, level in (("dark", 40), ("light", 200)):
        (tmp_path / name).mkdir()
        for i in range(12):
            pixels = rng.integers(level - 30, level + 30, (8, 8, 3)).astype(np.uint8)
            Image.fromarray(pixels).save(tmp_path / name / f"{i}.png")
    monkeypatch.setattr(sources, "IN_MEMORY_LIMIT", 1)  # too large for memory: streamed
    settings = {**load_project(DIGITS).training, "data": "image_folder"}
    settings["data_root"] = str(tmp_path)
    bundle = load_data(settings, (3, 8, 8))
    assert not bundle.in_memory and len(bundle.mean) == 3
    raw = sources.load_image_folder(settings, tmp_path, (3, 8, 8), False)[3]
    train_idx = bundle.train_set.indices
    stacked = torch.stack([raw[i][0] for i in train_idx])
    per_channel = stacked.transpose(0, 1).reshape(3, -1).double()
    assert bundle.mean == pytest.approx(per_channel.mean(1).tolist())
    x, _ = bundle.train_set[0]
    expected = normalize(raw[train_idx[0]][0].unsqueeze(0), bundle.mean, bundle.std)[0]
    assert torch.equal(x, expected)
    assert bundle.preprocess["inputs"][0]["layout"] == "channel"
    assert bundle.preprocess["scale"] == 255.0


def _import(path: Path):
    spec = importlib.util.spec_from_file_location(f"user_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_csv_runs_preprocess_reproduces_its_predictions(tmp_path, capsys):
    project = load_project(WINE)
    table = EXAMPLES / "data" / "wine.csv"
    project.training["data_path"] = str(table)
    save_project(project, tmp_path / "wine.json")
    run, exported = tmp_path / "run", tmp_path / "export" / "wine_model.py"
    args = ["train", str(tmp_path / "wine.json"), "--epochs", "3", "--device", "cpu"]
    assert main([*args, "--out", str(run)]) == 0
    exported.parent.mkdir()
    assert (
        main(["export", str(tmp_path / "wine.json"), "-o", str(exported), "--weights", str(run)])
        == 0
    )
    assert not ruff_problems(exported.parent)
    module = _import(exported)
    assert module.CLASSES == ["class_0", "class_1", "class_2"]
    model = getattr(module, project.model.name)()
    model.load_state_dict(torch.load(run / "model.pt", weights_only=True))
    model.eval()
    with table.open(newline="") as handle:  # the raw table, columns by FEATURES' names
        rows = list(csv.DictReader(handle))
    raw = np.array([[float(row[c]) for c in module.FEATURES] for row in rows])
    _, val_idx = split_indices(len(raw), 0.2, 0)
    with torch.no_grad():
        mine = model(module.preprocess(raw[val_idx.numpy()])).argmax(1)
    record, _ = find_record(run)
    stats = {"features": (record["inputs"][0]["mean"], record["inputs"][0]["std"])}
    app = load_data({**project.training, "device": "cpu"}, (13,), stats=stats)
    with torch.no_grad():
        theirs = model(app.val_x).argmax(1)
    assert torch.equal(mine, theirs)
    _, matrix = eval_output(capsys, tmp_path / "wine.json", run)
    correct = int((mine == app.val_y).sum())
    assert correct == sum(matrix[i][i] for i in range(3))


def test_an_old_run_without_statistics_still_evaluates_resumes_and_exports(
    digits_run, tmp_path, capsys
):
    legacy = tmp_path / "old"
    legacy.mkdir()
    data = torch.load(digits_run / "checkpoint.pt", weights_only=True)
    del data["preprocess"]  # as runs wrote it before statistics were saved
    torch.save(data, legacy / "checkpoint.pt")
    torch.save(data["model"], legacy / "model.pt")
    new_accuracy, new_matrix = eval_output(capsys, DIGITS, digits_run)
    assert main(["eval", str(DIGITS), "--weights", str(legacy)]) == 0
    done = capsys.readouterr()
    assert "note: no training statistics" in done.err and "recomputed" in done.err
    assert new_accuracy in done.out  # the recomputed stats are the training split's too
    exported = tmp_path / "old.py"
    assert main(["export", str(DIGITS), "-o", str(exported), "--weights", str(legacy)]) == 0
    assert "note: no training statistics" in capsys.readouterr().out
    assert "def preprocess" not in exported.read_text()
    args = ["train", str(DIGITS), "--epochs", "3", "--device", "cpu", "--resume", str(legacy)]
    assert main([*args, "--out", str(legacy)]) == 0
    assert "training statistics recomputed" in capsys.readouterr().out
    assert read_record(legacy / "preprocess.json")["inputs"][0]["mean"]


def test_damaged_statistics_are_refused_with_the_file_named(digits_run, tmp_path, capsys):
    copied = tmp_path / "copied"
    copied.mkdir()
    shutil.copy(digits_run / "model.pt", copied / "model.pt")
    (copied / "preprocess.json").write_text('{"format": "torchcanvas-preprocess", "version": 1}')
    assert main(["eval", str(DIGITS), "--weights", str(copied / "model.pt")]) == 2
    assert "preprocess.json" in capsys.readouterr().err
    shutil.copy(digits_run / "preprocess.json", copied / "preprocess.json")
    accuracy, _ = eval_output(capsys, DIGITS, copied / "model.pt")  # copied beside: used
    assert accuracy == eval_output(capsys, DIGITS, digits_run)[0]


ODD_NAMES = ["it's", 'say "hi"', "both ' and \"", "naïve", "tab\there", "back\\slash", "é\u200b"]


@pytest.mark.parametrize("long_names", [False, True])
def test_preprocess_for_several_inputs_is_ruff_clean_and_exact(tmp_path, long_names):
    from torchcanvas.codegen.emit import emit_module
    from torchcanvas.codegen.preprocess import add_preprocess

    text = (EXAMPLES / "two_inputs.json").read_text()
    image, features = ("image", "features")
    if long_names:  # the longest names a design allows make the longest lines
        image, features = "i" * 40, "f" * 40
        text = text.replace('"name": "image"', f'"name": "{image}"')
        text = text.replace('"name": "features"', f'"name": "{features}"')
    (tmp_path / "two.json").write_text(text)
    model = load_project(tmp_path / "two.json").model
    entry = {"dtype": "float32"}
    record = {
        "source": "npz",
        "scale": 255.0 if long_names else None,
        "class_names": ODD_NAMES,
        "features": [],
        "inputs": [
            {**entry, "name": image, "shape": [1, 28, 28], "layout": "all"}
            | {"mean": [0.25], "std": [0.5]},
            {**entry, "name": features, "shape": [12], "layout": "feature"}
            | {"mean": [0.1 * i for i in range(12)], "std": [1.0 + i for i in range(12)]},
        ],
    }
    source = add_preprocess(emit_module(model), record)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "two_model.py").write_text(source)
    assert not ruff_problems(tmp_path / "out"), source
    module = _import(tmp_path / "out" / "two_model.py")
    assert module.CLASSES == ODD_NAMES
    x, y = module.preprocess(np.full((2, 1, 28, 28), 51.0), np.full((2, 12), 51.0))
    scale = 255.0 if long_names else 1.0
    assert torch.equal(x, (torch.full((2, 1, 28, 28), 51.0) / scale - 0.25) / 0.5)
    mean, std = (torch.tensor(v) for v in (record["inputs"][1]["mean"], record["inputs"][1]["std"]))
    assert torch.equal(y, (torch.full((2, 12), 51.0) / scale - mean) / std)
    getattr(module, model.name)()(x, y)  # what preprocess gives, the model takes


def test_table_rows_that_fill_an_image_input_are_reshaped_by_preprocess(tmp_path, capsys):
    from sklearn.datasets import load_digits

    digits = load_digits()
    header = [f"p{i}" for i in range(64)] + ["digit"]
    rows = [
        [*map(int, image.reshape(-1)), int(t)] for image, t in zip(digits.images, digits.target)
    ]
    with (tmp_path / "pixels.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([header, *rows[:600]])
    project = load_project(DIGITS)  # Input (1, 8, 8): 64 columns fill it
    project.training.update(data="csv", data_path=str(tmp_path / "pixels.csv"), targets=["digit"])
    save_project(project, tmp_path / "pixels.json")
    run, exported = tmp_path / "run", tmp_path / "export" / "pixels_model.py"
    args = ["train", str(tmp_path / "pixels.json"), "--epochs", "1", "--device", "cpu"]
    assert main([*args, "--out", str(run)]) == 0
    exported.parent.mkdir()
    assert (
        main(["export", str(tmp_path / "pixels.json"), "-o", str(exported), "--weights", str(run)])
        == 0
    )
    assert not ruff_problems(exported.parent)
    module = _import(exported)
    assert module.FEATURES == header[:-1] and ".reshape(-1, 1, 8, 8)" in exported.read_text()
    model = getattr(module, project.model.name)()
    model.load_state_dict(torch.load(run / "model.pt", weights_only=True))
    model.eval()
    raw = np.array([row[:-1] for row in rows[:600]], dtype=float)
    _, val_idx = split_indices(600, 0.2, 0)
    stats = {
        "input": tuple(
            read_record(run / "preprocess.json")["inputs"][0][k] for k in ("mean", "std")
        )
    }
    app = load_data({**project.training, "device": "cpu"}, (1, 8, 8), stats=stats)
    assert torch.equal(module.preprocess(raw[val_idx.numpy()]), app.val_x)
    _, matrix = eval_output(capsys, tmp_path / "pixels.json", run)
    with torch.no_grad():
        predicted = model(module.preprocess(raw[val_idx.numpy()])).argmax(1)
    assert int((predicted == app.val_y).sum()) == sum(matrix[i][i] for i in range(10))
