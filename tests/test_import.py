"""Importing nn.Modules: torchvision models and hand-written code round-trip exactly."""

from __future__ import annotations

import copy
import sys
import time

import pytest
import torch
import torchvision
from torch import nn

from tests.conftest import ROOT
from torchcanvas.app.__main__ import main
from torchcanvas.app.import_check import import_checked
from torchcanvas.codegen.build import compile_model
from torchcanvas.codegen.emit import emit_module
from torchcanvas.graph.fximport import ImportFailed
from torchcanvas.graph.project import dumps_project, load_project, loads_project

MODULES = ROOT / "tests" / "fixtures" / "modules"
sys.path.insert(0, str(MODULES))
import handwritten  # noqa: E402

IMAGE = ((3, 224, 224), "float32")


def exported_from(result):
    """The exported class, built on meta and given the original weights strictly."""
    cls, _ = compile_model(result.project.model)
    with torch.device("meta"):
        exported = cls()
    exported.load_state_dict(result.state_dict, strict=True, assign=True)
    return exported.eval()


def assert_round_trip(original: nn.Module, inputs, result) -> None:
    """Identical eval outputs, and identical batch-norm buffers after one train step."""
    exported = exported_from(result)
    examples = [
        torch.randn(2, *shape) if dtype == "float32" else torch.zeros(2, *shape, dtype=torch.long)
        for shape, dtype in inputs
    ]
    with torch.no_grad():
        assert torch.equal(original.eval()(*examples), exported(*examples))
    first, second = copy.deepcopy(original).train(), copy.deepcopy(exported).train()
    with torch.no_grad():
        torch.manual_seed(1)
        first(*examples)
        torch.manual_seed(1)
        second(*examples)
    theirs, ours = first.state_dict(), second.state_dict()
    assert theirs.keys() == ours.keys()
    for key in theirs:
        if "running" in key or "num_batches" in key:
            assert torch.equal(theirs[key], ours[key]), key


TORCHVISION = [
    ("resnet18", {}, IMAGE),
    ("resnet50", {}, IMAGE),
    ("mobilenet_v2", {}, IMAGE),
    ("mobilenet_v3_small", {}, IMAGE),
    ("efficientnet_b0", {}, IMAGE),
    ("densenet121", {}, IMAGE),
    ("squeezenet1_1", {}, IMAGE),
    ("shufflenet_v2_x1_0", {}, IMAGE),
    ("googlenet", {"aux_logits": False, "init_weights": False}, IMAGE),
    ("inception_v3", {"aux_logits": False, "init_weights": False}, ((3, 299, 299), "float32")),
    ("regnet_x_400mf", {}, IMAGE),
    ("convnext_tiny", {}, IMAGE),
    ("vit_b_16", {}, IMAGE),
]


@pytest.mark.parametrize(("name", "kwargs", "inputs"), TORCHVISION, ids=[t[0] for t in TORCHVISION])
@pytest.mark.slow
def test_torchvision_models_round_trip_exactly(name, kwargs, inputs):
    torch.manual_seed(0)
    original = getattr(torchvision.models, name)(**kwargs).eval()
    result = import_checked(original, [inputs])
    assert result.report.ok and result.report.verified
    assert_round_trip(original, [inputs], result)


def test_an_imported_resnet_reads_like_torchvision():
    result = import_checked(torchvision.models.resnet18().eval(), [IMAGE])
    model = result.project.model
    assert len(model) == 13 and {b.name for b in model.library} == {"BasicBlock", "BasicBlock_2"}
    source = emit_module(model).source
    assert "self.layer2 = nn.Sequential(BasicBlock_2(64, 128), BasicBlock(128, 128))" in source
    assert "        identity = self.downsample(identity)\n" in source


def test_the_tutorial_network_with_functional_calls_and_view():
    original = handwritten.TutorialNet()
    inputs = [((3, 32, 32), "float32")]
    result = import_checked(original, inputs)
    assert_round_trip(original, inputs, result)
    source = emit_module(result.project.model).source
    assert "x = x.reshape(x.size(0), 400)" in source
    assert "x = F.relu(x)" in source and "x = F.log_softmax(x, dim=1)" in source


def test_sequential_a_block_used_twice_and_a_module_list_keep_their_shape():
    original = handwritten.Composite()
    inputs = [((1, 16, 16), "float32")]
    result = import_checked(original, inputs)
    assert_round_trip(original, inputs, result)
    source = emit_module(result.project.model).source
    assert source.count("class SubNet(nn.Module):") == 1
    assert "self.subnet1 = SubNet()" in source and "self.subnet2 = SubNet()" in source
    assert "self.stem = nn.Sequential(" in source and "nn.ModuleList(" in source
    assert "for layer in self.blocks:" in source


def test_an_lstm_with_zero_states_and_a_free_parameter():
    original = handwritten.SequenceModel()
    inputs = [((12,), "int64")]
    result = import_checked(original, inputs)
    assert_round_trip(original, inputs, result)
    model = result.project.model
    assert model.node_type(model.id_of("position")) == "Parameter"
    assert not model.inputs(model.id_of("lstm"))[1:]  # h_0 and c_0: the zeros are the default


def test_data_dependent_control_flow_is_reported_with_its_line_and_nothing_is_written(
    tmp_path, capsys
):
    source = f"{MODULES / 'handwritten.py'}:DataDependent"
    out = tmp_path / "model.json"
    assert main(["import", source, "--input-shape", "4", "-o", str(out)]) == 2
    error = capsys.readouterr().err
    assert "handwritten.py:88: if x.sum() > 0:" in error and "control flow" in error
    assert "nothing was written" in error
    assert list(tmp_path.iterdir()) == []


def test_the_cli_writes_the_project_and_weights_that_load_strictly(tmp_path, capsys):
    out = tmp_path / "resnet.json"
    code = main(
        [
            "import",
            "torchvision.models:resnet18",
            "--args",
            '{"num_classes": 10}',
            "--input-shape",
            "3x64x64",
            "-o",
            str(out),
        ]
    )
    assert code == 0, capsys.readouterr().err
    project = load_project(out)
    weights = torch.load(tmp_path / "resnet.pt", weights_only=True)
    cls, _ = compile_model(project.model)
    cls().load_state_dict(weights, strict=True)
    assert "checked: the exported class loads the weights" in capsys.readouterr().out


def test_bad_sources_and_arguments_are_refused_clearly(tmp_path, capsys):
    out = str(tmp_path / "x.json")
    cases = [
        (["import", "nowhere.py:Net", "--input-shape", "4", "-o", out], "no such file"),
        (
            [
                "import",
                "torchvision.models:resnet18",
                "--args",
                "[1]",
                "--input-shape",
                "3x8x8",
                "-o",
                out,
            ],
            "--args must be a JSON object",
        ),
        (
            ["import", "torchvision.models:resnet18", "--input-shape", "3xx8", "-o", out],
            "expected sizes joined by x",
        ),
        (
            [
                "import",
                "torchvision.models:resnet18",
                "--input-shape",
                "3x8x8",
                "--input-shape",
                "4",
                "-o",
                out,
            ],
            "takes 1 input(s) but 2 --input-shape were given",
        ),
    ]
    for argv, message in cases:
        assert main(argv) == 2
        assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_what_cannot_be_mapped_is_listed_with_lines():
    class Unusual(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            return torch.stack([self.fc(x), x.cumsum(1)], dim=1)

    with pytest.raises(ImportFailed) as caught:
        import_checked(Unusual(), [((4,), "float32")])
    text = caught.value.report.text()
    assert "torch.stack() has no TorchCanvas counterpart" in text
    assert "the tensor method .cumsum() has no TorchCanvas counterpart" in text
    assert "test_import.py" in text


def test_a_layer_called_twice_with_weights_is_refused():
    class Shared(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            return self.fc(self.fc(x))

    with pytest.raises(ImportFailed, match="fc .Linear. is called 2 times and holds weights"):
        import_checked(Shared(), [((4,), "float32")])


@pytest.mark.parametrize(
    ("name", "marker"),
    [
        ("convnext_tiny", '"cls": "torchvision.models.convnext.LayerNorm2d"'),
        ("regnet_x_400mf", '"name": "block1-0"'),
    ],
)
def test_imported_projects_survive_saving_and_loading(name, marker):
    original = getattr(torchvision.models, name)().eval()
    result = import_checked(original, [IMAGE])
    text = dumps_project(result.project)
    assert marker in text
    again = loads_project(text)
    assert dumps_project(again) == text
    assert emit_module(again.model).source == emit_module(result.project.model).source


@pytest.mark.slow
def test_an_import_process_that_dies_is_reported_with_its_exit_code(tmp_path):
    from torchcanvas.app.import_process import ImportRun

    request = {"source": f"{MODULES / 'dies.py'}:Net", "arguments": {}, "shapes": [(4,)]}
    run = ImportRun({**request, "dtypes": []}, tmp_path / "w.pt")
    run.start()
    deadline = time.monotonic() + 60
    while run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert run.outcome is not None and not run.outcome.ok
    assert "stopped unexpectedly (exit code 3)" in run.outcome.error
    assert not (tmp_path / "w.pt").exists()


@pytest.mark.slow
def test_an_import_process_sends_back_the_project_and_writes_the_weights(tmp_path):
    from torchcanvas.app.import_process import ImportRun

    request = {"source": f"{MODULES / 'handwritten.py'}:TutorialNet", "arguments": {}}
    run = ImportRun({**request, "shapes": [(3, 32, 32)], "dtypes": []}, tmp_path / "w.pt")
    run.start()
    deadline = time.monotonic() + 120
    while run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    outcome = run.outcome
    assert outcome.ok, outcome.error
    cls, _ = compile_model(outcome.project.model)
    state = torch.load(outcome.weights_path, weights_only=True)
    cls().load_state_dict(state, strict=True)
    assert "checked: the exported class loads the weights" in outcome.report
