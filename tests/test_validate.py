"""Validation: every problem is a Problem with a node and a fix, never an exception."""

from __future__ import annotations

from tests.builders import chain, linear_graph
from torchcanvas.graph.model import Edge, ModelGraph
from torchcanvas.graph.summary import summarize, totals


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


def test_values_stay_known_up_to_the_first_broken_node():
    model = linear_graph(
        ("Conv2d", {"out_channels": 8}),
        ("Linear", {"in_features": 5}),
        ("ReLU", {}),
        shape=(1, 8, 8),
    )
    analysis = model.analysis()
    conv, fc, relu = (model.id_of(n) for n in ("conv1", "fc1", "relu1"))
    assert analysis.meta(conv).per_sample == (8, 6, 6)
    assert analysis.meta(fc) is None and analysis.meta(relu) is None
    assert [p.node for p in analysis.errors] == [fc]


def test_cycle_is_a_problem_not_an_exception():
    model = ModelGraph()
    nodes = [model.add_node(t) for t in ("Input", "ReLU", "ReLU", "Output")]
    chain(model, nodes)
    model.disconnect(model.inputs(nodes[1])[0])
    model.add_edge_unchecked(Edge(nodes[2], "output", nodes[1], "input"))  # a hand-edited file
    problems = messages(model)
    assert any("cycle (relu1 -> relu2 -> relu1)" in p or "cycle (relu2" in p for p in problems)


def test_unconnected_required_ports_and_missing_io():
    model = ModelGraph()
    relu = model.add_node("ReLU")
    problems = messages(model)
    assert "relu1: has no input; connect a layer's output to it" in problems
    assert any("no Input" in p for p in problems) and any("no Output" in p for p in problems)
    add = model.add_node("Add")
    model.connect(relu, add)
    assert "add1: needs at least 2 inputs but has 1; connect 1 more" in messages(model)
    attn = model.add_node("MultiheadAttention")
    model.connect(relu, attn)
    assert "attn1: its key input is not connected; connect a layer's output to it" in messages(
        model
    )


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
    assert model.analysis().meta(cat).per_sample == (7, 8, 8)


def test_rank_mismatch_suggests_a_fix_that_works():
    model = linear_graph(("Flatten", {}), ("Conv2d", {}))
    assert any(
        "conv1: expects a (C, H, W) input but receives 784 (1-D); remove flatten1" in p
        for p in messages(model)
    )
    model = linear_graph(("BatchNorm1d", {}))
    assert any("use BatchNorm2d" in p for p in messages(model))
    model = linear_graph(("Conv1d", {}))  # an image into a 1-D convolution: Flatten is no fix
    problem = messages(model)[0]
    assert "use the 2-D layer for images, or Flatten(start_dim=2)" in problem
    model = linear_graph(("LSTM", {}), shape=(20,))
    assert "add an Unsqueeze (dim=-1) before it to make (L, F)" in messages(model)[0]


def test_a_wrong_dtype_is_a_problem_with_a_fix():
    model = linear_graph(("Embedding", {}), shape=(20,))
    problem = messages(model)[0]
    assert problem.startswith("embedding1: expects integer token ids (int64) but receives float32")
    assert "feed it token ids from an int64 Input" in problem
    model = linear_graph(("Linear", {}), shape=(20,), dtype="int64")
    assert "token ids go into an Embedding first" in messages(model)[0]


def test_a_batch_that_is_not_first_is_refused_by_layers_that_need_it():
    model = linear_graph(("LSTM", {"hidden_size": 4}), shape=(6, 3))
    lstm = model.id_of("lstm1")
    relu = model.add_node("ReLU")
    model.connect(lstm, relu, src_port="h_n")
    conv = model.add_node("Conv1d")
    model.connect(relu, conv)
    problems = [str(p) for p in model.analysis().problems_for(conv) if p.severity == "error"]
    assert problems and "batch as the first dimension" in problems[0]
    assert [p for p in model.analysis().problems_for(relu) if p.severity == "error"] == []


def test_linear_on_an_image_is_a_warning():
    model = linear_graph(("Linear", {"out_features": 4}))
    analysis = model.analysis()
    assert analysis.ok
    assert any("add a Flatten" in p.message and p.severity == "warning" for p in analysis.problems)


def test_impossible_arguments_become_one_sentence():
    model = linear_graph(("Conv2d", {"kernel_size": 9}), shape=(1, 4, 4))
    assert any(p.startswith("conv1: the input 1x4x4 is too small") for p in messages(model))
    model = linear_graph(("Conv2d", {"groups": 3}), shape=(4, 8, 8))
    problems = messages(model)
    assert len(problems) == 1 and "divisible by groups" in problems[0]
    model = linear_graph(("MultiheadAttention", {"num_heads": 5}), shape=(10, 16))
    for port in ("key", "value"):
        model.connect(model.id_of("input"), model.id_of("attn1"), dst_port=port)
    assert "16 features do not split into 5 heads" in " ".join(messages(model))


def test_inplace_on_a_value_another_node_reads_is_refused():
    model = linear_graph(("Conv2d", {}), ("ReLU", {"inplace": True}), ("Add", {}))
    conv, add = model.id_of("conv1"), model.id_of("add1")
    model.connect(conv, add)
    assert "relu1: inplace=True would overwrite the output of conv1, which add1 also reads" in (
        " ".join(messages(model))
    )


def test_unused_nodes_are_warnings_and_left_out_of_the_counts():
    model = linear_graph(("Linear", {"out_features": 4}), shape=(8,))
    extra = model.add_node("Linear", params={"out_features": 100})
    model.connect(model.id_of("input"), extra)
    analysis = model.analysis()
    assert analysis.ok and extra not in analysis.live
    assert any(p.node == extra and p.severity == "warning" for p in analysis.problems)
    params, _ = totals(summarize(model, analysis))
    assert params == 8 * 4 + 4  # the unused 900 are not counted
