"""Training flags through the editing core, without Qt: freeze, unfreeze, freeze everything
before a node, learning-rate factors; undo, redo, the lock, save and reopen."""

from __future__ import annotations

import json

import pytest

from torchcanvas.app.__main__ import main
from torchcanvas.app.editing import EXAMPLES, READ_ONLY, Document
from torchcanvas.codegen.build import build_model
from torchcanvas.codegen.emit import emit_module
from torchcanvas.graph.summary import flag_note, params_text, summarize, totals


@pytest.fixture
def doc(tmp_path):
    document = Document(home=tmp_path / "home")
    document.open(EXAMPLES / "digit_classifier.json")
    return document


def _frozen(doc) -> list[str]:
    graph = doc.graph
    return sorted(graph.node_name(n) for n in graph.nodes() if graph.flag(n, "frozen"))


def test_freeze_unfreeze_undo_redo_as_one_step_each(doc):
    graph, steps = doc.graph, doc.undo.count()
    conv1, conv2 = graph.find("conv1"), graph.find("conv2")
    assert doc.set_frozen([conv1, conv2], True) is None
    assert _frozen(doc) == ["conv1", "conv2"] and doc.undo.count() == steps + 1
    assert doc.undo.undo_text() == "Freeze 2 nodes" and doc.dirty
    assert doc.set_frozen([conv1], False) is None
    assert _frozen(doc) == ["conv2"] and graph.flags(conv1) == {}  # unfrozen: no key at the top
    assert doc.undo.undo_text() == "Unfreeze conv1"
    doc.undo.undo()
    assert _frozen(doc) == ["conv1", "conv2"]
    doc.undo.undo()
    assert _frozen(doc) == [] and not doc.dirty
    doc.undo.redo()
    assert _frozen(doc) == ["conv1", "conv2"]
    count = doc.undo.count()
    assert doc.set_frozen([conv1, conv2], True) is None  # nothing changes: no step
    assert doc.undo.count() == count


def test_freeze_everything_before_a_node_freezes_its_ancestors_but_not_inputs(doc):
    graph = doc.graph
    assert doc.freeze_before(graph.find("fc")) is None
    assert _frozen(doc) == ["conv1", "conv2", "flatten", "pool1", "pool2", "relu1", "relu2"]
    assert doc.undo.undo_text() == "Freeze Everything Before fc"
    doc.undo.undo()
    assert _frozen(doc) == []
    assert doc.freeze_before(graph.find("input")) == "nothing before input to freeze"


def test_learning_rate_factors_are_checked_set_and_cleared(doc):
    graph = doc.graph
    fc = graph.find("fc")
    assert doc.set_lr_scale(fc, "10") is None and graph.flag(fc, "lr_scale") == 10.0
    assert doc.undo.undo_text() == "Set lr ×10 on fc"
    assert doc.set_lr_scale(fc, 0) == (
        "lr_scale must be greater than 0 (to keep a layer as it is, freeze it)"
    )
    assert doc.set_lr_scale(fc, -2.0).startswith("lr_scale must be greater than 0")
    assert doc.set_lr_scale(fc, "fast") == "lr_scale must be a number"
    assert doc.set_lr_scale(fc, True) == "lr_scale must be a number"
    assert graph.flag(fc, "lr_scale") == 10.0
    assert doc.set_lr_scale(fc, "") is None and graph.flag(fc, "lr_scale") is None
    doc.undo.undo()
    assert graph.flag(fc, "lr_scale") == 10.0
    assert doc.set_lr_scale(fc, 1) is None and graph.flags(fc) == {}  # 1 is the run's rate


def test_flags_are_refused_while_a_run_trains(doc):
    graph = doc.graph
    conv1, steps = graph.find("conv1"), doc.undo.count()
    doc.run.begin("runs/one")
    refused = [
        doc.set_frozen([conv1], True),
        doc.set_lr_scale(conv1, 0.1),
        doc.freeze_before(graph.find("fc")),
    ]
    assert refused == [READ_ONLY] * 3 and graph.flags(conv1) == {}
    assert doc.undo.count() == steps
    doc.run.end()
    assert doc.set_frozen([conv1], True) is None


def test_saved_and_reopened_flags_stay(doc, tmp_path):
    graph = doc.graph
    doc.freeze_before(graph.find("fc"))
    doc.set_lr_scale(graph.find("fc"), 10)
    path = tmp_path / "frozen.json"
    doc.save(path)
    nodes = {node["name"]: node for node in json.loads(path.read_text())["nodes"]}
    assert nodes["conv1"]["frozen"] is True and nodes["fc"]["lr_scale"] == 10.0
    assert "frozen" not in nodes["fc"] and "lr_scale" not in nodes["conv1"]
    again = Document(home=tmp_path / "home")
    again.open(path)
    assert _frozen(again) == _frozen(doc)
    assert again.graph.flag(again.graph.find("fc"), "lr_scale") == 10.0


def test_the_summary_counts_trainable_and_frozen_parameters(tmp_path, capsys):
    document = Document(home=tmp_path / "home")
    document.open_example("digits_cnn")
    graph = document.graph
    document.freeze_before(graph.find("fc1"))
    document.set_lr_scale(graph.find("fc2"), 10)
    rows = summarize(graph)
    total, frozen = totals(rows)[0], sum(r.params for r in rows if r.name in _FEATURES)
    assert frozen == 160 + 32 + 4640 + 64
    assert (
        params_text(rows)
        == f"{total:,} parameters ({total - frozen:,} trainable, {frozen:,} frozen)"
    )
    assert [flag_note(r) for r in rows if r.name in ("conv1", "fc1", "fc2")] == [
        "frozen",
        "",
        "lr ×10",
    ]
    path = tmp_path / "frozen.json"
    document.save(path)
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"total: {total:,} parameters ({total - frozen:,} trainable, {frozen:,} frozen)" in out


_FEATURES = ("conv1", "bn1", "conv2", "bn2")


def test_a_copy_has_its_own_flags_and_pasted_layers_keep_theirs(doc):
    graph = doc.graph
    conv1 = graph.find("conv1")
    doc.set_frozen([conv1], True)
    doc.set_lr_scale(conv1, 0.1)
    twin = graph.copy()
    twin.set_flag(conv1, "frozen", None)
    assert graph.flag(conv1, "frozen") is True  # the copy's change stays in the copy
    (pasted,) = doc.paste(doc.copy_data([conv1]))
    assert graph.flags(pasted) == {"frozen": True, "lr_scale": 0.1}


def test_freeze_before_takes_both_branches_and_skips_inputs_and_expressions(tmp_path):
    document = Document(home=tmp_path / "home")
    document.open_example("two_inputs")
    assert document.freeze_before(document.graph.find("head")) is None
    assert _frozen(document) == [  # not the Inputs, nor the torch.cat that joins them
        "conv", "fc_features", "flatten", "pool", "relu", "relu_features",
    ]  # fmt: skip


def test_a_frozen_container_counts_its_whole_body_and_the_export_freezes_it(tmp_path):
    document = Document(home=tmp_path / "home")
    document.open_example("resnet18")
    graph = document.graph
    assert document.freeze_before(graph.find("fc")) is None
    assert graph.flag(graph.find("layer4"), "frozen") is True  # a container, as one layer
    rows = summarize(graph)
    assert params_text(rows) == "11,689,512 parameters (513,000 trainable, 11,176,512 frozen)"
    source = emit_module(graph).source
    assert "self.layer4.requires_grad_(False)" in source and "self.layer4.eval()" in source
    assert "self.fc.requires_grad_(False)" not in source
    document.undo.undo()
    assert "frozen" not in params_text(summarize(graph))


def test_flags_inside_containers_and_blocks_count_as_the_built_module_freezes(tmp_path):
    """The summary's frozen count is what requires_grad says on the module built from the
    export: a block inside a stage, and a block definition's own layer, count too."""
    document = Document(home=tmp_path / "home")
    document.open_example("resnet18")
    graph = document.graph
    stage = graph.body(graph.find("layer2"))
    stage.set_flag(stage.find("block1"), "frozen", True)  # one block inside a container
    definition = graph.library.get("BasicBlock").graph
    definition.set_flag(definition.find("conv1"), "frozen", True)  # every instance's conv1
    analysis = graph.analysis()
    module = build_model(graph)
    frozen = sum(p.numel() for p in module.parameters() if not p.requires_grad)
    text = params_text(summarize(graph, analysis), graph, analysis)
    assert frozen > 0 and f"{frozen:,} frozen" in text
