"""Wide graphs and merges with many inputs: the work per pass grows linearly.

No timings here: each test counts the calls of a function that used to be run once per
edge or per reader for every node (edge visits, name checks, ports made, edges routed)
for a graph of size n and one of size 2n, and asks for about twice the count.
"""

from __future__ import annotations

import builtins
import json
import keyword
import random
import sys

import pytest
import torch

from torchcanvas.codegen import forward as forward_module
from torchcanvas.codegen.build import compile_model
from torchcanvas.codegen.emit import emit_module
from torchcanvas.graph import naming
from torchcanvas.graph.graphbase import GraphBase
from torchcanvas.graph.model import Edge, ModelGraph
from torchcanvas.graph.project import Project, dumps_project, loads_project
from torchcanvas.graph.summary import summarize

LINEAR = 2.3  # twice the graph, at most this many times the work (plus a constant)


def linear(count) -> None:
    """`count(n)` grows like n: doubling n about doubles it."""
    small, large = count(200), count(400)
    assert large <= LINEAR * small + 50, (small, large)


def edge_visits(monkeypatch, work) -> int:
    """How many edges inputs() and outputs() hand out while `work()` runs."""
    seen = [0]
    for name in ("inputs", "outputs"):
        original = getattr(GraphBase, name)

        def counted(self, node, original=original):
            edges = original(self, node)
            seen[0] += len(edges)
            return edges

        monkeypatch.setattr(GraphBase, name, counted)
    work()
    monkeypatch.undo()
    return seen[0]


def calls(monkeypatch, owner, name: str, work) -> int:
    """How many times `owner.name` is called while `work()` runs."""
    seen = [0]
    original = getattr(owner, name)

    def counted(*args, **kwargs):
        seen[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    work()
    monkeypatch.undo()
    return seen[0]


def lines_run(functions: set[str], work) -> int:
    """How many lines of the functions called `functions` run while `work()` runs."""
    seen = [0]

    def count(frame, event, arg):
        if event == "line":
            seen[0] += 1
        return count

    previous = sys.gettrace()
    sys.settrace(lambda frame, event, arg: count if frame.f_code.co_name in functions else None)
    try:
        work()
    finally:
        sys.settrace(previous)
    return seen[0]


# ----- graphs -------------------------------------------------------------------------
def wide_dag(nodes: int, seed: int = 0) -> ModelGraph:
    """Linear, ReLU and Add nodes reading random earlier values; the unread ones are summed."""
    rng = random.Random(seed)
    model = ModelGraph("WideDag")
    values = [model.add_node("Input", "input", {"shape": [8]})]
    while len(model) < nodes - 2:
        kind = rng.random()
        if kind < 0.4:
            node = model.add_node("Linear", None, {"out_features": 8})
            model.connect(rng.choice(values), node)
        elif kind < 0.6 or len(values) < 2:
            node = model.add_node("ReLU")
            model.connect(rng.choice(values), node)
        else:
            node = model.add_node("Add")
            for source in rng.sample(values, 2):
                model.connect(source, node)
        values.append(node)
    total = model.add_node("Add")
    for value in [v for v in values if not model.outputs(v)] + values[:1]:
        model.connect(value, total)
    model.connect(total, model.add_node("Output"))
    return model


def fan_out(readers: int, reader: str = "ReLU", params: dict | None = None) -> ModelGraph:
    """One Input read by `readers` nodes, all summed by one Add (loaded, not connected)."""
    model = ModelGraph("FanOut")
    source = model.add_node("Input", "input", {"shape": [5, 8]})
    total = model.add_node("Add", "total")
    for index in range(readers):
        node = model.add_node(reader, f"r{index}", params or {})
        model.add_edge_unchecked(Edge(source, "output", node, model.spec(node).inputs[0].name))
        port = model.output_ports(node)[1 if reader == "LSTM" else 0]  # LSTM: its h_n
        model.add_edge_unchecked(Edge(node, port, total, str(index)))
    model.add_edge_unchecked(Edge(total, "output", model.add_node("Output"), "input"))
    return model


def merge_document(fan_in: int, sources: tuple[str, ...] = ("ReLU", "Tanh", "Sigmoid")) -> dict:
    """A project file: an Add of `fan_in` inputs read in turn from the Input and `sources`."""
    nodes = [{"id": "n1", "name": "input", "type": "Input", "params": {"shape": [4]}}]
    edges = []
    for index, type_name in enumerate(sources, start=2):
        nodes.append({"id": f"n{index}", "name": type_name.lower(), "type": type_name})
        edges.append({"from": "n1", "to": f"n{index}"})
    nodes += [{"id": "add", "name": "total", "type": "Add"}, {"id": "out", "name": "output"}]
    nodes[-1]["type"] = "Output"
    readers = [f"n{i}" for i in range(1, len(sources) + 2)]
    for slot in range(fan_in):
        edges.append({"from": readers[slot % len(readers)], "to": "add", "to_port": slot})
    edges.append({"from": "add", "to": "out"})
    for node in nodes:
        node.update(params=node.get("params", {}), pos=[0, 0])
    return {"format": "torchcanvas", "version": 3, "name": "Merge", "nodes": nodes, "edges": edges}


# ----- the graph and its passes ---------------------------------------------------------
def test_connecting_a_merge_does_not_read_its_inputs_again(monkeypatch):
    def build(fan_in: int) -> None:
        model = ModelGraph("Merge")
        source = model.add_node("Input", "input", {"shape": [4]})
        total = model.add_node("Add")
        for _ in range(fan_in):
            model.connect(source, total)
        assert len(model.inputs(total)) == fan_in

    linear(lambda n: edge_visits(monkeypatch, lambda: build(n)))


def test_numbering_new_layers_does_not_try_every_taken_number():
    def build(count: int) -> None:
        model = ModelGraph("Many")
        for _ in range(count):
            model.add_node("ReLU")

    linear(lambda n: lines_run({"numbered_name", "next_numbered"}, lambda: build(n)))


def test_names_taken_again_after_a_removal_or_a_rename():
    model = ModelGraph("Names")
    relus = [model.add_node("ReLU") for _ in range(5)]
    model.remove_node(relus[1])
    assert model.node_name(model.add_node("ReLU")) == "relu2"
    assert model.node_name(model.add_node("ReLU")) == "relu6"
    model.rename(relus[0], "first")
    assert model.node_name(model.add_node("ReLU")) == "relu1"
    names, created = naming.Namespace({"x"}), []
    for wanted in ("conv", "conv", "conv_3", "conv", "x", "x"):
        created.append(names.create(wanted))
        names.hold(created[-1])
    assert created == ["conv", "conv_2", "conv_3", "conv_4", "x_", "x__2"]  # x is reserved
    names.release("conv_2")
    assert names.create("conv") == "conv_2"  # given back: handed out again


def test_analysis_summary_and_code_visit_each_edge_a_bounded_number_of_times(monkeypatch):
    graphs = {n: wide_dag(n) for n in (200, 400)}

    def passes(n: int) -> None:
        model = graphs[n]
        model.revision += 1  # analyse again
        analysis = model.analysis()
        assert analysis.ok, analysis.errors[:3]
        summarize(model, analysis)
        emit_module(model, analysis=analysis)

    linear(lambda n: edge_visits(monkeypatch, lambda: passes(n)))


def test_inplace_readers_of_one_value_are_checked_once(monkeypatch):
    graphs = {n: fan_out(n, "ReLU", {"inplace": True}) for n in (200, 400)}
    assert "inplace=True would overwrite" in graphs[200].analysis().errors[0].message
    linear(lambda n: edge_visits(monkeypatch, lambda: graphs[n].copy().analysis()))


@pytest.mark.parametrize(
    ("reader", "owner", "hot"),
    [("ReLU", forward_module.ForwardWriter, "_is_merge"), ("LSTM", naming.Namespace, "free")],
    ids=["chains", "names"],
)
def test_codegen_for_a_value_with_many_readers(monkeypatch, reader, owner, hot):
    params = {"hidden_size": 8} if reader == "LSTM" else {}
    graphs = {n: fan_out(n, reader, params) for n in (200, 400)}
    analyses = {n: model.analysis() for n, model in graphs.items()}

    def emit(n: int) -> None:
        emit_module(graphs[n], analysis=analyses[n])

    linear(lambda n: calls(monkeypatch, owner, hot, lambda: emit(n)))


def _create_one_by_one(self, wanted: str) -> str:
    """Namespace.create as it was: try base, base_2, base_3, ... every time."""
    base = naming.sanitize(wanted, fallback="v")
    if keyword.iskeyword(base) or hasattr(builtins, base) or base in self.reserved:
        base = f"{base}_"
    candidate, index = base, 2
    while not self.free(candidate):
        candidate, index = f"{base}_{index}", index + 1
    return candidate


@pytest.mark.parametrize("seed", range(4))
def test_variable_names_are_the_ones_a_search_from_the_start_finds(monkeypatch, seed):
    model = wide_dag(120, seed)
    lstms = fan_out(40, "LSTM", {"hidden_size": 8})
    expected = [emit_module(graph).source for graph in (model, lstms)]
    monkeypatch.setattr(naming.Namespace, "create", _create_one_by_one)
    for graph, source in zip((model, lstms), expected):
        assert emit_module(graph, analysis=graph.analysis()).source == source


def test_a_merge_of_1024_inputs_loads_analyses_and_runs():
    project = loads_project(json.dumps(merge_document(1024)))
    model = project.model
    total = model.id_of("total")
    assert [e.dst_port for e in model.inputs(total)] == [str(i) for i in range(1024)]
    analysis = model.analysis()
    assert analysis.ok, analysis.errors[:3]
    assert analysis.meta(total).per_sample == (4,)
    cls, result = compile_model(model)
    lines = result.source.split("        x = (\n", 1)[1].split("\n        )\n", 1)[0].split("\n")
    operands = [line.strip().removeprefix("+ ") for line in lines]
    assert operands == ["x", "relu", "tanh", "sigmoid"] * 256  # one per line, in slot order
    torch.manual_seed(0)
    x = torch.randn(3, 4)
    with torch.no_grad():
        out = cls().eval()(x)
    expected = 256 * (x + torch.relu(x) + torch.tanh(x) + torch.sigmoid(x))
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-4)
    again = loads_project(dumps_project(Project(model, project.training))).model
    assert again.edges() == model.edges()


def test_removing_a_merge_and_undoing_it_keeps_its_inputs_in_order():
    model = loads_project(json.dumps(merge_document(300))).model
    total = model.id_of("total")
    before = model.edges()
    inputs = model.inputs(total)
    record = model.remove_node(total)
    assert len(model.edges()) == 3
    model.restore_node(record)
    assert model.inputs(total) == inputs and sorted(model.edges()) == sorted(before)
    first = inputs[0]
    model.disconnect(first)
    assert [e.dst_port for e in model.inputs(total)] == [str(i) for i in range(299)]
    assert [e.src for e in model.inputs(total)] == [e.src for e in inputs[1:]]
    model.connect(first.src, total, first.src_port, "0")
    assert model.inputs(total) == inputs


# ----- the canvas -----------------------------------------------------------------------
@pytest.fixture
def canvas(qapp, monkeypatch):
    """(counts, show): show(model) draws it in a GraphScene; counts: ports made, edges routed."""
    from torchcanvas.app.ui.canvas import edge_item, node_item
    from torchcanvas.app.ui.canvas.scene import GraphScene

    counts = {"ports": 0, "routes": 0}
    for owner, name, key in (
        (node_item.PortItem, "__init__", "ports"),
        (edge_item.EdgeItem, "route", "routes"),
    ):
        original = getattr(owner, name)

        def counted(self, *args, original=original, key=key):
            counts[key] += 1
            return original(self, *args)

        monkeypatch.setattr(owner, name, counted)
    scenes = []

    def show(model):
        scenes.append(GraphScene(model))
        return scenes[-1]

    yield counts, show
    for scene in scenes:
        scene.detach()


def _reset(counts: dict) -> dict:
    before = dict(counts)
    counts.update(ports=0, routes=0)
    return before


def test_the_canvas_makes_each_port_and_routes_each_edge_once(canvas):
    counts, show = canvas

    def draw(fan_in: int) -> int:
        show(loads_project(json.dumps(merge_document(fan_in))).model)
        return sum(_reset(counts).values())

    linear(draw)
    scene = show(wide_dag(300))
    assert counts["routes"] == len(scene.edges)


def test_closing_the_gap_in_a_merge_updates_its_card_once(canvas):
    counts, show = canvas

    def disconnect_first(fan_in: int) -> int:
        model = loads_project(json.dumps(merge_document(fan_in))).model
        scene = show(model)
        total = model.id_of("total")
        _reset(counts)
        model.disconnect(model.inputs(total)[0])
        assert list(scene.nodes[total].in_ports) == [str(i) for i in range(fan_in)]
        return sum(_reset(counts).values())

    linear(disconnect_first)
