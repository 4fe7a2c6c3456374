"""The GPU fast path's parts that a CPU can check: compiled steps, data placement, choices."""

from __future__ import annotations

import pytest
import torch

from tests.conftest import EXAMPLES
from torchcanvas.app.train.data import DataBundle
from torchcanvas.app.train.fastpath import channels_last_helps, fits_on_device, to_channels_last
from torchcanvas.app.train.feed import Feed
from torchcanvas.app.train.job import job_from_project
from torchcanvas.app.train.loop import Trainer
from torchcanvas.codegen.build import compile_source
from torchcanvas.graph.project import load_project


@pytest.mark.slow
def test_a_compiled_run_trains_and_saves_the_plain_models_weights(tmp_path):
    project = load_project(EXAMPLES / "wine_mlp.json")
    project.training.update(compile=True, epochs=3, device="cpu", data_path="")
    project.training["data_path"] = str(EXAMPLES / "data" / "wine.csv")
    events: list[dict] = []
    job = job_from_project(project, str(tmp_path / "run"))
    trainer = Trainer(job, events.append)
    final = trainer.run()
    assert final["type"] == "finished", final.get("reason")
    assert trainer.step_model is not trainer.model  # the steps ran compiled
    assert any("torch.compile" in e.get("message", "") for e in events if e["type"] == "log")
    assert final["val_acc"] > 0.8
    state = torch.load(tmp_path / "run" / "model.pt", weights_only=True)
    assert not any(key.startswith("_orig_mod.") for key in state)
    plain = compile_source(job.source, job.class_name, "<test>")()
    plain.load_state_dict(state, strict=True)


def test_data_stays_on_the_device_only_when_it_fits():
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert fits_on_device(cpu, 1 << 40)
    assert fits_on_device(cuda, 400, free_bytes=1000)
    assert not fits_on_device(cuda, 600, free_bytes=1000)


def test_a_feed_kept_off_the_device_yields_every_sample_once(monkeypatch):
    monkeypatch.setattr("torchcanvas.app.train.feed.fits_on_device", lambda *_a: False)
    x, y = torch.arange(20.0).reshape(10, 2), torch.arange(10)
    bundle = DataBundle("t", (2,), ["a", "b"], train_x=x, train_y=y, val_x=x[:3], val_y=y[:3])
    feed = Feed(bundle, torch.device("cpu"), 4, seed=0)
    seen = torch.cat([yb for _xb, yb in feed.train()])
    assert sorted(seen.tolist()) == list(range(10))
    assert [len(yb) for _xb, yb in feed.val()] == [3]


@pytest.mark.parametrize(
    ("device", "shape", "conv", "expected"),
    [("cuda", (3, 32, 32), True, True), ("cpu", (3, 32, 32), True, False),
     ("cuda", (64,), False, False), ("cuda", (3, 32, 32), False, False)],
)  # fmt: skip
def test_channels_last_only_for_convolutions_on_cuda(device, shape, conv, expected):
    model = torch.nn.Conv2d(3, 4, 3) if conv else torch.nn.Linear(3, 4)
    assert channels_last_helps(torch.device(device), model, shape) is expected


def test_channels_last_reorders_image_batches_only():
    images = torch.zeros(2, 3, 4, 5)
    assert to_channels_last(images).is_contiguous(memory_format=torch.channels_last)
    ids = torch.zeros(2, 3, 4, 5, dtype=torch.long)
    assert to_channels_last(ids) is ids


@pytest.mark.slow
def test_the_gpu_benchmark_runs_its_comparison_on_the_cpu():
    from bench import bench_gpu

    figures = bench_gpu.run("cpu", samples=512, rounds=1)
    row = figures["eager fp32"]
    assert (
        row["hand"] > 0
        and row["engine"] > 0
        and row["ratio"] == pytest.approx(row["engine"] / row["hand"])
    )
    assert "eager fp32 |" in bench_gpu.report(figures)
