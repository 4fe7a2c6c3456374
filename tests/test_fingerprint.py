"""The design a set of weights belongs to, and what changed since: checked on real edits."""

from __future__ import annotations

import pytest

from torchcanvas.app.editing.examples import EXAMPLES
from torchcanvas.codegen.build import build_model
from torchcanvas.codegen.fingerprint import design_changes, design_source, fingerprint
from torchcanvas.graph.project import load_project


def digits():
    return load_project(EXAMPLES / "digits_cnn.json").model


def test_moving_cards_keeps_the_design_and_editing_a_layer_changes_it():
    model = digits()
    source = design_source(model)
    conv = model.id_of("conv1")
    model.move(conv, (500.0, 500.0))
    assert fingerprint(design_source(model)) == fingerprint(source)
    model.set_param(conv, "out_channels", 8)
    changed = design_source(model)
    assert fingerprint(changed) != fingerprint(source)
    lines = design_changes(source, changed)
    assert lines[0].startswith("conv1: nn.Conv2d(1, 16,") and "is now nn.Conv2d(1, 8," in lines[0]
    # the lines name exactly the modules whose weights no longer fit
    old, new = build_model(digits()).state_dict(), build_model(model).state_dict()
    misfits = {k.split(".")[0] for k in old if old[k].shape != new[k].shape}
    assert {line.split(":")[0] for line in lines} == misfits == {"conv1", "bn1", "conv2"}
    with pytest.raises(RuntimeError):
        build_model(model).load_state_dict(old, strict=True)


def test_added_removed_and_rewired_layers_are_named():
    model = digits()
    source = design_source(model)
    model.remove_node(model.id_of("dropout"))
    relu3, fc2 = model.id_of("relu3"), model.id_of("fc2")
    model.connect(relu3, fc2)
    lines = design_changes(source, design_source(model))
    assert lines == ["dropout removed"]
    assert design_changes(source, source) == []
