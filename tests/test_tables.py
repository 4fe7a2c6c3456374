"""The csv and npz sources: tables and arrays read, checked and split before training."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from torchcanvas.app.__main__ import main
from torchcanvas.app.train.data import DataError, load_data
from torchcanvas.app.train.inputs import InputSpec
from torchcanvas.graph.model import ModelGraph
from torchcanvas.graph.project import Project, save_project
from torchcanvas.graph.settings import coerce_training


def write_rows(path: Path, header: list[str], rows: list[list], delimiter: str = ",") -> Path:
    """A CSV (or TSV) file with a header."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def linear_table(path: Path, rows: int = 1000, seed: int = 0) -> Path:
    """y = 1.5a - 2b + 0.5c + 3d + 0.7 plus small noise, and a text column to leave out."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 4))
    y = x @ np.array([1.5, -2.0, 0.5, 3.0]) + 0.7 + 0.05 * rng.normal(size=rows)
    table = [[*map(float, r), float(t), f"id{i}"] for i, (r, t) in enumerate(zip(x, y))]
    return write_rows(path, ["a", "b", "c", "d", "y", "name"], table)


def settings(**values) -> dict:
    """Training settings for a csv or npz source."""
    return coerce_training({"data": "csv", "device": "cpu", **values})


def mlp_project(inputs: int, outputs: int, input_name: str = "input", **training) -> Project:
    """Input -> Linear(32) -> ReLU -> Linear(outputs) -> Output."""
    model = ModelGraph("TableMLP")
    previous = None
    for type_name, name, params in (
        ("Input", input_name, {"shape": [inputs]}),
        ("Linear", "fc1", {"out_features": 32}),
        ("ReLU", "relu", {}),
        ("Linear", "fc2", {"out_features": outputs}),
        ("Output", "output", {}),
    ):
        name = model.add_node(type_name, name, params)
        if previous:
            model.connect(previous, name)
        previous = name
    return Project(model, coerce_training({"device": "cpu", **training}))


def test_csv_regression_reaches_r2_097_from_the_cli(tmp_path, capsys):
    linear_table(tmp_path / "table.csv")
    project = mlp_project(
        4,
        1,
        task="regression",
        data="csv",
        data_path="table.csv",  # relative: beside the project file
        targets=["y"],
        features=["a", "b", "c", "d"],
        lr=0.01,
        epochs=15,
    )
    save_project(project, tmp_path / "reg.json")
    out = tmp_path / "run"
    assert main(["train", str(tmp_path / "reg.json"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "R²" in printed and "MSE" in printed and "acc" not in printed
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert len(rows) == 15 and float(rows[-1]["val_r2"]) >= 0.97
    assert rows[-1]["val_acc"] == "" and float(rows[-1]["val_mse"]) < 0.2
    assert main(["eval", str(tmp_path / "reg.json"), "--weights", str(out)]) == 0
    report = capsys.readouterr().out
    assert "val samples: 200" in report and f"R² {float(rows[-1]['val_r2']):.4f}" in report


def test_features_are_standardized_with_training_statistics_and_targets_stay_raw(tmp_path):
    path = linear_table(tmp_path / "t.csv", rows=200)
    bundle = load_data(
        settings(task="regression", data_path=str(path), targets="y", features="a, b, c, d"), (4,)
    )
    assert bundle.train_x.shape == (160, 4) and bundle.val_x.shape == (40, 4)
    assert torch.allclose(bundle.train_x.mean(0), torch.zeros(4), atol=1e-5)
    assert torch.allclose(bundle.train_x.std(0), torch.ones(4), atol=1e-4)
    assert len(bundle.mean) == 4 and bundle.target_shape == (1,)
    raw = np.loadtxt(path, delimiter=",", skiprows=1, usecols=4)
    together = torch.cat([bundle.train_y, bundle.val_y]).view(-1).double()
    assert torch.allclose(together.sort().values, torch.tensor(np.sort(raw)), atol=1e-4)
    assert bundle.feature_names == ["a", "b", "c", "d"] and bundle.target_names == ["y"]


def test_a_categorical_target_maps_to_class_names_and_tsv_is_read(tmp_path):
    rows = [[i, i % 3 * 1.5, ["setosa", "virginica", "versicolor"][i % 3]] for i in range(30)]
    path = write_rows(tmp_path / "flowers.tsv", ["n", "width", "kind"], rows, delimiter="\t")
    bundle = load_data(settings(data_path=str(path), features=["width"]), (1,))
    assert bundle.class_names == ["setosa", "versicolor", "virginica"]
    x = torch.cat([bundle.train_x, bundle.val_x]) * bundle.std[0] + bundle.mean[0]
    y = torch.cat([bundle.train_y, bundle.val_y])
    assert y.dtype == torch.long and set(y.tolist()) == {0, 1, 2}
    for value, label in zip(x.view(-1).tolist(), y.tolist()):  # the row's class, not another
        assert (
            bundle.class_names[label]
            == {0.0: "setosa", 1.5: "virginica", 3.0: "versicolor"}[round(value, 3)]
        )


def test_numeric_class_labels_keep_their_values_as_names(tmp_path):
    rows = [[i, [3, 5, 7][i % 3]] for i in range(12)]
    path = write_rows(tmp_path / "t.csv", ["x", "label"], rows)
    bundle = load_data(settings(data_path=str(path)), (1,))  # target: the last column
    assert bundle.class_names == ["3", "5", "7"]


def test_semicolon_tables_are_sniffed_and_reshaped_to_the_input(tmp_path):
    rows = [[*range(i, i + 4), i % 2] for i in range(10)]
    path = write_rows(tmp_path / "t.csv", ["p0", "p1", "p2", "p3", "y"], rows, delimiter=";")
    bundle = load_data(settings(data_path=str(path), normalize=False), (1, 2, 2))
    assert bundle.train_x.shape[1:] == (1, 2, 2) and bundle.class_names == ["0", "1"]


BAD_CSV = [
    ("a,b,y\n1,2,3\n4,5\n", {}, "t.csv: row 3 has 2 fields but the header has 3"),
    ("a,b,y\n1,2,3\n4,abc,1\n", {}, "t.csv: row 3, column 'b': 'abc' is not a number"),
    ("a,b,y\n1,2,3\n4,nan,1\n", {}, "t.csv: row 3, column 'b': 'nan' is not a finite number"),
    ("a,b,y\n1,2,3\n\n4,,1\n", {}, "t.csv: row 4, column 'b' is empty"),
    (
        "a,b,y\n1,2,3\n",
        {"targets": ["z"]},
        "t.csv has no target column 'z'; its columns are a, b, y",
    ),
    ("a,b,y\n1,2,3\n", {"features": ["q"]}, "no feature column 'q'; its columns are a, b, y"),
    ("", {}, "t.csv is empty"),
    ("a,b,y\n", {}, "t.csv has a header but no rows"),
    ("a,a,y\n1,2,3\n", {}, "names column 'a' twice"),
    ("a,b,y\n1,2,0.5\n2,3,1\n", {}, "holds fractional values such as '0.5'"),
    ("a,b,y\n1,2,x\n3,4,y\n", {"task": "regression"}, "row 2, column 'y': 'x' is not a number"),
    ("a,b,y\n1,2,3\n", {"task": "classification", "targets": ["a", "y"]}, "one target column"),
]


@pytest.mark.parametrize(("text", "extra", "message"), BAD_CSV)
def test_bad_tables_get_one_message(tmp_path, text, extra, message):
    (tmp_path / "t.csv").write_text(text)
    with pytest.raises(DataError, match=None) as caught:
        load_data(settings(data_path=str(tmp_path / "t.csv"), **extra), (2,))
    assert message in str(caught.value)


def test_missing_files_pipes_and_devices_are_refused(tmp_path):
    with pytest.raises(DataError, match="no such file; check data_path"):
        load_data(settings(data_path=str(tmp_path / "none.csv")), (2,))
    with pytest.raises(DataError, match="set data_path to the CSV file"):
        load_data(settings(), (2,))
    with pytest.raises(DataError, match="a character device"):
        load_data(settings(data_path="/dev/zero"), (2,))
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)  # with no writer: an open that blocked would hang here
    with pytest.raises(DataError, match="a pipe"):
        load_data(settings(data_path=str(fifo)), (2,))


def test_a_table_that_does_not_fit_the_input_says_both_sizes(tmp_path):
    path = write_rows(tmp_path / "t.csv", ["a", "b", "c", "y"], [[1, 2, 3, 0], [4, 5, 6, 1]])
    with pytest.raises(DataError, match=r"gives 3 feature values per row \(a, b, c\) but the "):
        load_data(settings(data_path=str(path)), (4,))


def npz(path: Path, **arrays) -> Path:
    np.savez(path, **arrays)
    return path


def test_npz_arrays_by_input_name_or_x(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 3, 4)).astype(np.float32)
    by_name = npz(tmp_path / "a.npz", seq=x, y=rng.integers(0, 4, 50))
    bundle = load_data(settings(data="npz", data_path=str(by_name)), (3, 4), input_name="seq")
    assert bundle.train_x.shape[1:] == (3, 4) and bundle.class_names == ["0", "1", "2", "3"]
    names = np.array(["cat", "dog"])
    named = npz(tmp_path / "b.npz", x=x[:, 0], y=np.arange(50) % 2, class_names=names)
    assert load_data(settings(data="npz", data_path=str(named)), (4,)).class_names == [
        "cat",
        "dog",
    ]
    reg = npz(tmp_path / "c.npz", x=x[:, 0], y=x[:, 1, :2], z=x[:, 2, 0])
    both = settings(data="npz", data_path=str(reg), task="regression", targets=["y", "z"])
    assert load_data(both, (4,)).target_shape == (3,)


BAD_NPZ = [
    ({"x": np.zeros((5, 2)), "y": np.zeros(4)}, {}, "'x' has 5 samples but 'y' has 4"),
    ({"x": np.zeros((5, 3)), "y": np.zeros(5)}, {}, "holds samples of shape 3 but the Input"),
    ({"inp": np.zeros((5, 2)), "y": np.zeros(5)}, {}, "no array 'input' or 'x' for the Input"),
    ({"x": np.zeros((5, 2))}, {}, "no target array 'y'; its arrays are x"),
    ({"x": np.full((5, 2), np.nan), "y": np.zeros(5)}, {}, "'x' has nan at index [0, 0]"),
    ({"x": np.zeros((5, 2)), "y": np.zeros(5) + 0.5}, {}, "holds fractional values"),
    ({"x": np.zeros((0, 2)), "y": np.zeros(0)}, {}, "'x' has no samples"),
    ({"x": np.array(["a"] * 5), "y": np.zeros(5)}, {}, "holds <U1 values, not numbers"),
]


@pytest.mark.parametrize(("arrays", "extra", "message"), BAD_NPZ)
def test_bad_archives_get_one_message(tmp_path, arrays, extra, message):
    path = npz(tmp_path / "d.npz", **arrays)
    with pytest.raises(DataError) as caught:
        load_data(settings(data="npz", data_path=str(path), **extra), (2,), input_name="input")
    assert message in str(caught.value)


def test_pickled_objects_and_other_files_are_refused(tmp_path):
    objects = np.empty(3, dtype=object)
    path = tmp_path / "o.npz"
    np.savez(path, x=objects, y=np.zeros(3))
    with pytest.raises(DataError, match="holds Python objects"):
        load_data(settings(data="npz", data_path=str(path)), (2,))
    (tmp_path / "t.npz").write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match=r"t.npz: not a NumPy \.npz archive"):
        load_data(settings(data="npz", data_path=str(tmp_path / "t.npz")), (2,))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b,y\n1,2,3\n4,abc,1\n", "row 3, column 'b': 'abc' is not a number"),
        ("a,b,y\n1,2,3\n4,5\n", "row 3 has 2 fields but the header has 3"),
    ],
)
def test_bad_data_from_the_cli_writes_nothing(tmp_path, capsys, text, message):
    (tmp_path / "t.csv").write_text(text)
    project = mlp_project(2, 2, data="csv", data_path="t.csv")
    save_project(project, tmp_path / "p.json")
    out = tmp_path / "run"
    assert main(["train", str(tmp_path / "p.json"), "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists() or list(out.iterdir()) == []


def test_an_npy_pair_and_a_folder_of_npy_files(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype(np.float32)
    y = np.arange(40) % 2
    np.save(tmp_path / "X_train.npy", x)
    np.save(tmp_path / "y_train.npy", y)
    pair = load_data(settings(data="npz", data_path=str(tmp_path / "X_train.npy")), (3,))
    assert pair.target_names == ["y_train"] and pair.num_classes == 2
    whole = torch.cat([pair.train_x, pair.val_x]) * torch.tensor(pair.std) + torch.tensor(pair.mean)
    assert torch.allclose(whole.sort(0).values, torch.from_numpy(x).sort(0).values, atol=1e-5)
    np.save(tmp_path / "labels_b.npy", 1 - y)
    named = settings(data="npz", data_path=str(tmp_path / "X_train.npy"), targets=["labels_b"])
    flipped = load_data(named, (3,))
    assert torch.equal(flipped.train_y, 1 - pair.train_y)
    folder = tmp_path / "arrays"
    folder.mkdir()
    np.save(folder / "image.npy", rng.normal(size=(40, 1, 4, 4)).astype(np.float32))
    np.save(folder / "features.npy", x)
    np.save(folder / "y.npy", y)
    specs = [InputSpec("image", (1, 4, 4), "float32"), InputSpec("features", (3,), "float32")]
    both = load_data(settings(data="npz", data_path=str(folder)), (1, 4, 4), inputs=specs)
    assert [tuple(t.shape[1:]) for t in both.train_x.tensors] == [(1, 4, 4), (3,)]


def test_npy_files_that_do_not_fit_are_named(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((5, 2)))
    with pytest.raises(DataError, match=r"x.npy: no targets file y.npy beside it \(there: no "):
        load_data(settings(data="npz", data_path=str(tmp_path / "x.npy")), (2,))
    np.save(tmp_path / "y.npy", np.zeros(4))
    with pytest.raises(DataError, match="'x' has 5 samples but 'y' has 4"):
        load_data(settings(data="npz", data_path=str(tmp_path / "x.npy")), (2,))
    np.save(tmp_path / "y.npy", np.empty(5, dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match="y.npy holds Python objects"):
        load_data(settings(data="npz", data_path=str(tmp_path / "x.npy")), (2,))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="holds no .npy files"):
        load_data(settings(data="npz", data_path=str(tmp_path / "empty")), (2,))
