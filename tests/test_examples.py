"""The bundled examples check clean, run as analysed, and match their torchvision references."""

from __future__ import annotations

import pytest
import torch
import torchvision

from tests.conftest import EXAMPLES
from tests.reference import (
    assert_outputs_match_analysis,
    check_in_fresh_interpreter,
    export_case,
    forward,
)
from torchcanvas.app.train.weights import apply
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
        "finetune_resnet18",
        "text_lstm",
        "transformer_classifier",
        "mobilenet_v2",
        "se_cnn",
        "two_inputs",
    } <= names


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_example_checks_clean_and_runs_as_analysed(path):
    model = load_project(path).model
    assert model.analysis().problems == []
    _, _, outputs = forward(model, batch=2)
    assert_outputs_match_analysis(model, outputs, batch=2)


@pytest.mark.parametrize(
    ("stem", "reference"),
    [("mobilenet_v2", torchvision.models.mobilenet_v2)],  # ResNet-18: see test_weights
)
def test_torchvision_weights_load_through_the_weights_loader_with_identical_outputs(
    stem, reference
):
    model = build_model(load_project(EXAMPLES / f"{stem}.json").model).eval()
    original = reference().eval()
    assert sum(p.numel() for p in model.parameters()) == sum(
        p.numel() for p in original.parameters()
    )
    report = apply(model, original.state_dict(), strict=True)
    assert report.complete
    sample = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        assert torch.equal(model(sample), original(sample))


@pytest.mark.slow
def test_examples_export_and_reimport_identically(tmp_path):
    for path in EXAMPLE_FILES:
        export_case(load_project(path).model, tmp_path, path.stem, batch=2)
    lines = check_in_fresh_interpreter(tmp_path)
    assert sorted(lines) == sorted(f"OK {p.stem}" for p in EXAMPLE_FILES)
