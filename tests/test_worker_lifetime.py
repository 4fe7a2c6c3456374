"""The training worker, and the spare one, end when the window's process is killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

pytest.importorskip("PySide6")
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


def test_killing_the_window_ends_the_worker_and_the_spare(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "TORCHCANVAS_HOME": str(tmp_path)}
    window = subprocess.Popen(
        [sys.executable, "-c", WINDOW_SCRIPT],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    pids = {}
    try:
        line = window.stdout.readline()
        assert line, window.stderr.read()
        pids = json.loads(line)
        assert all(alive(pid) for pid in pids.values())
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
