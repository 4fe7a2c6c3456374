"""Elementwise math, constants on either side and sampling: drawn, exported and imported."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from tests.builders import single_node_graph
from tests.reference import ruff_problems
from torchcanvas.app.import_check import import_checked, parameter_tensors
from torchcanvas.codegen.build import compile_model
from torchcanvas.graph.fximport import ImportFailed
from torchcanvas.graph.layers.common import sample
from torchcanvas.graph.registry import get_spec

FLOAT = [((6,), "float32")]


class VAE(nn.Module):
    """A VAE as people write it: reparameterization and three outputs."""

    def __init__(self, features: int = 12, hidden: int = 16, latent: int = 4) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(features, hidden), nn.ReLU())
        self.fc_mu = nn.Linear(hidden, latent)
        self.fc_logvar = nn.Linear(hidden, latent)
        self.decoder = nn.Sequential(
            nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, features)
        )

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def forward(self, x):
        h = self.encoder(x)
        mu, logvar = self.fc_mu(h), self.fc_logvar(h)
        z = self.reparameterize(mu, logvar)
        return torch.sigmoid(self.decoder(z)), mu, logvar


class Constants(nn.Module):
    """A tensor and a number on either side of each operator."""

    def forward(self, x):
        return 1 - x, x - 1, x / 8, 2 / x, 0.5 * x, x * 3, x + 1, 2.5 + x, x.div(4), x.mul(0.25)


class Unary(nn.Module):
    """Every unary function, as a torch function and as a method."""

    def forward(self, x):
        y = torch.abs(x) + 1
        a = torch.log(y) + y.log() + torch.sqrt(y) + y.sqrt() + torch.rsqrt(y) + y.rsqrt()
        b = torch.sin(x) + x.cos() + torch.erf(x) + torch.special.erf(x) + torch.tanh(x)
        c = -x + torch.neg(x) + x.abs() + torch.exp(x) + x.exp()
        d = x**2 + torch.pow(x, 3) + x.pow(-0.5 * 2) * 0 + y**0.5
        e = torch.clamp(x, min=-0.5, max=0.5) + x.clamp(min=0) + torch.clip(x, max=0.1)
        return a, b, c, d, e


def _export(result) -> tuple[type, str]:
    cls, compiled = compile_model(result.project.model)
    return cls, compiled.source


def test_a_vae_imports_exactly_with_three_outputs(tmp_path):
    original = VAE().eval()
    result = import_checked(original, [((12,), "float32")])
    cls, source = _export(result)
    exported = cls().eval()
    exported.load_state_dict(original.state_dict(), strict=True)
    assert parameter_tensors(exported) == parameter_tensors(original)
    assert sum(p.numel() for p in exported.parameters()) == sum(
        p.numel() for p in original.parameters()
    )
    x = torch.randn(5, 12)
    with torch.no_grad():
        torch.manual_seed(7)
        want = original(x)
        torch.manual_seed(7)
        got = exported(x)
    assert len(got) == 3
    assert all(torch.equal(a, b) for a, b in zip(want, got))
    # A one-use constant op is written inside the call that reads it, as in the source.
    assert "= torch.exp(0.5 * fc_logvar)\n" in source and "torch.randn_like(" in source
    (tmp_path / "vae.py").write_text(source)
    assert ruff_problems(tmp_path) == ""


def test_sampling_layers_still_sample_in_eval_mode():
    cls, _ = _export(import_checked(VAE().eval(), [((12,), "float32")]))
    model = cls().eval()
    x = torch.randn(5, 12)
    with torch.no_grad():
        first, second = model(x)[0], model(x)[0]
    assert not torch.equal(first, second)


def test_the_constant_keeps_its_side(tmp_path):
    result = import_checked(Constants(), FLOAT)
    model = result.project.model
    ops = [
        tuple(model.params(n).get(k, False) for k in ("op", "value", "reverse"))
        for n in model.nodes_of_type("ScalarOp")
    ]
    assert ops[:4] == [
        ("sub", 1.0, True),
        ("sub", 1.0, False),
        ("div", 8.0, False),
        ("div", 2.0, True),
    ]
    _, source = _export(result)
    for text in (
        "= 1 - x",
        "- 1\n",
        "/ 8\n",
        "= 2 / x",
        "= 0.5 * x",
        "* 3\n",
        "+ 1\n",
        "= 2.5 + x",
    ):
        assert text in source, text
    x = torch.randn(4, 6)
    cls, _ = _export(result)
    assert all(torch.equal(a, b) for a, b in zip(Constants()(x), cls()(x)))
    (tmp_path / "constants.py").write_text(source)
    assert ruff_problems(tmp_path) == ""


def test_every_unary_function_and_method_imports_exactly(tmp_path):
    result = import_checked(Unary(), FLOAT)
    model = result.project.model
    types = {model.node_type(n) for n in model.nodes()}
    assert {
        "Log",
        "Sqrt",
        "Rsqrt",
        "Sin",
        "Cos",
        "Erf",
        "Neg",
        "Abs",
        "Exp",
        "Pow",
        "Clamp",
    } <= types
    cls, source = _export(result)
    x = torch.randn(4, 6)
    assert all(torch.equal(a, b) for a, b in zip(Unary()(x), cls()(x)))
    (tmp_path / "unary.py").write_text(source)
    assert ruff_problems(tmp_path) == ""


@pytest.mark.parametrize(
    ("op", "value", "reverse", "want"),
    [
        ("sub", 1.0, True, lambda x: 1 - x),
        ("sub", 1.0, False, lambda x: x - 1),
        ("div", 8.0, False, lambda x: x / 8),
        ("div", 2.0, True, lambda x: 2 / x),
        ("mul", 0.5, False, lambda x: x * 0.5),
        ("add", -3.0, True, lambda x: -3 + x),
    ],
)
def test_a_drawn_constant_op_computes_what_torch_computes(op, value, reverse, want):
    params = {"op": op, "value": value, "reverse": reverse}
    graph = single_node_graph(get_spec("ScalarOp"), {"input": sample(5)}, params)
    cls, _ = compile_model(graph)
    x = torch.randn(3, 5)
    assert torch.equal(cls()(x), want(x))


def test_an_integer_tensor_and_a_whole_float_is_refused_with_the_reason():
    class Ids(nn.Module):
        def forward(self, ids):
            return ids + 2.0

    with pytest.raises(ImportFailed, match="integer tensor"):
        import_checked(Ids(), [((4,), "int64")])


def test_integer_tensors_keep_their_type_with_whole_constants():
    graph = single_node_graph(
        get_spec("ScalarOp"), {"input": sample(4, dtype="int64")}, {"op": "add", "value": 1.0}
    )
    cls, source = compile_model(graph)
    ids = torch.arange(8).reshape(2, 4)
    assert "+ 1\n" in source.source and torch.equal(cls()(ids), ids + 1)


def test_a_constant_op_read_twice_or_returned_keeps_its_own_line():
    class Twice(nn.Module):
        def forward(self, x):
            half = 0.5 * x
            return torch.exp(half) + torch.sin(half), 2 * x

    result = import_checked(Twice(), FLOAT)
    _, source = _export(result)
    assert "= 0.5 * x\n" in source and "= 2 * x\n" in source
    assert "torch.exp(0.5" not in source


def test_a_model_that_samples_exports_to_onnx_without_a_value_comparison(tmp_path):
    from torchcanvas.app.export_onnx import export_onnx

    graph = single_node_graph(get_spec("RandnLike"), {"input": sample(5)}, {})
    done = export_onnx(graph, tmp_path / "noise.onnx")
    assert done.max_difference is None
    assert any("not compared" in note for note in done.notes)


def test_training_with_noise_injection_repeats_with_the_same_seed(tmp_path):
    from tests.conftest import EXAMPLES
    from torchcanvas.app.train.job import job_from_project
    from torchcanvas.app.train.loop import Trainer
    from torchcanvas.graph.project import load_project

    def losses(folder: str) -> list[float]:
        project = load_project(EXAMPLES / "digits_cnn.json")
        model = project.model
        source, conv = model.id_of("input"), model.id_of("conv1")
        model.disconnect(model.input_edge(conv, "input"))
        noise = model.add_node("RandnLike", "noise")
        add = model.add_node("Add", "noisy")
        model.connect(source, noise)
        model.connect(source, add)
        model.connect(noise, add)
        model.connect(add, conv)
        events: list[dict] = []
        job = job_from_project(project, str(tmp_path / folder), epochs=1, max_steps=4, seed=3)
        assert Trainer(job, events.append).run()["type"] == "finished"
        return [v for e in events if e["type"] == "steps" for v in e["losses"]]

    first = losses("a")
    assert len(first) == 4 and first == losses("b")
