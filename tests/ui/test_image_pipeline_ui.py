"""The Training panel's image settings: augment ops (image folders only) and where
normalize's statistics come from (projects with pretrained preprocessing only)."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt

from tests.conftest import EXAMPLES
from tests.datafiles import write_image_folder
from tests.test_image_pipeline import PIPELINE


def test_the_image_settings_show_where_they_apply_and_edit_the_project(window, qtbot, tmp_path):
    data = json.loads((EXAMPLES / "small_cnn.json").read_text())
    data["training"]["data_root"] = str(write_image_folder(tmp_path / "pets", per_class=2))
    (tmp_path / "plain.json").write_text(json.dumps(data))
    (tmp_path / "tuned.json").write_text(json.dumps({**data, "preprocess": PIPELINE}))
    assert window.open_project(str(tmp_path / "plain.json"))
    panel = window.training_panel
    assert not panel.form.isRowVisible(panel.ops_row)  # digits: crop + flip only
    assert not panel.form.isRowVisible(panel.fields["normalize_from"])  # no weights' stats
    sources = panel.fields["data"]
    sources.setFocus()
    while sources.currentData() != "image_folder":
        qtbot.keyClick(sources, Qt.Key_Down)
    assert panel.form.isRowVisible(panel.ops_row)
    for name in ("color_jitter", "random_resized_crop"):
        panel.op_boxes[name].setFocus()
        qtbot.keyClick(panel.op_boxes[name], Qt.Key_Space)
    training = window.document.project.training
    assert training["augment_ops"] == ("random_resized_crop", "color_jitter")  # settings' order
    assert window.isWindowModified()
    window.dialogs.save_answers = ["discard"]  # the edits above are not kept
    assert window.open_project(str(tmp_path / "tuned.json"))
    assert window.document.project.preprocess == PIPELINE
    assert panel.form.isRowVisible(panel.fields["normalize_from"])
    assert not any(box.isChecked() for box in panel.op_boxes.values())
    stats = panel.fields["normalize_from"]
    stats.setFocus()
    qtbot.keyClick(stats, Qt.Key_Down)
    assert window.document.project.training["normalize_from"] == "weights"
    assert stats.currentText() == "the pretrained weights"
