"""Blocks: definitions, containers, bindings and conditions, checked against torch itself."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest
import torch
import torchvision
from torch import nn

from tests.builders import chain, library_with
from tests.conftest import EXAMPLES
from tests.reference import assert_outputs_match_analysis, forward, ruff_problems
from torchcanvas.codegen.build import build_model, compile_model
from torchcanvas.codegen.emit import CodegenError, emit_module
from torchcanvas.graph.blockbuild import Builder, auto_channels, bind, int_param
from torchcanvas.graph.model import ModelGraph
from torchcanvas.graph.project import (
    Project,
    dumps_project,
    load_project,
    loads_project,
    save_project,
)


def single_block(type_name: str, shape, params=None, library=None) -> ModelGraph:
    """Input -> one block instance -> Output."""
    model = ModelGraph("Net", library or library_with(type_name))
    nodes = [
        model.add_node("Input", params={"shape": list(shape)}),
        model.add_node(type_name, "block", params or {}),
        model.add_node("Output"),
    ]
    chain(model, nodes)
    return model


def same_outputs(model: ModelGraph, reference: nn.Module, shape, prefix="block.") -> None:
    """The export loads `reference`'s weights with strict=True and computes what it does."""
    exported = build_model(model).eval()
    state = {prefix + k: v for k, v in reference.state_dict().items()}
    exported.load_state_dict(state, strict=True)
    sample = torch.randn(2, *shape)
    with torch.no_grad():
        assert torch.allclose(exported(sample), reference.eval()(sample), atol=1e-6)


def test_a_block_class_takes_its_parameters():
    source = emit_module(single_block("BasicBlock", (16, 8, 8), {"out_channels": 32})).source
    assert "class BasicBlock(nn.Module):" in source
    assert "    def __init__(self, in_channels, out_channels=64, stride=1):" in source
    assert "        self.bn1 = nn.BatchNorm2d(out_channels)" in source
    assert "        if stride != 1 or in_channels != out_channels:" in source
    assert "        self.block = BasicBlock(16, 32)" in source


@pytest.mark.parametrize(
    ("type_name", "shape", "params", "reference"),
    [
        (
            "BasicBlock",
            (16, 8, 8),
            {"out_channels": 32, "stride": 2},
            lambda: torchvision.models.resnet.BasicBlock(
                16, 32, 2, nn.Sequential(nn.Conv2d(16, 32, 1, 2, bias=False), nn.BatchNorm2d(32))
            ),
        ),
        (
            "BasicBlock",
            (16, 8, 8),
            {"out_channels": 16},
            lambda: torchvision.models.resnet.BasicBlock(16, 16),
        ),
        (
            "Bottleneck",
            (64, 8, 8),
            {"planes": 16},
            lambda: torchvision.models.resnet.Bottleneck(64, 16),
        ),
        (
            "InvertedResidual",
            (16, 8, 8),
            {"out_channels": 24, "stride": 2},
            lambda: torchvision.models.mobilenetv2.InvertedResidual(16, 24, 2, 6),
        ),
        (
            "InvertedResidual",
            (16, 8, 8),
            {"out_channels": 16, "expand_ratio": 1},
            lambda: torchvision.models.mobilenetv2.InvertedResidual(16, 16, 1, 1),
        ),
        (
            "SqueezeExcitation",
            (16, 6, 6),
            {"squeeze_channels": 4},
            lambda: torchvision.ops.SqueezeExcitation(16, 4),
        ),
        (
            "Fire",
            (32, 8, 8),
            {"squeeze_planes": 8, "expand1x1_planes": 16, "expand3x3_planes": 16},
            lambda: torchvision.models.squeezenet.Fire(32, 8, 16, 16),
        ),
        (
            "Inception",
            (32, 8, 8),
            {"ch1x1": 8, "ch3x3red": 4, "ch3x3": 8, "ch5x5red": 4, "ch5x5": 8, "pool_proj": 8},
            lambda: importlib.import_module("torchvision.models.googlenet").Inception(
                32, 8, 4, 8, 4, 8, 8
            ),
        ),
        (
            "TransformerEncoderBlock",
            (10, 32),
            {"num_heads": 4, "mlp_dim": 64},
            lambda: torchvision.models.vision_transformer.EncoderBlock(4, 32, 64, 0.0, 0.0),
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_built_in_blocks_compute_what_torchvision_does(type_name, shape, params, reference):
    torch.manual_seed(0)
    model = single_block(type_name, shape, params)
    assert model.analysis().ok, [str(p) for p in model.analysis().problems]
    same_outputs(model, reference(), shape)


def test_dense_layer_matches_torchvision():
    torch.manual_seed(0)
    model = single_block("DenseLayer", (24, 8, 8), {"growth_rate": 8})
    reference = torchvision.models.densenet._DenseLayer(24, 8, 4, 0.0)
    exported = build_model(model).eval()
    exported.load_state_dict({"block." + k: v for k, v in reference.state_dict().items()})
    sample = torch.randn(2, 24, 8, 8)
    with torch.no_grad():
        assert torch.allclose(exported(sample), reference.eval()([sample]), atol=1e-6)


@pytest.mark.parametrize(
    ("stem", "reference"),
    [
        ("resnet18", torchvision.models.resnet18),
        ("resnet50", torchvision.models.resnet50),
        ("mobilenet_v2", torchvision.models.mobilenet_v2),
        ("densenet121", torchvision.models.densenet121),
    ],
)
def test_examples_from_blocks_load_torchvision_state_dicts_strictly(stem, reference):
    model = load_project(EXAMPLES / f"{stem}.json").model
    exported = build_model(model).eval()
    original = reference().eval()
    exported.load_state_dict(original.state_dict(), strict=True)  # no renaming anywhere
    sample = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        assert torch.equal(exported(sample), original(sample))


def test_resnet18_from_blocks_is_about_a_dozen_cards():
    model = load_project(EXAMPLES / "resnet18.json").model
    assert 10 <= len(model) <= 14


class SubNet(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)
        self.bn = nn.BatchNorm2d(channels)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))


class Tutorial(nn.Module):
    """The kind of model the torch.nn tutorials write."""

    def __init__(self):
        super().__init__()
        self.conv_block = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.subnet1 = SubNet(8)
        self.subnet2 = SubNet(8)
        self.layers = nn.ModuleList([nn.Linear(8 * 14 * 14, 32), nn.Linear(32, 32)])
        self.head = nn.Linear(32, 10)

    def forward(self, x):
        x = self.subnet2(self.subnet1(self.conv_block(x)))
        x = torch.flatten(x, 1)
        for layer in self.layers:
            x = layer(x)
        return self.head(x)


def _tutorial_design() -> ModelGraph:
    library = library_with()
    sub = Builder("SubNet", library, (8, 14, 14))
    sub.chain(
        ("Conv2d", "conv", {"out_channels": bind("channels"), "kernel_size": 3, "padding": 1}),
        ("BatchNorm2d", "bn", {}),
        ("ReLU", "relu", {}),
    )
    sub.output()
    library.add(sub.build((auto_channels("channels"),)))
    model = ModelGraph("Tutorial", library)
    x = model.add_node("Input", params={"shape": [1, 28, 28]})
    block = model.add_node("Sequential", "conv_block")
    body = Builder("Body", library, (1, 28, 28))
    body.chain(
        ("Conv2d", "conv", {"out_channels": 8, "kernel_size": 3, "padding": 1}),
        ("ReLU", "relu", {}),
        ("MaxPool2d", "pool", {"kernel_size": 2}),
    )
    body.output()
    model.set_body(block, body.graph)
    layers = model.add_node("ModuleList", "layers")
    body = Builder("Body", library, (1568,))
    body.chain(("Linear", "fc1", {"out_features": 32}), ("Linear", "fc2", {"out_features": 32}))
    body.output()
    model.set_body(layers, body.graph)
    nodes = [
        x,
        block,
        model.add_node("SubNet", "subnet1"),
        model.add_node("SubNet", "subnet2"),
        model.add_node("Flatten"),
        layers,
        model.add_node("Linear", "head", {"out_features": 10}),
        model.add_node("Output"),
    ]
    chain(model, nodes)
    return model


def test_a_hand_written_tutorial_model_loads_strictly_into_the_same_design(tmp_path):
    torch.manual_seed(0)
    written = Tutorial().eval()
    design = _tutorial_design()
    assert design.analysis().ok, [str(p) for p in design.analysis().problems]
    source = emit_module(design).source
    assert "self.conv_block = nn.Sequential(" in source and "for layer in self.layers:" in source
    assert source.count("class SubNet(nn.Module):") == 1
    (tmp_path / "tutorial.py").write_text(source)
    assert ruff_problems(tmp_path) == ""
    exported = build_model(design).eval()
    exported.load_state_dict(written.state_dict(), strict=True)
    sample = torch.randn(3, 1, 28, 28)
    with torch.no_grad():
        assert torch.equal(exported(sample), written(sample))


def test_problems_inside_a_block_name_the_inner_node_by_its_path():
    library = library_with("BasicBlock")
    inner = library.get("BasicBlock").graph
    inner.set_param(inner.id_of("conv2"), "in_channels", 7)
    model = single_block("BasicBlock", (16, 8, 8), {"out_channels": 32}, library)
    problems = [str(p) for p in model.analysis().problems]
    assert problems == [
        "block.conv2: expects 7 input channels but receives 32; unpin in_channels or change conv1"
    ]
    problem = model.analysis().problems[0]
    assert problem.trail == (inner.id_of("conv2"),)  # clicking it opens the block there


def test_a_binding_to_an_unknown_parameter_is_a_problem_on_the_inner_node():
    library = library_with("BasicBlock")
    inner = library.get("BasicBlock").graph
    inner.set_param(inner.id_of("conv1"), "stride", {"bind": "strides"})
    model = single_block("BasicBlock", (16, 8, 8), {}, library)
    text = str(model.analysis().problems[0])
    assert "block.conv1: stride = strides: 'strides' uses 'strides', which is not a parameter" in (
        text
    )


def test_a_block_used_inside_itself_is_a_problem_not_a_hang():
    library = library_with("SqueezeExcitation")
    inner = library.get("SqueezeExcitation").graph
    relu = inner.id_of("activation")
    inner.remove_node(relu)
    again = inner.add_node("SqueezeExcitation", "again")
    inner.connect(inner.id_of("fc1"), again)
    inner.connect(again, inner.id_of("fc2"))
    model = single_block("SqueezeExcitation", (16, 6, 6), {}, library)
    assert [str(p) for p in model.analysis().problems] == [
        "block.again: SqueezeExcitation uses itself; a block cannot be used inside itself"
    ]


def test_a_value_the_class_cannot_compute_is_refused_at_export():
    library = library_with()
    head = Builder("Head", library, (4, 8, 8))
    head.chain(("Flatten", "flatten", {}), ("Linear", "fc", {"out_features": 2}))
    head.output()
    library.add(head.build(()))
    model = ModelGraph("Net", library)
    x = model.add_node("Input", params={"shape": [4, 8, 8]})
    pool = model.add_node("MaxPool2d")
    out1, out2 = model.add_node("Output"), model.add_node("Output", "aux")
    a, b = model.add_node("Head", "head_a"), model.add_node("Head", "head_b")
    chain(model, [x, a, out1])
    chain(model, [x, pool, b, out2])
    with pytest.raises(CodegenError, match=r"head_[ab].fc.in_features is \d+ here") as caught:
        emit_module(model)
    assert "bind the value to one of Head's parameters" in str(caught.value)


def test_a_false_condition_passes_the_input_on():
    model = single_block("BasicBlock", (16, 8, 8), {"out_channels": 16})
    facts = model.analysis().facts[model.id_of("block")]
    downsample = facts.inner.facts[library_node(model, "BasicBlock", "downsample")]
    assert downsample.disabled and facts.params == 2 * (16 * 16 * 9 + 32)


def library_node(model, block: str, name: str) -> str:
    return model.library.get(block).graph.id_of(name)


def test_module_paths_are_the_state_dict_paths():
    model = load_project(EXAMPLES / "densenet121.json").model
    paths = set()

    def collect(analysis) -> None:
        for facts in analysis.facts.values():
            paths.add(facts.path)
            if facts.inner is not None:
                collect(facts.inner)

    collect(model.analysis())
    module = build_model(model)
    names = {name for name, _ in module.named_modules()}
    assert "features.denseblock3.denselayer24.conv2" in paths
    assert "features.transition2.conv" in paths
    assert {p for p in paths if p in names} >= {"features.denseblock1.denselayer1.norm1"}


def test_nested_blocks_save_load_save_is_byte_identical():
    for stem in ("resnet50", "mobilenet_v2", "densenet121"):
        first = dumps_project(load_project(EXAMPLES / f"{stem}.json"))
        assert dumps_project(loads_project(first)) == first


def test_a_project_with_blocks_round_trips_its_exports(tmp_path):
    project = Project(_tutorial_design())
    again = loads_project(dumps_project(project))
    assert emit_module(again.model).source == emit_module(project.model).source
    _, _, outputs = forward(again.model)
    assert_outputs_match_analysis(again.model, outputs)
    assert compile_model(again.model)[1].class_name == "Tutorial"


def test_a_chunk_left_out_by_its_condition_is_refused_by_check_and_export_alike(tmp_path, capsys):
    from torchcanvas.app.__main__ import main
    from torchcanvas.graph.blockbuild import int_param
    from torchcanvas.graph.library import Library
    from torchcanvas.graph.project import save_project

    library = Library()
    body = Builder("Halves", library, (8, 4))
    chunk = body.node("Chunk", "chunk", {"chunks": 2, "dim": 1}, when="split == 1")
    body.node("Add", "add", sources=[(chunk, "0"), (chunk, "1")])
    body.output()
    library.add(body.build((int_param("split", 1, "Whether to split.", minimum=0),)))
    model = ModelGraph("Net", library)
    ends = [model.add_node("Input", "input", {"shape": [8, 4]})]
    for type_name, name, params in (("Halves", "used", {}), ("Halves", "skipped", {"split": 0})):
        ends.append(model.add_node(type_name, name, params))
        model.connect(ends[-2], ends[-1])
    model.connect(ends[-1], model.add_node("Output", "output"))
    path = tmp_path / "net.json"
    save_project(Project(model), path)
    wanted = "skipped.chunk: its `when` condition is false here"
    assert main(["check", str(path)]) == 1
    assert wanted in capsys.readouterr().out
    assert main(["export", str(path), "-o", str(tmp_path / "net.py")]) == 1
    error = capsys.readouterr().err
    assert wanted in error and "output 1 is read by add" in error
    assert not (tmp_path / "net.py").exists()


def _project_with_bound_width(path, expression: str) -> None:
    """Input(4) -> Head(n=10) whose Linear has out_features bound to `expression`."""
    library = library_with()
    head = Builder("Head", library, (4,))
    head.chain(("Linear", "fc", {"out_features": bind(expression)}))
    head.output()
    library.add(head.build((int_param("n", 10, "width"),)))
    model = ModelGraph("Net", library)
    nodes = [model.add_node("Input", params={"shape": [4]}), model.add_node("Head", "head")]
    chain(
        model,
        [*nodes, model.add_node("Linear", "fc2", {"out_features": 3}), model.add_node("Output")],
    )
    save_project(Project(model=model), path)


def _cli(*argv: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "torchcanvas.app", *argv]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("expression", ["n * 0.5", "n * 2.0", "n // 2.0"])
def test_a_float_bound_to_an_integer_fails_check_and_export_writes_nothing(tmp_path, expression):
    project, out = tmp_path / "net.json", tmp_path / "net.py"
    _project_with_bound_width(project, expression)
    checked = _cli("check", str(project))
    message = f"head.fc: out_features = {expression} gives"
    assert checked.returncode == 1
    assert message in checked.stdout + checked.stderr
    assert "takes integers; use // to divide" in checked.stdout + checked.stderr
    exported = _cli("export", str(project), "-o", str(out))
    assert exported.returncode == 1 and message in exported.stderr
    assert "Traceback" not in exported.stderr and not out.exists()


def test_an_integer_division_bound_exports_a_class_that_runs(tmp_path):
    project, out = tmp_path / "net.json", tmp_path / "net.py"
    _project_with_bound_width(project, "n // 2")
    assert _cli("check", str(project)).returncode == 0
    assert _cli("export", str(project), "-o", str(out)).returncode == 0
    assert "nn.Linear(4, n // 2)" in out.read_text()
    ran = _cli_python(out)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "torch.Size([2, 3])"  # Linear(4, 5) then Linear(5, 3)


def _cli_python(path) -> subprocess.CompletedProcess:
    code = (
        f"import runpy, torch; net = runpy.run_path({str(path)!r})['Net'](); "
        "print(net(torch.randn(2, 4)).shape)"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
