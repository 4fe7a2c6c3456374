"""The real-X lane: these tests run on Qt's xcb platform under Xvfb, in their own process.

A Qt platform is fixed per process, and the rest of the suite runs offscreen, so this
folder is collected only when TORCHCANVAS_LANE=xcb (`make test-xcb`, part of `make test`).
Offscreen, StandardKey.Redo is Ctrl+Y and Quit has no key at all; on xcb they differ, and
only a real X server shows what a user's key press does through Qt's shortcut map.

Xvfb picks a free display (-displayfd) unless TORCHCANVAS_XVFB_DISPLAY names one. There is
no window manager, so tests give focus explicitly (activate_window). A missing Xvfb or xcb
library fails the lane loudly; it never skips.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCREEN = (1280, 720)
XCB_TESTS = Path(__file__).resolve().parent
_xvfb: subprocess.Popen | None = None


def _start_xvfb() -> str:
    """Start Xvfb at SCREEN on a free display and return its name (":N")."""
    global _xvfb
    if shutil.which("Xvfb") is None:
        raise pytest.UsageError(
            "the xcb lane needs Xvfb: apt-get install xvfb (.ci/run installs it)"
        )
    screen = f"{SCREEN[0]}x{SCREEN[1]}x24"
    wanted = os.environ.get("TORCHCANVAS_XVFB_DISPLAY")
    if wanted:
        display = f":{wanted.lstrip(':')}"
        _xvfb = subprocess.Popen(
            ["Xvfb", display, "-screen", "0", screen, "-nolisten", "tcp"],
            stderr=subprocess.DEVNULL,
        )
        _wait_for_socket(display)
        return display
    read, write = os.pipe()
    _xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", screen, "-nolisten", "tcp"],
        pass_fds=(write,),
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    if not number:
        raise pytest.UsageError("Xvfb did not start (no display number on -displayfd)")
    return f":{number}"


def _wait_for_socket(display: str) -> None:
    socket = Path(f"/tmp/.X11-unix/X{display[1:]}")
    end = time.monotonic() + 10
    while not socket.exists():
        if _xvfb.poll() is not None or time.monotonic() > end:
            raise pytest.UsageError(f"Xvfb did not start on {display} (in use?)")
        time.sleep(0.05)


def pytest_configure(config) -> None:
    """Before any QApplication exists: the xcb platform on a fresh Xvfb."""
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    os.environ["DISPLAY"] = _start_xvfb()
    config.addinivalue_line("markers", "xcb: runs on the xcb platform under Xvfb")


def pytest_unconfigure(config) -> None:
    if _xvfb is not None:
        _xvfb.terminate()
        _xvfb.wait(timeout=10)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items) -> None:
    """Mark every test here `xcb` and `gui`."""
    for item in items:
        if XCB_TESTS in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.xcb)
            item.add_marker(pytest.mark.gui)


@pytest.fixture(scope="session", autouse=True)
def on_xcb(qapp):
    """Fail at once, not test by test, when Qt did not get the xcb platform."""
    assert qapp.platformName() == "xcb", f"Qt runs on {qapp.platformName()}, not xcb"


@pytest.fixture(autouse=True)
def no_exception_escapes_a_slot(monkeypatch):
    """Fail the test when an exception reaches sys.excepthook (an escape from a Qt slot)."""
    escaped = []
    monkeypatch.setattr(sys, "excepthook", lambda *info: escaped.append(info))
    yield
    assert not escaped, f"an exception escaped a slot: {escaped[0][0].__name__}: {escaped[0][1]}"


@pytest.fixture(scope="session")
def shared_window(qapp, tmp_path_factory):
    """One window for the tests that reset what they use (a window costs seconds here)."""
    from PySide6.QtTest import QTest

    from tests.xcb.xhelpers import ScriptedDialogs, close_window

    os.environ["TORCHCANVAS_HOME"] = str(tmp_path_factory.mktemp("home"))
    from torchcanvas.app.ui.main_window import MainWindow

    win = MainWindow()
    win.dialogs = ScriptedDialogs()
    win.show()
    QTest.qWaitForWindowExposed(win)
    yield win
    close_window(win)
    os.environ.pop("TORCHCANVAS_HOME", None)


@pytest.fixture
def window(shared_window, qtbot):
    """The shared window, active, on a fresh copy of the digits CNN, the canvas focused."""
    from tests.xcb.xhelpers import ScriptedDialogs, activate

    win = shared_window
    win.dialogs = ScriptedDialogs()
    while win.document.navigator.depth > 0:
        win.document.navigator.up()
    win.document.open_example("digits_cnn")
    activate(qtbot, win)
    win.view.setFocus()
    qtbot.waitUntil(win.view.hasFocus, timeout=3000)
    return win
