"""Shape inference, validation and codegen on a ~200-node graph (target: < 100 ms together)."""

from __future__ import annotations

from bench.common import deep_resnet, timed
from torchcanvas.codegen.emit import emit_module
from torchcanvas.graph.shapes import analyze, module_output_shape
from torchcanvas.graph.validate import execution_order, structural_problems


def run() -> dict:
    """Measure and return the figures in milliseconds."""
    model = deep_resnet()
    analyze(deep_resnet((1, 1, 1, 1)))  # torch's one-off start-up cost is not the graph's
    module_output_shape.cache_clear()
    cold_ms, _ = timed(lambda: analyze(model), repeat=1)
    order = execution_order(model)
    validate_ms, _ = timed(lambda: structural_problems(model, order))
    infer_ms, analysis = timed(lambda: analyze(model))
    codegen_ms, _ = timed(lambda: emit_module(model, analysis=analysis))

    def edit_cycle():
        model.set_param("layer3_4_conv1", "out_channels", 256 + edit_cycle.flip)
        edit_cycle.flip = 1 - edit_cycle.flip
        model.set_param("layer3_4_conv1", "out_channels", 256)
        return emit_module(model, analysis=analyze(model))

    edit_cycle.flip = 1
    edit_ms, _ = timed(edit_cycle)
    return {
        "nodes": len(model),
        "cold_analysis_ms": cold_ms,
        "validation_ms": validate_ms,
        "analysis_ms": infer_ms,
        "codegen_ms": codegen_ms,
        "edit_total_ms": edit_ms,
        "cold_total_ms": cold_ms + codegen_ms,
    }


def report(figures: dict) -> str:
    """Human-readable lines."""
    return "\n".join(
        [
            f"graph: {figures['nodes']} nodes (expanded ResNet)",
            f"  shape inference + validation, cold caches: {figures['cold_analysis_ms']:.1f} ms",
            f"  structural validation alone:               {figures['validation_ms']:.1f} ms",
            f"  shape inference + validation, warm:        {figures['analysis_ms']:.1f} ms",
            f"  codegen:                                   {figures['codegen_ms']:.1f} ms",
            f"  cold total (infer + validate + codegen):   {figures['cold_total_ms']:.1f} ms"
            f"  (target < 100 ms)",
            f"  one parameter edit, re-infer + codegen:    {figures['edit_total_ms']:.1f} ms",
        ]
    )


if __name__ == "__main__":
    print(report(run()))
