"""Several Inputs train from an npz with one array per Input, named after the Input node."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tests.conftest import EXAMPLES
from torchcanvas.app.__main__ import main
from torchcanvas.app.train.core.loop import make_optimizer
from torchcanvas.app.train.data import DataError, load_data
from torchcanvas.app.train.inputs import Inputs, InputSpec
from torchcanvas.app.train.job import job_from_project
from torchcanvas.app.train.loop import Trainer
from torchcanvas.codegen.build import compile_source
from torchcanvas.graph.project import load_project

SAMPLES = 120


def two_arrays(seed: int = 0, samples: int = SAMPLES) -> dict[str, np.ndarray]:
    """image (N, 1, 28, 28) whose bright row is the label, features (N, 12) and y."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, samples)
    image = rng.normal(size=(samples, 1, 28, 28)).astype(np.float32)
    image[np.arange(samples), 0, 2 * y, :] += 3.0
    features = (rng.normal(size=(samples, 12)) * 5 + 10).astype(np.float32)
    return {"image": image, "features": features, "y": y}


def two_inputs_project(tmp_path: Path, arrays: dict, **training) -> Path:
    """two_inputs.json training on `arrays` written as an npz next to it."""
    np.savez(tmp_path / "d.npz", **arrays)
    project = json.loads((EXAMPLES / "two_inputs.json").read_text())
    project["training"].update(
        {"data": "npz", "data_path": str(tmp_path / "d.npz"), "device": "cpu", "epochs": 1}
    )
    project["training"].update(training)
    path = tmp_path / "two.json"
    path.write_text(json.dumps(project))
    return path


def test_two_inputs_train_one_epoch_from_the_cli(tmp_path, capsys):
    project = two_inputs_project(tmp_path, two_arrays())
    out = tmp_path / "run"
    assert main(["train", str(project), "--out", str(out)]) == 0
    assert "96 train / 24 validation samples" in capsys.readouterr().out
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert len(rows) == 1 and float(rows[0]["train_loss"]) > 0
    assert main(["eval", str(project), "--weights", str(out)]) == 0
    assert "val samples: 24" in capsys.readouterr().out


def test_the_first_step_matches_a_hand_written_loop_and_the_model_gets_both_inputs(tmp_path):
    project = load_project(two_inputs_project(tmp_path, two_arrays(), batch_size=16))
    job = job_from_project(project, str(tmp_path / "run"), max_steps=3)
    assert [(s.name, s.shape) for s in job.inputs] == [("image", (1, 28, 28)), ("features", (12,))]
    seen, losses = [], []

    def hook(module, args, _output):
        if type(module).__name__ == job.class_name:
            seen.append(tuple(tuple(a.shape) for a in args))

    handle = torch.nn.modules.module.register_module_forward_hook(hook)
    try:
        final = Trainer(job, lambda e: losses.extend(e.get("losses", []))).run()
    finally:
        handle.remove()
    assert final["reason"] == "stopped" and len(losses) == 3
    assert seen[0] == ((16, 1, 28, 28), (16, 12))
    # The same steps by hand: the same data, initialisation, optimizer and shuffled batches.
    bundle = load_data(job.settings, job.input_shape, inputs=job.inputs)
    torch.manual_seed(0)
    model = compile_source(job.source, job.class_name, "<hand>")()
    optimizer = make_optimizer(job.settings, model)
    order = torch.randperm(len(bundle.train_y), generator=torch.Generator().manual_seed(0))
    image, features = bundle.train_x.tensors
    for step, batch in enumerate(order.split(16)[:3]):
        loss = F.cross_entropy(model(image[batch], features[batch]), bundle.train_y[batch])
        assert losses[step] == pytest.approx(loss.item(), rel=1e-5)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def test_each_input_is_standardized_with_its_own_training_stats(tmp_path):
    np.savez(tmp_path / "d.npz", **two_arrays())
    specs = [InputSpec("image", (1, 28, 28)), InputSpec("features", (12,))]
    settings = {"data": "npz", "data_path": str(tmp_path / "d.npz"), "val_split": 0.2}
    bundle = load_data({**settings, "seed": 0, "task": "classification"}, (1,), inputs=specs)
    assert isinstance(bundle.train_x, Inputs) and len(bundle.train_x) == 96
    image, features = bundle.train_x.tensors
    assert set(bundle.mean) == {"image", "features"} and len(bundle.mean["features"]) == 12
    assert len(bundle.mean["image"]) == 1 and bundle.mean["features"][0] == pytest.approx(10, 0.2)
    assert features.mean(0).abs().max() < 1e-5 and image.mean().abs() < 1e-5
    assert bundle.val_x[:5].tensors[1].shape == (5, 12)


BAD = [
    (
        {"image": np.zeros((8, 1, 28, 28)), "x": np.zeros((8, 12)), "y": np.zeros(8)},
        "d.npz has no array 'features' for Input features; arrays there: image, x, y",
    ),
    (
        {"image": np.zeros((8, 1, 28, 28)), "features": np.zeros((8, 10)), "y": np.zeros(8)},
        "array 'features' holds samples of shape 10 but the Input 'features' expects 12",
    ),
    (
        {"image": np.zeros((8, 1, 28, 28)), "features": np.zeros((7, 12)), "y": np.zeros(8)},
        "array 'image' has 8 samples but 'features' has 7",
    ),
    (
        {"image": np.zeros((8, 28, 28)), "features": np.zeros((8, 12)), "y": np.zeros(8)},
        "array 'image' holds samples of shape 28x28 but the Input 'image' expects 1x28x28",
    ),
    (
        {"image": np.zeros((8, 1, 28, 28)), "features": np.full((8, 12), np.nan), "y": [0] * 8},
        "array 'features' has nan at index [0, 0]",
    ),
]


@pytest.mark.parametrize(
    ("arrays", "message"), BAD, ids=["missing", "shape", "length", "rank", "nan"]
)
def test_each_bad_archive_gets_its_message_and_nothing_is_written(
    tmp_path, capsys, arrays, message
):
    project = two_inputs_project(tmp_path, arrays)
    out = tmp_path / "run"
    assert main(["train", str(project), "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists() or list(out.iterdir()) == []


def test_a_table_cannot_feed_several_inputs(tmp_path, capsys):
    (tmp_path / "t.csv").write_text("a,b,y\n1,2,0\n3,4,1\n")
    project = two_inputs_project(
        tmp_path, two_arrays(), data="csv", data_path=str(tmp_path / "t.csv")
    )
    out = tmp_path / "run"
    assert main(["train", str(project), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "the model has 2 Inputs (image, features) and one table cannot say which" in err
    assert "one array per Input in an .npz archive" in err
    assert not out.exists() or list(out.iterdir()) == []
    with pytest.raises(DataError, match="one array per Input"):
        load_data({"data": "digits"}, (1,), inputs=[InputSpec("a", (1,)), InputSpec("b", (1,))])
