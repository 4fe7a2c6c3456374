"""Generated code is laid out by ruff itself: long torchvision names, node lines, one ruff
call per module, a clear error when ruff fails."""

from __future__ import annotations

import subprocess

import pytest
import torch

from tests.conftest import EXAMPLES
from tests.reference import ruff_problems
from torchcanvas.codegen import pyformat
from torchcanvas.codegen.build import compile_model
from torchcanvas.codegen.emit import EMITTED, emit_module
from torchcanvas.graph.model import ModelGraph
from torchcanvas.graph.project import load_project


def densenet_with_module_paths(layers: int = 4) -> ModelGraph:
    """A dense block drawn flat, its nodes named by torchvision's module paths."""
    model = ModelGraph("DenseNetPaths")
    image = model.add_node("Input", "images", {"shape": [3, 16, 16]})
    stem = model.add_node("Conv2d", "features_conv0", {"out_channels": 8, "kernel_size": 3})
    model.connect(image, stem)
    features = [stem]
    for index in range(1, layers + 1):
        prefix = f"features_denseblock1_denselayer{index}"
        source = features[0]
        if len(features) > 1:
            source = model.add_node("Concat", f"{prefix}_cat")
            for feature in features:
                model.connect(feature, source)
        norm = model.add_node("BatchNorm2d", f"{prefix}_norm1")
        relu = model.add_node("ReLU", f"{prefix}_relu1")
        conv = model.add_node("Conv2d", f"{prefix}_conv1", {"out_channels": 4, "kernel_size": 1})
        for a, b in ((source, norm), (norm, relu), (relu, conv)):
            model.connect(a, b)
        features.append(conv)
    joined = model.add_node("Concat", "features_denseblock1_concatenated")
    for feature in features:
        model.connect(feature, joined)
    pool = model.add_node("AdaptiveAvgPool2d", "features_pool", {"output_size": 1})
    flat = model.add_node("Flatten", "classifier_flatten")
    head = model.add_node("Linear", "classifier", {"out_features": 10})
    for a, b in ((joined, pool), (pool, flat), (flat, head), (head, model.add_node("Output"))):
        model.connect(a, b)
    return model


def test_long_torchvision_names_export_ruff_clean_code(tmp_path):
    model = densenet_with_module_paths()
    source = emit_module(model).source
    hand_laid = "_denselayer2_cat = self.features_denseblock1_denselayer2_norm1(\n"
    assert hand_laid not in source  # the old layout, which ruff rejects
    (tmp_path / "densenet_paths.py").write_text(source)
    for path in sorted(EXAMPLES.glob("*.json")):
        (tmp_path / f"{path.stem}.py").write_text(emit_module(load_project(path).model).source)
    assert ruff_problems(tmp_path) == ""
    assert pyformat.format_code(source) == source  # formatting is stable


def test_node_lines_name_every_line_of_a_split_statement():
    model = densenet_with_module_paths(3)
    result = emit_module(model)
    lines = result.source.split("\n")
    end = lines.index('if __name__ == "__main__":')
    body = {n for n, line in enumerate(lines[:end], 1) if line.startswith(" " * 8)}
    body -= {n for n in body if "super().__init__()" in lines[n - 1]}
    assert body <= set(result.node_lines)  # __init__ and forward, continuation lines included
    norm = model.id_of("features_denseblock1_denselayer2_norm1")
    numbers = sorted(n for n, found in result.node_lines.items() if found == norm)
    text = "\n".join(lines[n - 1] for n in numbers)
    assert "self.features_denseblock1_denselayer2_norm1 = nn.BatchNorm2d(12)" in text
    assert "self.features_denseblock1_denselayer2_norm1(" in text and len(numbers) >= 3


def test_a_fault_in_a_split_statement_names_its_node():
    from torchcanvas.app.train.faults import node_of

    model = densenet_with_module_paths(2)
    cls, result = compile_model(model)
    network = cls()
    conv = model.id_of("features_denseblock1_denselayer2_conv1")

    def broken(*args):
        raise RuntimeError("boom")

    network.features_denseblock1_denselayer2_conv1.forward = broken
    with pytest.raises(RuntimeError) as caught:
        network(torch.randn(1, 3, 16, 16))
    filename = f"<torchcanvas {result.class_name}>"
    found, _ = node_of(caught.value, filename, result.node_lines)
    assert found == conv


def count_ruff(monkeypatch) -> list:
    runs = []
    real = subprocess.run

    def run(command, *args, **kwargs):
        runs.append(command)
        return real(command, *args, **kwargs)

    monkeypatch.setattr(pyformat.subprocess, "run", run)
    return runs


def test_ruff_runs_once_per_module_and_only_when_the_text_is_read(monkeypatch):
    model = densenet_with_module_paths(2)
    runs = count_ruff(monkeypatch)
    pyformat.FORMATTED.clear()
    EMITTED.clear()
    result = emit_module(model, analysis=model.analysis())  # what analysis after an edit does
    assert runs == []
    assert result.source == emit_module(model).source == emit_module(model, analysis=None).source
    assert len(runs) == 1
    assert result.node_lines and len(runs) == 1


def test_ruff_failing_says_so(monkeypatch):
    with pytest.raises(pyformat.FormatError, match="ruff could not format"):
        pyformat.format_code("def broken(:\n")
    pyformat._ruff.cache_clear()
    monkeypatch.setattr("ruff.find_ruff_bin", lambda: (_ for _ in ()).throw(FileNotFoundError()))
    try:
        assert pyformat._ruff()[1:] == ("-m", "ruff")  # the module, when the binary is missing
        assert pyformat.format_code("x  =  1\n") == "x = 1\n"
    finally:
        pyformat._ruff.cache_clear()
    monkeypatch.setattr(pyformat, "_ruff", lambda: ("/nonexistent/ruff",))
    with pytest.raises(pyformat.FormatError, match="cannot run ruff"):
        pyformat.format_code("x = 1\n")
