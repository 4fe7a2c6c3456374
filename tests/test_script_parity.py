"""The window, the CLI and the exported training script train one way: the same project with
the same seed gives the same per-epoch losses and metrics from the app's Trainer and from
`python train.py` (single process, CPU), and the script writes a run folder the app reads."""

from __future__ import annotations

import ast
import csv
import importlib
import inspect
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import EXAMPLES
from tests.test_export_script import export_script, run
from tests.test_multi_input import two_arrays, two_inputs_project
from tests.test_tables import mlp_project, write_rows
from torchcanvas.app.__main__ import main
from torchcanvas.app.train.core import CARRIED
from torchcanvas.app.train.job import job_from_project
from torchcanvas.app.train.loop import Trainer
from torchcanvas.graph.project import load_project, save_project

pytestmark = pytest.mark.slow
EPOCHS = 3
COMPARED = ("train_loss", "train_acc", "val_loss", "val_acc", "val_mse", "val_mae", "val_r2")


def app_history(project_path: Path, out: Path) -> list[dict]:
    """The epoch rows of the project trained by the app's Trainer."""
    project = load_project(project_path)
    project.training["epochs"] = EPOCHS
    from torchcanvas.app.train.bundle import resolve_data_path

    project.training = resolve_data_path(project.training, project_path.parent)
    final = Trainer(job_from_project(project, str(out)), lambda event: None).run()
    assert final["type"] == "finished", final.get("reason")
    return final["history"]


def script_history(tmp_path: Path, project_path: Path) -> list[dict]:
    """The rows of metrics.csv that the exported script writes for the same project."""
    script = export_script(tmp_path, project_path)
    run([sys.executable, script, "--epochs", str(EPOCHS), "--out", "script_run"], tmp_path)
    with open(tmp_path / "script_run" / "metrics.csv", newline="") as file:
        return list(csv.DictReader(file))


def assert_same_numbers(app: list[dict], script: list[dict]) -> None:
    assert len(app) == len(script) == EPOCHS
    for ours, theirs in zip(app, script):
        for key in COMPARED:
            value = ours.get(key)
            if value is None:
                assert theirs.get(key, "") == "", key
                continue
            assert float(theirs[key]) == pytest.approx(value, rel=1e-5, abs=1e-7), key


def constant_feature_table(path: Path, rows: int = 300) -> Path:
    """Regression rows with a constant column: its std is 1 in the app and the script."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(rows, 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=rows)
    table = [[*map(float, r), 4.0, float(t)] for r, t in zip(x, y)]
    return write_rows(path, ["a", "b", "c", "same", "y"], table)


def test_the_wine_example_trains_the_same_in_the_app_and_the_script(tmp_path):
    project = EXAMPLES / "wine_mlp.json"
    app = app_history(project, tmp_path / "app_run")
    assert_same_numbers(app, script_history(tmp_path, project))


def test_csv_regression_with_a_constant_feature_trains_the_same(tmp_path):
    constant_feature_table(tmp_path / "table.csv")
    project = mlp_project(4, 1, task="regression", data="csv", data_path="table.csv", targets=["y"])
    save_project(project, tmp_path / "reg.json")
    app = app_history(tmp_path / "reg.json", tmp_path / "app_run")
    assert app[-1]["val_r2"] is not None
    assert_same_numbers(app, script_history(tmp_path, tmp_path / "reg.json"))


def test_two_npz_inputs_train_the_same(tmp_path):
    project = two_inputs_project(tmp_path, two_arrays())
    app = app_history(project, tmp_path / "app_run")
    assert_same_numbers(app, script_history(tmp_path, project))


def test_the_script_run_folder_is_one_the_app_reads(tmp_path, capsys):
    project = EXAMPLES / "wine_mlp.json"
    script_history(tmp_path, project)
    folder = tmp_path / "script_run"
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "checkpoint.pt", "manifest.json", "metrics.csv", "model.pt", "preprocess.json"
    ]  # fmt: skip
    capsys.readouterr()
    assert main(["eval", str(project), "--weights", str(folder)]) == 0
    out = capsys.readouterr()
    assert "accuracy:" in out.out and "no training statistics" not in out.err
    assert (
        main(["export", str(project), "-o", str(tmp_path / "m.py"), "--weights", str(folder)]) == 0
    )
    assert "def preprocess(" in (tmp_path / "m.py").read_text()


def test_the_script_carries_the_training_core_as_it_is(tmp_path):
    script = export_script(tmp_path, EXAMPLES / "wine_mlp.json")
    carried = {ast.dump(node) for node in ast.parse(script.read_text()).body}
    for name in CARRIED:
        module = importlib.import_module(f"torchcanvas.app.train.core.{name}")
        for node in ast.parse(inspect.getsource(module)).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                assert ast.dump(node) in carried, f"{name}.{node.name} is not carried as it is"


def test_the_core_imports_only_the_standard_library_and_torch():
    for name in CARRIED:
        module = importlib.import_module(f"torchcanvas.app.train.core.{name}")
        for node in ast.parse(inspect.getsource(module)).body:
            if isinstance(node, ast.Import):
                tops = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                tops = {(node.module or "").split(".")[0]}
            else:
                continue
            assert all(t == "torch" or t in sys.stdlib_module_names for t in tops), name
