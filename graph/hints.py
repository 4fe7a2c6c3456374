"""Messages for values that do not fit a port, each with a fix that would work."""

from __future__ import annotations

from torchcanvas.graph.autoparams import RULES
from torchcanvas.graph.ports import FLOAT, INTEGER, PortSpec, TensorMeta, format_dims

# Categories that pass the blame for a wrong size on to the node before them.
_TRANSPARENT = {"Activation", "Regularization", "Reshape", "Normalization", "Pooling"}
_KINDS = {"float": "a float tensor", "int": "integer token ids (int64)", "bool": "a bool mask"}


def port_problem(model, node: str, spec, port_name: str, meta: TensorMeta) -> str | None:
    """Why `meta` cannot go into input `port_name` of `node`, or None."""
    edge = model.input_edge(node, port_name)
    return value_problem(model, spec, port_name, meta, edge.src if edge else None)


def value_problem(model, spec, port_name: str, meta: TensorMeta, src: str | None) -> str | None:
    """Why a value from node `src` cannot go into input `port_name` of a `spec` node."""
    port = spec.input_port(port_name)
    if port is None:
        return None
    source = model.node_name(src) if src else "its input"
    where = "" if len(spec.inputs) == 1 else f"{port.name} "
    if port.batched and not meta.batched:
        return (
            f"{where}expects a tensor with a batch, but {source} gives {meta.text()}; "
            f"feed it through an Expand (like: a batched tensor) first"
        )
    if port.batched and port.batch_first and meta.batch_dim != 0:
        return (
            f"{where}expects the batch as the first dimension but receives {meta.text()} "
            f"from {source}; add a Permute that puts the batch (N) first"
        )
    if meta.dtype not in port.dtypes:
        return (
            f"{where}expects {_dtype_text(port)} but receives {meta.dtype} from {source}; "
            f"{_dtype_fix(spec, port, meta)}"
        )
    if port.ranks is not None and meta.batched and meta.rank not in port.ranks:
        return (
            f"{where}expects a {port.rank_text or _ranks_text(port)} input but receives "
            f"{meta.text()} ({meta.rank}-D); {rank_hint(model, src, spec, port, meta)}"
        )
    return None


def _dtype_text(port: PortSpec) -> str:
    kinds = []
    if any(d in FLOAT for d in port.dtypes):
        kinds.append(_KINDS["float"])
    if any(d in INTEGER for d in port.dtypes):
        kinds.append(_KINDS["int"])
    if "bool" in port.dtypes:
        kinds.append(_KINDS["bool"])
    return " or ".join(kinds)


def _dtype_fix(spec, port: PortSpec, meta: TensorMeta) -> str:
    if meta.dtype in INTEGER and set(port.dtypes) <= set(FLOAT):
        return "token ids go into an Embedding first; for numbers add a Cast to float32"
    if meta.is_float and set(port.dtypes) <= set(INTEGER):
        return "feed it token ids from an int64 Input, or add a Cast to int64"
    if meta.dtype == "bool":
        return "add a Cast to float32"
    wanted = "float32" if any(d in FLOAT for d in port.dtypes) else port.dtypes[0]
    return f"add a Cast to {wanted}"


def _ranks_text(port: PortSpec) -> str:
    return " or ".join(f"{r}-D" for r in port.ranks)


def rank_hint(model, src: str | None, spec, port: PortSpec, meta: TensorMeta) -> str:
    """A change that would give the port a tensor of the rank it needs."""
    wanted, got = max(port.ranks), meta.rank
    source = model.node_type(src) if src else None
    text = port.rank_text
    if port is not spec.inputs[0]:
        return f"connect a {text} tensor here"
    if got < wanted:
        if source == "Flatten":
            return f"remove {model.node_name(src)} or move it after this layer"
        if wanted == 3 and got == 1:
            return "add an Unflatten before it to make (C, H, W), or check the Input shape"
        if wanted == 2 and got == 1:
            dim = 1 if text.startswith("(C") else -1
            return f"add an Unsqueeze (dim={dim}) before it to make {text}"
        return "check the Input shape or the layers before it"
    if spec.type == "BatchNorm1d" and got == 3:
        return "use BatchNorm2d for images"
    if wanted == 2 and got == 3 and text.startswith("(C"):
        return "use the 2-D layer for images, or Flatten(start_dim=2) before it to make (C, H*W)"
    if wanted == 2 and got == 3:
        return (
            "turn the image into a sequence first: Flatten(start_dim=2) then "
            "Transpose(1, 2) makes (H*W, C)"
        )
    if wanted == 1:
        return "add a Flatten before it"
    return "check the Input shape or the layers before it"


def pinned_message(model, node: str, param, pinned, meta: TensorMeta, port: str, env) -> str:
    """A pinned auto value disagrees with the incoming tensor: say which and what to change.

    `env` holds the values known so far, by (node, output port).
    """
    rule = RULES[param.auto]
    inferred = rule.value(meta)
    shown = format_dims(pinned) if isinstance(pinned, tuple) else pinned
    got = format_dims(inferred) if isinstance(inferred, tuple) else inferred
    source, detail = blame(model, node, port, env)
    if detail is not None and len(detail.per_sample) > 1:
        got = f"{got} ({detail.text()})"
    fix = f"unpin {param.name}" + (f" or change {model.node_name(source)}" if source else "")
    return f"expects {shown} {rule.label} but receives {got}; {fix}"


def blame(model, node: str, port: str, env) -> tuple[str | None, TensorMeta | None]:
    """The upstream node whose settings decide `node`'s input size, and what a Flatten saw."""
    flattened = None
    edge = model.input_edge(node, port)
    while edge is not None:
        current = edge.src
        spec = model.spec(current)
        upstream = model.inputs(current)
        if spec.type == "Flatten" and flattened is None and upstream:
            flattened = env.get((upstream[0].src, upstream[0].src_port))
        if spec.category not in _TRANSPARENT or not upstream:
            return current, flattened
        edge = upstream[0]
    return None, flattened
