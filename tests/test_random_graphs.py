"""Hypothesis builds random chains and DAGs from the registry; infer, export and run each."""

from __future__ import annotations

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reference import real_shapes
from torchcanvas.codegen.build import compile_source
from torchcanvas.codegen.emit import emit_module
from torchcanvas.graph.model import ModelGraph

ACTIVATIONS = ["ReLU", "LeakyReLU", "ELU", "GELU", "SiLU", "Sigmoid", "Tanh", "Identity"]


def image_layer(draw) -> tuple[str, dict]:
    kind = draw(
        st.sampled_from(
            [
                "Conv2d",
                "MaxPool2d",
                "AvgPool2d",
                "BatchNorm2d",
                "GroupNorm",
                "Dropout2d",
                "ConvTranspose2d",
                "ResidualBlock",
                "AdaptiveAvgPool2d",
                "LayerNorm",
                "act",
            ]
        )
    )
    small = st.integers(1, 6)
    params = {
        "Conv2d": lambda: {
            "out_channels": draw(small),
            "kernel_size": draw(st.integers(1, 3)),
            "padding": draw(st.integers(0, 1)),
            "stride": draw(st.integers(1, 2)),
        },
        "ConvTranspose2d": lambda: {"out_channels": draw(small), "kernel_size": 2, "stride": 2},
        "MaxPool2d": lambda: {"kernel_size": draw(st.integers(1, 2))},
        "AvgPool2d": lambda: {"kernel_size": draw(st.integers(1, 2))},
        "ResidualBlock": lambda: {"out_channels": draw(small), "stride": draw(st.integers(1, 2))},
        "AdaptiveAvgPool2d": lambda: {"output_size": draw(st.integers(1, 3))},
        "GroupNorm": lambda: {"num_groups": 1},
    }.get(kind, dict)()
    if kind == "act":
        return draw(st.sampled_from(ACTIVATIONS)), {}
    return kind, params


def vector_layer(draw) -> tuple[str, dict]:
    kind = draw(
        st.sampled_from(
            ["Linear", "BatchNorm1d", "LayerNorm", "Dropout", "Softmax", "LogSoftmax", "act"]
        )
    )
    if kind == "act":
        return draw(st.sampled_from(ACTIVATIONS)), {}
    if kind == "Linear":
        return kind, {"out_features": draw(st.integers(1, 12))}
    return kind, {}


@st.composite
def random_graphs(draw) -> ModelGraph:
    model = ModelGraph("RandomNet")
    image = draw(st.booleans())
    shape = (
        [draw(st.integers(1, 4)), draw(st.integers(4, 10)), draw(st.integers(4, 10))]
        if image
        else [draw(st.integers(1, 16))]
    )
    current = model.add_node("Input", params={"shape": shape})
    for _ in range(draw(st.integers(1, 7))):
        step = draw(st.sampled_from(["layer", "layer", "flatten", "residual", "concat"]))
        if step == "flatten" and image:
            image, layer = False, ("Flatten", {})
        else:
            layer = image_layer(draw) if image else vector_layer(draw)
        node = model.add_node(layer[0], params=layer[1])
        model.connect(current, node)
        if step in ("residual", "concat"):
            merge = model.add_node("Add" if step == "residual" else "Concat")
            model.connect(node, merge)
            model.connect(current, merge)
            node = merge
        current = node
    model.connect(current, model.add_node("Output"))
    return model


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_graphs())
def test_random_graphs_infer_export_import_and_run(model):
    analysis = model.analysis()  # never raises, valid or not
    if not analysis.ok:
        assert all(p.node and p.message for p in analysis.errors)
        return
    result = emit_module(model)
    compile(result.source, "<check>", "exec")
    torch.manual_seed(0)
    module = compile_source(result.source, result.class_name)().eval()
    sample = torch.randn(2, *analysis.shapes["input"])
    real = real_shapes(model, module, sample)
    assert real.pop("__output__") == analysis.shapes["output"]
    for name, shape in real.items():
        assert analysis.shapes[name] == shape, name
    copy = compile_source(result.source, result.class_name)()
    copy.load_state_dict(module.state_dict())
    with torch.no_grad():
        assert torch.equal(copy.eval()(sample), module(sample))
