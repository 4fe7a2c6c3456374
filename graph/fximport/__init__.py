"""Import an nn.Module: trace it with torch.fx and rebuild it as a TorchCanvas project.

`import_module(module, inputs)` returns the project (the model, its block definitions),
the module's state_dict to save beside it, and a report of everything that could not be
mapped. The project's export loads that state_dict with strict=True and computes the
same outputs; app/import_check.py checks it (it compiles the export, and graph never
imports codegen).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import nn

from torchcanvas.graph.fximport.assemble import Assembler, AssemblyError
from torchcanvas.graph.fximport.ir import ImportFailed, Problem, Report
from torchcanvas.graph.fximport.ops import Converter
from torchcanvas.graph.fximport.scopes import build_tree, hoist_concats, mark_boundaries
from torchcanvas.graph.fximport.sharing import shared_calls, tied_tensors
from torchcanvas.graph.fximport.trace import TraceFailure, trace
from torchcanvas.graph.model import GraphError
from torchcanvas.graph.naming import class_name_problem
from torchcanvas.graph.project import Project

BATCH = 2


@dataclass
class ImportResult:
    """A project built from a module, the weights to save with it, and the report; the
    example inputs traced and what the module returned on them, for the round-trip check."""

    project: Project
    state_dict: dict
    report: Report
    examples: tuple = ()
    outputs: object = None


def import_module(
    module: nn.Module, inputs: list[tuple[tuple[int, ...], str]], class_name: str | None = None
) -> ImportResult:
    """Trace `module` on inputs of these per-sample shapes and dtypes; ImportFailed with the
    report when something cannot be mapped (nothing is half-imported). Not yet checked:
    app.import_check.import_checked adds the round-trip check."""
    start = time.perf_counter()
    report = Report()
    module = module.eval()
    report.problems += tied_tensors(module)
    if not report.ok:  # before tracing: a tie is refused whatever forward does
        raise ImportFailed(report)
    examples = tuple(_example(shape, dtype) for shape, dtype in inputs)
    try:
        traced = trace(module, examples)
    except TraceFailure as error:
        report.problems.append(Problem(str(error)))
        raise ImportFailed(report) from None
    report.problems += shared_calls(module, traced.graph)
    if not report.ok:
        raise ImportFailed(report)
    names = _input_names(traced)
    converter = Converter(traced, names, inputs)
    ops = converter.run()
    report.problems += converter.problems
    if not report.ok:
        raise ImportFailed(report)
    name = class_name or type(module).__name__
    if class_name_problem(name):
        name = "ImportedModel"
    model = _assemble(module, ops, converter.shapes, name, report)
    analysis = model.analysis()
    if not analysis.ok:
        report.problems += [Problem(f"after import: {p}") for p in analysis.errors]
        raise ImportFailed(report)
    report.layers = sum(1 for n in ops if n.type not in ("Input", "Output"))
    report.blocks = len(model.library)
    report.seconds = time.perf_counter() - start
    return ImportResult(Project(model), module.state_dict(), report, examples, traced.result)


def _assemble(module, ops, shapes, name: str, report: Report):
    top = build_tree(module, ops)
    hoist_concats(top, ops)
    mark_boundaries(top, ops)
    try:
        return Assembler(top, ops, shapes, name).run()
    except (AssemblyError, GraphError) as error:
        report.problems.append(Problem(str(error)))
        raise ImportFailed(report) from None


def _example(shape, dtype: str) -> torch.Tensor:
    torch_dtype = getattr(torch, dtype)
    if torch_dtype.is_floating_point:
        generator = torch.Generator().manual_seed(0)
        return torch.randn((BATCH, *shape), generator=generator, dtype=torch_dtype)
    return torch.zeros((BATCH, *shape), dtype=torch_dtype)


def _input_names(traced) -> list[str]:
    from torchcanvas.graph.naming import identifier_problem

    names = [n.target for n in traced.graph.nodes if n.op == "placeholder"]
    fallback = ["input"] + [f"input{i + 1}" for i in range(1, len(names))]
    return [n if not identifier_problem(n) else f for n, f in zip(names, fallback)]


__all__ = ["ImportFailed", "ImportResult", "import_module"]
