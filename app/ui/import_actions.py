"""File ▸ Import Model…: open the dialog, then adopt the imported project and its weights."""

from __future__ import annotations

from torchcanvas.app.ui.import_dialog import ImportDialog


def import_model(window) -> None:
    """Ask what to import (unsaved changes first)."""
    if not window.maybe_save():
        return
    dialog = ImportDialog(window, weights_folder=window.home / "imports")
    dialog.imported.connect(lambda result: adopt(window, result))
    window.import_dialog = dialog
    dialog.open()


def adopt(window, outcome) -> None:
    """Show the imported project; its weights become the current ones."""
    name = outcome.project.model.name
    window.document.adopt(outcome.project, f"{name} (imported)")
    window.training.use_weights(outcome.weights_path)
    window.statusBar().showMessage(
        f"Imported {name}: {outcome.layers} layers, {outcome.blocks} blocks; its weights are "
        f"the current ones (File ▸ Save Weights… keeps them).",
        10000,
    )
