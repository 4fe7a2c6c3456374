"""Opening and quitting a project with a flood of edges: the window against `check`.

The file is the many-input-merge one (`bench.common.merge_project`): a chain of Add nodes
with 1,024 inputs each; 464 of them make a 19 MB file of 475,000 edges. Each measurement
runs in its own process, so that its peak memory and its quitting are its own:

    python -m bench.open_large [--adds 464]

prints `check`'s seconds, then the window's: File ▸ Open to a painted window (load,
scene, code, first paint), its peak memory, and close to process exit.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import merge_project


def write_file(adds: int, folder: Path) -> Path:
    """The merges project of `adds` Add nodes, written compactly (as the issue's file)."""
    path = folder / f"merges{adds}.json"
    path.write_text(json.dumps(merge_project(adds), separators=(",", ":")))
    return path


def _check_part(path: str) -> dict:
    """`torchcanvas check` in this process: its seconds."""
    import contextlib
    import io
    from argparse import Namespace

    from torchcanvas.app.cli.model_commands import check

    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        status = check(Namespace(project=path))
    return {"seconds": time.perf_counter() - start, "status": status}


def _window_part(path: str) -> dict:
    """File ▸ Open of `path` in an offscreen window, to the first full paint; then close."""
    import resource

    from bench.common import open_window

    app, window = open_window()
    start = time.perf_counter()
    opened = window.open_project(path)
    app.processEvents()
    window.grab()  # paints the whole window, canvas included
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux
    window.document.undo.set_clean()
    print(json.dumps({"seconds": seconds, "opened": opened, "peak_gb": peak}), flush=True)
    window.close()  # what Quit does; the parent times it to the process's exit
    app.quit()
    return {}


def _run_part(part: str, path: Path) -> tuple[dict, float]:
    """Run one part in a fresh interpreter: its JSON line, and seconds from that line to exit."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "OMP_NUM_THREADS": "1"}
    env.setdefault("TORCHCANVAS_HOME", tempfile.mkdtemp())
    command = [sys.executable, "-m", "bench.open_large", "--part", part, str(path)]
    root = Path(__file__).resolve().parent.parent
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=root, env=env)
    line = process.stdout.readline()
    printed = time.perf_counter()
    process.communicate()
    return json.loads(line), time.perf_counter() - printed


def run(adds: int = 464) -> dict:
    """Measure and return the figures (seconds, GB)."""
    path = write_file(adds, Path(tempfile.mkdtemp()))
    checked, _ = _run_part("check", path)
    window, quitting = _run_part("window", path)
    return {
        "adds": adds,
        "edges": adds * 1024 + 9,
        "mb": path.stat().st_size / 1e6,
        "check": checked["seconds"],
        "open": window["seconds"],
        "peak_gb": window["peak_gb"],
        "quit": quitting,
    }


def report(f: dict) -> str:
    """Human-readable lines."""
    return (
        f"{f['adds']} Adds x 1,024 inputs ({f['edges']:,} edges, {f['mb']:.1f} MB):\n"
        f"  torchcanvas check: {f['check']:.1f} s\n"
        f"  window, File > Open to painted: {f['open']:.1f} s, peak {f['peak_gb']:.2f} GB\n"
        f"  window, close to process exit: {f['quit']:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adds", type=int, default=464)
    parser.add_argument("--part", choices=("check", "window"))
    parser.add_argument("path", nargs="?")
    args = parser.parse_args()
    if args.part == "check":
        print(json.dumps(_check_part(args.path)), flush=True)
    elif args.part == "window":
        _window_part(args.path)
    else:
        print(report(run(args.adds)))


if __name__ == "__main__":
    main()
