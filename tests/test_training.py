"""The training loop: every loss and optimizer, faults, capture, resume."""

from __future__ import annotations

import math

import pytest
import torch

from tests.conftest import EXAMPLES
from torchcanvas.app.train import loop as loop_module
from torchcanvas.app.train.data import load_data
from torchcanvas.app.train.faults import describe
from torchcanvas.app.train.job import job_from_project, module_nodes
from torchcanvas.app.train.loop import Trainer
from torchcanvas.graph.project import load_project
from torchcanvas.graph.settings import LOSSES, OPTIMIZERS


def digits_job(tmp_path, **overrides):
    project = load_project(EXAMPLES / "digits_cnn.json")
    return job_from_project(project, str(tmp_path / "run"), **overrides)


def run(job) -> tuple[dict, list[dict]]:
    events: list[dict] = []
    final = Trainer(job, events.append).run()
    return final, events


@pytest.mark.parametrize("loss", LOSSES)
def test_every_loss_trains(tmp_path, loss):
    final, events = run(digits_job(tmp_path, loss=loss, epochs=1, max_steps=8))
    assert final["type"] == "finished", final.get("reason")
    losses = [v for e in events if e["type"] == "steps" for v in e["losses"]]
    assert len(losses) == 8 and all(math.isfinite(v) for v in losses)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("schedule", ["none", "step", "cosine"])
@pytest.mark.slow
def test_every_optimizer_and_schedule_lowers_the_loss(tmp_path, optimizer, schedule):
    lr = {"SGD": 0.05, "RMSprop": 0.001}.get(optimizer, 0.003)
    final, _ = run(
        digits_job(tmp_path, optimizer=optimizer, schedule=schedule, lr=lr, epochs=3, step_size=1)
    )
    history = final["history"]
    assert final["type"] == "finished" and len(history) == 3
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    if schedule == "step":
        assert history[1]["lr"] == pytest.approx(lr * 0.1)


def test_nan_loss_stops_with_the_step_and_keeps_good_weights(tmp_path, monkeypatch):
    real = load_data

    def poisoned(settings, shape, split="train", **named):
        bundle = real(settings, shape, split, **named)
        bundle.train_x[:] = float("nan")
        return bundle

    monkeypatch.setattr(loop_module, "load_data", poisoned)
    final, _ = run(digits_job(tmp_path))
    assert final["type"] == "failed" and final["kind"] == "nan"
    assert "the loss became nan at step 1 (epoch 1)" in final["reason"]
    weights = torch.load(final["weights"], weights_only=True)
    assert all(torch.isfinite(t).all() for t in weights.values() if t.is_floating_point())


def test_an_exception_inside_the_model_names_the_node(tmp_path):
    job = digits_job(tmp_path)
    job.source = job.source.replace("self.fc1 = nn.Linear(", "self.fc1 = nn.Linear(3 + ")
    final, _ = run(job)
    assert final["type"] == "failed" and final["kind"] == "model"
    assert final["reason"].startswith("fc1: RuntimeError:")


def test_out_of_memory_suggests_a_batch_size():
    fault = describe(
        torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB"), "<x>", {}, 256
    )
    assert fault.kind == "oom" and "try batch size 128" in str(fault)


def test_refused_data_fails_before_training(tmp_path):
    project = load_project(EXAMPLES / "small_cnn.json")
    job = job_from_project(project, str(tmp_path / "run"), data="digits")
    final, events = run(job)
    assert final["type"] == "failed" and final["kind"] == "data"
    assert "samples are 1x8x8 but the Input expects 1x28x28" in final["reason"]
    assert not any(e["type"] == "steps" for e in events)


@pytest.mark.slow
def test_capture_reports_maps_and_stats_by_node_id_and_removes_its_hooks(tmp_path):
    model = load_project(EXAMPLES / "digits_cnn.json").model
    conv1, relu3, fc2 = (model.id_of(name) for name in ("conv1", "relu3", "fc2"))
    wanted = {
        node: path for node, path in module_nodes(model).items() if node in (conv1, relu3, fc2)
    }
    job = digits_job(tmp_path, epochs=2, capture_nodes=wanted, capture_interval=0.0)
    events: list[dict] = []
    trainer = Trainer(job, events.append)
    trainer.run()
    captures = [e for e in events if e["type"] == "capture"]
    assert len(captures) > 10
    last = captures[-1]["nodes"]
    assert set(last) == {conv1, relu3, fc2}
    assert last[conv1]["map"].shape == (16, 8, 8) and last[fc2]["map"].shape == (10,)
    assert 0.0 <= last[relu3]["zeros"] <= 1.0 and last[conv1]["grad"] > 0
    assert {"mean", "std", "zeros", "out_grad"} <= set(last[relu3])
    for module in trainer.model.modules():
        assert not module._forward_hooks


@pytest.mark.slow
def test_resume_continues_from_the_checkpoint(tmp_path):
    first, _ = run(digits_job(tmp_path, epochs=2))
    resumed, events = run(digits_job(tmp_path, epochs=4, resume=first["checkpoint"]))
    assert [row["epoch"] for row in resumed["history"]] == [1, 2, 3, 4]
    assert [e["epoch"] for e in events if e["type"] == "epoch"] == [3, 4]


def test_resume_refuses_a_checkpoint_of_another_graph(tmp_path):
    first, _ = run(digits_job(tmp_path, epochs=1))
    other = job_from_project(
        load_project(EXAMPLES / "mlp.json"),
        str(tmp_path / "b"),
        data="synthetic",
        resume=first["checkpoint"],
    )
    final, _ = run(other)
    assert final["type"] == "failed" and "different graph" in final["reason"]


def test_finished_run_reports_confusion_and_probe_predictions(tmp_path):
    final, _ = run(digits_job(tmp_path, epochs=2))
    matrix = torch.tensor(final["confusion"])
    assert matrix.shape == (10, 10) and int(matrix.sum()) == 359
    probe = final["probe"]
    assert probe["images"].shape == (16, 1, 8, 8) and len(probe["predicted"]) == 16


def test_the_guard_checks_accelerator_losses_in_groups_and_restores_weights():
    from torchcanvas.app.train.guard import GROUP, LossGuard, NonFiniteLoss

    model = torch.nn.Linear(3, 2)
    guard = LossGuard(model, torch.device("meta"))  # any non-CPU device takes the group path
    good = {k: v.clone() for k, v in model.state_dict().items()}
    full = False
    for step in range(1, GROUP + 1):
        full = guard.record(step, torch.tensor(float(step)))
    assert full
    steps, values = guard.drain()
    assert steps[0] == 1 and values[-1] == float(GROUP)
    with torch.no_grad():
        model.weight.fill_(float("nan"))
    guard.record(GROUP + 1, torch.tensor(float("inf")))
    with pytest.raises(NonFiniteLoss) as caught:
        guard.drain()
    assert caught.value.step == GROUP + 1
    assert torch.equal(model.weight, good["weight"])


@pytest.mark.slow
def test_an_exception_inside_a_block_names_the_inner_module_by_its_path(tmp_path):
    from tests.builders import chain, library_with
    from torchcanvas.graph.model import ModelGraph
    from torchcanvas.graph.project import Project

    model = ModelGraph("Tiny", library_with("BasicBlock"))
    nodes = [
        model.add_node("Input", params={"shape": [3, 8, 8]}),
        model.add_node("Sequential", "layer1"),
        model.add_node("AdaptiveAvgPool2d"),
        model.add_node("Flatten"),
        model.add_node("Linear", params={"out_features": 10}),
        model.add_node("Output"),
    ]
    chain(model, nodes)
    body = model.body(nodes[1])
    block = body.add_node("BasicBlock", "block0", {"out_channels": 8})
    body.disconnect(body.inputs(body.id_of("output"))[0])
    chain(body, [body.id_of("input"), block, body.id_of("output")])
    project = Project(model)
    project.training.update(data="synthetic", epochs=1, batch_size=4, device="cpu")
    job = job_from_project(project, str(tmp_path / "run"), max_steps=2)
    job.source = job.source.replace(
        "        x = self.bn2(x)\n", "        x = self.bn2(x[:, :-1])\n", 1
    )
    final, _ = run(job)
    assert final["type"] == "failed" and final["kind"] == "model", final["reason"]
    assert final["reason"].startswith("layer1.0.bn2: RuntimeError:"), final["reason"]
