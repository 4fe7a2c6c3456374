"""The bundled examples check clean and match their torchvision references."""

from __future__ import annotations

import pytest
import torch
import torchvision

from tests.conftest import EXAMPLES
from tests.reference import check_in_fresh_interpreter, export_case, real_shapes
from torchcanvas.codegen.build import build_model
from torchcanvas.graph.project import load_project

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.json"))


def test_the_required_examples_are_bundled():
    names = {p.stem for p in EXAMPLE_FILES}
    assert {
        "mlp",
        "mlp_batchnorm",
        "small_cnn",
        "digit_classifier",
        "digits_cnn",
        "resnet18",
    } <= names


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_example_checks_clean_and_shapes_match_a_real_forward(path):
    model = load_project(path).model
    analysis = model.analysis()
    assert analysis.problems == []
    module = build_model(model, seed=0).eval()
    shape = analysis.shapes["input"]
    real = real_shapes(model, module, torch.randn(1, *shape))
    for name, real_shape in real.items():
        expected = analysis.shapes["output"] if name == "__output__" else analysis.shapes[name]
        assert expected == real_shape, name


@pytest.mark.parametrize("stem", ["resnet18", "resnet18_expanded"])
def test_resnet18_has_torchvision_parameter_count(stem):
    model = build_model(load_project(EXAMPLES / f"{stem}.json").model)
    reference = torchvision.models.resnet18()
    count = sum(p.numel() for p in model.parameters())
    assert count == sum(p.numel() for p in reference.parameters()) == 11_689_512


def test_examples_export_and_reimport_identically(tmp_path):
    for path in EXAMPLE_FILES:
        export_case(load_project(path).model, tmp_path, path.stem, batch=2)
    lines = check_in_fresh_interpreter(tmp_path)
    assert sorted(lines) == sorted(f"OK {p.stem}" for p in EXAMPLE_FILES)
