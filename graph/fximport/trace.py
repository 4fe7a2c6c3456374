"""Tracing a module with torch.fx, and running the trace once to learn every value.

Modules the registry knows are leaves; so are small modules from torch and torchvision
that hold their own weights and no children (kept as opaque layers). Everything else is
traced through, and each node remembers the modules it was called inside
(`nn_module_stack`), from which the importer rebuilds blocks and containers.
"""

from __future__ import annotations

import linecache
import traceback
from dataclasses import dataclass

import torch
import torch.fx as fx
from torch import nn

from torchcanvas.graph.fximport.leaves import is_leaf


class TraceFailure(Exception):
    """The module could not be traced; the message says where and what to do."""


@dataclass
class Traced:
    """The fx graph of a module, and what each node produced on the example inputs."""

    module: nn.Module
    graph: fx.Graph
    values: dict[fx.Node, object]  # tensors as Shapes; ints, tuples, ... as they are
    batch: int
    result: object  # what the module returned on the examples


class _Tracer(fx.Tracer):
    def __init__(self) -> None:
        super().__init__()
        self.record_stack_traces = True

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return is_leaf(m)


def trace(module: nn.Module, examples: tuple[torch.Tensor, ...]) -> Traced:
    """Trace `module` and run the trace on `examples` (batched tensors)."""
    tracer = _Tracer()
    try:
        graph = tracer.trace(module)
    except Exception as error:  # fx raises many kinds; each becomes a report
        raise TraceFailure(_explain(error, module)) from None
    values, result = _record(fx.GraphModule(tracer.root, graph), examples)
    return Traced(module, graph, values, examples[0].shape[0], result)


class _Recorder(fx.Interpreter):
    """Runs the trace and keeps each node's result (tensors by shape and dtype only)."""

    def __init__(self, gm: fx.GraphModule) -> None:
        super().__init__(gm)
        self.values: dict[fx.Node, object] = {}

    def run_node(self, n: fx.Node):
        result = super().run_node(n)
        self.values[n] = summary(result)
        return result


@dataclass(frozen=True)
class Shape:
    """A tensor the trace produced, by shape and dtype (the values are not kept)."""

    shape: tuple[int, ...]
    dtype: torch.dtype


def summary(value):
    """`value` with each tensor replaced by its Shape (nested tuples and lists kept)."""
    if isinstance(value, torch.Tensor):
        return Shape(tuple(value.shape), value.dtype)
    if isinstance(value, (tuple, list)):
        return (
            type(value)(summary(v) for v in value)
            if not hasattr(value, "_fields")
            else (tuple(summary(v) for v in value))
        )
    return value


def _record(gm: fx.GraphModule, examples) -> tuple[dict, object]:
    recorder = _Recorder(gm)
    # Seeded, so that the check of the export draws the same samples (torch.randn_like).
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        try:
            result = recorder.run(*examples)
        except Exception as error:
            raise TraceFailure(
                f"running the module on inputs of the given shapes failed: "
                f"{type(error).__name__}: {str(error)[:300]}; check --input-shape"
            ) from None
    return recorder.values, result


def _explain(error: Exception, root: nn.Module) -> str:
    """fx's message, the user's line that caused it, and what to do."""
    where = _user_line(error)
    if _in_packing(error):  # torch's own error there says nothing about packing
        return (
            f"{where}{_module_at(error, root)}packed sequences (pack_padded_sequence, "
            f"PackedSequence) cannot be imported: pass padded tensors and lengths instead, "
            f"and run the recurrent layer on the padded batch"
        )
    text = f"{type(error).__name__}: {str(error).strip().splitlines()[0][:300]}"
    advice = ""
    if "control flow" in str(error) or "iterate" in str(error) or "bool" in str(error):
        advice = (
            "; the forward decides something from a tensor's value, which a traced graph "
            "cannot represent: compute it from a constant argument instead, or move that "
            "part into its own module and keep it as one layer"
        )
    return f"{where}{text}{advice}"


def _in_packing(error: Exception) -> bool:
    """Whether the failure happened while packing or unpacking a PackedSequence."""
    frames = traceback.extract_tb(error.__traceback__)
    return "PackedSequence" in str(error) or any(
        frame.filename.replace("\\", "/").endswith("nn/utils/rnn.py") for frame in frames
    )


def _module_at(error: Exception, root: nn.Module) -> str:
    """`in encoder (Encoder): ` for the module whose forward the innermost user frame is in."""
    paths = {id(m): path for path, m in root.named_modules()}
    found = ""
    tb = error.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code  # the first argument of a method, whatever its name
        first = code.co_varnames[0] if code.co_argcount else None
        owner = tb.tb_frame.f_locals.get(first) if first else None
        if isinstance(owner, nn.Module) and id(owner) in paths:
            path = paths[id(owner)] or "the model"
            found = f"in {path} ({type(owner).__name__}): "
        tb = tb.tb_next
    return found


def _user_line(error: Exception) -> str:
    """`file.py:12: code` of the innermost frame outside torch, or ''."""
    frames = traceback.extract_tb(error.__traceback__)
    for frame in reversed(frames):
        path = frame.filename
        if "/torch/" in path or "/torchcanvas/" in path or path.endswith("fximport/trace.py"):
            continue
        code = (frame.line or linecache.getline(path, frame.lineno)).strip()
        return f"{path}:{frame.lineno}: {code}\n  "
    return ""
