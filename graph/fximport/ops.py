"""From fx nodes to ops: leaf modules, functions and tensor methods as registry nodes.

Values that are not tensors (sizes, shapes, the batch size) are worked out from the
recorded run; ops that only check or move tensors (`torch._assert`, `.contiguous()`) are
dropped. Whatever has no registry counterpart becomes a Problem with its source line.
"""

from __future__ import annotations

import operator
import re

import torch
import torch.fx as fx
import torch.nn.functional as F

import torchcanvas.graph.fximport.elementwise  # noqa: F401  (adds its handlers to the tables)
import torchcanvas.graph.fximport.masks  # noqa: F401  (adds its handlers to the tables)
from torchcanvas.graph.fximport.calls import FUNCTIONS, METHODS, Downstream, Unmapped
from torchcanvas.graph.fximport.ir import Op, Problem, Ref, frame_text, user_frames
from torchcanvas.graph.fximport.leaves import (
    LeafError,
    class_path,
    external_args,
    registry_args,
    registry_type,
)
from torchcanvas.graph.fximport.trace import Shape, Traced
from torchcanvas.graph.params import Arguments
from torchcanvas.graph.registry import get_spec

ZERO_STATE = "zero-state"  # torch.zeros(...) fed to a recurrent layer's h_0 / c_0


class Batch:
    """The batch size, as read from a tensor (`x.size(0)`), remembering which tensor."""

    def __init__(self, tensor: Ref, value: int) -> None:
        self.tensor, self.value = tensor, value


class Converter:
    """Walks a trace and produces ops; `values` maps each fx node to what it stands for."""

    def __init__(self, traced: Traced, input_names: list[str], shapes: list) -> None:
        self.traced = traced
        self.ops: list[Op] = []
        self.values: dict[fx.Node, object] = {}
        self.problems: list[Problem] = []
        self.input_names, self.input_specs = input_names, shapes
        self.leaf_calls: dict[str, int] = {}
        self.shapes: dict[Ref, Shape] = {}  # what each value was on the example inputs

    def run(self) -> list[Op]:
        """Every op, in execution order."""
        placeholders = 0
        for node in self.traced.graph.nodes:
            try:
                if node.op == "placeholder":
                    self.values[node] = self._input(node, placeholders)
                    placeholders += 1
                elif node.op == "output":
                    self._outputs(node)
                else:
                    self.values[node] = getattr(self, f"_{node.op}")(node)
                self._remember(self.values.get(node), self.recorded(node))
            except Downstream:
                self.values[node] = None
            except Unmapped as error:
                self.problems.append(Problem(str(error), _line(node)))
                self.values[node] = None
        return self.ops

    def _remember(self, value, recorded) -> None:
        if isinstance(value, Ref) and isinstance(recorded, Shape):
            self.shapes.setdefault(value, recorded)
        elif isinstance(value, tuple) and isinstance(recorded, (tuple, list)):
            for part, shape in zip(value, recorded):
                self._remember(part, shape)

    # ----- helpers ----------------------------------------------------------------------
    def add(self, node: fx.Node, type_name: str, params: dict, inputs: dict, **extra) -> Ref:
        """A new op; returns its first output."""
        op = Op(
            len(self.ops),
            type_name,
            extra.pop("name", _base_name(node)),
            params,
            inputs,
            extra.pop("scope", _scope(node)),
            _line(node),
            **extra,
        )
        self.ops.append(op)
        return Ref(
            op.id, get_spec(type_name).outputs[0].name if get_spec(type_name).outputs else ""
        )

    def value(self, arg):
        """What an fx argument stands for: a Ref, a number, a Batch, a nested tuple."""
        if isinstance(arg, fx.Node):
            if arg not in self.values or self.values[arg] is None:
                raise Downstream(arg.name)
            return self.values[arg]
        if isinstance(arg, (tuple, list)):
            return type(arg)(self.value(a) for a in arg)
        if isinstance(arg, slice):
            return slice(self.value(arg.start), self.value(arg.stop), self.value(arg.step))
        return arg

    def recorded(self, node: fx.Node):
        """What the node produced on the example inputs (tensors as Shapes)."""
        return self.traced.values.get(node)

    def tensor(self, arg) -> Ref:
        """The Ref of a tensor argument; Unmapped for anything else."""
        value = self.value(arg)
        if not isinstance(value, Ref):
            raise Unmapped(f"expected a tensor, got {value!r:.40}")
        return value

    # ----- node kinds -------------------------------------------------------------------
    def _input(self, node: fx.Node, index: int) -> Ref:
        shape, dtype = self.input_specs[index]
        return self.add(
            node,
            "Input",
            {"shape": list(shape), "dtype": dtype},
            {},
            name=self.input_names[index],
            scope=(),
        )

    def _outputs(self, node: fx.Node) -> None:
        result = self.value(node.args[0])
        refs = list(result) if isinstance(result, (tuple, list)) else [result]
        for index, ref in enumerate(refs):
            if not isinstance(ref, Ref):
                self.problems.append(Problem(f"forward returns {ref!r:.40}, not a tensor", ""))
                continue
            name = "output" if len(refs) == 1 else f"output{index + 1}"
            self.add(node, "Output", {}, {"input": ref}, name=name, scope=())

    def _get_attr(self, node: fx.Node):
        owner, _, attr = node.target.rpartition(".")
        module = self.traced.module.get_submodule(owner) if owner else self.traced.module
        value = getattr(module, attr)
        if not isinstance(value, torch.nn.Parameter):
            raise Unmapped(
                f"the buffer {node.target} is used in forward(); only nn.Parameters can be "
                f"imported as free tensors"
            )
        if value.dim() > 5:
            raise Unmapped(
                f"the nn.Parameter {node.target} has {value.dim()} dimensions "
                f"{list(value.shape)}; a TorchCanvas Parameter has at most 5"
            )
        params = {"shape": list(value.shape)}
        return self.add(node, "Parameter", params, {}, name=attr, scope=_owner_scope(node, owner))

    def _call_module(self, node: fx.Node) -> object:
        module = self.traced.module.get_submodule(node.target)
        calls = self.leaf_calls.get(node.target, 0)
        self.leaf_calls[node.target] = calls + 1
        attr = node.target.rpartition(".")[2]
        name = attr if not calls else f"{attr}_{calls + 1}"
        type_name = registry_type(module)
        try:
            if type_name is not None:
                params = registry_args(module, get_spec(type_name))
            else:
                type_name = "External"
                params = {
                    "cls": class_path(type(module)),
                    "arguments": Arguments(tuple(external_args(module).items())),
                }
        except LeafError as error:
            raise Unmapped(f"{node.target} ({type(module).__name__}): {error}") from None
        spec = get_spec(type_name)
        inputs = self._module_inputs(node, spec)
        ref = self.add(
            node, type_name, params, inputs, name=name, scope=_scope(node)[:-1], module=node.target
        )
        return _outputs_of(spec, ref)

    def _module_inputs(self, node: fx.Node, spec) -> dict[str, Ref]:
        inputs: dict[str, Ref] = {}
        for item, arg in zip(spec.call.args, node.args):
            if isinstance(item, tuple):  # (h_0, c_0)
                value = self.value(arg)
                parts = value if isinstance(value, (tuple, list)) else (value,)
                for port, part in zip(item, parts):
                    if part is not ZERO_STATE:
                        inputs[port] = self._as_ref(part)
            else:
                value = self.value(arg)
                if value is not ZERO_STATE and value is not None:
                    inputs[item] = self._as_ref(value)
        keywords = dict(spec.call.kwargs)
        for key, arg in node.kwargs.items():
            if key in keywords and arg is not None:
                inputs[keywords[key]] = self.tensor(arg)
            elif key not in dict(spec.call.flags) and key != "need_weights":
                raise Unmapped(f"{node.target}: the keyword {key}= cannot be passed")
        if len(node.args) > len(spec.call.args):
            raise Unmapped(f"{node.target}: called with more arguments than it takes")
        return inputs

    def _as_ref(self, value) -> Ref:
        if not isinstance(value, Ref):
            raise Unmapped(f"expected a tensor, got {value!r:.40}")
        return value

    def _call_function(self, node: fx.Node):
        handler = FUNCTIONS.get(node.target)
        if handler is None:
            raise Unmapped(f"{_target_name(node)}() has no TorchCanvas counterpart")
        return handler(self, node)

    def _call_method(self, node: fx.Node):
        handler = METHODS.get(node.target)
        if handler is None:
            raise Unmapped(f"the tensor method .{node.target}() has no TorchCanvas counterpart")
        return handler(self, node)


def _outputs_of(spec, ref: Ref):
    """A module's result as Refs, shaped like its forward's return (LSTM: out, (h, c))."""

    def build(structure):
        if isinstance(structure, str):
            return Ref(ref.op, structure)
        return tuple(build(part) for part in structure)

    return build(spec.returns)


def _base_name(node: fx.Node) -> str:
    """fx's node name without the number fx adds across the whole trace (`add_3` -> `add`),
    so that the same code in two instances gives the same names."""
    return re.sub(r"_\d+$", "", node.name) or "op"


def _scope(node: fx.Node) -> tuple[str, ...]:
    stack = node.meta.get("nn_module_stack") or {}
    return tuple(stack)


def _owner_scope(node: fx.Node, owner: str) -> tuple[str, ...]:
    """A Parameter belongs to the module that holds it (`encoder.pos_embedding`)."""
    scope = _scope(node)
    while scope and scope[-1].split("@")[0] != owner and owner:
        scope = scope[:-1]
    return scope


def _line(node: fx.Node) -> str:
    """`file.py:12: code` of the innermost frame of the node's stack trace outside torch."""
    frames = user_frames(node.stack_trace or "")
    return frame_text(frames[-1]) if frames else ""


def _target_name(node: fx.Node) -> str:
    target = node.target
    module = getattr(target, "__module__", "") or ""
    name = getattr(target, "__name__", str(target))
    if target in vars(operator).values():
        return f"operator.{name}"
    if module.startswith("torch.nn.functional") or target in vars(F).values():
        return f"F.{name}"
    return f"{module.replace('torch._C._VariableFunctions', 'torch')}.{name}".lstrip(".")


__all__ = ["Batch", "Converter", "Shape", "ZERO_STATE"]
