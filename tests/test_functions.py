"""Functions as people write them in forward(): softmax, F.normalize, masks and comparisons,
imported exactly and exported as the calls they were."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tests.builders import single_node_graph
from tests.reference import ruff_problems
from torchcanvas.app.import_check import import_checked
from torchcanvas.codegen.build import compile_model
from torchcanvas.graph.fximport import ImportFailed
from torchcanvas.graph.layers.common import sample
from torchcanvas.graph.registry import get_spec
from torchcanvas.graph.rules import ShapeError


class Embedder(nn.Module):
    """Contrastive embeddings and attention weights: normalize, softmax, log_softmax."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(6, 8)

    def forward(self, x):
        z = self.proj(x)
        unit = F.normalize(z, dim=-1)
        l1 = F.normalize(z, p=1.0)
        weights = F.softmax(z, dim=-1) + z.softmax(1) + torch.softmax(z, -1)
        return unit, l1, weights, F.log_softmax(z, dim=1), z.log_softmax(-1)


def _round_trip(original: nn.Module, inputs, tmp_path, *args):
    """Import `original`, load its weights strictly into the export, run both on `args`."""
    result = import_checked(original, inputs)
    cls, compiled = compile_model(result.project.model)
    exported = cls().eval()
    exported.load_state_dict(original.state_dict(), strict=True)
    with torch.no_grad():
        want, got = original(*args), exported(*args)
    assert len(want) == len(got)
    assert all(torch.equal(a, b) for a, b in zip(want, got))
    (tmp_path / "exported.py").write_text(compiled.source)
    assert ruff_problems(tmp_path) == ""
    return result.project.model, compiled.source


def test_normalize_and_softmax_calls_import_exactly(tmp_path):
    model, source = _round_trip(Embedder().eval(), [((6,), "float32")], tmp_path, torch.randn(5, 6))
    assert len(model.nodes_of_type("Normalize")) == 2
    assert len(model.nodes_of_type("Softmax")) == 3
    assert "F.normalize(x, dim=-1)" in source and "F.normalize(x, p=1)" in source
    assert "F.softmax(" in source and "F.log_softmax(" in source


class Masking(nn.Module):
    """Masks as people write them: comparisons, where and masked_fill with -inf."""

    def __init__(self) -> None:
        super().__init__()
        self.scores = nn.Linear(6, 6)

    def forward(self, x, keep):
        s = self.scores(x)
        positive = s > 0
        relu_like = torch.where(positive, s, x)
        blocked = s.masked_fill(keep, float("-inf"))
        zeroed = x.masked_fill(x <= 0.5, 0.0) + s.masked_fill(keep, 2.5)
        same = s == x
        return positive, relu_like, F.softmax(blocked, dim=-1), zeroed, same, s.ne(1), 0 < s


def test_comparisons_where_and_masked_fill_import_exactly(tmp_path):
    x = torch.randn(5, 6)
    keep = torch.rand(5, 6) > 0.5
    model, source = _round_trip(
        Masking().eval(), [((6,), "float32"), ((6,), "bool")], tmp_path, x, keep
    )
    assert len(model.nodes_of_type("ScalarCompare")) == 4
    assert len(model.nodes_of_type("Compare")) == 1
    assert len(model.nodes_of_type("Where")) == 1
    assert len(model.nodes_of_type("MaskedFill")) == 3
    for text in (
        "scores > 0",
        'masked_fill(keep, float("-inf"))',
        "input <= 0.5",
        "scores == input",
        "torch.where(",
    ):
        assert text in source, text


@pytest.mark.parametrize(
    ("fill", "value", "want"),
    [("-inf", 0.0, float("-inf")), ("inf", 0.0, float("inf")), ("value", -1.5, -1.5)],
)
def test_a_drawn_masked_fill_computes_what_torch_computes(fill, value, want):
    ins = {"input": sample(4), "mask": sample(4, dtype="bool")}
    graph = single_node_graph(get_spec("MaskedFill"), ins, {"fill": fill, "value": value})
    cls, _ = compile_model(graph)
    x, mask = torch.randn(3, 4), torch.rand(3, 4) > 0.5
    assert torch.equal(cls()(x, mask), x.masked_fill(mask, want))


@pytest.mark.parametrize(("op", "want"), [("ge", lambda x: x >= 0.5), ("ne", lambda x: x != 0.5)])
def test_a_drawn_comparison_gives_the_bool_mask_torch_gives(op, want):
    graph = single_node_graph(
        get_spec("ScalarCompare"), {"input": sample(5)}, {"op": op, "value": 0.5}
    )
    cls, _ = compile_model(graph)
    x = torch.tensor([[0.0, 0.5, 1.0, -2.0, 0.5]])
    got = cls()(x)
    assert got.dtype == torch.bool and torch.equal(got, want(x))


def test_where_with_a_constant_is_refused_with_the_way_to_write_it():
    class Constant(nn.Module):
        def forward(self, x):
            return torch.where(x > 0, x, 0.0)

    with pytest.raises(ImportFailed, match="masked_fill"):
        import_checked(Constant(), [((4,), "float32")])


def test_an_infinity_on_an_integer_tensor_is_a_problem_on_the_node():
    ins = {"input": sample(4, dtype="int64"), "mask": sample(4, dtype="bool")}
    spec = get_spec("MaskedFill")
    with pytest.raises(ShapeError, match="infinity"):
        spec.infer({"fill": "-inf", "value": 0.0}, ins)
