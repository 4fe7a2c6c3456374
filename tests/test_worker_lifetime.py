"""Child processes end when the window's process is killed: the training worker and the
spare one, an import (a multiprocessing child) and a command the window runs (the ONNX
export's `torchcanvas export`), all through app/worker.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from torchcanvas.app import worker

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

# Opens the real window offscreen, trains the bundled digits network through the
# training controller, starts a spare worker as the window does after a run, prints the
# pids, then runs the event loop until it is killed.
WINDOW_SCRIPT = """
import json, os, sys, time
from PySide6.QtWidgets import QApplication
app = QApplication([])
from torchcanvas.app.train import session as sessions
from torchcanvas.app.ui.main_window import MainWindow

win = MainWindow()
win.show()
win.document.open_example("digits_cnn")
for key, value in {"device": "cpu", "epochs": 10000}.items():
    assert win.document.set_training(key, value) is None
win.training.refresh_settings()
assert win.training.start(), win.training.train_problem()
deadline = time.monotonic() + 120
while win.training.curves.point_count() == 0 and time.monotonic() < deadline:
    app.processEvents()
    time.sleep(0.02)
assert win.training.running, win.training.session.final
sessions.prewarm()
pids = {"worker": win.training.session._worker.pid, "spare": sessions._spare.process.pid}
print(json.dumps(pids), flush=True)
app.exec()
"""


def alive(pid: int) -> bool:
    """Whether `pid` is a process that has not ended (a zombie has ended)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow
@pytest.mark.gui
def test_killing_the_window_ends_the_worker_and_the_spare(tmp_path):
    pytest.importorskip("PySide6")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "TORCHCANVAS_HOME": str(tmp_path)}
    window = subprocess.Popen(
        [sys.executable, "-c", WINDOW_SCRIPT],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert_children_end_with(window)


def assert_children_end_with(window: subprocess.Popen, armed=lambda: True) -> None:
    """Read the children's pids from `window`, kill it once they are `armed`, and check
    that they end within seconds."""
    pids = {}
    try:
        line = window.stdout.readline()
        assert line, window.stderr.read()
        pids = json.loads(line)
        deadline = time.monotonic() + 120
        while not armed() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert armed() and all(alive(pid) for pid in pids.values())
        window.send_signal(signal.SIGKILL)
        window.wait(timeout=10)
        deadline = time.monotonic() + 5
        while any(alive(pid) for pid in pids.values()) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = {name: pid for name, pid in pids.items() if alive(pid)}
        assert not left, f"still running after the window was killed: {left}"
    finally:
        if window.poll() is None:
            window.kill()
        for pid in pids.values():
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


# A module whose top level never returns: it marks that it started (in a child, after the
# child has armed die_with_parent), then hangs as a user's file can.
HANGING_MODULE = """
import os, pathlib, time
pathlib.Path(os.environ["HANG_MARKS"], str(os.getpid())).touch()
while True:
    time.sleep(1)
"""

# Stands in for the window: one import through ImportRun (a multiprocessing child), one
# `torchcanvas import` as a program with the parent variable (as the ONNX export runs).
STARTER_SCRIPT = """
import json, subprocess, sys, time
from torchcanvas.app import worker
from torchcanvas.app.import_process import ImportRun

source, out = sys.argv[1] + ":Model", sys.argv[2]
run = ImportRun({"source": source, "arguments": {}, "shapes": [(4,)], "dtypes": []}, out + ".pt")
run.start()
command = [sys.executable, "-m", "torchcanvas.app", "import", source, "--input-shape", "4"]
program = subprocess.Popen(command + ["-o", out + ".json"], env=worker.child_environment())
print(json.dumps({"import": run._process.pid, "program": program.pid}), flush=True)
time.sleep(600)
"""


@pytest.mark.slow
def test_killing_the_window_ends_an_import_and_a_program_it_started(tmp_path):
    (tmp_path / "hanging.py").write_text(HANGING_MODULE, encoding="utf-8")
    marks = tmp_path / "marks"
    marks.mkdir()
    env = {**os.environ, "HANG_MARKS": str(marks)}
    starter = subprocess.Popen(
        [sys.executable, "-c", STARTER_SCRIPT, str(tmp_path / "hanging.py"), str(tmp_path / "o")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert_children_end_with(starter, armed=lambda: len(list(marks.iterdir())) == 2)


def test_the_parent_variable_is_read_once_and_junk_is_ignored(monkeypatch):
    name, value = worker.parent_variable()
    assert name == worker.PARENT_ENV and value == f"{os.getpid()}:1"
    assert worker.child_environment()[name] == value
    monkeypatch.setenv(worker.PARENT_ENV, "not a pid")
    worker.follow_parent_from_environment()  # ignored: nothing to follow
    assert worker.PARENT_ENV not in os.environ  # and gone, so grandchildren do not follow
