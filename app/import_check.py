"""The round-trip check of an import: the export loads the original weights strictly and
computes the same outputs, in eval mode and (batch-norm statistics) after one train-mode step.

It lives above the model and codegen (graph.fximport builds the project; this compiles its
export), so graph never imports codegen.
"""

from __future__ import annotations

import copy
import time

import torch

from torchcanvas.codegen.build import compile_model
from torchcanvas.graph.fximport import ImportResult, import_module
from torchcanvas.graph.fximport.ir import ImportFailed, Problem, Report


def import_checked(module, inputs, class_name: str | None = None) -> ImportResult:
    """`graph.fximport.import_module`, then the round-trip check: ImportFailed with the
    report when something cannot be mapped or the export differs."""
    start = time.perf_counter()
    result = import_module(module, inputs, class_name)
    model = result.project.model
    result.report.verified = verify(model, module, result.examples, result.outputs)
    result.report.seconds = time.perf_counter() - start
    return result


def verify(model, original: torch.nn.Module, examples: tuple, want) -> str:
    """A sentence saying what was checked; ImportFailed when the export differs. `want`
    is what the original returned on `examples`."""
    cls, _ = compile_model(model)
    with torch.device("meta"):  # the weights come from the original: no initialization
        exported = cls().eval()
    _same_parameters(original, exported)
    try:
        exported.load_state_dict(original.state_dict(), strict=True, assign=True)
    except RuntimeError as error:
        _fail(f"the export does not take the module's weights: {str(error)[:400]}")
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)  # as the trace was run: sampling layers draw the same numbers
        got = exported(*examples)
    difference = _difference(want, got)
    if difference is None:
        _fail("the export returns a different structure of outputs")
    if difference > 0:
        _fail(f"the export computes different outputs (largest difference {difference:.3g})")
    steps = _train_step(original, exported, examples)
    return (
        "checked: the exported class loads the weights with strict=True and gives identical "
        f"outputs{steps}"
    )


def parameter_tensors(module: torch.nn.Module) -> tuple[int, int]:
    """(distinct parameter tensors, their total size): a tied tensor counts once."""
    distinct = {id(p): p for _, p in module.named_parameters(remove_duplicate=False)}
    return len(distinct), sum(p.numel() for p in distinct.values())


def _same_parameters(original, exported) -> None:
    """The export holds as many parameter tensors, as large, as the original: nothing
    shared was duplicated and nothing was lost."""
    theirs, ours = parameter_tensors(original), parameter_tensors(exported)
    if theirs != ours:
        _fail(
            f"the export holds {ours[0]} parameter tensors of {ours[1]:,} values, the module "
            f"{theirs[0]} of {theirs[1]:,}: a shared or tied tensor would be duplicated"
        )


def _train_step(original, exported, examples: tuple) -> str:
    """One train-mode forward on copies; the batch-norm statistics must agree."""
    if not any("running_mean" in key for key in original.state_dict()):
        return ""
    first, second = copy.deepcopy(original).train(), copy.deepcopy(exported).train()
    with torch.no_grad():
        torch.manual_seed(0)
        first(*examples)
        torch.manual_seed(0)
        second(*examples)
    theirs, ours = first.state_dict(), second.state_dict()
    for key, value in theirs.items():
        if ("running" in key or "num_batches" in key) and not torch.equal(value, ours[key]):
            _fail(f"after one train-mode step, {key} differs")
    return " and identical batch-norm statistics after one train-mode step"


def _difference(want, got) -> float | None:
    if isinstance(want, torch.Tensor) and isinstance(got, torch.Tensor):
        if want.shape != got.shape:
            return None
        if not want.numel():
            return 0.0
        # Equal elements count as 0: bool masks cannot be subtracted, and -inf - -inf is nan.
        gap = (want.double() - got.double()).abs()
        return float(torch.where(want == got, 0.0, gap).max())
    if isinstance(want, (tuple, list)) and isinstance(got, (tuple, list)) and len(want) == len(got):
        parts = [_difference(a, b) for a, b in zip(want, got)]
        return None if None in parts else max(parts, default=0.0)
    return None


def _fail(text: str) -> None:
    report = Report()
    report.problems.append(Problem(text))
    raise ImportFailed(report)
