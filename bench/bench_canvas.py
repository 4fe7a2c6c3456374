"""Time from Open to a drawn canvas (target: under 1 s): ResNet-18 and DenseNet-121 from
blocks, the flat ResNet-18, a 197-node ResNet and a 300-node chain."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, close_window, deep_resnet, open_window, wide_graph
from torchcanvas.graph.project import Project, save_project


def _open_and_draw(app, window, path: Path) -> float:
    start = time.perf_counter()
    window.document.open(path)
    window.scene.refresh_analysis()
    window.code_view.refresh()
    window.view.show_top()
    app.processEvents()
    window.grab()  # paints the whole window, canvas included
    return (time.perf_counter() - start) * 1000


def run(repeat: int = 3) -> dict:
    """Milliseconds from Open to a painted window, median of `repeat`."""
    app, window = open_window()
    examples = ROOT / "assets" / "examples"
    folder = Path(tempfile.mkdtemp())
    graphs = {
        "resnet18 (13 cards, blocks)": examples / "resnet18.json",
        "densenet121 (7 cards, 5 definitions)": examples / "densenet121.json",
        "resnet50 (13 cards, blocks)": examples / "resnet50.json",
        "resnet18_expanded (71 nodes)": examples / "resnet18_expanded.json",
    }
    for label, model in (
        ("deep ResNet (197 nodes)", deep_resnet()),
        ("300-node chain", wide_graph(300)),
    ):
        path = folder / f"{model.name}.json"
        save_project(Project(model), path)
        graphs[label] = path
    _open_and_draw(app, window, graphs["resnet18 (13 cards, blocks)"])  # warm-up
    figures = {}
    for label, path in graphs.items():
        figures[label] = statistics.median(_open_and_draw(app, window, path) for _ in range(repeat))
    close_window(app, window)
    return figures


def report(figures: dict) -> str:
    """Human-readable lines."""
    return "\n".join(
        f"open -> drawn canvas, {label}: {ms:.0f} ms (target < 1000 ms)"
        for label, ms in figures.items()
    )


if __name__ == "__main__":
    print(report(run()))
