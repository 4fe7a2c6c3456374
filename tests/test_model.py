"""ModelGraph: the only code that changes the graph, and the events it emits."""

from __future__ import annotations

import pytest

from tests.builders import chain
from torchcanvas.graph.model import Edge, GraphError, ModelGraph


def recorder(model: ModelGraph) -> list:
    """Record every event as (name, args)."""
    log = []
    for name, signal in vars(model.events).items():
        signal.connect(lambda *args, name=name: log.append((name, args)))
    return log


def test_ids_are_stable_and_names_are_generated_unique_identifiers():
    model = ModelGraph()
    ids = [model.add_node(t) for t in ("Input", "Conv2d", "Conv2d", "Linear", "Input")]
    assert ids == ["n1", "n2", "n3", "n4", "n5"]
    assert [model.node_name(n) for n in ids] == ["input", "conv1", "conv2", "fc1", "input1"]
    model.remove_node("n5")
    assert model.add_node("ReLU") == "n6"  # an id is never handed out twice


@pytest.mark.parametrize(
    "bad", ["1conv", "class", "-conv", "", "forward", "training", "__x", "x" * 41, "self", "match"]
)
def test_invalid_names_are_refused(bad):
    model = ModelGraph()
    with pytest.raises(GraphError):
        model.add_node("ReLU", bad)
    node = model.add_node("ReLU")
    with pytest.raises(GraphError):
        model.rename(node, bad)


def test_a_dashed_name_is_only_a_key_of_a_named_sequential():
    model = ModelGraph()
    node = model.add_node("ReLU", "block1-0")  # RegNet's children are called this
    problems = [p.message for p in model.analysis().problems if p.node == node]
    assert any("only a child of a named nn.Sequential" in m for m in problems)


def test_rename_changes_one_field_and_keeps_the_id_and_edges():
    model = ModelGraph()
    nodes = [model.add_node(t) for t in ("Input", "ReLU", "Output")]
    chain(model, nodes)
    edges = model.edges()
    log = recorder(model)
    model.rename(nodes[1], "act")
    assert model.nodes() == nodes and model.edges() == edges
    assert model.node_name(nodes[1]) == "act" and model.find("act") == nodes[1]
    assert model.find("relu1") is None
    assert ("node_renamed", (nodes[1], "relu1", "act")) in log
    with pytest.raises(GraphError, match="already exists"):
        model.rename(nodes[1], "input")


def test_connect_refuses_cycles_self_loops_busy_and_unknown_ports():
    model = ModelGraph()
    a, b = model.add_node("ReLU"), model.add_node("ReLU")
    model.connect(a, b)
    with pytest.raises(GraphError, match="cycle"):
        model.connect(b, a)
    with pytest.raises(GraphError, match="itself"):
        model.connect(a, a)
    c = model.add_node("ReLU")
    with pytest.raises(GraphError, match="already connected"):
        model.connect(c, b, dst_port="input")
    with pytest.raises(GraphError, match="every input"):
        model.connect(c, b)
    out = model.add_node("Output")
    model.connect(b, out)
    with pytest.raises(GraphError, match="nothing to pass on"):
        model.connect(out, c)
    inp = model.add_node("Input")
    with pytest.raises(GraphError, match="takes no inputs"):
        model.connect(c, inp)
    lstm = model.add_node("LSTM")
    with pytest.raises(GraphError, match="no output 'h_x'"):
        model.connect(lstm, c, src_port="h_x")
    with pytest.raises(GraphError, match="no input 'bogus'"):
        model.connect(c, lstm, dst_port="bogus")


def test_edges_join_named_ports_and_q_k_v_can_come_from_one_node():
    model = ModelGraph()
    x = model.add_node("Input", params={"shape": [10, 16]})
    attn = model.add_node("MultiheadAttention", params={"num_heads": 4})
    for port in ("query", "key", "value"):
        model.connect(x, attn, dst_port=port)
    assert [e.dst_port for e in model.inputs(attn)] == ["query", "key", "value"]
    out = model.add_node("Output")
    edge = model.connect(attn, out, src_port="attn_weights")
    assert edge == Edge(attn, "attn_weights", out, "input")
    assert model.analysis().meta(out).shape == (None, 10, 10)


def test_the_first_free_port_is_the_default():
    model = ModelGraph()
    a, b, c = (model.add_node("ReLU") for _ in range(3))
    attn = model.add_node("MultiheadAttention")
    assert [model.connect(n, attn).dst_port for n in (a, b, c)] == ["query", "key", "value"]
    lstm = model.add_node("LSTM")
    assert model.connect(a, lstm).dst_port == "input"
    assert model.free_input_port(lstm) == "h_0"


def test_merge_slots_append_insert_and_close_gaps():
    model = ModelGraph()
    a, b, c = (model.add_node("ReLU") for _ in range(3))
    add = model.add_node("Add")
    assert model.connect(a, add).dst_port == "0"
    assert model.connect(b, add).dst_port == "1"
    assert model.connect(c, add, dst_port="1").dst_port == "1"  # insert shifts b to slot 2
    assert [(e.src, e.dst_port) for e in model.inputs(add)] == [(a, "0"), (c, "1"), (b, "2")]
    model.disconnect(Edge(c, "output", add, "1"))
    assert [(e.src, e.dst_port) for e in model.inputs(add)] == [(a, "0"), (b, "1")]
    with pytest.raises(GraphError, match="has 2 inputs"):
        model.connect(c, add, dst_port="5")


def test_output_ports_follow_the_parameters():
    model = ModelGraph()
    chunk = model.add_node("Chunk", params={"chunks": 3})
    assert model.output_ports(chunk) == ["0", "1", "2"]
    relu = model.add_node("ReLU")
    model.connect(chunk, relu, src_port="2")
    model.set_param(chunk, "chunks", 2)
    assert model.output_ports(chunk) == ["0", "1"]
    problems = [str(p) for p in model.analysis().problems_for(chunk)]
    assert any("no output '2' any more" in p for p in problems)


def test_remove_and_restore_node_puts_everything_back():
    model = ModelGraph()
    nodes = [model.add_node(t) for t in ("Input", "Conv2d", "ReLU", "Output")]
    chain(model, nodes)
    model.set_param(nodes[1], "out_channels", 8)
    before = (model.nodes(), model.edges(), model.params(nodes[1]))
    record = model.remove_node(nodes[1])
    assert nodes[1] not in model and model.find("conv1") is None
    assert model.edges() == [Edge(nodes[2], "output", nodes[3], "input")]
    model.restore_node(record)
    assert sorted(model.nodes()) == sorted(before[0])
    assert sorted(model.edges()) == sorted(before[1])
    assert model.params(nodes[1]) == before[2] and model.node_name(nodes[1]) == "conv1"


def test_params_are_coerced_canonical_and_auto_can_be_pinned():
    model = ModelGraph()
    conv = model.add_node("Conv2d")
    assert model.params(conv) == {"out_channels": 16, "kernel_size": 3}
    model.set_param(conv, "kernel_size", [5, 5])
    assert model.params(conv)["kernel_size"] == 5
    model.set_param(conv, "kernel_size", (3, 5))
    assert model.params(conv)["kernel_size"] == (3, 5)
    model.set_param(conv, "stride", 1)  # the default is not stored
    assert "stride" not in model.params(conv)
    model.set_param(conv, "in_channels", 3)
    assert model.params(conv)["in_channels"] == 3
    model.set_param(conv, "in_channels", None)
    assert "in_channels" not in model.params(conv)
    with pytest.raises(GraphError, match="at least 1"):
        model.set_param(conv, "out_channels", 0)
    with pytest.raises(GraphError, match="no parameter"):
        model.set_param(conv, "kernal_size", 3)
    with pytest.raises(GraphError, match="one of"):
        model.set_param(conv, "padding_mode", "mirror")


def test_events_fire_for_every_edit():
    model = ModelGraph()
    log = recorder(model)
    a = model.add_node("ReLU")
    b = model.add_node("ReLU")
    edge = model.connect(a, b)
    model.move(a, (10, 20))
    model.disconnect(edge)
    model.remove_node(b)
    kinds = [name for name, _ in log if name != "changed"]
    assert kinds == [
        "node_added",
        "node_added",
        "edge_added",
        "node_moved",
        "edge_removed",
        "node_removed",
    ]
    assert ("edge_added", (edge,)) in log


def test_analysis_is_cached_until_a_change():
    model = ModelGraph()
    model.add_node("Input")
    first = model.analysis()
    assert model.analysis() is first
    model.add_node("Output")
    assert model.analysis() is not first


def test_removing_a_node_that_feeds_several_merge_slots_restores_exactly():
    model = ModelGraph()
    a, b, c = (model.add_node("ReLU") for _ in range(3))
    add = model.add_node("Add")
    for src in (a, b, a, c):
        model.connect(src, add)
    before = model.inputs(add)
    record = model.remove_node(a)
    assert [(e.src, e.dst_port) for e in model.inputs(add)] == [(b, "0"), (c, "1")]
    model.restore_node(record)
    assert model.inputs(add) == before


def test_a_replacement_connection_is_checked_without_touching_the_graph():
    model = ModelGraph()
    a, b, c = (model.add_node("ReLU") for _ in range(3))
    model.connect(a, b)
    model.connect(b, c)
    assert model.connection_problem(c, b, dst_port="input") is not None  # port taken
    assert "cycle" in model.connection_problem(c, b, dst_port="input", replacing=True)
    other = model.add_node("Tanh")
    revision = model.revision
    assert model.connection_problem(other, b, dst_port="input", replacing=True) is None
    assert model.revision == revision and [e.src for e in model.inputs(b)] == [a]


def test_copy_is_independent():
    model = ModelGraph("Net")
    a = model.add_node("Conv2d")
    twin = model.copy()
    twin.set_param(a, "out_channels", 4)
    twin.rename(a, "other")
    assert model.params(a)["out_channels"] == 16 and model.node_name(a) == "conv1"
    assert twin.add_node("ReLU") == model.add_node("ReLU")  # the id counter travels too


def test_take_over_moves_a_loaded_graph_with_its_bodies_and_empties_the_source():
    from tests.conftest import EXAMPLES
    from torchcanvas.graph.graphjson import graph_to_dict
    from torchcanvas.graph.project import load_project

    loaded = load_project(EXAMPLES / "resnet18.json").model
    expected = graph_to_dict(loaded)
    target = ModelGraph("Old")
    target.add_node("Input", "old_input", {"shape": [4]})
    target.take_over(loaded)
    assert graph_to_dict(target) == expected and target.name == loaded.name
    assert len(loaded) == 0 and loaded.edges() == []
    assert target.analysis().ok
    layer = target.id_of("layer1")
    body = target.body(layer)
    before, left_behind = target.revision, loaded.revision
    body.set_param(body.id_of("block0"), "stride", 2)  # an edit inside reaches the new owner
    assert target.revision > before and loaded.revision == left_behind
    assert target.add_node("ReLU") not in expected["nodes"]  # ids go on from the file's
