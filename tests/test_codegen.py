"""Generated code: readable, ruff-clean, and the same class the app trains."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.builders import linear_graph
from tests.conftest import EXAMPLES
from torchcanvas.codegen.build import build_model, compile_model
from torchcanvas.codegen.emit import CodegenError, emit_module
from torchcanvas.graph.model import ModelGraph
from torchcanvas.graph.project import load_project

RUFF = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")


def ruff(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    # --isolated: judge the file by ruff's defaults, not by this repository's settings.
    return subprocess.run([RUFF, *args, "--isolated"], cwd=cwd, capture_output=True, text=True)


def test_chain_reads_like_a_tutorial():
    project = load_project(EXAMPLES / "digit_classifier.json")
    source = emit_module(project.model).source
    assert "self.conv1 = nn.Conv2d(1, 16, kernel_size=3, padding=1)" in source
    assert "self.fc = nn.Linear(1568, 10)" in source
    assert "self.log_softmax = nn.LogSoftmax(dim=1)" in source
    forward = source[source.index("def forward") : source.index("if __name__")]
    assert forward.split("\n")[1:4] == [
        "        x = self.conv1(x)",
        "        x = self.relu1(x)",
        "        x = self.pool1(x)",
    ]
    assert "return x" in forward


def test_residual_reads_like_resnet():
    project = load_project(EXAMPLES / "resnet18_expanded.json")
    source = emit_module(project.model).source
    assert "        identity = x\n" in source
    assert "        x = x + identity\n" in source
    assert "identity = self.layer2_0_downsample_0(identity)" in source
    blocks = emit_module(load_project(EXAMPLES / "resnet18.json").model).source
    assert blocks.count("class ResidualBlock(nn.Module):") == 1
    assert "self.layer2_0 = ResidualBlock(64, 128, stride=2)" in blocks
    assert "out = out + identity" in blocks


def test_concat_and_branches_get_named_variables():
    model = ModelGraph("Inception")
    inp = model.add_node("Input", params={"shape": [3, 8, 8]})
    a = model.add_node("Conv2d", params={"out_channels": 4, "kernel_size": 1})
    b = model.add_node("Conv2d", params={"out_channels": 4, "kernel_size": 3, "padding": 1})
    cat = model.add_node("Concat")
    out = model.add_node("Output")
    for src, dst in ((inp, a), (inp, b), (a, cat), (b, cat), (cat, out)):
        model.connect(src, dst)
    source = emit_module(model).source
    assert "skip = x" in source
    assert "x = torch.cat([x, skip], dim=1)" in source
    cls, _ = compile_model(model)
    assert cls()(torch.zeros(1, 3, 8, 8)).shape == (1, 8, 8, 8)


def test_invalid_graph_is_refused_with_its_problems():
    model = linear_graph(("Linear", {"in_features": 3}), ("Flatten", {}))
    with pytest.raises(CodegenError) as caught:
        emit_module(model)
    assert "fc1: expects 3 input features" in str(caught.value)


def test_examples_pass_ruff_check_and_format_and_run(tmp_path):
    for path in sorted(EXAMPLES.glob("*.json")):
        (tmp_path / f"{path.stem}.py").write_text(emit_module(load_project(path).model).source)
    checked = ruff("check", ".", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout
    formatted = ruff("format", "--check", ".", cwd=tmp_path)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr
    ran = subprocess.run(
        [sys.executable, "small_cnn.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert "output shape: (1, 10)" in ran.stdout and "parameters: 31530" in ran.stdout


def test_long_names_still_format_cleanly(tmp_path):
    model = ModelGraph("A" + "b" * 38)
    inp = model.add_node("Input", params={"shape": [3, 8, 8]})
    names = [model.add_node("ReLU", f"branch_{i}_" + "x" * 30) for i in range(5)]
    merge = model.add_node("Add", "merge_all_the_branches_" + "y" * 17)
    cat = model.add_node("Concat", "concatenate_everything_" + "z" * 17)
    for name in names:
        model.connect(inp, name)
        model.connect(name, merge)
        model.connect(name, cat)
    model.connect(merge, cat)
    conv = model.add_node(
        "Conv2d",
        "c" * 40,
        params={
            "out_channels": 12345,
            "kernel_size": [3, 5],
            "padding": "same",
            "dilation": 2,
            "padding_mode": "reflect",
            "bias": False,
        },
    )
    model.connect(cat, conv)
    model.connect(conv, model.add_node("Output"))
    assert model.analysis().ok, model.analysis().problems
    (tmp_path / "long.py").write_text(emit_module(model).source)
    formatted = ruff("format", "--diff", ".", cwd=tmp_path)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr
    assert ruff("check", ".", cwd=tmp_path).returncode == 0


def test_the_trained_class_is_the_exported_class(tmp_path):
    model = load_project(EXAMPLES / "digits_cnn.json").model
    trained = build_model(model, seed=1)
    path = tmp_path / "digits.py"
    path.write_text(emit_module(model).source)
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    exported = namespace[model.name]()
    assert list(exported.state_dict()) == list(trained.state_dict())
    exported.load_state_dict(trained.state_dict())
    sample = torch.randn(4, 1, 8, 8)
    assert torch.equal(exported.eval()(sample), trained.eval()(sample))


def test_class_name_override_and_node_lines():
    model = linear_graph(("ReLU", {}))
    result = emit_module(model, "MyNet")
    assert "class MyNet(nn.Module):" in result.source
    lines = result.source.split("\n")
    for number, node in result.node_lines.items():
        assert node in lines[number - 1] or "return" in lines[number - 1]
    with pytest.raises(CodegenError):
        emit_module(model, "print")
