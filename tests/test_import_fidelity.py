"""Imports hold what the module holds: no tensor duplicated, every 1-D layer accepted, and
what cannot be held refused with the parameter or module path and the source line."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from tests.test_import import MODULES, assert_round_trip, exported_from, handwritten
from torchcanvas.app.__main__ import main
from torchcanvas.app.import_check import import_checked, verify
from torchcanvas.codegen.build import compile_model
from torchcanvas.codegen.emit import emit_module
from torchcanvas.graph.fximport import ImportFailed, import_module
from torchcanvas.graph.summary import summarize, totals

VECTOR = ((4,), "float32")


def distinct_parameters(module: nn.Module) -> tuple[int, int]:
    """Counted as PyTorch users count them: a tied tensor once."""
    tensors = {id(p): p for p in module.parameters()}
    return len(tensors), sum(p.numel() for p in tensors.values())


def refusal(module: nn.Module, inputs) -> str:
    with pytest.raises(ImportFailed) as caught:
        import_checked(module, inputs)
    return caught.value.report.text()


# ----- tied tensors and modules used twice ---------------------------------------------------
def test_tied_weights_are_refused_naming_both_paths_and_nothing_is_written(tmp_path, capsys):
    source = f"{MODULES / 'handwritten.py'}:TiedLanguageModel"
    out = tmp_path / "lm.json"
    argv = ["import", source, "--input-shape", "5", "--input-dtype", "int64", "-o", str(out)]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert "lm_head.weight is the same tensor as wte.weight (tied weights)" in error
    assert "untie them" in error and "nothing was written" in error
    assert list(tmp_path.iterdir()) == []


def test_two_parameters_on_one_storage_are_tied_too():
    model = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 4))
    model[1].weight = nn.Parameter(model[0].weight.data)  # another object, the same memory
    assert "1.weight is the same tensor as 0.weight" in refusal(model, [VECTOR])


def test_a_module_with_weights_called_twice_is_refused_with_its_call_line():
    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            return torch.relu(self.fc(x))

    class Siamese(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = Encoder()

        def forward(self, a, b):
            return self.encoder(a) - self.encoder(b)

    text = refusal(Siamese(), [VECTOR, VECTOR])
    assert "encoder (Encoder) is called 2 times and holds weights (shared weights)" in text
    assert "test_import_fidelity.py" in text and "self.encoder(a) - self.encoder(b)" in text
    assert "encoder.fc" not in text  # the shared module is named once, not each of its layers


def test_a_layer_without_weights_may_be_called_twice():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc, self.act = nn.Linear(4, 4), nn.ReLU()

        def forward(self, x):
            return self.act(self.fc(self.act(x)))

    original = Twice()
    assert_round_trip(original, [VECTOR], import_checked(original, [VECTOR]))


def test_the_check_refuses_an_export_that_would_duplicate_a_tied_tensor():
    untied = handwritten.TiedLanguageModel()
    untied.lm_head.weight = nn.Parameter(untied.wte.weight.detach().clone())
    result = import_module(untied, [((5,), "int64")])
    tied = handwritten.TiedLanguageModel()
    with pytest.raises(ImportFailed, match="the export holds 2 parameter tensors of 1,024"):
        verify(result.project.model, tied, result.examples, tied(*result.examples))


IMPORTED = [
    (handwritten.TutorialNet, [((3, 32, 32), "float32")]),
    (handwritten.Composite, [((1, 16, 16), "float32")]),
    (handwritten.SequenceModel, [((12,), "int64")]),
    (handwritten.DilatedConv1d, [((2, 16), "float32")]),
    (lambda: torchvision.models.resnet18(num_classes=10), [((3, 32, 32), "float32")]),
    (lambda: torchvision.models.mobilenet_v3_small(num_classes=10), [((3, 32, 32), "float32")]),
]


@pytest.mark.parametrize(("build", "inputs"), IMPORTED, ids=lambda v: getattr(v, "__name__", ""))
def test_every_import_holds_as_many_parameter_tensors_as_the_module(build, inputs):
    torch.manual_seed(0)
    original = build().eval()
    result = import_checked(original, inputs)
    cls, _ = compile_model(result.project.model)
    exported = cls()
    exported.load_state_dict(original.state_dict(), strict=True)
    assert distinct_parameters(exported) == distinct_parameters(original)


# ----- 1-D layers and 0-dim parameters --------------------------------------------------------
def test_a_dilated_conv1d_network_with_residuals_imports_exactly():
    original = handwritten.DilatedConv1d()
    inputs = [((2, 16), "float32")]
    result = import_checked(original, inputs)
    assert_round_trip(original, inputs, result)
    model = result.project.model
    assert model.params(model.id_of("stem"))["kernel_size"] == 3


def test_one_dim_pooling_written_as_functions_imports_as_functions():
    class Pools(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(3, 4, kernel_size=(5,), stride=(1,), padding=(2,))

        def forward(self, x):
            x = F.max_pool1d(F.relu(self.conv(x)), 2)
            return F.avg_pool1d(x, 3, stride=1, padding=1, count_include_pad=False)

    original, inputs = Pools(), [((3, 20), "float32")]
    result = import_checked(original, inputs)
    assert_round_trip(original, inputs, result)
    source = emit_module(result.project.model).source
    assert "self.conv = nn.Conv1d(3, 4, kernel_size=5, padding=2)" in source
    assert "x = F.max_pool1d(x, 2)" in source
    assert "F.avg_pool1d(x, 3, stride=1, padding=1, count_include_pad=False)" in source


def test_zero_dim_parameters_import_exactly_and_export_as_zero_dim():
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)
            self.temperature = nn.Parameter(torch.tensor(2.0))
            self.shift = nn.Parameter(torch.zeros(()))

        def forward(self, x):
            return self.fc(x) * self.temperature + self.shift

    original = Scaled()
    result = import_checked(original, [VECTOR])
    assert_round_trip(original, [VECTOR], result)
    model = result.project.model
    assert model.params(model.id_of("temperature"))["shape"] == ()
    source = emit_module(model).source
    assert "self.temperature = nn.Parameter(torch.zeros(()))" in source
    assert totals(summarize(model))[0] == 4 * 4 + 4 + 2


def test_packed_sequences_are_refused_naming_the_module_and_line():
    from torch.nn.utils.rnn import pack_padded_sequence

    class PackedEncoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(4, 8, batch_first=True)

        def forward(self, x):
            lengths = torch.full((x.size(0),), x.size(1))
            _, (h, _) = self.lstm(pack_padded_sequence(x, lengths, batch_first=True))
            return h[-1]

    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder, self.head = PackedEncoder(), nn.Linear(8, 2)

        def forward(self, x):
            return self.head(self.encoder(x))

    text = refusal(Classifier(), [((5, 4), "float32")])
    assert "in encoder (PackedEncoder): packed sequences" in text
    assert "pass padded tensors and lengths instead" in text
    assert "test_import_fidelity.py" in text and "pack_padded_sequence(x, lengths" in text
    assert "__cuda_array_interface__" not in text


# ----- the 1-D and 3-D families ---------------------------------------------------------------
class Block3d(nn.Module):
    """conv, batch norm, relu over a clip; used with different channels."""

    def __init__(self, channels_in, channels_out):
        super().__init__()
        self.conv = nn.Conv3d(channels_in, channels_out, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm3d(channels_out)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))


class Clip(nn.Module):
    """A video network using every 3-D layer."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv3d(3, 8, (3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3))
        self.pool = nn.MaxPool3d((1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1))
        self.layer1, self.layer2 = Block3d(8, 8), Block3d(8, 16)
        self.smooth = nn.AvgPool3d(3, stride=1, padding=1, count_include_pad=False)
        self.norm = nn.InstanceNorm3d(16, affine=True)
        self.up = nn.ConvTranspose3d(16, 4, 2, stride=2)
        self.gap = nn.AdaptiveAvgPool3d(1)
        self.fc = nn.Linear(4, 5)

    def forward(self, x):
        x = self.layer2(self.layer1(self.pool(self.stem(x))))
        x = self.up(self.norm(self.smooth(F.max_pool3d(x, (2, 1, 1)))))
        return self.fc(torch.flatten(self.gap(x), 1))


class Signal(nn.Module):
    """Transposed 1-D convolution and instance norm over a signal."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(2, 6, 3)
        self.norm = nn.InstanceNorm1d(6, affine=True, track_running_stats=True)
        self.up = nn.ConvTranspose1d(6, 3, 4, stride=2, padding=1)
        self.bn = nn.BatchNorm1d(3)

    def forward(self, x):
        return self.bn(self.up(F.relu(self.norm(self.conv(x)))))


THREE_D = {"Conv3d", "MaxPool3d", "AvgPool3d", "AdaptiveAvgPool3d", "InstanceNorm3d"}


@pytest.mark.parametrize(
    ("build", "inputs", "wanted"),
    [
        (Clip, [((3, 8, 32, 32), "float32")], THREE_D | {"ConvTranspose3d", "BatchNorm3d"}),
        (Signal, [((2, 12), "float32")], {"InstanceNorm1d", "ConvTranspose1d"}),
    ],
    ids=["Clip", "Signal"],
)
def test_one_and_three_dim_layers_import_exactly(build, inputs, wanted):
    torch.manual_seed(0)
    original = build()
    result = import_checked(original, inputs)
    assert_round_trip(original, inputs, result)
    graphs = [result.project.model] + [b.graph for b in result.project.model.library]
    assert wanted <= {g.node_type(n) for g in graphs for n in g.nodes()}


@pytest.mark.slow
def test_torchvision_r3d_18_imports_exactly_on_a_short_clip():
    torch.manual_seed(0)
    original = torchvision.models.video.r3d_18(num_classes=7).eval()
    inputs = [((3, 4, 32, 32), "float32")]
    result = import_checked(original, inputs)
    assert_round_trip(original, inputs, result)
    assert distinct_parameters(exported_from(result)) == distinct_parameters(original)
