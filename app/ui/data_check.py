"""The Training panel's check of the user's data: the file preview, whether it blocks Train
(a file that cannot be read, a downloaded set whose files are missing), and the offer to give
the Input the shape the data has."""

from __future__ import annotations

from pathlib import Path

from torchcanvas.app.train.inputs import input_specs
from torchcanvas.app.train.preview import data_sample_shape, describe_source
from torchcanvas.app.train.sources import missing_files

PREVIEW_KEYS = ("task", "data", "data_path", "targets", "features", "val_split", "seed")


class DataCheck:
    """Kept current by the training controller; reads the file only when something changed."""

    def __init__(self, controller) -> None:
        self.controller = controller
        self.problem: str | None = None  # why the data file cannot be used, or None
        self.missing: str | None = None  # which files of a downloaded set are missing
        self._preview: tuple = (None, (True, ""))  # (key, describe_source's answer)
        self._shape: tuple = (None, None)  # (key, the data's sample shape)
        self._offered: tuple[str, tuple[int, ...]] | None = None  # (Input node, shape)

    def forget(self) -> None:
        """Read the file again next time (a data setting was edited: it may have changed)."""
        self._preview = (None, (True, ""))

    def refresh(self) -> None:
        """Show what the chosen CSV or NPZ file gives, or why it cannot be used."""
        settings = self.controller.data_settings()
        analysis = self.controller.document.model.analysis()
        self.problem = None
        self.missing = missing_files(settings)
        if settings.get("data") not in ("csv", "npz") or not analysis.ok:
            text = ""
        elif not settings.get("data_path"):
            text = self.problem = "Choose a data file."
        else:
            ok, text = self._described(settings, analysis)
            self.problem = None if ok else text
        self.controller.panel.preview.setText(text)

    def _described(self, settings: dict, analysis) -> tuple[bool, str]:
        """describe_source, read again only when the file, the data keys or the Inputs changed
        (graph edits call this too, and a large file takes a while to read)."""
        specs = input_specs(analysis)
        try:
            stamp = Path(settings["data_path"]).stat().st_mtime_ns
        except OSError:
            stamp = None
        key = (stamp, repr([settings.get(k) for k in PREVIEW_KEYS]), repr(specs))
        if self._preview[0] != key:
            shape = analysis.meta(analysis.inputs[0]).per_sample
            self._preview = (key, describe_source(settings, shape, inputs=specs))
        return self._preview[1]

    def offer_input_shape(self, problem: str | None) -> None:
        """When the data does not fit the only Input, offer the data's shape for it."""
        self._offered = None
        document = self.controller.document
        analysis = document.model.analysis()
        top = document.graph is document.model  # the Input is on the canvas
        if problem and top and len(analysis.inputs) == 1:
            spec = input_specs(analysis)[0]
            settings = self.controller.data_settings()
            key = (repr(settings), repr(spec), self._preview[0])
            if self._shape[0] != key:
                self._shape = (key, data_sample_shape(settings, spec))
            shape = self._shape[1]
            if shape and tuple(shape) != tuple(spec.shape):
                self._offered = (analysis.inputs[0], shape)
        self.controller.panel.offer_input_shape(self._offered[1] if self._offered else None)

    def fit_input(self) -> None:
        """Set the Input's shape to the data's (one undo step)."""
        if self._offered and not self.controller.running:
            node, shape = self._offered
            error = self.controller.document.set_param(node, "shape", list(shape))
            if error:
                self.controller.panel.show_status(f"Input shape: {error}", "error")
