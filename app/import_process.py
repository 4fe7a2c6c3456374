"""Importing a model in a separate process.

The user's file runs there, not in the editor: code that loops forever, crashes the
interpreter or eats memory cannot take the window down, Cancel can stop it, and no
garbage collection of the editor's Qt objects ever runs on a worker thread (which
deadlocked PySide when the import ran on a thread).
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from torchcanvas.app.worker import start_process
from torchcanvas.graph.project import Project, project_from_dict, project_to_dict

MEMORY_LIMIT_GIB = 8.0  # the address space the user's code may take (torch alone needs ~2)


@dataclass
class ImportOutcome:
    """What an import produced: a project and its weights file, or why not."""

    project: Project | None = None
    weights_path: Path | None = None
    report: str = ""  # the import report, as text
    layers: int = 0
    blocks: int = 0
    error: str = ""  # one line for the user; empty on success
    timed_out: bool = False  # stopped at the time limit

    @property
    def ok(self) -> bool:
        return self.project is not None


def _child(request: dict, weights_path: str, answers) -> None:
    """Run in the import process: import, save the weights, send back the project."""
    # Ctrl-C reaches the whole terminal's process group: the parent answers it and ends this
    # process, so a user's module never sees it (nor prints a traceback here).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # blocked by start()
    limit = request.get("memory_limit_gib", MEMORY_LIMIT_GIB)
    _limit_memory(limit)
    try:
        answers.put(_import(request, weights_path))
    except BaseException as error:  # the user's own code raised something of its own
        answers.put({"error": _failure(error, limit)})


def _import(request: dict, weights_path: str) -> dict:
    from torchcanvas.app.importing import SourceError, import_source
    from torchcanvas.app.train.weights import save_state_dict
    from torchcanvas.graph.fximport import ImportFailed

    try:
        result = import_source(
            request["source"],
            request["arguments"],
            request["shapes"],
            request["dtypes"],
            class_name=request.get("class_name"),
            pretrained=request.get("pretrained"),
        )
    except SourceError as error:
        return {"error": str(error)}
    except ImportFailed as error:
        return {"error": "Nothing was imported; the report says why.", "report": str(error)}
    if request.get("pretrained"):  # the project remembers its starting weights
        result.project.training["weights_file"] = weights_path
    Path(weights_path).parent.mkdir(parents=True, exist_ok=True)
    save_state_dict(result.state_dict, weights_path)
    report = result.report
    return {
        "project": project_to_dict(result.project),
        "report": report.text(),
        "layers": report.layers,
        "blocks": report.blocks,
    }


def _limit_memory(gib: float | None) -> None:
    """Bound this process's address space, so a model that grows without end stops here."""
    try:
        import resource
    except ImportError:  # not on Windows: the time limit still holds
        return
    if gib:
        limit = int(gib * (1 << 30))
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _failure(error: BaseException, limit: float | None) -> str:
    """One line for an exception of the user's code (or of running out of memory)."""
    from torchcanvas.app.importing import out_of_memory

    text = " ".join(f"{type(error).__name__}: {error}".split())  # one line
    if out_of_memory(error):
        bound = f"it may use at most {limit:g} GiB" if limit else "the machine has no more"
        return f"The import ran out of memory: {bound} ({text})"[:2000]
    return f"The import failed: {text}"[:2000]


class ImportRun:
    """One import in its own process; `poll()` never blocks. With `time_limit` (seconds)
    an import still working then is stopped, and its outcome says so."""

    def __init__(self, request: dict, weights_path: Path, time_limit: float | None = None):
        self.request = request
        self.weights_path = Path(weights_path)
        self.time_limit = time_limit
        self._context = mp.get_context("spawn")
        self._answers = self._context.Queue()
        self._process = None
        self._deadline = float("inf")
        self.outcome: ImportOutcome | None = None

    def start(self) -> None:
        """Launch the import process; it ends with this one (a user's module may hang)."""
        args = (self.request, str(self.weights_path), self._answers)
        with _sigint_blocked():  # the child unblocks it once it ignores it
            self._process = start_process(_child, args, "torchcanvas-import", self._context)
        if self.time_limit is not None:
            self._deadline = time.monotonic() + self.time_limit

    @property
    def pid(self) -> int | None:
        """The import process's id once started."""
        return self._process.pid if self._process is not None else None

    def poll(self) -> ImportOutcome | None:
        """The outcome once the process has answered or died; None while it works."""
        if self.outcome is None and self._process is not None:
            answer = self._answer(wait=0.0)
            if answer is None and not self._process.is_alive():
                answer = self._answer(wait=1.0) or self._died()
            if answer is not None:
                self.outcome = _outcome(answer, self.weights_path)
                self._process.join(timeout=5)
            elif time.monotonic() > self._deadline:
                self._stop()
                self.outcome = ImportOutcome(
                    error=f"The import did not finish within {self.time_limit:g} s and was "
                    "stopped; the model's code may loop forever",
                    timed_out=True,
                )
        return self.outcome

    def wait(self, step: float = 0.05) -> ImportOutcome:
        """Block until the outcome (at the latest at the time limit)."""
        while self.poll() is None:
            time.sleep(step)
        return self.outcome

    def cancel(self) -> None:
        """Stop the import now."""
        self._stop()
        if self.outcome is None:
            self.outcome = ImportOutcome(error="The import was cancelled.")

    def _stop(self) -> None:
        if self._process is not None and self._process.is_alive():
            self._process.kill()
            self._process.join(timeout=5)

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


class _sigint_blocked:
    """Hold Ctrl-C back from the calling thread while a child starts, so that the child
    inherits it blocked and can set it to be ignored before it arrives (POSIX only)."""

    def __enter__(self):
        self._blocked = hasattr(signal, "pthread_sigmask")
        if self._blocked:
            self._before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})

    def __exit__(self, *exc) -> None:
        if self._blocked:
            signal.pthread_sigmask(signal.SIG_SETMASK, self._before)
