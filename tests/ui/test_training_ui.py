"""Training from the window: live curves and activations, controls, weights, faults."""

from __future__ import annotations

import pytest
import torch

from tests.ui.conftest import close_window, make_window
from tests.ui.helpers import broken_mnist, click_node, double_click_node, node

LONG = 30_000  # ms; the first run spawns a process that imports torch


def open_digits(window, **settings) -> None:
    window.document.open_example("digits_cnn")
    for key, value in {"device": "cpu", **settings}.items():
        assert window.document.set_training(key, value) is None
    window.training.refresh_settings()


@pytest.mark.slow
def test_train_watch_pause_resume_stop_save_and_reload(window, qtbot, tmp_path):
    open_digits(window, epochs=200)
    controller, panel = window.training, window.training_panel
    assert panel.train_button.isEnabled()
    window.view.fit()
    click_node(window, "conv1")
    relu1 = node(window, "relu1")
    panel.train_button.click()
    assert controller.running and not panel.train_button.isEnabled()
    qtbot.waitUntil(lambda: window.curves.point_count() > 20, timeout=LONG)
    qtbot.waitUntil(lambda: window.activations.shown_kind() == "maps", timeout=LONG)
    assert window.activations.latest["conv1"]["map"].shape == (16, 8, 8)  # by module path
    assert "conv1" in window.activations.title.text()
    viewport = window.activations.parentWidget()  # the dock's scroll area's viewport
    assert window.activations.height() <= viewport.height()  # the maps are not scrolled away
    qtbot.waitUntil(lambda: window.scene.nodes[relu1].activity is not None, timeout=LONG)

    panel.pause_button.click()
    qtbot.waitUntil(lambda: panel.resume_button.isEnabled(), timeout=LONG)
    assert panel.status.text() == "Paused."
    paused_at = window.curves.point_count()
    qtbot.wait(300)
    window.training.poll()
    assert window.curves.point_count() == paused_at  # nothing trains while paused
    panel.resume_button.click()
    qtbot.waitUntil(lambda: window.curves.point_count() > paused_at, timeout=LONG)
    panel.stop_button.click()
    qtbot.waitUntil(lambda: not controller.running, timeout=LONG)
    final = controller.session.final
    assert final["type"] == "finished" and final["reason"] == "stopped"
    assert panel.train_button.isEnabled() and "Stopped after" in panel.status.text()
    assert window.scene.nodes[relu1].activity is None  # indicators off after the run
    assert len(window.results.labels) == 16  # probe grid with true -> predicted labels

    window.dialogs.save_paths = [str(tmp_path / "digits.pt")]
    assert controller.save_weights()
    batch = torch.randn(8, 1, 8, 8)
    expected = controller.predict(batch)
    fresh = make_window(qtbot)
    try:
        fresh.document.open_example("digits_cnn")
        fresh.dialogs.weights_answers = ["strict"]
        assert fresh.training.load_weights(str(tmp_path / "digits.pt"))
        assert fresh.dialogs.weights_reports[0].complete
        assert torch.equal(fresh.training.predict(batch), expected)
    finally:
        close_window(fresh)


def test_a_mismatched_state_dict_shows_the_report_and_changes_nothing(window, tmp_path):
    open_digits(window)
    good = {k: v for k, v in _digits_state().items()}
    torch.save(good, tmp_path / "good.pt")
    window.dialogs.weights_answers = ["strict"]
    assert window.training.load_weights(str(tmp_path / "good.pt"))
    before = window.training.weights_path
    batch = torch.randn(4, 1, 8, 8)
    expected = window.training.predict(batch)

    bad = dict(good)
    bad["fc1.weight"] = torch.zeros(64, 100)
    bad["extra.weight"] = torch.zeros(2)
    torch.save(bad, tmp_path / "bad.pt")
    window.dialogs.weights_answers = [None]  # the user reads the report and cancels
    assert not window.training.load_weights(str(tmp_path / "bad.pt"))
    report = window.dialogs.weights_reports[-1]
    assert "fc1.weight" in report.mismatched and report.unexpected == ["extra.weight"]
    assert window.training.weights_path == before
    assert torch.equal(window.training.predict(batch), expected)

    window.dialogs.weights_answers = ["strict"]  # strict is refused: the file does not fit
    assert not window.training.load_weights(str(tmp_path / "bad.pt"))
    assert "does not fit exactly" in window.dialogs.errors[-1][1]
    assert window.training.weights_path == before


def _digits_state() -> dict:
    from tests.conftest import EXAMPLES
    from torchcanvas.codegen.build import build_model
    from torchcanvas.graph.project import load_project

    return build_model(load_project(EXAMPLES / "digits_cnn.json").model, seed=7).state_dict()


@pytest.mark.smoke
def test_train_is_disabled_with_the_reason(window):
    open_digits(window)
    panel = window.training_panel
    window.document.set_training("data", "mnist")
    window.training.update_train_state()
    assert not panel.train_button.isEnabled()
    assert "samples are 1x28x28 but the Input expects 1x8x8" in panel.status.text()
    window.document.set_training("data", "digits")
    fc2 = node(window, "fc2")
    window.document.set_param(fc2, "out_features", 7)
    window.scene.refresh_analysis()
    assert not panel.train_button.isEnabled()
    assert "outputs 7 values per sample but digits" in panel.status.text()
    window.document.set_param(fc2, "in_features", 3)
    window.scene.refresh_analysis()
    assert "Fix the graph first: fc2: expects 3 input features" in panel.status.text()
    window.document.set_param(fc2, "in_features", None)
    window.document.set_param(fc2, "out_features", 10)
    window.scene.refresh_analysis()
    assert panel.train_button.isEnabled() and panel.status.text() == "Ready to train."


def test_a_model_with_two_inputs_trains_from_an_npz_source_only(window, tmp_path):
    window.open_example("two_inputs")
    window.training.update_train_state()
    panel = window.training_panel
    assert not panel.train_button.isEnabled()  # digits give one 8x8 image per sample
    assert "samples are 1x8x8 but the Input expects 1x28x28" in panel.status.text()
    import numpy as np

    from tests.test_multi_input import two_arrays

    np.savez(tmp_path / "d.npz", **two_arrays(samples=40))  # arrays named for the Inputs
    window.document.set_training("data", "npz")
    window.document.set_training("data_path", str(tmp_path / "d.npz"))
    window.training.update_train_state()
    assert panel.train_button.isEnabled(), panel.status.text()


def test_a_failing_run_reports_in_the_panel_and_keeps_the_project(window, qtbot, tmp_path):
    window.document.open_example("small_cnn")
    window.document.set_training("data", "mnist")
    window.document.set_training("data_root", str(broken_mnist(tmp_path / "nothing")))
    window.document.set_training("device", "cpu")
    window.training.update_train_state()
    nodes = window.document.model.nodes()
    assert window.training.start()
    qtbot.waitUntil(lambda: not window.training.running, timeout=LONG)
    status = window.training_panel.status.text()
    assert status.startswith("Training failed: the MNIST files in") and "cannot be read" in status
    assert window.document.model.nodes() == nodes
    assert window.training_panel.train_button.isEnabled()


def test_curves_clear_and_overlay(window):
    curves = window.curves
    curves.add_steps({"steps": [1, 2, 3], "losses": [2.0, 1.5, 1.0], "lr": 0.1})
    curves.add_epoch(
        {"epoch": 1, "train_loss": 1.5, "train_acc": 0.5, "val_loss": 1.2, "val_acc": 0.6}
    )
    curves.tick()
    curves.keep_as_overlay()
    assert len(curves.overlays) == 1 and curves.point_count() == 0
    curves.clear()
    assert curves.overlays == [] and curves.point_count() == 0


def test_training_settings_are_saved_in_the_project(window, tmp_path):
    open_digits(window)
    panel = window.training_panel
    panel.fields["epochs"].setValue(7)
    panel.fields["optimizer"].setCurrentIndex(panel.fields["optimizer"].findData("SGD"))
    assert window.document.project.training["epochs"] == 7
    assert window.document.project.training["optimizer"] == "SGD"
    assert window.isWindowModified()
    window.dialogs.save_paths = [str(tmp_path / "p.json")]
    assert window.save_project()
    window.document.new()
    window.open_project(str(tmp_path / "p.json"))
    assert panel.fields["epochs"].value() == 7


def test_export_writes_the_weights_beside_the_code(window, tmp_path):
    open_digits(window)
    torch.save(_digits_state(), tmp_path / "w.pt")
    window.dialogs.weights_answers = ["strict"]
    assert window.training.load_weights(str(tmp_path / "w.pt"))
    window.dialogs.save_paths = [str(tmp_path / "digits.py")]
    window.dialogs.ask_answers = [True]
    assert window.export_python()
    namespace: dict = {}
    exec((tmp_path / "digits.py").read_text(), namespace)
    model = namespace["DigitsCNN"]()
    model.load_state_dict(torch.load(tmp_path / "digits.pt", weights_only=True))
    batch = torch.randn(3, 1, 8, 8)
    with torch.no_grad():
        assert torch.equal(model.eval()(batch), window.training.predict(batch))


@pytest.mark.slow
def test_a_layer_inside_a_block_is_captured_by_its_module_path(window, qtbot):
    open_digits(window, epochs=200)
    model = window.document.model
    nodes = [model.id_of(n) for n in ("conv1", "bn1", "relu1")]
    assert window.document.blocks.make_block(nodes, "Stem", []) is None
    window.view.fit()
    double_click_node(window, "stem1")
    qtbot.waitUntil(lambda: window.blocks.breadcrumb.text() == "Model ▸ Stem")
    click_node(window, "conv1")
    window.training_panel.train_button.click()
    try:
        qtbot.waitUntil(lambda: "stem1.conv1" in window.activations.latest, timeout=LONG)
        qtbot.waitUntil(lambda: "map" in window.activations.latest["stem1.conv1"], timeout=LONG)
        assert window.activations.latest["stem1.conv1"]["map"].shape == (16, 8, 8)
        assert "stem1.conv1" in window.activations.title.text()
        relu = window.scene.nodes[node(window, "relu1")]
        qtbot.waitUntil(lambda: relu.activity is not None, timeout=LONG)
    finally:
        window.training_panel.stop_button.click()
        qtbot.waitUntil(lambda: not window.training.running, timeout=LONG)
