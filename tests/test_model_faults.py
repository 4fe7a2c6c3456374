"""Graphs that check but could not run: names nn.Module itself uses."""

from __future__ import annotations

import json

import pytest
from torch import nn

from tests.conftest import EXAMPLES
from torchcanvas.graph.graphbase import GraphError
from torchcanvas.graph.naming import MODULE_ATTRIBUTES
from torchcanvas.graph.project import ProjectError, loads_project

MODULE_NAMES = sorted(
    name for name in set(dir(nn.Module())) | set(vars(nn.Module())) if not name.startswith("__")
)


def test_every_attribute_nn_module_uses_is_reserved():
    assert set(MODULE_NAMES) <= MODULE_ATTRIBUTES


@pytest.mark.parametrize("name", [n for n in MODULE_NAMES if n.startswith("_")])
def test_a_node_cannot_be_named_after_a_private_module_attribute(name):
    project = loads_project((EXAMPLES / "mlp.json").read_text())
    model = project.model
    node = next(iter(model.nodes_of_type("Linear")))
    with pytest.raises(GraphError, match="already used by nn.Module"):
        model.rename(node, name)
    document = json.loads((EXAMPLES / "mlp.json").read_text())
    document["nodes"][1]["name"] = name
    with pytest.raises(ProjectError, match="already used by nn.Module"):
        loads_project(json.dumps(document))
