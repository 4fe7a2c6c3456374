"""Tied tensors and modules used twice: found before anything is drawn, and refused.

A project holds one tensor per node, so a tensor reachable under two names
(`lm_head.weight = wte.weight`) or a module with weights called twice (a Siamese encoder)
would come out as two independent copies: twice the parameters, and training would move
them apart. Until ties and shared modules can be represented, the import refuses them
with the names of both places, and never duplicates a tensor silently.
"""

from __future__ import annotations

import inspect

import torch
import torch.fx as fx
from torch import nn

from torchcanvas.graph.fximport.ir import Problem, frame_text, user_frames


def tied_tensors(module: nn.Module) -> list[Problem]:
    """One problem per tensor found under several names (parameters and buffers)."""
    first: dict[object, str] = {}
    problems = []
    named = list(module.named_parameters(remove_duplicate=False))
    named += list(module.named_buffers(remove_duplicate=False))
    for name, tensor in named:
        key = _identity(tensor)
        if key not in first:
            first[key] = name
            continue
        kind = "parameter" if isinstance(tensor, nn.Parameter) else "buffer"
        owner = name.rpartition(".")[0] or "the module"
        problems.append(
            Problem(
                f"{name} is the same tensor as {first[key]} (tied weights); TorchCanvas cannot "
                f"hold tied {kind}s yet: untie them (give {owner} its own {kind}) and "
                f"import again, or keep the tie in your own code"
            )
        )
    return problems


def _identity(tensor: torch.Tensor):
    """The same object, or the same memory viewed the same way (two Parameters on one
    storage are tied too: an optimizer step on one moves the other)."""
    if tensor.device.type == "meta" or tensor.numel() == 0:
        return id(tensor)
    return (tensor.data_ptr(), tuple(tensor.shape), tuple(tensor.stride()), tensor.dtype)


def shared_calls(module: nn.Module, graph: fx.Graph) -> list[Problem]:
    """One problem per module with weights that forward calls more than once (the
    outermost such module: a shared encoder, not each of its layers)."""
    first: dict[str, fx.Node] = {}  # module-stack key (`enc`, `enc@1`) -> its first node
    for node in graph.nodes:
        for key in node.meta.get("nn_module_stack") or {}:
            first.setdefault(key, node)
    calls: dict[str, list[fx.Node]] = {}
    for key, node in first.items():
        calls.setdefault(key.partition("@")[0], []).append(node)
    problems, reported = [], []
    for path in sorted(calls, key=lambda p: p.count(".")):
        uses = calls[path]
        if len(uses) < 2 or any(path.startswith(r + ".") for r in reported) or not path:
            continue
        held = module.get_submodule(path)
        if not any(True for _ in held.parameters()) and not any(True for _ in held.buffers()):
            continue
        reported.append(path)
        lines = list(dict.fromkeys(filter(None, (_call_line(held, node) for node in uses))))
        where = "; ".join(lines)
        problems.append(
            Problem(
                f"{path} ({type(held).__name__}) is called {len(uses)} times and holds "
                f"weights (shared weights); TorchCanvas cannot draw a module used twice yet: "
                f"give each use its own module, or import the parts separately",
                where,
            )
        )
    return problems


def _call_line(held: nn.Module, node: fx.Node) -> str:
    """`file.py:12: code` of the line that called `held` (the frame before its forward)."""
    frames = user_frames(node.stack_trace or "")
    try:
        source = inspect.getsourcefile(type(held).forward)
        lines, start = inspect.getsourcelines(type(held).forward)
    except (TypeError, OSError):
        source = None
    for index, (path, number, _) in enumerate(frames):
        inside = source and path == source and start <= number < start + len(lines)
        if inside:
            return frame_text(frames[index - 1]) if index else ""
    return frame_text(frames[-1]) if frames else ""
