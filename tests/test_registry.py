"""Walk the registry: every layer type, every example, every port, against torch itself."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from tests.builders import single_node_graph
from tests.reference import (
    assert_outputs_match_analysis,
    check_in_fresh_interpreter,
    export_case,
    forward,
)
from torchcanvas.graph.meta import module_class
from torchcanvas.graph.ports import TensorMeta
from torchcanvas.graph.project import Project, dumps_project, loads_project
from torchcanvas.graph.registry import (
    BLOCK,
    CONTAINER,
    INPUT,
    MODULE,
    OUTPUT,
    PARAMETER,
    all_specs,
    get_spec,
    register,
)

SPECS = [s for s in all_specs() if s.kind not in (INPUT, OUTPUT, CONTAINER)]
CASES = [(spec, i) for spec in SPECS for i in range(len(spec.examples))]
# Types whose FLOPs torch.utils.flop_counter sees in full (it misses fused kernels such as
# the LSTM's and the transformer layers' fast path); ours must equal its count.
COUNTED = {
    "Conv1d",
    "Conv2d",
    "ConvTranspose2d",
    "Linear",
    "MatMul",
    "MultiheadAttention",
    "RNN",
    "GRU",
}


def _case(spec, index):
    ins, params = spec.examples[index]
    return single_node_graph(spec, ins, params, name=f"Net{spec.type}{index}")


def _the_node(graph, spec) -> str:
    return graph.nodes_of_type(spec.type)[0]


def test_every_layer_type_has_an_example():
    assert [s.type for s in SPECS if not s.examples] == []


@pytest.mark.parametrize(("spec", "index"), CASES, ids=lambda c: getattr(c, "type", c))
def test_inferred_values_and_counts_match_a_real_forward(spec, index):
    graph = _case(spec, index)
    analysis = graph.analysis()
    assert analysis.ok, [str(p) for p in analysis.problems]
    module, _inputs, outputs = forward(graph)
    assert_outputs_match_analysis(graph, outputs)
    node = _the_node(graph, spec)
    facts = analysis.facts[node]
    if spec.kind in (MODULE, BLOCK):
        own = module.get_submodule(analysis.names[node])
        assert facts.params == sum(p.numel() for p in own.parameters())
    elif spec.kind == PARAMETER:
        assert facts.params == getattr(module, analysis.names[node]).numel()


@pytest.mark.parametrize("spec", [get_spec(t) for t in sorted(COUNTED)], ids=lambda s: s.type)
def test_flops_are_what_the_flop_counter_counts(spec):
    for index in range(len(spec.examples)):
        graph = _case(spec, index)
        module, inputs, _ = forward(graph, batch=2)
        counter = FlopCounterMode(display=False)
        with counter, torch.no_grad():
            module(*inputs)
        ours = graph.analysis().facts[_the_node(graph, spec)].flops
        assert ours * 2 == counter.get_total_flops(), (spec.type, index)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.type)
def test_project_save_load_save_is_byte_identical(spec):
    graph = _case(spec, len(spec.examples) - 1)
    first = dumps_project(Project(graph))
    again = dumps_project(loads_project(first))
    assert first == again


@pytest.mark.slow
def test_every_example_is_exported_and_reimported_in_a_fresh_interpreter(tmp_path):
    for spec, index in CASES:
        export_case(_case(spec, index), tmp_path, f"{spec.type}_{index}")
    lines = check_in_fresh_interpreter(tmp_path)
    assert len(lines) == len(CASES)
    assert all(line.startswith("OK ") for line in lines), [x for x in lines if "DIFF" in x]


WRONG = [
    TensorMeta.sample(()),
    TensorMeta.sample((7,)),
    TensorMeta.sample((1, 1)),
    TensorMeta.sample((3, 2, 2)),
    TensorMeta.sample((2, 3, 4, 5)),
    TensorMeta.sample((6,), "int64"),
    TensorMeta.sample((4, 4), "bool"),
    TensorMeta((1, 1, 8)),
    TensorMeta((5, None, 3)),
    TensorMeta.sample((1, 100000)),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.type)
def test_wrong_inputs_become_problems_on_the_node_never_exceptions(spec):
    ins, params = spec.examples[0]
    for wrong in WRONG:
        for port in ins:
            bad = {**ins, port: wrong}
            if all(meta.rank or not meta.batched for meta in bad.values()):
                graph = single_node_graph(spec, bad, params)
                analysis = graph.analysis()
                internal = [p for p in analysis.problems if "could not be analysed" in p.message]
                assert internal == [], (spec.type, port, wrong)


def test_registry_refuses_a_duplicate_type():
    with pytest.raises(ValueError, match="registered twice"):
        register(get_spec("Conv2d"))


def test_every_spec_is_documented_and_uses_pytorch_names():
    for spec in all_specs():
        assert spec.doc and "\n" not in spec.doc
        for param in spec.params:
            assert param.doc, f"{spec.type}.{param.name}"
        # External and the transformer stacks write their own constructor expression
        if spec.kind == MODULE and spec.constructor is None:
            signature = _signature(module_class(spec))
            for param in spec.params:
                if param.ctor:
                    assert param.name in signature.parameters, f"{spec.type}.{param.name}"
            for key, _ in spec.fixed_kwargs:
                assert key in signature.parameters, f"{spec.type}.{key}"


def test_registering_before_the_first_lookup_keeps_the_builtins():
    script = (
        "from torchcanvas.graph import registry\n"
        "from torchcanvas.graph.registry import LayerSpec, register\n"
        "register(LayerSpec('MyLayer', 'Activation', 'mine', 'mine'))\n"
        "assert registry.has_spec('Conv2d'), 'built-ins hidden'\n"
        "assert registry.has_spec('MyLayer')\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.strip() == "ok", done.stderr


def _signature(cls) -> inspect.Signature:
    """The constructor's parameters (the RNN family passes them on to RNNBase)."""
    signature = inspect.signature(cls)
    if any(p.kind == p.VAR_KEYWORD for p in signature.parameters.values()):
        base = inspect.signature(torch.nn.RNNBase).parameters
        extra = inspect.Parameter("nonlinearity", inspect.Parameter.KEYWORD_ONLY)
        return signature.replace(parameters=[*base.values(), extra])
    return signature
