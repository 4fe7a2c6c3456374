"""Weights: safe loading, name matching with a per-node report, strict and partial modes."""

from __future__ import annotations

import os
import pickle

import pytest
import torch
import torchvision
from torch import nn

from bench.references import TutorialDigitClassifier
from tests.conftest import EXAMPLES
from torchcanvas.app.train.weights import (
    WeightsError,
    apply,
    match,
    read_state_dict,
    save_state_dict,
)
from torchcanvas.codegen.build import build_model
from torchcanvas.graph.project import load_project


def designer(stem: str) -> nn.Module:
    return build_model(load_project(EXAMPLES / f"{stem}.json").model, seed=123).eval()


def test_a_hand_written_state_dict_loads_and_gives_the_same_outputs(tmp_path):
    torch.manual_seed(0)
    reference = TutorialDigitClassifier().eval()
    torch.save(reference.state_dict(), tmp_path / "tutorial.pth")
    model = designer("digit_classifier")
    report = apply(model, read_state_dict(tmp_path / "tutorial.pth"), strict=True)
    assert report.complete and len(report.matched) == 6
    sample = torch.randn(5, 1, 28, 28)
    with torch.no_grad():
        assert torch.allclose(model(sample), reference(sample), atol=1e-6)


def test_a_mismatched_state_dict_is_refused_with_the_report_and_changes_nothing(tmp_path):
    state = TutorialDigitClassifier().state_dict()
    state["fc.weight"] = torch.zeros(10, 1568 * 2)
    state["extra.bias"] = torch.zeros(3)
    del state["conv2.bias"]
    model = designer("digit_classifier")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(WeightsError) as caught:
        apply(model, state, strict=True)
    report = caught.value.report
    assert report.mismatched == {"fc.weight": ((10, 1568), (10, 3136))}
    assert report.missing == ["conv2.bias"] and report.unexpected == ["extra.bias"]
    lines = report.lines()
    assert "fc: matched: bias; mismatched: weight 10x3136 (model 10x1568)" in lines
    assert "conv2: matched: weight; missing: bias" in lines
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    partial = apply(model, state, strict=False)
    assert len(partial.matched) == 4
    assert torch.equal(model.state_dict()["conv1.weight"], state["conv1.weight"])
    assert torch.equal(model.state_dict()["fc.weight"], before["fc.weight"])


def test_nothing_fits_is_refused():
    with pytest.raises(WeightsError, match="no tensor in the file fits"):
        apply(designer("mlp"), {"encoder.weight": torch.zeros(3)}, strict=False)


@pytest.mark.parametrize("stem", ["resnet18", "resnet18_expanded"])
def test_torchvision_resnet18_weights_load_into_the_examples(stem):
    torch.manual_seed(0)
    reference = torchvision.models.resnet18().eval()
    model = designer(stem)
    report = apply(model, reference.state_dict(), strict=True)
    assert report.complete
    sample = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(model(sample), reference(sample), atol=1e-5)


def test_data_parallel_prefix_and_checkpoint_wrappers(tmp_path):
    state = {f"module.{k}": v for k, v in TutorialDigitClassifier().state_dict().items()}
    torch.save({"epoch": 3, "model_state_dict": state}, tmp_path / "ckpt.pt")
    report = apply(designer("digit_classifier"), read_state_dict(tmp_path / "ckpt.pt"))
    assert report.complete


class Exploit:
    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/torchcanvas_pwned",))


def test_a_malicious_pickle_is_refused(tmp_path):
    path = tmp_path / "evil.pt"
    with open(path, "wb") as handle:
        pickle.dump({"conv1.weight": Exploit()}, handle)
    torch.save({"payload": Exploit()}, tmp_path / "evil2.pt")
    for bad in (path, tmp_path / "evil2.pt"):
        with pytest.raises(WeightsError, match="weights_only=True refused it") as caught:
            read_state_dict(bad)
        assert "False" not in str(caught.value)  # never advise turning the protection off
    assert "posix.system" in str(caught.value)  # says what the file tried to load
    assert not os.path.exists("/tmp/torchcanvas_pwned")


def test_files_that_are_not_state_dicts(tmp_path):
    torch.save([torch.zeros(2)], tmp_path / "list.pt")
    with pytest.raises(WeightsError, match="not a state_dict"):
        read_state_dict(tmp_path / "list.pt")
    (tmp_path / "text.pt").write_text("hello")
    with pytest.raises(WeightsError, match="not a loadable weights file"):
        read_state_dict(tmp_path / "text.pt")
    with pytest.raises(WeightsError, match="no such file"):
        read_state_dict(tmp_path / "missing.pt")


def test_saved_weights_round_trip(tmp_path):
    model = designer("mlp_batchnorm")
    save_state_dict(model, tmp_path / "w.pt")
    loaded = torch.load(tmp_path / "w.pt", weights_only=True)
    assert match(designer("mlp_batchnorm"), loaded).complete


def test_a_flat_design_finds_module_paths_with_dashes_like_regnet():
    from tests.builders import linear_graph

    design = linear_graph(("Conv2d", {"out_channels": 4, "kernel_size": 1}), shape=(2, 4, 4))
    design.rename(design.id_of("conv1"), "trunk_block1_0_proj")
    model = build_model(design)
    state = {"trunk.block1-0.proj." + k.split(".")[-1]: v for k, v in model.state_dict().items()}
    assert apply(model, state, strict=True).complete


def test_the_report_of_a_design_from_blocks_names_modules_by_their_paths():
    model = designer("resnet18")
    state = torchvision.models.resnet18().state_dict()
    del state["layer2.0.downsample.0.weight"]
    with pytest.raises(WeightsError) as caught:
        apply(model, state, strict=True)
    assert "layer2.0.downsample.0: missing: weight" in caught.value.report.lines()
