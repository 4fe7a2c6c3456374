"""What the expansion bound costs, and what it saves.

Counting the layers a design unfolds to happens before every analysis of a model or a
definition, so it must cost little next to the analysis: here on DenseNet-121 (blocks),
a 10,000-node flat graph, and a 16 KB file of eight nested block levels (32 million
layers: analysing it took about an hour; the bound refuses it in milliseconds).
"""

from __future__ import annotations

import json

from bench.common import ROOT, timed, wide_dag
from tests.test_bounds import _chain, nested_project
from torchcanvas.graph.analysis import analyze
from torchcanvas.graph.bounds import expansion_problem
from torchcanvas.graph.project import load_project, loads_project


def run() -> dict:
    """Milliseconds for the count and for the analysis it guards, per design."""
    densenet = load_project(ROOT / "assets" / "examples" / "densenet121.json").model
    flat = wide_dag(10_000)
    deep = loads_project(json.dumps({**nested_project(8, 10), **_chain(["B1"])})).model
    rows = []
    for name, model in (("densenet121", densenet), ("wide_dag 10,000", flat), ("8 levels", deep)):
        count_ms, _ = timed(lambda m=model: expansion_problem(m))
        analysis_ms, analysis = timed(lambda m=model: analyze(m), repeat=1)
        rows.append((name, count_ms, analysis_ms, len(analysis.errors)))
    return {"rows": rows}


def report(f: dict) -> str:
    """Human-readable lines."""
    return "\n".join(
        f"{name:16} count {count:8.2f} ms  analysis {analysis:9.1f} ms  ({errors} errors)"
        for name, count, analysis, errors in f["rows"]
    )


if __name__ == "__main__":
    print(report(run()))
