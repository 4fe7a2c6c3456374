"""The exported training script: samples/s of `python train.py` against torchrun with 2 CPU
processes (gloo), digits CNN, the median of the epochs after the first."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import ROOT

EPOCHS = 4
BIN = Path(sys.executable).parent


def _export(folder: Path) -> Path:
    script = folder / "train.py"
    project = ROOT / "assets" / "examples" / "digits_cnn.json"
    command = [BIN / "torchcanvas", "export", project, "--format", "script", "-o", script]
    subprocess.run(command, check=True, capture_output=True)
    return script


def _rate(command: list, folder: Path, threads: int) -> float:
    """Median samples/s of the epochs after the first (which warms up)."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    done = subprocess.run(
        [*command, "--epochs", str(EPOCHS), "--device", "cpu", "--out", folder / "run"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    rates = [float(line.split()[-2]) for line in done.stdout.splitlines() if "samples/s" in line]
    return statistics.median(rates[1:])


def run() -> dict:
    """samples/s: one process with 2 threads, one with 1 thread, torchrun 2 x 1 thread."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        script = _export(folder)
        torchrun = [BIN / "torchrun", "--standalone", "--nproc_per_node=2", script]
        return {
            "python_2_threads": _rate([sys.executable, script], folder, 2),
            "python_1_thread": _rate([sys.executable, script], folder, 1),
            "torchrun_2x1": _rate(torchrun, folder, 1),
        }


def report(figures: dict) -> str:
    """One line per way of running it."""
    lines = [f"{name}: {rate:,.0f} samples/s" for name, rate in figures.items()]
    ratio = figures["torchrun_2x1"] / figures["python_1_thread"]
    lines.append(f"torchrun 2 processes / one 1-thread process: {ratio:.2f}x")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    print(report(run()))
