"""A design that unfolds to millions of layers opens at once in the window and says why
it cannot be analysed (the window grew to 10 GB and aborted before)."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt

from tests.test_bounds import _chain, nested_project
from tests.ui.helpers import press

CTRL = Qt.KeyboardModifier.ControlModifier


def test_a_design_that_unfolds_to_millions_of_layers_opens_and_names_the_chain(window, tmp_path):
    path = tmp_path / "deep.json"
    path.write_text(json.dumps({**nested_project(8, 10), **_chain(["B1"])}))
    window.dialogs.open_paths = [str(path)]
    press(window, Qt.Key.Key_O, CTRL)
    assert window.dialogs.errors == []
    assert sorted(window.document.model.names().values()) == ["input", "n0", "output"]
    texts = [window.problems.item(i).text() for i in range(window.problems.count())]
    assert any(
        "expands to 32,222,222 layers" in text and "B7 ×10 → B8 ×10" in text for text in texts
    ), texts
