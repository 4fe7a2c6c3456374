"""The navigator: which graph the canvas shows, and the shapes it shows there."""

from __future__ import annotations

from tests.conftest import EXAMPLES
from torchcanvas.app.navigation import Navigator
from torchcanvas.graph.ports import format_meta
from torchcanvas.graph.project import load_project


def resnet():
    return load_project(EXAMPLES / "resnet18.json").model


def test_entering_a_stage_then_a_block_shows_that_instances_shapes():
    model = resnet()
    navigator = Navigator(model)
    assert navigator.enter(model.id_of("layer3"))
    body = navigator.graph
    assert navigator.labels() == ["Model", "layer3"] and navigator.path() == "layer3"
    assert navigator.enter(body.id_of("block1"))
    block = model.library.get("BasicBlock")
    assert navigator.graph is block.graph and navigator.block() == "BasicBlock"
    assert navigator.labels() == ["Model", "layer3", "BasicBlock"]
    analysis = navigator.analysis()
    assert analysis.context.path == "layer3.1"
    assert format_meta(analysis.meta(block.graph.id_of("conv1"))) == "256x14x14"
    assert analysis.facts[block.graph.id_of("conv1")].path == "layer3.1.conv1"


def test_a_definition_opened_on_its_own_is_analysed_with_its_example_inputs():
    model = resnet()
    navigator = Navigator(model)
    assert navigator.open_definition("BasicBlock")
    assert navigator.labels() == ["Model", "BasicBlock"]
    analysis = navigator.analysis()
    assert analysis.ok and analysis.context.path == ""


def test_only_blocks_and_containers_open_and_up_goes_back():
    model = resnet()
    navigator = Navigator(model)
    assert not navigator.enter(model.id_of("conv1"))
    assert not navigator.up()
    navigator.enter(model.id_of("layer1"))
    assert navigator.up() and navigator.graph is model


def test_frames_whose_graph_went_away_are_dropped():
    model = resnet()
    navigator = Navigator(model)
    layer4 = model.id_of("layer4")
    navigator.enter(layer4)
    navigator.enter(navigator.graph.id_of("block0"))
    record = model.remove_node(layer4)
    assert navigator.prune() and navigator.graph is model
    model.restore_node(record)
    assert not navigator.prune()


def test_the_analysis_follows_edits_inside_the_definition():
    model = resnet()
    navigator = Navigator(model)
    navigator.enter(model.id_of("layer1"))
    navigator.enter(navigator.graph.id_of("block0"))
    graph = navigator.graph
    conv2 = graph.id_of("conv2")
    graph.set_param(conv2, "kernel_size", 4)
    analysis = navigator.analysis()
    assert format_meta(analysis.meta(conv2)) == "64x55x55"
    problems = [str(p) for p in model.analysis().problems]
    assert problems[0].startswith("layer1.0.add: cannot add 64x55x55 and 64x56x56")
