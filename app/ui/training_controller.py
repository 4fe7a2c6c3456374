"""Runs training for the window: the session, its event stream, weights, and live views."""

from __future__ import annotations

import time
from pathlib import Path

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal

from torchcanvas.app.editing.examples import EXAMPLES
from torchcanvas.app.train import events
from torchcanvas.app.train.bundle import resolve_data_path
from torchcanvas.app.train.data import fit_problem
from torchcanvas.app.train.job import job_from_project, module_nodes, training_problem
from torchcanvas.app.train.session import TrainingSession, prewarm
from torchcanvas.app.train.tasks import fitting_loss, gives_log_probs, task_named
from torchcanvas.app.ui.activations import badge_for
from torchcanvas.app.ui.data_check import DataCheck
from torchcanvas.app.ui.training_weights import WeightsActions
from torchcanvas.graph.registry import BLOCK, MODULE

POLL_MS = 100  # the GUI drains the event queue at 10 Hz (plots redraw at 2 Hz)
STATUS_SECONDS = 0.5
CAPTURE_SECONDS = 1.0  # activations, sparklines and canvas indicators refresh once a second


class TrainingController(WeightsActions, QObject):
    """Glue between the Training panel, the curves, the activations and a TrainingSession."""

    finished = Signal(dict)  # the final event of a run

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.document = window.document
        self.panel = window.training_panel
        self.curves = window.curves
        self.activations = window.activations
        self.results = window.results
        self.session: TrainingSession | None = None
        self.weights_path: Path | None = None
        self.weights_source: str | None = None  # the generated code the weights fit
        self._run_source: str | None = None
        self.events_seen = 0
        self._task = task_named(None)  # the running task (set when a run starts)
        self._status_at = 0.0
        self._last_progress: dict | None = None
        self._stopping = False
        self._blocked = False  # the status line shows why Train is disabled
        self.data_check = DataCheck(self)
        self.timer = QTimer(self, interval=POLL_MS)
        self.timer.timeout.connect(self.poll)
        self._connect()
        self.refresh_settings()

    def _connect(self) -> None:
        panel = self.panel
        panel.setting_edited.connect(self._on_setting_edited)
        panel.train_clicked.connect(self.start)
        panel.pause_clicked.connect(lambda: self.session and self.session.pause())
        panel.resume_clicked.connect(lambda: self.session and self.session.resume())
        panel.stop_clicked.connect(self.stop)
        panel.load_weights_clicked.connect(self.load_weights)
        panel.save_weights_clicked.connect(self.save_weights)
        panel.fit_input_clicked.connect(self.data_check.fit_input)
        panel.choose_start_clicked.connect(lambda: self.choose_start_weights())
        panel.clear_start_clicked.connect(self.clear_start_weights)
        panel.start_from_weights.toggled.connect(lambda _on: self.show_start())
        self.document.replaced.connect(self._on_document_replaced)
        self.document.settings_changed.connect(self.refresh_settings)  # edits, undo, redo
        self.window.scene.analysis_updated.connect(lambda _a: self.refresh_preview())
        self.window.scene.selectionChanged.connect(self._on_selection_changed)
        self.document.navigated.connect(self._on_selection_changed)  # other cards, other paths

    # ----- settings and the Train button -----------------------------------------
    @property
    def running(self) -> bool:
        """Whether a run is in progress."""
        return self.session is not None and self.session.running

    def _on_document_replaced(self) -> None:
        # Runs, curves, results and weights belonged to the design that was open before.
        self.weights_path = self.weights_source = None
        self.panel.start_from_weights.setChecked(False)
        self.curves.clear()
        self.results.clear()
        self.activations.clear()
        self.panel.show_phase("", 0)
        self.panel.show_status("")
        self.refresh_settings()
        self.update_train_state()

    def use_weights(self, path: Path) -> None:
        """Make a saved state_dict the current weights (an import brings its own)."""
        self.weights_path = Path(path)
        self.weights_source = self.current_source()
        self.update_train_state()

    def refresh_settings(self) -> None:
        """Show the project's training settings."""
        self.show_settings()
        self.update_train_state()
        self.refresh_preview()

    def show_settings(self) -> None:
        """The panel shows the project's settings (and the rows that apply to it)."""
        project = self.document.project
        self.panel.show_settings(project.training, project.preprocess is not None)

    def data_settings(self) -> dict:
        """The training settings with a relative data file taken from the project's folder
        (a bundled example's: the examples folder)."""
        if self.document.path is not None:
            base = self.document.path.parent
        elif self.document.label.endswith("(example)"):
            base = EXAMPLES
        else:
            base = Path.cwd()
        return resolve_data_path(dict(self.document.project.training), base)

    def refresh_preview(self) -> None:
        """Say what the chosen CSV or NPZ file gives (or why not), and whether Train can run."""
        self.data_check.refresh()
        self.update_train_state()

    def _on_setting_edited(self, key: str, value) -> None:
        if key == "task":  # a loss that fits the task comes with it, in the same undo step
            current, model = self.document.project.training["loss"], self.document.model
            loss = fitting_loss(value, current, gives_log_probs(model))
            error = self.document.set_trainings({"task": value, "loss": loss}, "Set task")
        else:
            error = self.document.set_training(key, value)
        if error:
            self.panel.show_status(f"{key}: {error}", "error")
        if error or key == "data":  # a refused value reverts; the rows follow the source
            self.show_settings()
        if key in ("task", "data", "data_path", "targets", "features"):
            self.data_check.forget()  # read the file again: it may have changed
            self.refresh_preview()

    def train_problem(self) -> str | None:
        """Why Train is disabled right now, or None."""
        model = self.document.model
        analysis = model.analysis()
        if not analysis.ok:
            return f"Fix the graph first: {analysis.errors[0]}"
        refused = training_problem(analysis)
        if refused:
            return f"Cannot train: {refused}"
        if self.data_check.problem:
            return f"Cannot train on this data: {self.data_check.problem}"
        return (
            fit_problem(
                self.document.project.training,
                analysis.meta(analysis.inputs[0]).per_sample,
                analysis.meta(analysis.outputs[0]).per_sample,
                self.document.project.preprocess,
            )
            or self.data_check.missing
        )

    def update_train_state(self) -> None:
        """Enable Train only when the graph and data fit; say why otherwise."""
        if self.running:
            return
        problem = self.train_problem()
        self.panel.show_applicable(self.document.project.training.get("data", ""))
        self.panel.set_running(False, False, can_train=problem is None)
        self.panel.start_from_weights.setEnabled(self.weights_path is not None)
        self.show_start()
        self.data_check.offer_input_shape(problem)
        if problem:
            self.panel.show_status(problem, "error")
        elif self._blocked:  # the reason shown is gone; other messages stay
            self.panel.show_status("Ready to train.")
        self._blocked = problem is not None

    # ----- running ----------------------------------------------------------------
    def capture_nodes(self) -> dict[str, str]:
        """Module paths to capture (keyed by themselves): every module of the model, and
        those inside the block or container on the canvas (layer3.1.conv2)."""
        paths = set(module_nodes(self.document.model).values())
        paths.update(self._shown_paths())
        return {path: path for path in sorted(paths)}

    def _shown_paths(self) -> dict[str, str]:
        """module path -> card id for the cards on the canvas that own a module."""
        navigator = self.document.navigator
        graph, analysis = navigator.graph, navigator.analysis()
        found = {}
        for node in graph.nodes():
            facts = analysis.facts.get(node)
            if facts is not None and facts.path and graph.spec(node).kind in (MODULE, BLOCK):
                found[facts.path] = node
        return found

    def selected_node(self) -> str | None:
        """The module path of the single selected card, if it owns a module."""
        nodes = self.window.scene.selected_nodes()
        if len(nodes) != 1:
            return None
        paths = {node: path for path, node in self._shown_paths().items()}
        return paths.get(nodes[0].node)

    def _node_label(self, path: str | None) -> str:
        return path or ""

    def start(self) -> bool:
        """Start a run in a separate process."""
        if self.running or self.train_problem():
            return False
        run_dir = (
            self.window.home / "runs" / f"{self.document.model.name}-"
            f"{time.strftime('%Y%m%d-%H%M%S')}"
        )
        weights = self.weights_path if self.panel.start_from_weights.isChecked() else None
        if weights is not None and not self.confirm_weights("Start from the current weights"):
            return False
        selected = self.selected_node()
        resolved = self.data_settings()
        extra = {key: resolved.get(key, "") for key in ("data_path", "data_root", "weights_file")}
        if self.panel.tensorboard.isChecked():
            extra["tensorboard_dir"] = str(run_dir / "tensorboard")
        try:
            job = job_from_project(
                self.document.project,
                str(run_dir),
                **extra,
                weights=str(weights) if weights else None,
                partial=True,
                capture_nodes=self.capture_nodes(),
                capture_interval=CAPTURE_SECONDS,
                map_nodes=[selected] if selected else [],
            )
            session = TrainingSession(job)
            session.start()
        except Exception as error:  # noqa: BLE001  (the editor carries on; the panel says why)
            self.panel.show_phase("not started", 0)
            self.panel.show_status(f"Could not start training: {error}", "error")
            self.show_start()  # e.g. the starting weights file went missing since
            return False
        self.session = session
        self._run_source = self.current_source()  # the weights it writes belong to this
        self.events_seen = 0
        self._last_progress = None  # the previous run's position must not show
        self._stopping = False
        task = self.document.project.training.get("task", "classification")
        self.curves.new_run(self.expected_steps(), task)
        self.activations.clear()
        self.activations.set_node(selected, self._node_label(selected))
        self.panel.set_running(True, False)
        self.document.run.begin(run_dir)  # the design is read-only until the run ends
        self.panel.show_phase("starting…", 0)
        self.panel.show_status("Training…")
        self.window.show_training_views()
        self.timer.start()
        return True

    def expected_steps(self) -> int | None:
        """Steps the run will take, when the data set's size is known without loading it."""
        import math

        from torchcanvas.app.train.data import KNOWN_SIZES

        settings = self.document.project.training
        size = KNOWN_SIZES.get(settings["data"])
        if size is None:
            return None
        train = size - int(round(size * settings["val_split"]))
        return settings["epochs"] * math.ceil(train / settings["batch_size"])

    def stop(self) -> None:
        """Stop after the current step; the weights so far are kept."""
        if self.running:
            self.session.stop()
            self._stopping = True
            self.panel.show_phase(f"stopping at {self._position()}")
            self.panel.show_status("Stopping…")

    def _position(self) -> str:
        """Where the run is: epoch and step, as the last progress event said."""
        last = self._last_progress
        if last is None:
            return "the start"
        return (
            f"epoch {last['epoch'] + 1}/{last['epochs']} · step "
            f"{last['step']}/{last['steps_per_epoch']}"
        )

    def kill(self) -> None:
        """End the run at once (the window is closing)."""
        if self.session is not None:
            self.session.kill()
        self.timer.stop()

    def stop_now(self) -> None:
        """End the run at once and show it ended (Quit: before asking to save)."""
        if self.running:
            self.kill()
            self._end_run(prewarm_next=False)
            self.panel.show_phase(f"stopped at {self._position()}")

    def poll(self) -> None:
        """Drain the session's events and redraw once."""
        if self.session is None:
            return
        for event in self.session.poll(limit=5000):
            self.events_seen += 1
            self.dispatch(event)
        self.curves.tick()

    def dispatch(self, event: events.Event) -> None:
        """Hand an event to its handler (the table names every kind the window shows)."""
        handler = {
            events.Started: self._on_started,
            events.Log: self._on_log,
            events.Steps: self._on_steps,
            events.Progress: self._on_progress,
            events.Epoch: self._on_epoch,
            events.Paused: self._on_paused,
            events.Resumed: self._on_resumed,
            events.Capture: self._on_capture,
            events.Finished: self._on_finished,
            events.Failed: self._on_failed,
        }.get(type(event))
        if handler is not None:
            handler(event)

    def _on_started(self, event: dict) -> None:
        self._task = task_named(event["task"])
        self.panel.show_status(
            f"Training {event['parameters']:,} parameters on "
            f"{event['device']} ({event['train_size']:,} train / "
            f"{event['val_size']:,} validation samples)."
        )

    def _on_log(self, event: dict) -> None:
        self.panel.show_status(event["message"])

    def _on_steps(self, event: dict) -> None:
        self.curves.add_steps(event)

    def _on_progress(self, event: dict) -> None:
        self._last_progress = event
        if not self._stopping:  # (the bar says "stopping", with no ETA)
            self.panel.show_progress(event)

    def _on_epoch(self, event: dict) -> None:
        self.curves.add_epoch(event)
        now = time.monotonic()
        if now - self._status_at < STATUS_SECONDS:
            return  # short epochs: a status line twice a second is plenty to read
        self._status_at = now
        val = self._task.epoch_text(event)
        self.panel.show_status(
            f"Epoch {event['epoch']}: train loss {event['train_loss']:.4f}{val}."
        )
        if self._last_progress is not None and not self._stopping:  # in step with the status
            steps = self._last_progress["steps_per_epoch"]
            self.panel.show_progress(
                {
                    **self._last_progress,
                    "epoch": event["epoch"] - 1,
                    "step": steps,
                    "eta": event["eta"],
                }
            )

    def _on_paused(self, _event: dict) -> None:
        self.panel.set_running(True, True)
        self.panel.show_phase(f"paused at {self._position()}")  # an ETA would run out
        self.panel.show_status("Paused.")

    def _on_resumed(self, _event: dict) -> None:
        self.panel.set_running(True, False)
        if self._last_progress is not None:
            self.panel.show_progress(self._last_progress)
        self.panel.show_status("Training…")

    def _on_capture(self, event: dict) -> None:
        self.activations.add_capture(event)
        nodes = event["nodes"]
        top = max((s.get("std", 0.0) for s in nodes.values()), default=0.0) or 1.0
        cards = self._shown_paths()
        for path, stats in nodes.items():
            item = self.window.scene.nodes.get(cards.get(path, ""))
            if item is not None:
                item.set_activity(min(1.0, stats.get("std", 0.0) / top), badge_for(stats))

    def _on_finished(self, event: dict) -> None:
        self._end_run()
        self.weights_path, self.weights_source = Path(event["weights"]), self._run_source
        self.results.show_results(event)
        self.window.docks["results"].raise_()
        accuracy = task_named(event.get("task")).finish_text(event)
        verb = "Stopped" if event["reason"] == "stopped" else "Finished"
        if event["reason"] == "stopped":
            self.panel.show_phase(f"stopped at {self._position()}")
        else:
            epochs = len(event["history"])
            self.panel.show_phase(f"done · {epochs} epoch{'s' * (epochs != 1)}", 1)
        self.panel.show_status(
            f"{verb} after {len(event['history'])} epoch(s).{accuracy} Weights: {event['weights']}",
            "done",
        )
        self.finished.emit(event)

    def _on_failed(self, event: dict) -> None:
        self._end_run()
        kept = f" The last good weights are in {event['weights']}." if event.get("weights") else ""
        if event.get("weights"):
            self.weights_path, self.weights_source = Path(event["weights"]), self._run_source
        started = self._last_progress is not None
        self.panel.show_phase(f"failed at {self._position()}" if started else "failed to start")
        self.panel.show_status(f"Training failed: {event['reason']}{kept}", "error")
        self.finished.emit(event)

    def _end_run(self, prewarm_next: bool = True) -> None:
        self.timer.stop()
        self.document.run.end()
        self.curves.tick(force=True)
        for item in self.window.scene.nodes.values():
            item.set_activity(None, "")
        self.panel.set_running(False, False)
        self.update_train_state()
        if prewarm_next:
            prewarm()  # the next run starts without waiting for imports

    def _on_selection_changed(self) -> None:
        if not shiboken6.isValid(self.window.scene):
            return  # the scene announces its own destruction as a selection change
        selected = self.selected_node()
        self.activations.set_node(selected, self._node_label(selected))
        if self.running:
            self.session.set_capture(self.capture_nodes(), [selected] if selected else [])
