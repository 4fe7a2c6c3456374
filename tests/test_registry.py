"""Walk the registry: every layer type infers, exports, imports and round-trips."""

from __future__ import annotations

import pytest
import torch

from tests.builders import single_layer_graph
from tests.reference import check_in_fresh_interpreter, export_case, real_shapes
from torchcanvas.codegen.build import build_model
from torchcanvas.graph.project import Project, dumps_project, loads_project
from torchcanvas.graph.registry import INPUT, OUTPUT, all_specs, get_spec, register

LAYER_SPECS = [s for s in all_specs() if s.kind not in (INPUT, OUTPUT)]


@pytest.mark.parametrize("spec", LAYER_SPECS, ids=lambda s: s.type)
def test_inferred_shapes_match_a_real_forward(spec):
    graph = single_layer_graph(spec)
    analysis = graph.analysis()
    assert analysis.ok, [str(p) for p in analysis.problems]
    module = build_model(graph, seed=0).eval()
    sample = torch.randn(2, *spec.example_shape)
    real = real_shapes(graph, module, sample)
    for name, shape in real.items():
        if name != "__output__":
            assert analysis.shapes[name] == shape, name
    assert analysis.shapes["output"] == real["__output__"]


@pytest.mark.parametrize("spec", LAYER_SPECS, ids=lambda s: s.type)
def test_project_save_load_save_is_byte_identical(spec):
    graph = single_layer_graph(spec)
    first = dumps_project(Project(graph))
    again = dumps_project(loads_project(first))
    assert first == again


def test_every_spec_is_exported_and_reimported_in_a_fresh_interpreter(tmp_path):
    for index, spec in enumerate(LAYER_SPECS):
        export_case(single_layer_graph(spec), tmp_path, f"case{index:02d}_{spec.type}")
    lines = check_in_fresh_interpreter(tmp_path)
    assert len(lines) == len(LAYER_SPECS)
    assert all(line.startswith("OK ") for line in lines), lines


def test_registry_refuses_a_duplicate_type():
    with pytest.raises(ValueError, match="registered twice"):
        register(get_spec("Conv2d"))


def test_every_spec_is_documented_and_uses_pytorch_names():
    for spec in all_specs():
        assert spec.doc and "\n" not in spec.doc
        for param in spec.params:
            assert param.doc, f"{spec.type}.{param.name}"
        if spec.kind == "module":
            import inspect

            signature = inspect.signature(getattr(torch.nn, spec.type))
            for param in spec.params:
                assert param.name in signature.parameters, f"{spec.type}.{param.name}"


def test_registering_before_the_first_lookup_keeps_the_builtins():
    script = (
        "from torchcanvas.graph import registry\n"
        "from torchcanvas.graph.registry import LayerSpec, register\n"
        "register(LayerSpec('MyLayer', 'Activation', 'mine', 'mine'))\n"
        "assert registry.has_spec('Conv2d'), 'built-ins hidden'\n"
        "assert registry.has_spec('MyLayer')\n"
        "print('ok')\n"
    )
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.strip() == "ok", done.stderr
