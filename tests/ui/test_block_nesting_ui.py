"""The window refuses a project whose blocks use each other, saying so, and keeps its own."""

from __future__ import annotations

import json

from tests.test_block_nesting import REFUSED


def test_opening_blocks_that_use_each_other_says_so_and_keeps_the_project(window, tmp_path):
    window.document.open_example("small_cnn")
    nodes, title = window.document.model.nodes(), window.windowTitle()
    document, message = REFUSED["cycle"]
    path = tmp_path / "cycle.json"
    path.write_text(json.dumps(document))
    assert not window.open_project(str(path))
    assert window.dialogs.errors == [("Cannot open project", f"cycle.json: {message}")]
    assert window.document.model.nodes() == nodes and window.windowTitle() == title
    assert str(path) not in window.recent_files()
