"""Run every benchmark and print its figures: `make bench`."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BENCHMARKS = [
    "bench.bench_graph",
    "bench.bench_session",
    "bench.bench_canvas",
    "bench.bench_training",
    "bench.epoch_overhead",
    "bench.bench_window",
    "bench.bench_import",
    "bench.bench_wide",
    "bench.open_large",
    "bench.bench_gpu",
    "bench.bench_script",
    "bench.bench_augment",
    "bench.bench_bounds",
]


def main(names: list[str]) -> None:
    """Run the named benchmarks (all by default)."""
    for name in names or BENCHMARKS:
        module = importlib.import_module(name if name.startswith("bench.") else f"bench.{name}")
        print(f"== {module.__name__}: {module.__doc__.strip().splitlines()[0]}")
        print(module.report(module.run()), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
