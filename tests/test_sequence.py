"""Sequences: (L, F) readings standardized per feature, token ids kept int64, the LSTM example."""

from __future__ import annotations

import csv
import importlib.util
import io

import numpy as np
import pytest
import torch

from tests.conftest import EXAMPLES
from tests.test_tables import settings
from torchcanvas.app.__main__ import main
from torchcanvas.app.train.data import DataError, load_data
from torchcanvas.app.train.inputs import InputSpec
from torchcanvas.app.train.job import job_from_project
from torchcanvas.app.train.loop import Trainer
from torchcanvas.graph.model import ModelGraph
from torchcanvas.graph.project import Project

STATED_ACCURACY = 0.95  # README: sequence_lstm.json, validation accuracy after 12 epochs


def generator():
    """assets/examples/data/make_sequences.py as a module."""
    path = EXAMPLES / "data" / "make_sequences.py"
    spec = importlib.util.spec_from_file_location("make_sequences", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_the_sequence_example_reaches_its_stated_accuracy_from_the_cli(tmp_path, capsys):
    out = tmp_path / "run"
    project = str(EXAMPLES / "sequence_lstm.json")
    assert main(["train", project, "--out", str(out)]) == 0
    assert "1600 train / 400 validation samples" in capsys.readouterr().out
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert len(rows) == 12 and float(rows[-1]["val_acc"]) >= STATED_ACCURACY
    assert main(["eval", project, "--weights", str(out)]) == 0
    report = capsys.readouterr().out
    assert "val samples: 400" in report and "rise_a" in report and "fall_b" in report


def test_the_bundled_archive_is_what_the_generator_writes():
    made = generator().sequences()
    with np.load(EXAMPLES / "data" / "sequences.npz", allow_pickle=False) as bundled:
        assert sorted(bundled.files) == sorted(made)
        for name, array in made.items():
            assert np.array_equal(bundled[name], array) and bundled[name].dtype == array.dtype
    assert (EXAMPLES / "data" / "sequences.npz").stat().st_size < 1 << 20


def test_float_sequences_are_standardized_per_feature(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 7, 3)) * [1.0, 10.0, 100.0] + [0.0, 5.0, -50.0]
    np.savez(tmp_path / "s.npz", x=x.astype(np.float32), y=rng.integers(0, 2, 100))
    bundle = load_data(settings(data="npz", data_path=str(tmp_path / "s.npz")), (7, 3))
    assert bundle.train_x.shape[1:] == (7, 3) and bundle.train_x.dtype == torch.float32
    assert len(bundle.mean) == 3 and bundle.mean[2] == pytest.approx(-50, abs=15)
    per_feature = bundle.train_x.reshape(-1, 3)
    assert per_feature.mean(0).abs().max() < 1e-4
    assert per_feature.std(0).sub(1).abs().max() < 1e-3


def token_project(vocabulary: int = 12, length: int = 10) -> Project:
    """tokens (int64) -> Embedding -> LSTM -> last step -> Linear 2."""
    model = ModelGraph("Tokens")
    previous = None
    for type_name, name, params in (
        ("Input", "tokens", {"shape": [length], "dtype": "int64"}),
        ("Embedding", "embedding", {"num_embeddings": vocabulary, "embedding_dim": 8}),
        ("LSTM", "lstm", {"hidden_size": 16}),
        ("Select", "last_step", {"dim": 1, "index": -1}),
        ("Linear", "head", {"out_features": 2}),
        ("Output", "output", {}),
    ):
        node = model.add_node(type_name, name, params)
        if previous:
            model.connect(previous, node)
        previous = node
    training = {**settings(data="npz"), "epochs": 2, "batch_size": 16, "lr": 0.01}
    return Project(model, training)


@pytest.mark.slow
def test_token_ids_stay_int64_and_are_not_normalized(tmp_path):
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 12, (80, 10)).astype(np.int32)  # any integer type will do
    np.savez(tmp_path / "t.npz", tokens=tokens, y=(tokens[:, -1] > 5).astype(np.int64))
    project = token_project()
    project.training["data_path"] = str(tmp_path / "t.npz")
    job = job_from_project(project, str(tmp_path / "run"))
    assert job.inputs == [InputSpec("tokens", (10,), "int64")]
    bundle = load_data(project.training, (10,), inputs=job.inputs)
    assert bundle.train_x.dtype == torch.int64 and bundle.mean == [] and bundle.std == []
    assert set(bundle.train_x.unique().tolist()) <= set(range(12))
    trainer = Trainer(job, lambda e: None)
    final = trainer.run()
    assert final["type"] == "finished", final.get("reason")
    assert trainer.feed.train_x.dtype == torch.int64 and trainer.probe_x.dtype == torch.int64


@pytest.mark.parametrize(
    ("tokens", "message"),
    [
        (np.full((20, 10), 1.5), "array 'tokens' holds fractional values but the Input 'tokens'"),
        (np.zeros((20, 9), np.int64), "holds samples of shape 9 but the Input 'tokens' expects 10"),
    ],
)
def test_bad_token_arrays_are_refused(tmp_path, tokens, message):
    buffer = io.BytesIO()
    np.savez(buffer, tokens=tokens, y=np.zeros(20, np.int64))
    (tmp_path / "t.npz").write_bytes(buffer.getvalue())
    spec = InputSpec("tokens", (10,), "int64")
    with pytest.raises(DataError, match=message):
        load_data(settings(data="npz", data_path=str(tmp_path / "t.npz")), (10,), inputs=[spec])


def test_a_built_in_source_refuses_an_integer_input():
    with pytest.raises(DataError, match="the Input takes int64 values, but digits"):
        load_data(settings(data="digits"), (64,), inputs=[InputSpec("tokens", (64,), "int64")])
