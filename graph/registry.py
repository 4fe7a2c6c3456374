"""The layer registry: every layer type is one LayerSpec, declared as data."""

from __future__ import annotations

from dataclasses import dataclass, field

from torchcanvas.graph.params import Param

# Node kinds: how codegen and shape inference treat a node.
INPUT = "input"
OUTPUT = "output"
MODULE = "module"  # an nn.Module: `self.name = nn.Type(...)`, `x = self.name(x)`
BLOCK = "block"  # a composite nn.Module whose class source is emitted into the file
ADD = "add"
CONCAT = "concat"

CATEGORIES = (
    "Input / Output",
    "Convolution",
    "Pooling",
    "Linear",
    "Activation",
    "Normalization",
    "Regularization",
    "Reshape",
    "Merge",
    "Blocks",
)


@dataclass(frozen=True)
class LayerSpec:
    """Everything TorchCanvas knows about one layer type."""

    type: str  # PyTorch class name; the `type` in project files
    category: str
    doc: str  # one line, shown as the palette tooltip
    prefix: str  # node names: conv1, conv2, ...
    kind: str = MODULE
    params: tuple[Param, ...] = ()
    min_inputs: int = 1
    max_inputs: int | None = 1  # None: any number (merge nodes)
    ranks: tuple[int, ...] | None = None  # accepted per-sample input ranks
    rank_text: str = ""  # e.g. "(C, H, W)", for messages
    key_params: tuple[str, ...] = ()  # shown on the node card
    block_source: str = ""  # class source for BLOCK kinds
    example_shape: tuple[int, ...] = (3, 16, 16)  # an input shape that suits it, for tests
    param_index: dict[str, Param] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "param_index", {p.name: p for p in self.params})

    def param(self, name: str) -> Param:
        """The Param called `name`; KeyError if there is none."""
        return self.param_index[name]

    @property
    def has_outputs(self) -> bool:
        """Whether other nodes can consume this node's tensor."""
        return self.kind != OUTPUT

    @property
    def variadic(self) -> bool:
        """Whether the node takes any number of inputs."""
        return self.max_inputs is None

    def start_params(self) -> dict:
        """Parameters a fresh node is created with: the required ones that are not auto."""
        return {p.name: p.initial for p in self.params if p.required and not p.auto}


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
