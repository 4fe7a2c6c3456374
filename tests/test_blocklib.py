"""The user's block library: blocks saved from one project and used in another."""

from __future__ import annotations

import json

import pytest

from tests.conftest import EXAMPLES
from torchcanvas.app.blocklib import (
    BlockFileError,
    adopt,
    read_block_file,
    save_block,
    user_blocks,
)
from torchcanvas.graph.library import Library
from torchcanvas.graph.model import ModelGraph
from torchcanvas.graph.project import load_project


def test_a_saved_block_carries_the_blocks_it_uses_and_works_in_another_project(tmp_path):
    library = load_project(EXAMPLES / "densenet121.json").model.library
    path = save_block(library, "DenseBlock6", tmp_path)
    blocks = read_block_file(path)
    assert [b.name for b in blocks] == ["DenseLayer", "DenseBlock6"]
    other = Library()
    for block in adopt(blocks, other):
        other.add(block)
    model = ModelGraph("Net", other)
    source = model.add_node("Input", None, {"shape": [64, 8, 8]})
    dense = model.add_node("DenseBlock6")
    model.connect(source, dense)
    model.connect(dense, model.add_node("Output"))
    analysis = model.analysis()
    assert analysis.ok, [str(p) for p in analysis.problems]
    assert analysis.meta(dense).per_sample == (64 + 6 * 32, 8, 8)


def test_broken_block_files_are_listed_with_the_reason_and_skipped(tmp_path):
    library = load_project(EXAMPLES / "resnet18.json").model.library
    save_block(library, "BasicBlock", tmp_path)
    (tmp_path / "junk.json").write_text("{not json")
    (tmp_path / "project.json").write_text(json.dumps({"format": "torchcanvas"}))
    found, problems = user_blocks(tmp_path)
    assert list(found) == ["BasicBlock"]
    assert any("junk.json: cannot be read" in p for p in problems)
    assert any("project.json: not a TorchCanvas block file" in p for p in problems)
    with pytest.raises(BlockFileError, match="junk.json"):
        read_block_file(tmp_path / "junk.json")


def test_a_block_the_project_already_has_is_not_adopted_twice(tmp_path):
    library = load_project(EXAMPLES / "densenet121.json").model.library
    blocks = read_block_file(save_block(library, "DenseBlock6", tmp_path))
    assert [b.name for b in adopt(blocks, library)] == []
