"""Training in the window: event-loop latency (target p99 < 50 ms) and throughput vs headless."""

from __future__ import annotations

import statistics
import tempfile
import time

from bench.common import ROOT, close_window, open_window

EPOCHS = 40
TICK_MS = 10


def _rate(history: list[dict]) -> float:
    return statistics.median(row["samples_per_s"] for row in history[1:])


def headless() -> float:
    """Samples/s of the engine run directly, as `torchcanvas train` runs it."""
    from torchcanvas.app.train.job import job_from_project
    from torchcanvas.app.train.loop import Trainer
    from torchcanvas.graph.project import load_project

    project = load_project(ROOT / "assets" / "examples" / "digits_cnn.json")
    job = job_from_project(project, tempfile.mkdtemp(), epochs=EPOCHS, device="cpu")
    return _rate(Trainer(job, lambda event: None).run()["history"])


def in_window() -> dict:
    """Train from the window, selected conv node on, while a timer measures the event loop."""
    from PySide6.QtCore import QEventLoop, QTimer

    from torchcanvas.app.train.session import prewarm

    app, window = open_window()
    window.document.open_example("digits_cnn")
    window.document.set_training("epochs", EPOCHS)
    window.document.set_training("device", "cpu")
    window.training.refresh_settings()
    window.scene.select_nodes(["conv1"])
    prewarm()
    _spin(app, 8.0)  # the window pre-warms its worker at start-up, long before Train
    gaps: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append((now - last[0]) * 1000 - TICK_MS)
        last[0] = now

    timer = QTimer(interval=TICK_MS)
    timer.timeout.connect(tick)
    loop = QEventLoop()  # as in the app: the event loop sleeps until something happens
    window.training.finished.connect(lambda _event: loop.quit())
    cpu, wall = time.process_time(), time.perf_counter()
    window.training.start()
    timer.start()
    loop.exec()
    timer.stop()
    gui_share = (time.process_time() - cpu) / (time.perf_counter() - wall)
    final = window.training.session.final
    close_window(app, window)
    gaps.sort()
    return {
        "rate": _rate(final["history"]),
        "gui_cpu": gui_share,
        "p50": gaps[len(gaps) // 2],
        "p99": gaps[int(len(gaps) * 0.99)],
        "max": gaps[-1],
        "ticks": len(gaps),
    }


def _spin(app, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def run() -> dict:
    """Window and headless runs interleaved (W H W H); medians are compared."""
    windows, bases = [], []
    for _ in range(2):
        windows.append(in_window())
        bases.append(headless())
    rate = statistics.median(w["rate"] for w in windows)
    base = statistics.median(bases)
    return {
        "window_rate": rate,
        "headless_rate": base,
        "ratio": rate / base,
        "gui_cpu": max(w["gui_cpu"] for w in windows),
        "p50_ms": max(w["p50"] for w in windows),
        "p99_ms": max(w["p99"] for w in windows),
        "max_ms": max(w["max"] for w in windows),
        "ticks": sum(w["ticks"] for w in windows),
        "ratios": [w["rate"] / b for w, b in zip(windows, bases)],
    }


def report(f: dict) -> str:
    """Human-readable lines."""
    return "\n".join(
        [
            f"event-loop delay during training ({f['ticks']} ticks of a {TICK_MS} ms timer): "
            f"p50 {f['p50_ms']:.1f} ms, p99 {f['p99_ms']:.1f} ms, max {f['max_ms']:.1f} ms "
            f"(target p99 < 50 ms)",
            f"throughput, digits CNN: window {f['window_rate']:,.0f} samples/s vs headless "
            f"{f['headless_rate']:,.0f} samples/s = {f['ratio']:.2f}x (target >= 0.95x; rounds "
            f"{', '.join(f'{r:.2f}' for r in f['ratios'])}); the "
            f"window's own process used {f['gui_cpu']:.0%} of one core meanwhile",
        ]
    )


if __name__ == "__main__":
    print(report(run()))
