"""Importing torchvision models (trace, map, build blocks, check the round trip).

Target (the import issue): under 3 s each for resnet50 and vit_b_16 beyond start-up. The
start-up (importing torch and torchvision, the first trace) is measured apart, on resnet18.
Each figure includes the strict round-trip check the import always runs.
"""

from __future__ import annotations

import time

IMAGE = ((3, 224, 224), "float32")


def _seconds(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def run() -> dict:
    """Seconds: the start-up, then the median of three imports of each model."""
    import statistics

    start = time.perf_counter()
    import torchvision

    from torchcanvas.app.import_check import import_checked

    import_checked(torchvision.models.resnet18(), [IMAGE])
    figures = {"start-up (imports + a first resnet18)": time.perf_counter() - start}
    for name in ("resnet50", "vit_b_16"):
        module = getattr(torchvision.models, name)()
        times = [_seconds(lambda m=module: import_checked(m, [IMAGE])) for _ in range(3)]
        figures[name] = statistics.median(times)
    return figures


def report(figures: dict) -> str:
    """Human-readable lines."""
    lines = []
    for label, seconds in figures.items():
        target = "" if label.startswith("start-up") else " (target < 3 s)"
        lines.append(f"import {label}: {seconds:.2f} s{target}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(run()))
