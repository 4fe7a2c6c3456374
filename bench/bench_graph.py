"""Analysis (values, validation, counts), summary and codegen, cold and after one edit.

Targets: a 1,000-node graph analysed, summarised and turned into code in under 100 ms
with cold caches (the graph v2 issue); the same for a 198-node ResNet; and DenseNet-121
built from blocks (the blocks issue), where the edit is inside the DenseLayer definition
that all 58 instances share.
"""

from __future__ import annotations

from bench.common import ROOT, clear_caches, deep_resnet, long_densenet, timed
from torchcanvas.codegen.emit import emit_module
from torchcanvas.codegen.pyformat import format_code
from torchcanvas.graph.analysis import analyze
from torchcanvas.graph.project import load_project
from torchcanvas.graph.summary import summarize


def _cycle(model):
    """What the window does after every change: analyse, summarise, write the code."""
    analysis = analyze(model)
    summarize(model, analysis)
    return emit_module(model, analysis=analysis)


def _cold(model) -> float:
    def run():
        clear_caches(model)
        return _cycle(model)

    return timed(run, repeat=5)[0]


def _phases(model) -> dict:
    analysis_ms, analysis = timed(lambda: analyze(model))
    summary_ms, _ = timed(lambda: summarize(model, analysis))
    codegen_ms, result = timed(lambda: emit_module(model, analysis=analysis))
    # ruff lays the text out once, when the code panel or an export reads it
    format_ms, _ = timed(lambda: format_code(result.raw))
    return {
        "analysis_ms": analysis_ms,
        "summary_ms": summary_ms,
        "codegen_ms": codegen_ms,
        "format_ms": format_ms,
    }


def _edit(model, node_name: str) -> float:
    node = model.id_of(node_name)
    start = model.params(node)["out_channels"]

    def edit():
        model.set_param(node, "out_channels", start + edit.flip)
        edit.flip = 1 - edit.flip
        return _cycle(model)

    edit.flip = 1
    return timed(edit)[0]


def _edit_definition(model, block: str, node_name: str) -> float:
    """Flip a layer's bias inside a definition: every instance is analysed again."""
    graph = model.library.get(block).graph
    node = graph.id_of(node_name)

    def edit():
        graph.set_param(node, "bias", not graph.params(node).get("bias", True))
        return _cycle(model)

    return timed(edit)[0]


def densenet_blocks():
    """DenseNet-121 as the example draws it: seven cards, five definitions."""
    return load_project(ROOT / "assets" / "examples" / "densenet121.json").model


def run() -> dict:
    """Measure and return the figures in milliseconds."""
    _cycle(deep_resnet((1, 1, 1, 1)))  # torch's one-off start-up cost is not the graph's
    figures = {}
    for key, model, edited in (
        ("resnet", deep_resnet(), "layer3_4_conv1"),
        ("densenet", long_densenet(), "block3_layer30_conv1"),
    ):
        figures[key] = {
            "nodes": len(model),
            "edges": len(model.edges()),
            "cold_ms": _cold(model),
            "edit_ms": _edit(model, edited),
            **_phases(model),
        }
    model = densenet_blocks()
    figures["blocks"] = {
        "nodes": len(model),
        "edges": len(model.edges()),
        "cold_ms": _cold(model),
        "edit_ms": _edit_definition(model, "DenseLayer", "conv2"),
        **_phases(model),
    }
    return figures


def report(figures: dict) -> str:
    """Human-readable lines."""
    lines = []
    for key, title in (
        ("resnet", "expanded ResNet"),
        ("densenet", "long DenseNet"),
        ("blocks", "DenseNet-121 from blocks"),
    ):
        f = figures[key]
        lines += [
            f"graph: {f['nodes']} nodes, {f['edges']} edges ({title})",
            f"  analysis + summary + codegen, cold caches: {f['cold_ms']:.1f} ms (target < 100 ms)",
            f"  of which, warm: analysis {f['analysis_ms']:.1f} ms, summary "
            f"{f['summary_ms']:.1f} ms, codegen {f['codegen_ms']:.1f} ms",
            f"  ruff format of the code (when it is shown or exported): {f['format_ms']:.1f} ms",
            f"  one parameter edit, then all three again:  {f['edit_ms']:.1f} ms"
            + (" (inside DenseLayer)" if key == "blocks" else ""),
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(run()))
