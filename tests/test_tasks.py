"""Training tasks: classification as before, regression with its losses and metrics."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import r2_score

from tests.conftest import EXAMPLES
from tests.test_tables import linear_table, mlp_project
from torchcanvas.app.__main__ import main
from torchcanvas.app.train.core.data import ordered_batches
from torchcanvas.app.train.core.loop import evaluate
from torchcanvas.app.train.core.tasks import RegressionTask, regression_metrics
from torchcanvas.app.train.data import DataError, check_targets, fit_problem, load_data
from torchcanvas.app.train.job import job_from_project
from torchcanvas.app.train.loop import Trainer
from torchcanvas.graph.params import ParamError
from torchcanvas.graph.project import dumps_project, loads_project
from torchcanvas.graph.settings import (
    LOSSES,
    REGRESSION_LOSSES,
    TRAINING_INDEX,
    coerce_training,
    default_training,
)


def test_the_task_defaults_to_classification_and_the_loss_follows_it():
    assert default_training()["task"] == "classification"
    assert default_training()["loss"] == "CrossEntropyLoss"
    assert coerce_training({"task": "regression"})["loss"] == "MSELoss"
    assert coerce_training({"task": "regression", "loss": "HuberLoss"})["loss"] == "HuberLoss"
    assert set(REGRESSION_LOSSES) <= set(LOSSES) and "HuberLoss" in LOSSES


def test_column_lists_are_checked_and_survive_the_project_file():
    names = TRAINING_INDEX["targets"]
    assert names.coerce("a, b") == ("a", "b") and names.coerce(["y"]) == ("y",)
    assert names.coerce("") == () and names.coerce(None) is None
    with pytest.raises(ParamError, match="targets: 'a' is named twice"):
        names.coerce(["a", "a"])
    with pytest.raises(ParamError, match="each name must be text of 1 to 200 characters"):
        names.coerce(["a", 3])
    with pytest.raises(ParamError, match="features must be a list of names"):
        TRAINING_INDEX["features"].coerce({"a": 1})
    project = mlp_project(4, 1, task="regression", targets=["y"], features=["a", "b"])
    again = loads_project(dumps_project(project))
    assert again.training == project.training and again.training["targets"] == ("y",)


def test_regression_metrics_match_torch_and_scikit_learn():
    generator = torch.Generator().manual_seed(0)
    true = torch.randn(300, 3, generator=generator)
    predicted = true + 0.3 * torch.randn(300, 3, generator=generator)
    metrics = regression_metrics(predicted, true)
    assert metrics["mse"] == pytest.approx(float(F.mse_loss(predicted, true)), rel=1e-6)
    assert metrics["mae"] == pytest.approx(float(F.l1_loss(predicted, true)), rel=1e-6)
    assert metrics["r2"] == pytest.approx(r2_score(true.numpy(), predicted.numpy()), rel=1e-5)
    constant = regression_metrics(torch.zeros(4, 1), torch.ones(4, 1))
    assert constant["r2"] is None and constant["mse"] == 1.0


def test_the_mse_metric_is_torch_mse_loss_of_the_model_predictions():
    model = torch.nn.Sequential(torch.nn.Linear(4, 2))
    x, y = torch.randn(100, 4), torch.randn(100, 2)
    scores = evaluate(model, ordered_batches(x, y, 32), RegressionTask(), torch.nn.L1Loss())
    with torch.no_grad():
        out = model(x)
    assert scores["mse"] == pytest.approx(float(F.mse_loss(out, y)), rel=1e-5)
    assert scores["loss"] == pytest.approx(float(F.l1_loss(out, y)), rel=1e-5)


def test_losses_and_outputs_that_do_not_fit_the_task_are_refused(tmp_path):
    path = linear_table(tmp_path / "t.csv", rows=50)
    values = {"task": "regression", "data": "csv", "data_path": str(path), "targets": ["y"]}
    bundle = load_data(coerce_training({**values, "features": ["a", "b", "c", "d"]}), (4,))
    with pytest.raises(DataError, match="CrossEntropyLoss is a classification loss"):
        check_targets(bundle, (1,), coerce_training({**values, "loss": "CrossEntropyLoss"}))
    with pytest.raises(DataError, match=r"outputs 3 values per sample but the regression targets "):
        check_targets(bundle, (3,), coerce_training(values))
    with pytest.raises(DataError, match="regression needs real-valued targets"):
        load_data(coerce_training({"task": "regression"}), (1, 8, 8))
    assert "set data_path" in fit_problem(coerce_training({"data": "csv"}), (4,), (1,))
    assert fit_problem(coerce_training(values), (4,), (1,)) is None


@pytest.mark.slow
def test_two_regression_targets_train_with_every_regression_loss(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 3)).astype(np.float32)
    y = np.stack([x.sum(1), x[:, 0] - x[:, 2]], axis=1)
    np.savez(tmp_path / "d.npz", features=x, y=y)
    for loss in REGRESSION_LOSSES:
        project = mlp_project(
            3, 2, input_name="features", task="regression", data="npz", loss=loss, lr=0.01
        )
        project.training["data_path"] = str(tmp_path / "d.npz")
        job = job_from_project(project, str(tmp_path / loss), epochs=8)
        final = Trainer(job, lambda event: None).run()
        assert final["type"] == "finished", final.get("reason")
        assert final["val_r2"] > 0.8 and len(final["scatter"]["true"]) == 60
        assert final["history"][-1]["train_acc"] is None
        assert len(final["probe"]["predicted"][0]) == 2


def test_classification_history_and_metrics_keep_their_columns(tmp_path):
    project = mlp_project(4, 2, data="csv")
    rows = [[*np.random.default_rng(i).normal(size=4), "ab"[i % 2]] for i in range(64)]
    with (tmp_path / "t.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([["a", "b", "c", "d", "kind"], *rows])
    project.training["data_path"] = str(tmp_path / "t.csv")
    final = Trainer(
        job_from_project(project, str(tmp_path / "run"), epochs=2), lambda e: None
    ).run()
    assert final["classes"] == ["a", "b"] and "confusion" in final and "val_r2" not in final
    header = (tmp_path / "run" / "metrics.csv").read_text().splitlines()[0]
    assert header == "epoch,train_loss,train_acc,val_loss,val_acc,lr,seconds,samples_per_s"


@pytest.mark.slow
def test_the_diabetes_example_trains_from_the_cli(tmp_path, capsys):
    out = tmp_path / "run"
    project = str(EXAMPLES / "diabetes_mlp.json")
    assert main(["train", project, "--epochs", "30", "--out", str(out)]) == 0
    assert "validation loss" in capsys.readouterr().out
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert float(rows[-1]["val_r2"]) >= 0.4  # a linear model reaches about 0.45 here
    assert main(["eval", project, "--weights", str(out)]) == 0
    assert "val samples: 88" in capsys.readouterr().out


def test_the_wine_example_trains_from_the_cli_with_class_names(tmp_path, capsys):
    out = tmp_path / "run"
    project = str(EXAMPLES / "wine_mlp.json")
    assert main(["train", project, "--out", str(out)]) == 0
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert float(rows[-1]["val_acc"]) >= 0.9
    capsys.readouterr()
    assert main(["eval", project, "--weights", str(out)]) == 0
    report = capsys.readouterr().out
    assert "class_0" in report and "class_2" in report and "accuracy:" in report
