"""ModelGraph: the only code that changes the graph, and the events it emits."""

from __future__ import annotations

import pytest

from tests.builders import chain
from torchcanvas.graph.model import GraphError, ModelGraph


def recorder(model: ModelGraph) -> list:
    """Record every event as (name, args)."""
    log = []
    for name, signal in vars(model.events).items():
        signal.connect(lambda *args, name=name: log.append((name, args)))
    return log


def test_names_are_generated_unique_identifiers():
    model = ModelGraph()
    assert model.add_node("Input") == "input"
    assert model.add_node("Conv2d") == "conv1"
    assert model.add_node("Conv2d") == "conv2"
    assert model.add_node("Linear") == "fc1"
    assert model.add_node("Input") == "input1"


@pytest.mark.parametrize(
    "bad", ["1conv", "class", "conv-1", "", "forward", "training", "__x", "x" * 41, "self", "match"]
)
def test_invalid_names_are_refused(bad):
    model = ModelGraph()
    with pytest.raises(GraphError):
        model.add_node("ReLU", bad)
    name = model.add_node("ReLU")
    with pytest.raises(GraphError):
        model.rename(name, bad)


def test_rename_keeps_edges_order_and_emits():
    model = ModelGraph()
    names = [model.add_node(t) for t in ("Input", "ReLU", "Output")]
    chain(model, names)
    log = recorder(model)
    model.rename("relu1", "act")
    assert model.nodes() == ["input", "act", "output"]
    assert model.edges() == [("input", "act", 0), ("act", "output", 0)]
    assert ("node_renamed", ("relu1", "act")) in log
    with pytest.raises(GraphError, match="already exists"):
        model.rename("act", "input")


def test_connect_refuses_cycles_self_loops_and_busy_ports():
    model = ModelGraph()
    a, b = model.add_node("ReLU"), model.add_node("ReLU")
    model.connect(a, b)
    with pytest.raises(GraphError, match="cycle"):
        model.connect(b, a)
    with pytest.raises(GraphError, match="itself"):
        model.connect(a, a)
    c = model.add_node("ReLU")
    with pytest.raises(GraphError, match="already has its input"):
        model.connect(c, b)
    out = model.add_node("Output")
    model.connect(b, out)
    with pytest.raises(GraphError, match="nothing to pass on"):
        model.connect(out, c)
    inp = model.add_node("Input")
    with pytest.raises(GraphError, match="takes no inputs"):
        model.connect(c, inp)


def test_merge_nodes_append_insert_and_close_gaps():
    model = ModelGraph()
    a, b, c = (model.add_node("ReLU") for _ in range(3))
    add = model.add_node("Add")
    assert model.connect(a, add) == 0
    assert model.connect(b, add) == 1
    assert model.connect(c, add, 1) == 1  # insert shifts b to port 2
    assert model.inputs(add) == [(a, 0), (c, 1), (b, 2)]
    model.disconnect(c, add, 1)
    assert model.inputs(add) == [(a, 0), (b, 1)]


def test_remove_and_restore_node_puts_everything_back():
    model = ModelGraph()
    names = [model.add_node(t) for t in ("Input", "Conv2d", "ReLU", "Output")]
    chain(model, names)
    model.set_param("conv1", "out_channels", 8)
    before = (model.nodes(), model.edges(), model.params("conv1"))
    record = model.remove_node("conv1")
    assert "conv1" not in model
    assert model.edges() == [("relu1", "output", 0)]
    model.restore_node(record)
    assert sorted(model.nodes()) == sorted(before[0])
    assert sorted(model.edges()) == sorted(before[1])
    assert model.params("conv1") == before[2]


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
    model.connect(a, b)
    model.move(a, (10, 20))
    model.disconnect(a, b, 0)
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
    assert model.revision > 0


def test_analysis_is_cached_until_a_change():
    model = ModelGraph()
    model.add_node("Input")
    first = model.analysis()
    assert model.analysis() is first
    model.add_node("Output")
    assert model.analysis() is not first


def test_removing_a_node_that_feeds_several_merge_ports_restores_exactly():
    model = ModelGraph()
    a, b, c = (model.add_node("ReLU") for _ in range(3))
    add = model.add_node("Add")
    for src in (a, b, a, c):
        model.connect(src, add)
    before = model.inputs(add)
    record = model.remove_node(a)
    assert model.inputs(add) == [(b, 0), (c, 1)]
    model.restore_node(record)
    assert model.inputs(add) == before


def test_a_replacement_connection_is_checked_without_touching_the_graph():
    model = ModelGraph()
    a, b, c = (model.add_node("ReLU") for _ in range(3))
    model.connect(a, b)
    model.connect(b, c)
    revision = model.revision
    assert model.connection_problem(c, b, 0) is not None  # port taken
    assert "cycle" in model.connection_problem(c, b, 0, replacing=True)
    other = model.add_node("Tanh")
    revision = model.revision
    assert model.connection_problem(other, b, 0, replacing=True) is None
    assert model.revision == revision and model.inputs(b) == [(a, 0)]
