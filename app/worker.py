"""Child processes that end with the window's process, however it ends (even SIGKILL).

Training, import and ONNX export run in child processes so that a crash or a hang there
cannot take the editor down. The other way round, a child must not outlive the window: a
killed window would leave a worker training (or tracing) forever. Children started by
multiprocessing get the parent through `start_process`; a command started as a program
(the ONNX export's `torchcanvas export`) gets it through an environment variable
(`parent_variable`), which the command line reads first thing.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import threading
import time

PARENT_CHECK_SECONDS = 0.5
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
PARENT_ENV = "TORCHCANVAS_PARENT"  # "pid:1" (or "pid:0": started off the main thread)

Parent = tuple[int, bool]


def this_parent() -> Parent:
    """What a child needs to follow this process: its pid, and whether the parent-death
    signal may be used (it fires when the spawning *thread* ends, so only a child started
    from the main thread can use it)."""
    return os.getpid(), threading.current_thread() is threading.main_thread()


def die_with_parent(parent: Parent) -> None:
    """End this process when `parent` ends, however it ends (call it first in a child)."""
    parent_pid, use_signal = parent
    if use_signal and sys.platform.startswith("linux"):
        _set_parent_death_signal()
    if _parent_gone(parent_pid):  # it died before the signal was armed
        os._exit(1)
    # The portable fallback, and a second line on Linux.
    threading.Thread(
        target=_watch_parent, args=(parent_pid,), daemon=True, name="parent-watchdog"
    ).start()


def start_process(target, args: tuple, name: str, context=None):
    """Start `target(*args)` in a spawned daemon process that ends with this one."""
    context = context or mp.get_context("spawn")
    process = context.Process(
        target=_follow, args=(this_parent(), target, *args), daemon=True, name=name
    )
    process.start()
    return process


def _follow(parent: Parent, target, *args) -> None:
    die_with_parent(parent)
    target(*args)


def parent_variable() -> tuple[str, str]:
    """The environment variable (name, value) that makes a child program follow this one."""
    pid, use_signal = this_parent()
    return PARENT_ENV, f"{pid}:{int(use_signal)}"


def child_environment() -> dict[str, str]:
    """This process's environment plus `parent_variable()`, for subprocess.Popen."""
    name, value = parent_variable()
    return {**os.environ, name: value}


def follow_parent_from_environment() -> None:
    """In a program started with `child_environment`: end with the process that started it.

    The variable is removed, so this program's own children do not follow the grandparent.
    """
    text = os.environ.pop(PARENT_ENV, "")
    pid, _, signal_flag = text.partition(":")
    if pid.isdigit():
        die_with_parent((int(pid), signal_flag == "1"))


def _set_parent_death_signal() -> None:
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):  # no prctl here: the watchdog alone does the job
        pass


def _parent_gone(parent_pid: int) -> bool:
    if os.getppid() != parent_pid:  # POSIX: an orphan is re-parented
        return True
    parent = mp.parent_process()  # elsewhere: the pipe from the parent reaches its end
    return parent is not None and not parent.is_alive()


def _watch_parent(parent_pid: int) -> None:
    while not _parent_gone(parent_pid):
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)
