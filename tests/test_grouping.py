"""Make Block, Ungroup and Repeat on the model (the editor's commands call these)."""

from __future__ import annotations

import torch

from tests.builders import linear_graph
from torchcanvas.codegen.build import build_model
from torchcanvas.codegen.emit import emit_module
from torchcanvas.graph.grouping import candidates, make_block, repeat, undo_block, ungroup
from torchcanvas.graph.library import Library


def conv_net():
    model = linear_graph(
        ("Conv2d", {"out_channels": 8, "kernel_size": 3, "padding": 1}),
        ("BatchNorm2d", {}),
        ("ReLU", {}),
        ("MaxPool2d", {}),
        ("Flatten", {}),
        ("Linear", {"out_features": 4}),
        shape=(3, 8, 8),
    )
    model.library = Library()
    return model


def group_first_three(model):
    nodes = [model.id_of(n) for n in ("conv1", "bn1", "relu1")]
    exposed = [e for e in candidates(model, nodes) if e.param == "out_channels"]
    return make_block(model, nodes, "ConvBlock", exposed)


def test_make_block_writes_a_class_with_the_exposed_parameter_and_keeps_the_network():
    model = conv_net()
    before = build_model(model, seed=0).eval()
    grouping = group_first_three(model)
    assert model.analysis().ok, [str(p) for p in model.analysis().problems]
    assert [p.name for p in grouping.block.params] == ["in_channels", "out_channels"]
    source = emit_module(model).source
    assert "    def __init__(self, in_channels, out_channels=8):" in source
    assert "        self.bn1 = nn.BatchNorm2d(out_channels)" in source
    assert "        self.conv_block1 = ConvBlock(3, 8)" in source
    after = build_model(model).eval()
    renamed = {
        (f"conv_block1.{k}" if k.split(".")[0] in ("conv1", "bn1") else k): v
        for k, v in before.state_dict().items()
    }
    after.load_state_dict(renamed, strict=True)
    sample = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        assert torch.equal(after(sample), before(sample))


def test_undo_of_make_block_restores_the_graph_exactly():
    model = conv_net()
    nodes, edges = model.nodes(), model.edges()
    params = {n: model.params(n) for n in nodes}
    undo_block(model, group_first_three(model))
    assert sorted(model.nodes()) == sorted(nodes) and sorted(model.edges()) == sorted(edges)
    assert {n: model.params(n) for n in nodes} == params and len(model.library) == 0


def test_an_edit_in_the_definition_changes_every_instance():
    model = conv_net()
    grouping = group_first_three(model)
    pool = model.id_of("pool1")
    second = model.add_node("ConvBlock", None, {"out_channels": 8})
    edge = model.outputs(pool)[0]
    model.disconnect(edge)
    model.connect(pool, second)
    model.connect(second, edge.dst, None, edge.dst_port)
    inner = grouping.block.graph
    inner.set_param(inner.id_of("conv1"), "kernel_size", 1)
    inner.set_param(inner.id_of("conv1"), "padding", 0)
    source = emit_module(model).source
    assert source.count("class ConvBlock(nn.Module):") == 1
    assert "kernel_size=1" in source and "kernel_size=3" not in source
    assert model.analysis().ok


def test_ungroup_writes_the_instance_values_in():
    model = conv_net()
    before = emit_module(model).source
    grouping = group_first_three(model)
    model.set_param(grouping.instance, "out_channels", 8)
    ungroup(model, grouping.instance)
    assert model.analysis().ok
    assert emit_module(model).source == before


def test_a_repeat_of_three_exports_as_a_sequential_of_three():
    model = conv_net()
    grouping = group_first_three(model)
    _, container = repeat(model, grouping.instance, 3)
    assert model.analysis().ok, [str(p) for p in model.analysis().problems]
    source = emit_module(model).source
    assert (
        "        self.conv_block1 = nn.Sequential(\n"
        "            ConvBlock(3, 8), ConvBlock(8, 8), ConvBlock(8, 8)\n"
        "        )"
    ) in source
    keys = build_model(model).state_dict()
    assert "conv_block1.2.bn1.running_mean" in keys
    assert model.node_type(container) == "Sequential"
