"""Functions as people write them in forward(): softmax, F.normalize, masks and comparisons,
imported exactly and exported as the calls they were."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from tests.reference import ruff_problems
from torchcanvas.app.import_check import import_checked
from torchcanvas.codegen.build import compile_model


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
