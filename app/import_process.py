"""Importing a model in a separate process.

The user's file runs there, not in the editor: code that loops forever, crashes the
interpreter or eats memory cannot take the window down, Cancel can stop it, and no
garbage collection of the editor's Qt objects ever runs on a worker thread (which
deadlocked PySide when the import ran on a thread).
"""

from __future__ import annotations

import multiprocessing as mp
import queue
from dataclasses import dataclass
from pathlib import Path

from torchcanvas.app.worker import start_process
from torchcanvas.graph.project import Project, project_from_dict, project_to_dict


@dataclass
class ImportOutcome:
    """What an import produced: a project and its weights file, or why not."""

    project: Project | None = None
    weights_path: Path | None = None
    report: str = ""  # the import report, as text
    layers: int = 0
    blocks: int = 0
    error: str = ""  # one line for the user; empty on success

    @property
    def ok(self) -> bool:
        return self.project is not None


def _child(request: dict, weights_path: str, answers) -> None:
    """Run in the import process: import, save the weights, send back the project."""
    from torchcanvas.app.importing import SourceError, import_source
    from torchcanvas.app.train.weights import save_state_dict
    from torchcanvas.graph.fximport import ImportFailed

    try:
        result = import_source(
            request["source"],
            request["arguments"],
            request["shapes"],
            request["dtypes"],
            pretrained=request.get("pretrained"),
        )
        if request.get("pretrained"):  # the project remembers its starting weights
            result.project.training["weights_file"] = weights_path
        save_state_dict(result.state_dict, weights_path)
        report = result.report
        answers.put(
            {
                "project": project_to_dict(result.project),
                "report": report.text(),
                "layers": report.layers,
                "blocks": report.blocks,
            }
        )
    except SourceError as error:
        answers.put({"error": str(error)})
    except ImportFailed as error:
        answers.put({"error": "Nothing was imported; the report says why.", "report": str(error)})
    except BaseException as error:  # the user's own code raised something of its own
        answers.put({"error": f"The import failed: {type(error).__name__}: {error}"[:2000]})


class ImportRun:
    """One import in its own process; `poll()` never blocks."""

    def __init__(self, request: dict, weights_path: Path) -> None:
        self.request = request
        self.weights_path = Path(weights_path)
        self._context = mp.get_context("spawn")
        self._answers = self._context.Queue()
        self._process = None
        self.outcome: ImportOutcome | None = None

    def start(self) -> None:
        """Launch the import process; it ends with this one (a user's module may hang)."""
        self.weights_path.parent.mkdir(parents=True, exist_ok=True)
        args = (self.request, str(self.weights_path), self._answers)
        self._process = start_process(_child, args, "torchcanvas-import", self._context)

    def poll(self) -> ImportOutcome | None:
        """The outcome once the process has answered or died; None while it works."""
        if self.outcome is None and self._process is not None:
            answer = self._answer(wait=0.0)
            if answer is None and not self._process.is_alive():
                answer = self._answer(wait=1.0) or self._died()
            if answer is not None:
                self.outcome = _outcome(answer, self.weights_path)
                self._process.join(timeout=5)
        return self.outcome

    def cancel(self) -> None:
        """Stop the import now."""
        if self._process is not None and self._process.is_alive():
            self._process.kill()
            self._process.join(timeout=5)
        if self.outcome is None:
            self.outcome = ImportOutcome(error="The import was cancelled.")

    def _answer(self, wait: float) -> dict | None:
        try:
            return self._answers.get(timeout=wait) if wait else self._answers.get_nowait()
        except queue.Empty:
            return None

    def _died(self) -> dict:
        code = self._process.exitcode
        return {"error": f"The import process stopped unexpectedly (exit code {code})."}


def _outcome(answer: dict, weights_path: Path) -> ImportOutcome:
    if "project" not in answer:
        return ImportOutcome(error=answer["error"], report=answer.get("report", ""))
    return ImportOutcome(
        project=project_from_dict(answer["project"]),
        weights_path=weights_path,
        report=answer["report"],
        layers=answer["layers"],
        blocks=answer["blocks"],
    )
