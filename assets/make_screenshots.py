"""Regenerate the README screenshots: `python assets/make_screenshots.py` (renders offscreen)."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TORCHCANVAS_HOME", tempfile.mkdtemp())


def main() -> None:
    """Write screenshot_designer.png, screenshot_blocks.png and screenshot_training.png
    next to this script."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from torchcanvas.app.ui.main_window import MainWindow

    window = MainWindow(remember_layout=False)
    window.resize(1600, 1000)
    window.show()
    window.document.open_example("digits_cnn")
    _settle(app, 0.5)
    window.view.show_top()
    window.grab().save(str(HERE / "screenshot_designer.png"))
    _blocks(app, window)
    window.document.open_example("digits_cnn")
    _settle(app, 0.3)
    window.document.set_training("epochs", 400)
    window.document.set_training("device", "cpu")
    window.training.refresh_settings()
    conv2 = window.document.model.id_of("conv2")
    window.scene.select_nodes([conv2])
    window.training.start()
    deadline = time.monotonic() + 60
    while window.curves.point_count() < 400 and time.monotonic() < deadline:
        _settle(app, 0.1)
    _settle(app, 0.8)
    window.view.show_top()
    window.view.centerOn(window.scene.nodes[conv2])
    _settle(app, 0.2)
    window.grab().save(str(HERE / "screenshot_training.png"))
    window.training.kill()
    window.document.undo.setClean()
    window.document._settings_dirty = False
    window.close()
    print("wrote screenshot_designer.png, screenshot_blocks.png and screenshot_training.png")


def _blocks(app, window) -> None:
    """ResNet-18 opened at layer2 ▸ BasicBlock, conv1 selected, the stage beside it expanded."""
    document = window.document
    document.open_example("resnet18")
    _settle(app, 0.3)
    navigator = document.navigator
    navigator.enter(document.model.id_of("layer2"))
    navigator.enter(document.graph.id_of("block0"))
    _settle(app, 0.3)
    window.scene.select_nodes([document.graph.id_of("conv1")])
    window.view.show_top()
    _settle(app, 0.3)
    window.grab().save(str(HERE / "screenshot_blocks.png"))
    navigator.go_to(0)
    _settle(app, 0.2)


def _settle(app, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


if __name__ == "__main__":
    main()
    import gc

    gc.collect()
