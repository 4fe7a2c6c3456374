"""File ▸ Import Model…: open the dialog, then adopt the imported project and its weights."""

from __future__ import annotations

from torchcanvas.app.ui.import_dialog import ImportDialog


def import_model(window) -> None:
    """Ask what to import (unsaved changes first)."""
    if not window.maybe_save():
        return
    dialog = ImportDialog(window, weights_folder=window.home / "imports")
    recall(dialog, window.settings)
    dialog.buttons.accepted.connect(lambda: remember(dialog, window.settings))
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


# What the dialog asked last time, so that importing again (a fixed file) is one click.
_FIELDS = ("path", "arguments", "shapes", "dtypes")


def remember(dialog, settings) -> None:
    """Keep the dialog's answers (the import being started) in the window's settings."""
    answers = {name: getattr(dialog, name).text() for name in _FIELDS}
    answers["class"] = dialog.class_name.currentText()
    answers["torchvision"] = dialog.torchvision.currentText()
    answers["kind"] = "torchvision" if dialog.from_torchvision.isChecked() else "file"
    for key, value in answers.items():
        settings.setValue(f"import/{key}", value)


def recall(dialog, settings) -> None:
    """Fill the dialog with the answers of the last import, if any."""
    if settings.value("import/kind") is None:
        return
    text = lambda key: str(settings.value(f"import/{key}", "") or "")  # noqa: E731
    dialog.torchvision.setCurrentText(text("torchvision"))
    dialog.path.setText(text("path"))  # lists the file's classes
    dialog.class_name.setCurrentText(text("class"))
    for name in ("arguments", "shapes", "dtypes"):
        getattr(dialog, name).setText(text(name))
    chosen = dialog.from_torchvision if text("kind") == "torchvision" else dialog.from_file
    chosen.setChecked(True)
