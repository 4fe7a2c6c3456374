"""File ▸ Import Model…: open the dialog, then adopt the imported project and its weights."""

from __future__ import annotations

import time

from torchcanvas.app.ui.import_dialog import ImportDialog


def import_model(window) -> None:
    """Ask what to import (unsaved changes first)."""
    if not window.maybe_save():
        return
    dialog = ImportDialog(window)
    dialog.imported.connect(lambda result: adopt(window, result))
    window.import_dialog = dialog
    dialog.open()


def adopt(window, result) -> None:
    """Show the imported project; its weights become the current ones."""
    from torchcanvas.app.train.weights import save_state_dict

    project = result.project
    name = project.model.name
    window.document.adopt(project, f"{name} (imported)")
    path = window.home / "imports" / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.pt"
    path.parent.mkdir(parents=True, exist_ok=True)
    save_state_dict(result.state_dict, path)
    window.training.use_weights(path)
    report = result.report
    window.statusBar().showMessage(
        f"Imported {name}: {report.layers} layers, {report.blocks} blocks; its weights are "
        f"the current ones (File ▸ Save Weights… keeps them).",
        10000,
    )
