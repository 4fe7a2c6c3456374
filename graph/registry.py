"""The layer registry: every layer type is one LayerSpec, declared as data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from torchcanvas.graph.params import Param
from torchcanvas.graph.ports import PortSpec, TensorMeta, slot_names

# Node kinds: how analysis and codegen treat a node.
INPUT = "input"  # an argument of forward()
OUTPUT = "output"  # a value forward() returns
MODULE = "module"  # an nn.Module attribute: `self.conv1 = nn.Conv2d(...)`, `x = self.conv1(x)`
FUNCTION = "function"  # an expression in forward(): `x + identity`, `torch.cat(...)`, `x[:, -1]`
PARAMETER = "parameter"  # a free learnable tensor: `self.cls_token = nn.Parameter(...)`
BLOCK = "block"  # an instance of a block definition: its class is written into the file
CONTAINER = "container"  # an nn.Sequential / nn.ModuleList holding a chain of layers

CATEGORIES = (
    "Input / Output",
    "Convolution",
    "Pooling",
    "Linear",
    "Recurrent",
    "Attention",
    "Activation",
    "Normalization",
    "Regularization",
    "Reshape",
    "Merge",
    "Math",
    "Blocks",
)

Metas = dict[str, TensorMeta]


@dataclass(frozen=True)
class ModuleCall:
    """How a module node passes its input ports to the module's forward().

    `args` are port names, or tuples of port names passed together as one tuple argument
    (an LSTM's `(h_0, c_0)`); an argument is left out when none of its ports is connected.
    `kwargs` are (keyword, port) pairs passed when the port is connected. `flags` are
    (keyword, output port) pairs that pass `keyword=False` while that output is unused
    (MultiheadAttention's `need_weights`).
    """

    args: tuple = ("input",)
    kwargs: tuple[tuple[str, str], ...] = ()
    flags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class LayerSpec:
    """Everything TorchCanvas knows about one layer type."""

    type: str  # PyTorch class name; the `type` in project files
    category: str
    doc: str  # one line, shown as the palette tooltip
    prefix: str  # node names: conv1, conv2, ...
    kind: str = MODULE
    params: tuple[Param, ...] = ()
    inputs: tuple[PortSpec, ...] = (PortSpec("input"),)
    outputs: tuple[PortSpec, ...] = (PortSpec("output"),)
    # (args, inputs) -> outputs; raises ShapeError. None: run the module on the meta device.
    infer: Callable[[dict, Metas], Metas] | None = None
    count: Callable[[dict], int] | None = None  # parameter count; None: build it on meta
    flops: Callable[[dict, Metas, Metas], int] | None = None  # per sample; None: none
    call: ModuleCall = ModuleCall()  # MODULE: how forward() is called
    returns: Any = "output"  # MODULE: the forward() result as port names (nested tuples)
    expr: Callable | None = None  # FUNCTION: (values, args, used ports) -> graph.expr tree
    output_count: Callable[[dict], int] | None = None  # slots of a variadic output port
    torch_class: str = ""  # how the class is written; default nn.<type>
    imports: tuple[str, ...] = ()  # extra import lines the generated file needs
    fixed_kwargs: tuple[tuple[str, Any], ...] = ()  # always passed (batch_first=True)
    key_params: tuple[str, ...] = ()  # shown on the node card
    examples: tuple[tuple[Metas, dict], ...] = ()  # inputs and params that suit it, for tests
    # MODULE layers that can also be written as a call (`F.relu(x)`, `torch.flatten(x, 1)`):
    # the function, the parameters always passed positionally, extra keyword text.
    function: str = ""
    function_args: tuple[str, ...] = ()
    function_kwargs: tuple[str, ...] = ()
    # Roles codegen reads (forward.py, init.py) instead of testing type names:
    merge: bool = False  # joins several values into one (forward() continues the trunk)
    residual_join: bool = False  # a skip connection ends here: its input is kept as `identity`
    samples: bool = False  # draws random numbers: differs per call, in eval too
    inline: bool = False  # FUNCTION: may be written inside its one reader's call argument
    call_args: bool = False  # FUNCTION: its inputs are call arguments (torch.exp(...))
    loop: bool = False  # CONTAINER: an nn.ModuleList, run by a for loop in forward()
    # MODULE: args -> (the expression that builds it, its import line), for a class that
    # a parameter names (External) rather than `torch_class`.
    constructor: Callable[[dict], tuple[Any, str]] | None = None
    id_limit: str = ""  # the parameter its integer ids stay below (Embedding's num_embeddings)
    param_index: dict[str, Param] = field(init=False, repr=False, compare=False)
    input_index: dict[str, PortSpec] = field(init=False, repr=False, compare=False)
    ctor_params: tuple[Param, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "param_index", {p.name: p for p in self.params})
        object.__setattr__(self, "ctor_params", tuple(p for p in self.params if p.ctor))
        object.__setattr__(self, "input_index", {p.name: p for p in self.inputs})
        if not self.torch_class and self.kind in (MODULE, BLOCK):
            prefix = "nn." if self.kind == MODULE else ""
            object.__setattr__(self, "torch_class", prefix + self.type)

    def param(self, name: str) -> Param:
        """The Param called `name`; KeyError if there is none."""
        return self.param_index[name]

    @property
    def variadic(self) -> bool:
        """Whether the node takes any number of inputs (merge nodes)."""
        return any(p.variadic for p in self.inputs)

    @property
    def has_outputs(self) -> bool:
        """Whether other nodes can consume this node's values."""
        return bool(self.outputs)

    def start_params(self) -> dict:
        """Parameters a fresh node is created with: the required ones that are not auto."""
        return {p.name: p.initial for p in self.params if p.required and not p.auto}

    def input_port(self, name: str) -> PortSpec | None:
        """The spec of input port `name` (a slot of a variadic port included)."""
        if name in self.input_index:
            return self.input_index[name]
        if name.isdigit():
            return next((p for p in self.inputs if p.variadic), None)
        return None

    def output_names(self, params: dict) -> list[str]:
        """The output ports of a node with these parameters, in order."""
        names: list[str] = []
        for port in self.outputs:
            if port.variadic:
                count = self.output_count(params) if self.output_count else 1
                names += slot_names(count)
            else:
                names.append(port.name)
        return names

    def output_port(self, name: str) -> PortSpec | None:
        """The spec of output port `name`."""
        for port in self.outputs:
            if port.name == name or (port.variadic and name.isdigit()):
                return port
        return None


_REGISTRY: dict[str, LayerSpec] = {}
_BUILTINS_LOADED = False


def register(spec: LayerSpec) -> LayerSpec:
    """Add a layer type; a second spec of the same type is an error."""
    _ensure_loaded()  # built-ins first, so an early registration never hides them
    if spec.type in _REGISTRY:
        raise ValueError(f"layer type {spec.type!r} is registered twice")
    if spec.category not in CATEGORIES:
        raise ValueError(f"{spec.type}: unknown category {spec.category!r}")
    _REGISTRY[spec.type] = spec
    return spec


def add_function_form(type_name: str, function: str, args=(), kwargs=()) -> None:
    """Let a module layer be written as a function call, chosen per node by its
    `functional` setting (imports of `F.relu(x)` keep that form)."""
    from dataclasses import replace

    from torchcanvas.graph.params import BOOL, Param

    spec = _REGISTRY[type_name]
    flag = Param(
        "functional",
        BOOL,
        f"Write it as a call, {function}(x), instead of a module attribute.",
        False,
        ctor=False,
    )
    _REGISTRY[type_name] = replace(
        spec,
        params=(*spec.params, flag),
        function=function,
        function_args=tuple(args),
        function_kwargs=tuple(kwargs),
    )


def get_spec(type_name: str) -> LayerSpec:
    """The spec of `type_name`; KeyError with a readable message if unknown."""
    _ensure_loaded()
    try:
        return _REGISTRY[type_name]
    except KeyError:
        raise KeyError(f"unknown layer type {type_name!r}") from None


def has_spec(type_name: str) -> bool:
    """Whether `type_name` is a registered layer type."""
    _ensure_loaded()
    return type_name in _REGISTRY


def all_specs() -> list[LayerSpec]:
    """Every registered spec, in declaration order."""
    _ensure_loaded()
    return list(_REGISTRY.values())


def _ensure_loaded() -> None:
    global _BUILTINS_LOADED
    if not _BUILTINS_LOADED:
        _BUILTINS_LOADED = True  # set first: graph.layers calls register() while importing
        import torchcanvas.graph.layers  # noqa: F401  (registers the built-ins)
