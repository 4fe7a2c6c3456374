"""Where training runs: a separate process (cold or pre-warmed) against a thread."""

from __future__ import annotations

import statistics
import tempfile
import time

from bench.common import ROOT
from torchcanvas.app.train import session as sessions
from torchcanvas.app.train.job import job_from_project
from torchcanvas.graph.project import load_project


def _run(mode: str, folder: str, warm: bool = False) -> tuple[float, float]:
    """(seconds from start() to the 'started' event, training samples/s)."""
    project = load_project(ROOT / "assets" / "examples" / "digits_cnn.json")
    sessions.shutdown_spare()  # a spare left by an earlier run would make a cold start warm
    if warm:
        sessions.prewarm()
        time.sleep(8)  # the window pre-warms at start-up, long before Train is pressed
    session = sessions.TrainingSession(job_from_project(project, folder, epochs=20), mode)
    began = time.monotonic()
    session.start()
    latency = None
    rates = []
    while session.state not in sessions.TERMINAL:
        for event in session.poll():
            if event["type"] == "started":
                latency = time.monotonic() - began
            elif event["type"] == "epoch":
                rates.append(event["samples_per_s"])
        time.sleep(0.005)
    return latency, statistics.median(rates[1:])


def run() -> dict:
    """Start latency and throughput of each way to run training."""
    figures = {}
    with tempfile.TemporaryDirectory() as folder:
        for label, mode, warm in (
            ("thread", "thread", False),
            ("process_cold", "process", False),
            ("process_warm", "process", True),
        ):
            figures[f"{label}_start_s"], figures[f"{label}_rate"] = _run(mode, folder, warm)
    return figures


def report(f: dict) -> str:
    """Human-readable lines."""
    rows = [
        ("thread", "in a thread of the editor"),
        ("process_cold", "new process (spawn)"),
        ("process_warm", "pre-warmed process (used by the window)"),
    ]
    return "\n".join(
        f"{text:42s} start {f[key + '_start_s']:.2f} s, "
        f"{f[key + '_rate']:,.0f} samples/s (digits CNN)"
        for key, text in rows
    )


if __name__ == "__main__":
    print(report(run()))
