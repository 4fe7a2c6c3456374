"""Run folders saved before ruff laid out the generated code still resume and load, and a
design that really changed is still caught (fixtures: tests/fixtures/legacy_runs)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from tests.conftest import EXAMPLES
from torchcanvas.app.train.bundle import resolve_data_path
from torchcanvas.app.train.checkpoint import CheckpointError, read_checkpoint
from torchcanvas.app.train.job import job_from_project
from torchcanvas.app.train.loop import Trainer
from torchcanvas.app.train.weights import apply, graph_hash, read_state_dict
from torchcanvas.codegen.build import build_model
from torchcanvas.codegen.fingerprint import (
    canonical,
    design_changes,
    design_source,
    same_design,
    text_fingerprint,
)
from torchcanvas.graph.project import load_project

LEGACY = Path(__file__).parent / "fixtures" / "legacy_runs"
RUNS = ("wine", "dense")


def project(run: str):
    """The design the run folder was trained on, its data path made absolute."""
    if run == "dense":
        return load_project(LEGACY / "dense_long_names.json")
    loaded = load_project(EXAMPLES / "wine_mlp.json")
    loaded.training = resolve_data_path(loaded.training, EXAMPLES)
    return loaded


def before(run: str) -> str:
    return (LEGACY / run / "generated_before.py.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("run", RUNS)
def test_the_stored_hash_is_of_the_text_generated_before(run):
    stored = torch.load(LEGACY / run / "checkpoint.pt", weights_only=True)["graph_hash"]
    assert stored == text_fingerprint(before(run))
    now = design_source(project(run).model)
    assert canonical(now) == canonical(before(run))  # the same code, laid out anew
    assert (now == before(run)) == (run == "wine")  # the long names are laid out by ruff now


@pytest.mark.parametrize("run", RUNS)
def test_an_old_checkpoint_reads_and_its_weights_load_strictly(run):
    model = project(run).model
    source = design_source(model)
    checkpoint = read_checkpoint(LEGACY / run, graph_hash(source))  # no "different graph"
    network = build_model(model)
    network.load_state_dict(checkpoint["model"])  # strict
    report = apply(build_model(model), read_state_dict(LEGACY / run / "model.pt"))
    assert report.complete
    assert design_changes(before(run), source) == []  # the weights guard asks nothing


def test_an_old_wine_checkpoint_resumes_in_training(tmp_path):
    events: list[dict] = []
    resume = tmp_path / "old"
    shutil.copytree(LEGACY / "wine", resume)
    job = job_from_project(
        project("wine"), str(tmp_path / "run"), device="cpu", epochs=2, resume=str(resume)
    )
    final = Trainer(job, events.append).run()
    assert final["type"] == "finished", final
    assert [row["epoch"] for row in final["history"]] == [1, 2]
    logs = [event["message"] for event in events if event["type"] == "log"]
    assert "resumed after epoch 1" in logs


def test_a_changed_design_is_refused_by_an_old_checkpoint():
    model = project("wine").model
    model.set_param(model.id_of("fc1"), "out_features", 16)
    with pytest.raises(CheckpointError, match="different graph"):
        read_checkpoint(LEGACY / "wine", graph_hash(design_source(model)))
    model = project("wine").model  # the same tensors, another forward pass
    model.remove_node(model.id_of("relu1"))
    if not model.inputs(model.id_of("fc2")):
        model.connect(model.id_of("fc1"), model.id_of("fc2"))
    assert "relu1" not in design_source(model)
    with pytest.raises(CheckpointError, match="different graph"):
        read_checkpoint(LEGACY / "wine", graph_hash(design_source(model)))


def test_an_old_checkpoint_of_a_changed_long_named_design_does_not_resume(tmp_path):
    changed = project("dense")
    model = changed.model
    model.set_param(model.id_of("features_conv0"), "out_channels", 6)
    job = job_from_project(
        changed, str(tmp_path / "run"), device="cpu", epochs=2, resume=str(LEGACY / "dense")
    )
    final = Trainer(job, lambda event: None).run()
    assert final["type"] == "failed", final
    assert "does not fit the design" in final["reason"]


def test_new_hashes_compare_syntax_trees_not_layout():
    model = project("wine").model
    source = design_source(model)
    stored = graph_hash(source)
    relaid = source.replace("nn.Linear(13, 32)", "nn.Linear(\n    13, 32\n)")
    assert relaid != source and same_design(stored, graph_hash(relaid))
    other = source.replace("nn.ReLU()", "nn.GELU()")
    assert not same_design(stored, graph_hash(other))
    assert not same_design(None, stored) and not same_design(b"x", stored)


@pytest.mark.parametrize(
    ("stored", "current", "fits"),
    [
        ("a" * 16 + ":" + "b" * 16, "a" * 16 + ":" + "c" * 16, True),  # same tree, new layout
        ("d" * 16 + ":" + "b" * 16, "a" * 16 + ":" + "b" * 16, False),  # another tree
        ("b" * 16, "a" * 16 + ":" + "b" * 16, True),  # before: the same text
        ("e" * 16, "a" * 16 + ":" + "b" * 16, False),  # before: all on one line, other text
        ("e" * 16, "a" * 16 + ":" + "b" * 16 + ":split", True),  # before: maybe laid out apart
        ("e" * 16, "e" * 16, True),  # a bare hash passed in compares as it is
    ],
)
def test_which_stored_hashes_fit(stored, current, fits):
    assert same_design(stored, current) is fits
