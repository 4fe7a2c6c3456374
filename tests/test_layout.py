"""Auto-arrange top to bottom and left to right, and the direction saved in the project."""

from __future__ import annotations

import pytest

from tests.conftest import EXAMPLES
from torchcanvas.graph.layout import RIGHT, estimated_size, layered_positions
from torchcanvas.graph.project import ProjectError, dumps_project, load_project, loads_project


def test_left_to_right_is_the_top_down_layout_turned():
    model = load_project(EXAMPLES / "digits_cnn.json").model
    chain = [model.id_of(n) for n in ("input", "conv1", "bn1", "relu1", "pool", "fc2")]
    down = layered_positions(model)
    right = layered_positions(model, direction=RIGHT)
    assert [down[n][1] for n in chain] == sorted(down[n][1] for n in chain)
    assert [right[n][0] for n in chain] == sorted(right[n][0] for n in chain)
    middles = {right[n][1] + estimated_size(model, n)[1] / 2 for n in chain}
    assert len(middles) == 1  # a chain's cards are centred on one line across
    assert len(set(right.values())) == len(right)  # no two cards in one place


def test_branches_stack_in_a_column_left_to_right():
    model = load_project(EXAMPLES / "resnet18_expanded.json").model
    right = layered_positions(model, direction=RIGHT)
    conv, shortcut = model.id_of("layer2_0_conv1"), model.id_of("layer2_0_downsample_0")
    assert right[conv][0] == right[shortcut][0] and right[conv][1] != right[shortcut][1]


def test_the_direction_is_saved_only_when_it_is_not_the_default():
    project = load_project(EXAMPLES / "mlp.json")
    assert '"view"' not in dumps_project(project)
    project.direction = RIGHT
    text = dumps_project(project)
    assert text.rstrip().endswith('"view": {"direction": "right"}\n}')
    assert loads_project(text).direction == RIGHT
    with pytest.raises(ProjectError, match="view: direction must be 'down' or 'right'"):
        loads_project(text.replace('"right"', '"diagonal"'))
