"""Validation: every problem is a Problem with a node and a fix, never an exception."""

from __future__ import annotations

from tests.builders import chain, linear_graph
from torchcanvas.graph.model import ModelGraph


def messages(model) -> list[str]:
    return [str(p) for p in model.analysis().problems]


def test_pinned_in_features_mismatch_names_the_fix():
    model = linear_graph(
        ("Conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1}),
        ("ReLU", {}),
        ("MaxPool2d", {"kernel_size": 2}),
        ("Conv2d", {"out_channels": 32, "kernel_size": 3, "padding": 1}),
        ("ReLU", {}),
        ("MaxPool2d", {"kernel_size": 2}),
        ("Flatten", {}),
        ("Linear", {"out_features": 10, "in_features": 3136}),
    )
    assert messages(model) == [
        "fc1: expects 3136 input features but receives 1568 (32x7x7); "
        "unpin in_features or change conv2"
    ]


def test_shapes_stay_known_up_to_the_first_broken_node():
    model = linear_graph(
        ("Conv2d", {"out_channels": 8}),
        ("Linear", {"in_features": 5}),
        ("ReLU", {}),
        shape=(1, 8, 8),
    )
    analysis = model.analysis()
    assert analysis.shapes["conv1"] == (8, 6, 6)
    assert analysis.shapes["fc1"] is None and analysis.shapes["relu1"] is None
    assert [p.node for p in analysis.errors] == ["fc1"]


def test_cycle_is_a_problem_not_an_exception():
    model = ModelGraph()
    names = [model.add_node(t) for t in ("Input", "ReLU", "ReLU", "Output")]
    chain(model, names)
    model.nx_graph.add_edge("relu2", "relu1", key=1)  # as a hand-edited file could
    problems = messages(model)
    assert any("cycle" in p and p.startswith("relu1") for p in problems)


def test_unconnected_input_too_many_inputs_and_missing_io():
    model = ModelGraph()
    model.add_node("ReLU")
    problems = messages(model)
    assert "relu1: has no input; connect a layer's output to it" in problems
    assert any("no Input" in p for p in problems) and any("no Output" in p for p in problems)
    add = model.add_node("Add")
    model.connect("relu1", add)
    assert "add1: needs at least 2 inputs but has 1; connect 1 more" in messages(model)


def test_add_of_unequal_shapes_and_concat_mismatch():
    model = ModelGraph()
    inp = model.add_node("Input", params={"shape": [3, 8, 8]})
    conv = model.add_node("Conv2d", params={"out_channels": 4, "kernel_size": 1})
    pool = model.add_node("MaxPool2d")
    add = model.add_node("Add")
    out = model.add_node("Output")
    model.connect(inp, conv)
    model.connect(conv, add)
    model.connect(inp, add)
    model.connect(add, out)
    assert any(p.startswith("add1: cannot add 4x8x8 and 3x8x8") for p in messages(model))
    model.remove_node(add)
    cat = model.add_node("Concat")
    model.connect(conv, cat)
    model.connect(pool, cat)
    model.connect(inp, pool)
    model.connect(cat, out)
    assert any(
        p.startswith("cat1: shapes 4x8x8 and 3x4x4 differ outside dim 1") for p in messages(model)
    )
    model.set_param(pool, "kernel_size", 1)
    assert model.analysis().ok
    assert model.analysis().shapes[cat] == (7, 8, 8)


def test_rank_mismatch_suggests_the_fix():
    model = linear_graph(("Flatten", {}), ("Conv2d", {}))
    assert any(
        "conv1: expects a (C, H, W) input but receives 784 (1-D); remove flatten1" in p
        for p in messages(model)
    )
    model = linear_graph(("BatchNorm1d", {}))
    assert any("use BatchNorm2d" in p for p in messages(model))


def test_linear_on_an_image_is_a_warning():
    model = linear_graph(("Linear", {"out_features": 4}))
    analysis = model.analysis()
    assert analysis.ok
    assert any("add a Flatten" in p.message and p.severity == "warning" for p in analysis.problems)


def test_torch_errors_become_one_sentence():
    model = linear_graph(("Conv2d", {"kernel_size": 9}), shape=(1, 4, 4))
    assert any(p.startswith("conv1: the input 1x4x4 is too small") for p in messages(model))
    model = linear_graph(("Conv2d", {"groups": 3}), shape=(4, 8, 8))
    problems = messages(model)
    assert len(problems) == 1 and "divisible by groups" in problems[0]


def test_unused_node_is_a_warning():
    model = linear_graph(("ReLU", {}))
    extra = model.add_node("Tanh")
    model.connect("relu1", extra)
    analysis = model.analysis()
    assert analysis.ok and extra not in analysis.live
    assert any(p.node == extra and p.severity == "warning" for p in analysis.problems)
