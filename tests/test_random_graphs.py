"""Hypothesis builds random DAGs: several Inputs (token ids among them) and Outputs,
multi-output nodes, merges with many inputs, long names. Each one infers, exports, passes
ruff with its defaults, imports and runs with exactly the shapes the analysis promised."""

from __future__ import annotations

import string

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.builders import library_with
from tests.reference import assert_outputs_match_analysis, forward, ruff_problems
from torchcanvas.codegen.build import compile_source
from torchcanvas.codegen.emit import emit_module
from torchcanvas.graph.model import ModelGraph
from torchcanvas.graph.naming import identifier_problem

ACTIVATIONS = ["ReLU", "GELU", "SiLU", "Tanh", "Sigmoid", "Identity", "Hardswish", "ReLU6"]


def _image(draw, meta) -> tuple[str, dict]:
    channels, height, width = meta.per_sample
    kind = draw(
        st.sampled_from(
            [
                "Conv2d",
                "BatchNorm2d",
                "MaxPool2d",
                "act",
                "Dropout2d",
                "AdaptiveAvgPool2d",
                "Flatten",
                "Upsample",
                "BasicBlock",
                "InvertedResidual",
            ]
        )
    )
    small = min(height, width)
    params = {
        "Conv2d": lambda: {
            "out_channels": draw(st.integers(1, 6)),
            "kernel_size": draw(st.integers(1, min(3, small))),
            "padding": draw(st.integers(0, 1)),
            "groups": draw(st.sampled_from([1, channels])) if channels <= 6 else 1,
        },
        "MaxPool2d": lambda: {"kernel_size": draw(st.integers(1, min(2, small)))},
        "AdaptiveAvgPool2d": lambda: {"output_size": draw(st.integers(1, 3))},
        "Upsample": lambda: {"scale_factor": 2.0},
        "BasicBlock": lambda: {"out_channels": draw(st.integers(1, 6))},
        "InvertedResidual": lambda: {
            "out_channels": draw(st.integers(1, 6)),
            "expand_ratio": draw(st.sampled_from([1, 2])),
        },
    }.get(kind, dict)()
    if kind == "Conv2d" and params["groups"] > 1:
        params["out_channels"] = params["groups"]
    return (draw(st.sampled_from(ACTIVATIONS)), {}) if kind == "act" else (kind, params)


def _vector(draw, meta) -> tuple[str, dict]:
    kind = draw(
        st.sampled_from(["Linear", "BatchNorm1d", "LayerNorm", "Dropout", "act", "Unsqueeze"])
    )
    if kind == "act":
        return draw(st.sampled_from(ACTIVATIONS)), {}
    if kind == "Linear":
        return kind, {"out_features": draw(st.integers(1, 12))}
    if kind == "Unsqueeze":
        return kind, {"dim": -1}  # (F,) -> a sequence (F, 1)
    return kind, {}


def _sequence(draw, meta) -> tuple[str, dict]:
    features = meta.per_sample[-1]
    kind = draw(
        st.sampled_from(
            [
                "LSTM",
                "GRU",
                "Linear",
                "LayerNorm",
                "Mean",
                "Select",
                "Transpose",
                "Chunk",
                "TransformerEncoderLayer",
            ]
        )
    )
    params = {
        "LSTM": lambda: {
            "hidden_size": draw(st.integers(1, 8)),
            "bidirectional": draw(st.booleans()),
        },
        "GRU": lambda: {"hidden_size": draw(st.integers(1, 8))},
        "Linear": lambda: {"out_features": draw(st.integers(1, 8))},
        "Mean": lambda: {"dim": [1]},
        "Select": lambda: {"dim": 1, "index": draw(st.sampled_from([0, -1]))},
        "Transpose": lambda: {"dim0": 1, "dim1": 2},
        "Chunk": lambda: {"chunks": 2, "dim": -1},
        "TransformerEncoderLayer": lambda: {"nhead": 1, "dim_feedforward": 8},
    }.get(kind, dict)()
    if kind == "Chunk" and features % 2:
        return "Identity", {}
    return kind, params


def _layer_for(draw, meta) -> tuple[str, dict]:
    if meta.dtype == "int64":
        return "Embedding", {"num_embeddings": 10, "embedding_dim": draw(st.integers(1, 6))}
    if meta.batch_dim != 0:
        return "Select", {"dim": 0, "index": -1}  # an RNN's h_n: its last layer, batch first
    rank = meta.rank
    if rank == 3:
        return _image(draw, meta)
    return _sequence(draw, meta) if rank == 2 else _vector(draw, meta)


def _name(draw, model: ModelGraph, prefix: str) -> str:
    if not draw(st.booleans()):
        return None
    tail = draw(st.text(string.ascii_lowercase + string.digits + "_", min_size=0, max_size=36))
    name = f"{prefix}_{tail}"[:40]
    return name if not identifier_problem(name) and model.find(name) is None else None


def _inputs(draw, model: ModelGraph) -> None:
    for index in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["image", "vector", "sequence", "tokens"]))
        shape = {
            "image": [draw(st.integers(1, 4)), draw(st.integers(3, 8)), draw(st.integers(3, 8))],
            "vector": [draw(st.integers(1, 12))],
            "sequence": [draw(st.integers(2, 6)), draw(st.integers(1, 6))],
            "tokens": [draw(st.integers(2, 6))],
        }[kind]
        params = {"shape": shape, "dtype": "int64" if kind == "tokens" else "float32"}
        model.add_node("Input", _name(draw, model, "inp") or f"in{index}", params)


def _values(model: ModelGraph) -> list[tuple[str, str]]:
    analysis = model.analysis()
    return [
        (node, port)
        for node in analysis.order
        if node in analysis.facts and model.spec(node).kind != "output"
        for port in analysis.facts[node].outputs
    ]


def _try(model: ModelGraph, type_name: str, params: dict, name, sources) -> bool:
    """Add a node fed by `sources` (node, port); keep it only if it is valid."""
    node = model.add_node(type_name, name, params)
    for src, port in sources:
        model.connect(src, node, src_port=port)
    if model.analysis().problems_for(node) and any(
        p.severity == "error" for p in model.analysis().problems_for(node)
    ):
        model.remove_node(node)
        return False
    return True


@st.composite
def random_graphs(draw) -> ModelGraph:
    name = draw(st.sampled_from(["RandomNet", "A" + "b" * 39]))
    model = ModelGraph(name, library_with("BasicBlock", "InvertedResidual"))
    _inputs(draw, model)
    for _ in range(draw(st.integers(1, 9))):
        values = _values(model)
        src, port = draw(st.sampled_from(values))
        meta = model.analysis().meta(src, port)
        if draw(st.integers(0, 4)) == 0:
            same = [v for v in values if model.analysis().meta(*v) == meta and meta.is_float]
            if len(same) >= 2:
                picked = draw(st.lists(st.sampled_from(same), min_size=2, max_size=4))
                kind = draw(st.sampled_from(["Add", "Mul", "Concat"]))
                _try(model, kind, {}, _name(draw, model, "merge"), picked)
                continue
        type_name, params = _layer_for(draw, meta)
        _try(model, type_name, params, _name(draw, model, type_name.lower()), [(src, port)])
    values = [v for v in _values(model) if model.spec(v[0]).kind != "input"] or _values(model)
    for src, port in draw(st.lists(st.sampled_from(values), min_size=1, max_size=3, unique=True)):
        out = model.add_node("Output", _name(draw, model, "out"))
        model.connect(src, out, src_port=port)
    return model


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(model=random_graphs())
def test_random_graphs_infer_export_pass_ruff_import_and_run(model, tmp_path_factory):
    analysis = model.analysis()
    assert analysis.ok, [str(p) for p in analysis.errors]
    result = emit_module(model)
    folder = tmp_path_factory.mktemp("random")
    (folder / "model.py").write_text(result.source)
    assert ruff_problems(folder) == "", result.source
    module, inputs, outputs = forward(model, batch=2)
    assert_outputs_match_analysis(model, outputs, batch=2)
    again = compile_source(result.source, result.class_name)()
    again.load_state_dict(module.state_dict(), strict=True)
    with torch.no_grad():
        repeat = again.eval()(*inputs)
    repeat = repeat if isinstance(repeat, tuple) else (repeat,)
    assert all(torch.equal(a, b) for a, b in zip(repeat, outputs))


def test_analysis_never_raises_on_random_wiring():
    """Any wiring at all (wrong ranks, dtypes, cycles aside) gives problems, not exceptions."""
    from torchcanvas.graph.registry import all_specs

    specs = [s for s in all_specs() if s.inputs and s.outputs]
    rng = __import__("random").Random(0)
    for _ in range(200):
        model = ModelGraph()
        nodes = [
            model.add_node(
                "Input",
                params={
                    "shape": rng.choice([[3, 6, 6], [5], [4, 3]]),
                    "dtype": rng.choice(["float32", "int64"]),
                },
            )
        ]
        for _ in range(6):
            spec = rng.choice(specs)
            node = model.add_node(spec.type)
            src = rng.choice(nodes)
            ports = model.output_ports(src)
            model.connect(src, node, src_port=rng.choice(ports))
            nodes.append(node)
        analysis = model.analysis()
        assert not [p for p in analysis.problems if "could not be analysed" in p.message]
