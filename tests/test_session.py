"""TrainingSession: a separate process with pause, resume, stop, and crash detection."""

from __future__ import annotations

import time

import pytest

from tests.conftest import EXAMPLES
from torchcanvas.app.train.job import job_from_project
from torchcanvas.app.train.session import TrainingSession
from torchcanvas.graph.project import load_project


@pytest.mark.slow
def test_pause_resume_and_stop_in_a_separate_process(tmp_path):
    project = load_project(EXAMPLES / "digits_cnn.json")
    session = TrainingSession(job_from_project(project, str(tmp_path / "run"), epochs=200))
    session.start()
    seen: list[str] = []
    deadline = time.monotonic() + 120
    while session.state not in ("finished", "failed") and time.monotonic() < deadline:
        for event in session.poll():
            seen.append(event["type"])
            if event["type"] == "epoch" and event["epoch"] == 1:
                session.pause()
            elif event["type"] == "paused":
                session.resume()
            elif event["type"] == "resumed":
                session.stop()
        time.sleep(0.01)
    assert session.final["type"] == "finished", session.final
    assert session.final["reason"] == "stopped"
    assert seen.index("paused") < seen.index("resumed") < seen.index("finished")
    assert (tmp_path / "run" / "model.pt").exists()
    assert len(session.final["history"]) < 200


@pytest.mark.slow
def test_a_crashed_process_is_reported_and_the_caller_survives(tmp_path):
    project = load_project(EXAMPLES / "digits_cnn.json")
    job = job_from_project(project, str(tmp_path / "run"))
    job.source = "import os\nos._exit(3)\n" + job.source
    session = TrainingSession(job)
    session.start()
    final = session.wait(timeout=120)
    assert final["type"] == "failed" and final["kind"] == "crash"
    assert "exit code 3" in final["reason"]
