"""`torchcanvas train` and `torchcanvas eval` from the command line."""

from __future__ import annotations

import csv
import importlib.util

import pytest
import torch

from tests.conftest import EXAMPLES
from torchcanvas.app.__main__ import main
from torchcanvas.codegen.emit import emit_module
from torchcanvas.graph.project import load_project


@pytest.mark.slow
def test_digits_cnn_trains_to_95_percent_and_loads_into_the_export(tmp_path, capsys):
    out = tmp_path / "run"
    assert (
        main(
            [
                "train",
                str(EXAMPLES / "digits_cnn.json"),
                "--epochs",
                "5",
                "--device",
                "cpu",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "epoch 5/5" in printed and "samples/s" in printed
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert len(rows) == 5 and float(rows[-1]["val_acc"]) >= 0.95
    project = load_project(EXAMPLES / "digits_cnn.json")
    exported = tmp_path / "digits_cnn.py"
    exported.write_text(emit_module(project.model).source)
    spec = importlib.util.spec_from_file_location("digits_cnn", exported)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.DigitsCNN().eval()
    model.load_state_dict(torch.load(out / "model.pt", weights_only=True))
    checkpoint = torch.load(out / "checkpoint.pt", weights_only=True)
    assert checkpoint["epoch"] == 5 and checkpoint["optimizer"]["state"]
    sample = torch.randn(7, 1, 8, 8)
    from torchcanvas.codegen.build import build_model

    trained = build_model(project.model).eval()
    trained.load_state_dict(checkpoint["model"])
    with torch.no_grad():
        assert torch.equal(model(sample), trained(sample))
    assert (
        main(["eval", str(EXAMPLES / "digits_cnn.json"), "--weights", str(out / "model.pt")]) == 0
    )
    report = capsys.readouterr().out
    assert "accuracy:" in report and "true \\ predicted" in report


def test_train_exit_codes(tmp_path, capsys):
    assert main(["train", str(tmp_path / "missing.json")]) == 2
    assert (
        main(
            [
                "train",
                str(EXAMPLES / "small_cnn.json"),
                "--data",
                "digits",
                "--out",
                str(tmp_path / "x"),
            ]
        )
        == 2
    )
    assert "Input expects 1x28x28" in capsys.readouterr().err
    assert (
        main(["eval", str(EXAMPLES / "digits_cnn.json"), "--weights", str(tmp_path / "nope.pt")])
        == 2
    )


def test_train_with_weights_that_do_not_fit_lists_the_tensors(tmp_path, capsys):
    from torch import nn

    torch.save(nn.Sequential(nn.Linear(3, 4)).state_dict(), tmp_path / "wrong.pt")
    assert (
        main(
            [
                "train",
                str(EXAMPLES / "digits_cnn.json"),
                "--weights",
                str(tmp_path / "wrong.pt"),
                "--out",
                str(tmp_path / "run"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "no tensor in the file fits this model" in err
    assert "  conv1: missing: weight, bias" in err
    assert "  0: unexpected: 0.weight, 0.bias" in err
