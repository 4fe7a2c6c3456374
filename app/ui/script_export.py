"""File ▸ Export Training Script…: the design, its data and its settings as a train.py that
runs under `python` and `torchrun` (see app/export_script.py)."""

from __future__ import annotations

from pathlib import Path

from torchcanvas.app.export_script import ScriptError, training_script
from torchcanvas.app.ui.onnx_export import file_stem
from torchcanvas.graph.fileio import atomic_write
from torchcanvas.graph.project import Project

SCRIPT_FILTER = "Python script (*.py)"


def export_script(window) -> Path | None:
    """Ask where, write the script, and say how to run it (or why it cannot be written)."""
    document = window.document
    analysis = document.model.analysis()
    if not analysis.ok:
        listed = "\n".join(str(p) for p in analysis.errors)
        window.dialogs.error("Cannot export yet", f"Fix these problems first:\n{listed}")
        return None
    out = window.dialogs.save_path(
        "Export Training Script", f"train_{file_stem(document)}.py", SCRIPT_FILTER
    )
    if not out:
        return None
    # the data file as the Training panel finds it (relative to the project or the examples)
    project = Project(document.model, window.training.data_settings())
    try:
        source = training_script(project, Path(out))
        atomic_write(Path(out), source.encode("utf-8"))
    except ScriptError as error:
        window.dialogs.error("Cannot write a training script", str(error))
        return None
    except OSError as error:
        window.dialogs.error("Cannot write a training script", f"{out}: {error.strerror}")
        return None
    name = Path(out).name
    window.statusBar().showMessage(
        f"Wrote {name}: run python {name} --epochs N, or torchrun --nproc_per_node=N {name}",
        12000,
    )
    return Path(out)
