"""The weights side of training in the window: save, load (with the match report), predict."""

from __future__ import annotations

import time
from pathlib import Path

from torchcanvas.app.train.bundle import relative_path
from torchcanvas.app.train.job import START_FILE, START_GIVEN, starting_weights
from torchcanvas.app.train.weights import (
    WeightsError,
    apply,
    match,
    read_state_dict,
    save_state_dict,
)
from torchcanvas.app.ui.dialogs import suggested_name
from torchcanvas.codegen.build import build_model
from torchcanvas.codegen.emit import CodegenError
from torchcanvas.codegen.fingerprint import design_changes, design_source
from torchcanvas.graph.fileio import atomic_write


class WeightsActions:
    """Mixed into the TrainingController: uses its window, document, panel, weights_path."""

    def current_source(self) -> str | None:
        """The generated code of the design as it is now (None while it has problems)."""
        try:
            return design_source(self.document.model)
        except CodegenError:
            return None

    def weights_changes(self) -> list[str]:
        """How the design differs from the one the current weights were trained on."""
        if self.weights_source is None:
            return []
        now = self.current_source()
        if now is None:
            return ["the design has problems now"]
        return design_changes(self.weights_source, now)

    def confirm_weights(self, doing: str) -> bool:
        """Go on with the current weights: yes when the design is the one they fit, else ask
        (naming what differs)."""
        changes = self.weights_changes()
        if not changes:
            return True
        listed = "\n".join(f"• {line}" for line in changes)
        return self.window.dialogs.ask(
            "The design changed since these weights",
            f"The weights were trained on the design as it was. Since then:\n{listed}\n\n"
            f"{doing} anyway? Tensors that no longer fit will not load into this design.",
        )

    def save_weights(self, path: str | None = None) -> bool:
        """Write the current weights as a .pt state_dict."""
        if self.weights_path is None or not self.weights_path.exists():
            self.window.dialogs.info("No weights yet", "Train the model or load weights first.")
            return False
        if not self.confirm_weights("Save them"):
            return False
        path = path or self.window.dialogs.save_path(
            "Save weights", suggested_name(self.document, ".pt"), "PyTorch weights (*.pt)"
        )
        if not path:
            return False
        try:
            atomic_write(path, self.weights_path.read_bytes())
        except OSError as error:
            self.window.dialogs.error("Cannot save weights", f"{path}: {error.strerror or error}")
            return False
        self.panel.show_status(f"Saved weights to {path}", "done")
        return True

    def load_weights(self, path: str | None = None) -> bool:
        """Read a state_dict, show the match report, and apply it strictly or partially."""
        from torchcanvas.app.ui.dialogs import WEIGHTS_FILTER

        path = path or self.window.dialogs.open_path("Load weights", WEIGHTS_FILTER)
        if not path:
            return False
        try:
            state = read_state_dict(path)
            model = build_model(self.document.model)
        except WeightsError as error:
            self.window.dialogs.error("Cannot load weights", str(error))
            return False
        except Exception as error:  # noqa: BLE001  (e.g. the graph has problems)
            self.window.dialogs.error("Cannot load weights", f"{type(error).__name__}: {error}")
            return False
        report = match(model, state)
        choice = self.window.dialogs.weights_choice(report, Path(path).name)
        if choice is None:
            return False
        try:
            apply(model, state, strict=choice == "strict")
        except WeightsError as error:
            self.window.dialogs.error(
                "Weights not loaded", f"{error}\n\n" + "\n".join(report.lines())
            )
            return False
        target = self.window.home / "runs" / f"loaded-{time.strftime('%Y%m%d-%H%M%S')}.pt"
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            save_state_dict(model, target)
        except OSError as error:
            self.window.dialogs.error(
                "Weights not loaded",
                f"They fit, but could not be kept in {target.parent}: {error.strerror or error}",
            )
            return False
        self.weights_path, self.weights_source = target, self.current_source()
        self.panel.start_from_weights.setEnabled(True)
        self.panel.start_from_weights.setChecked(True)
        self.panel.show_status(f"Loaded {Path(path).name}: {report.summary()}.", "done")
        return True

    def choose_start_weights(self, path: str | None = None) -> bool:
        """Make a weights file the project's starting weights (one undo step), named
        relative to the project's folder."""
        from torchcanvas.app.ui.dialogs import WEIGHTS_FILTER

        path = path or self.window.dialogs.open_path("Starting weights", WEIGHTS_FILTER)
        if not path:
            return False
        try:
            read_state_dict(path)  # a file that holds no weights is refused now, not at Train
        except WeightsError as error:
            self.window.dialogs.error("Cannot use these weights", str(error))
            return False
        folder = self.document.path.parent if self.document.path is not None else None
        value = relative_path(path, folder) if folder else str(Path(path).resolve())
        return self._set_start(value, "Set Starting Weights")

    def clear_start_weights(self) -> bool:
        """Train from fresh weights again (one undo step)."""
        return self._set_start("", "Clear Starting Weights")

    def _set_start(self, value: str, text: str) -> bool:
        error = self.document.set_setting("weights_file", value, text)
        if error:
            self.panel.show_status(f"Starting weights: {error}", "error")
        return error is None

    def show_start(self) -> None:
        """Say which weights Train starts from, decided as the run will decide it."""
        current = self.weights_path if self.panel.start_from_weights.isChecked() else None
        kind, path = starting_weights(self.data_settings(), current)
        named = self.document.project.training.get("weights_file") or ""
        problem = ""
        if kind == START_GIVEN:
            text = "Train starts from the current weights (the last run's or the loaded ones)."
        elif kind == START_FILE and Path(path).is_file():
            text = (
                f"Train starts from the project's starting weights, {named} (the tensors "
                f"that fit: a replaced head starts fresh)."
            )
        elif kind == START_FILE:
            problem = text = (
                f"The starting weights {named} are missing: put the file back, choose "
                f"another or Clear to start from fresh weights."
            )
        else:
            seed = self.document.project.training.get("seed", 0)
            text = f"Train starts from fresh weights (initialized with seed {seed})."
        self.panel.show_start(named, text, "error" if problem else "info")

    def predict(self, batch):
        """The current weights' outputs for `batch` (used to compare windows)."""
        import torch

        model = build_model(self.document.model)
        model.load_state_dict(torch.load(self.weights_path, weights_only=True))
        model.eval()
        with torch.no_grad():
            return model(batch)
