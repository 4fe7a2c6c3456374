"""Frozen layers and learning-rate factors: what the app trains, the exported class and the
training script do with them (compared with torch itself)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from tests.conftest import EXAMPLES
from tests.test_export_script import BIN, export_script, run
from torchcanvas.app.train.core.loop import build_model, make_optimizer
from torchcanvas.app.train.job import job_from_project
from torchcanvas.app.train.loop import Trainer
from torchcanvas.codegen.build import compile_source
from torchcanvas.codegen.emit import emit_module
from torchcanvas.graph.model import ModelGraph
from torchcanvas.graph.project import Project, save_project
from torchcanvas.graph.settings import coerce_training

FROZEN = ("fc1", "bn1")


def wine_bn_project(tmp_path, frozen=FROZEN, scales=None) -> Project:
    """Input(13) -> fc1 -> bn1 -> relu -> drop -> head(3) on the wine table, some flags set."""
    model = ModelGraph("WineBN")
    previous = None
    for type_name, name, params in (
        ("Input", "features", {"shape": [13]}),
        ("Linear", "fc1", {"out_features": 16}),
        ("BatchNorm1d", "bn1", {}),
        ("ReLU", "relu", {}),
        ("Dropout", "drop", {"p": 0.3}),
        ("Linear", "head", {"out_features": 3}),
        ("Output", "output", {}),
    ):
        node = model.add_node(type_name, name, params)
        if previous:
            model.connect(previous, node)
        previous = node
    for name in frozen:
        model.set_flag(model.find(name), "frozen", True)
    for name, scale in (scales or {}).items():
        model.set_flag(model.find(name), "lr_scale", scale)
    data = str(EXAMPLES / "data" / "wine.csv")
    training = {"data": "csv", "data_path": data, "targets": ["cultivar"], "device": "cpu"}
    return Project(model, coerce_training({**training, "epochs": 3, "lr": 0.01}))


def model_class(project: Project):
    result = emit_module(project.model)
    return compile_source(result.source, result.class_name, "<test>")


def test_training_leaves_every_frozen_tensor_as_loaded_and_trains_the_rest(tmp_path):
    project = wine_bn_project(tmp_path)
    start = build_model(model_class(project), 0, torch.device("cpu")).state_dict()
    start = {k: v.clone() for k, v in start.items()}
    final = Trainer(job_from_project(project, str(tmp_path / "run")), lambda e: None).run()
    assert final["type"] == "finished", final.get("reason")
    trained = torch.load(tmp_path / "run" / "model.pt", weights_only=True)
    for key, value in trained.items():
        if key.startswith(FROZEN):  # weights, biases and batch-norm statistics alike
            assert torch.equal(value, start[key]), key
    assert not torch.equal(trained["head.weight"], start["head.weight"])
    assert "bn1.running_mean" in trained and "bn1.num_batches_tracked" in trained


def test_the_optimizer_holds_the_trainable_parameters_in_one_group_per_factor(tmp_path):
    project = wine_bn_project(tmp_path, frozen=("fc1",), scales={"head": 10, "bn1": 0.1})
    model = model_class(project)()
    optimizer = make_optimizer({**project.training, "lr": 0.01}, model)
    groups = [(g["lr"], {id(p) for p in g["params"]}) for g in optimizer.param_groups]
    named = dict(model.named_parameters())
    assert groups == [  # in the order the layers hold their parameters
        (pytest.approx(0.01 * 0.1), {id(named["bn1.weight"]), id(named["bn1.bias"])}),
        (0.01 * 10, {id(named["head.weight"]), id(named["head.bias"])}),
    ]
    held = {id(p) for g in optimizer.param_groups for p in g["params"]}
    assert id(named["fc1.weight"]) not in held and id(named["fc1.bias"]) not in held


def test_the_exported_class_freezes_exactly_the_frozen_parameters(tmp_path):
    model = model_class(wine_bn_project(tmp_path))()
    for name, parameter in model.named_parameters():
        assert parameter.requires_grad == (not name.startswith(FROZEN)), name
    model.train()
    assert not model.bn1.training and not model.fc1.training
    assert model.drop.training and model.head.training
    model.eval()
    assert not model.head.training


def test_flags_are_a_settings_change_not_a_new_design(tmp_path):
    from torchcanvas.app.train.weights import graph_hash
    from torchcanvas.codegen.fingerprint import design_changes, same_design

    plain = emit_module(wine_bn_project(tmp_path, frozen=()).model).source
    flagged = emit_module(wine_bn_project(tmp_path, scales={"head": 10}).model).source
    assert "requires_grad_(False)" in flagged and "lr_scales" in flagged
    assert same_design(graph_hash(plain), graph_hash(flagged))
    assert design_changes(plain, flagged) == []


def start_weights(project: Project, path, seed: int) -> dict:
    """Weights other than the seed's, saved to `path`: a run that keeps them loaded them."""
    state = build_model(model_class(project), seed, torch.device("cpu")).state_dict()
    torch.save(state, path)
    return state


@pytest.mark.slow
def test_the_training_script_under_torchrun_starts_from_weights_file_and_keeps_frozen(tmp_path):
    project = wine_bn_project(tmp_path, scales={"head": 10})
    project.training["weights_file"] = "start.pt"  # relative: to the project
    start = start_weights(project, tmp_path / "start.pt", seed=7)
    save_project(project, tmp_path / "p.json")
    script = export_script(tmp_path, tmp_path / "p.json")
    command = [BIN / "torchrun", "--standalone", "--nproc_per_node=2", script]
    output = run([*command, "--epochs", "2", "--device", "cpu", "--out", "ddp"], tmp_path, 240)
    assert output.count(f"start.pt: {len(start)} matched, 0 missing") == 1  # by rank 0 only
    trained = torch.load(tmp_path / "ddp" / "model.pt", weights_only=True)
    for key, value in trained.items():
        if key.startswith(FROZEN):  # parameters and batch-norm buffers, as the file has them
            assert torch.equal(value, start[key]), key
    assert not torch.equal(trained["head.weight"], start["head.weight"])
    for epochs, unfrozen in (("1", False), ("2", True)):  # gradual unfreezing, at epoch 2
        flags = ["--epochs", epochs, "--unfreeze-epoch", "2", "--device", "cpu"]
        output = run([*command, *flags, "--out", f"u{epochs}"], tmp_path, 240)
        said = "epoch 2: the frozen layers train from now on (256 parameters)"
        assert output.count(said) == unfrozen  # by rank 0 only
        trained = torch.load(tmp_path / f"u{epochs}" / "model.pt", weights_only=True)
        for key in ("fc1.weight", "bn1.weight", "bn1.running_mean"):
            assert torch.equal(trained[key], start[key]) != unfrozen, (epochs, key)
    other = start_weights(project, tmp_path / "other.pt", seed=8)  # --weights overrides
    run([sys.executable, script, "--epochs", "1", "--weights", "other.pt", "--out", "1"], tmp_path)
    trained = torch.load(tmp_path / "1" / "model.pt", weights_only=True)
    for key in ("fc1.weight", "bn1.running_mean", "bn1.num_batches_tracked"):
        assert torch.equal(trained[key], other[key]), key
    assert not torch.equal(trained["head.weight"], other["head.weight"])


@pytest.mark.slow
def test_the_training_script_refuses_missing_or_unfit_starting_weights_in_one_line(tmp_path):
    project = wine_bn_project(tmp_path)
    project.training["weights_file"] = "gone.pt"
    save_project(project, tmp_path / "p.json")
    script = export_script(tmp_path, tmp_path / "p.json")
    (tmp_path / "bad.pt").write_bytes(b"not torch")
    torch.save({"elsewhere.weight": torch.zeros(2)}, tmp_path / "foreign.pt")
    for extra, words in (
        ([], "the project's starting weights (weights_file) "),
        (["--weights", "nope.pt"], "--weights nope.pt: no such file"),
        (["--weights", "bad.pt"], "bad.pt: not a loadable weights file"),
        (["--weights", "foreign.pt"], "foreign.pt does not fit the model (0 matched"),
    ):
        done = subprocess.run(
            [sys.executable, script, "--out", "run", *extra],
            cwd=tmp_path, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 2, done.stderr
        assert done.stderr.count("\n") == 1 and words in done.stderr, done.stderr
        assert not (tmp_path / "run").exists()


def test_a_flag_inside_a_block_definition_applies_to_every_instance():
    from tests.test_blocks import library_with, single_block

    library = library_with("BasicBlock")
    body = library.get("BasicBlock").graph
    body.set_flag(body.find("bn1"), "frozen", True)
    body.set_flag(body.find("conv2"), "lr_scale", 0.5)
    model = single_block("BasicBlock", (16, 8, 8), {"out_channels": 16}, library)
    result = emit_module(model)
    net = compile_source(result.source, result.class_name, "<test>")()
    frozen = {n for n, p in net.named_parameters() if not p.requires_grad}
    assert frozen == {"block.bn1.weight", "block.bn1.bias"}
    net.train()
    assert not net.block.bn1.training and net.block.bn2.training
    optimizer = make_optimizer({"optimizer": "SGD", "lr": 1.0, "momentum": 0.0,
                                "weight_decay": 0.0}, net)  # fmt: skip
    scaled = [g for g in optimizer.param_groups if g["lr"] == 0.5]
    assert [p.shape for p in scaled[0]["params"]] == [net.block.conv2.weight.shape]


def test_inside_a_frozen_container_a_layer_that_says_so_trains():
    from tests.builders import chain

    model = ModelGraph("Net")
    nodes = [
        model.add_node("Input", params={"shape": [8]}),
        model.add_node("Sequential", "trunk"),
        model.add_node("Linear", "head", {"out_features": 2}),
        model.add_node("Output"),
    ]
    chain(model, nodes)
    body = model.body(nodes[1])
    body.disconnect(body.inputs(body.id_of("output"))[0])
    fc1 = body.add_node("Linear", "fc1", {"out_features": 8})
    bn = body.add_node("BatchNorm1d", "bn", {})
    fc2 = body.add_node("Linear", "fc2", {"out_features": 8})
    chain(body, [body.id_of("input"), fc1, bn, fc2, body.id_of("output")])
    model.set_flag(nodes[1], "frozen", True)
    body.set_flag(fc2, "frozen", False)
    body.set_flag(fc1, "lr_scale", 0.1)
    result = emit_module(model)
    assert "self.trunk[2].requires_grad_(True)" in result.source
    net = compile_source(result.source, result.class_name, "<test>")()
    trainable = {n for n, p in net.named_parameters() if p.requires_grad}
    assert trainable == {"trunk.2.weight", "trunk.2.bias", "head.weight", "head.bias"}
    net.train()
    assert not net.trunk[1].training and net.trunk[2].training
    assert net.lr_scales == {"trunk.0": 0.1}


def test_a_run_with_frozen_layers_resumes(tmp_path):
    project = wine_bn_project(tmp_path, scales={"head": 10})
    project.training["epochs"] = 1
    first = Trainer(job_from_project(project, str(tmp_path / "one")), lambda e: None).run()
    assert first["type"] == "finished"
    project.training["epochs"] = 2
    job = job_from_project(project, str(tmp_path / "two"), resume=str(tmp_path / "one"))
    final = Trainer(job, lambda e: None).run()
    assert final["type"] == "finished", final.get("reason")
    assert [row["epoch"] for row in final["history"]] == [1, 2]


def test_exports_with_flags_are_ruff_clean(tmp_path):
    import subprocess

    project = wine_bn_project(tmp_path, scales={"head": 10})
    save_project(project, tmp_path / "p.json")
    script = export_script(tmp_path, tmp_path / "p.json")
    module = tmp_path / "m.py"
    module.write_text(emit_module(project.model).source)
    ruff = BIN / "ruff"
    for command in (["check", "--isolated"], ["format", "--check", "--isolated"]):
        done = subprocess.run([ruff, *command, module, script], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr


def test_gradual_unfreezing_trains_the_frozen_layers_from_that_epoch(tmp_path):
    project = wine_bn_project(tmp_path, scales={"fc1": 0.5})
    project.training.update(epochs=3, unfreeze_epoch=3)
    start = build_model(model_class(project), 0, torch.device("cpu")).state_dict()
    start = {k: v.clone() for k, v in start.items()}
    states, logs = [], []

    def emit(event):
        if event["type"] == "epoch":  # the weights as each epoch left them
            states.append({k: v.clone() for k, v in trainer.model.state_dict().items()})
        elif event["type"] == "log":
            logs.append(event["message"])

    trainer = Trainer(job_from_project(project, str(tmp_path / "run")), emit)
    assert trainer.run()["type"] == "finished"
    for state in states[:2]:  # epochs 1 and 2: every frozen tensor as it started
        for key in start:
            if key.startswith(FROZEN):
                assert torch.equal(state[key], start[key]), key
    for key in ("fc1.weight", "bn1.weight", "bn1.running_mean"):  # epoch 3: they train
        assert not torch.equal(states[2][key], start[key]), key
    assert states[2]["bn1.num_batches_tracked"] > 0
    assert "epoch 3: the frozen layers train from now on (256 parameters)" in logs
    fc1 = {id(p) for p in trainer.model.fc1.parameters()}
    groups = [g for g in trainer.optimizer.param_groups if fc1 & {id(p) for p in g["params"]}]
    assert len(groups) == 1 and groups[0]["lr"] == pytest.approx(0.01 * 0.5)  # its factor
    model = model_class(project)()
    model.train()
    assert not model.bn1.training  # frozen in the exported class until unfrozen
    model.keep_frozen = False
    assert model.train().bn1.training
