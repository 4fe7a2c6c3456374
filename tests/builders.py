"""Small graphs for tests, and real tensors that fit their Inputs."""

from __future__ import annotations

import torch

from torchcanvas.graph.model import ModelGraph
from torchcanvas.graph.ports import TensorMeta
from torchcanvas.graph.registry import OUTPUT, LayerSpec


def library_with(*names: str):
    """A Library holding the named built-in blocks (and what they use)."""
    from torchcanvas.graph.builtin_blocks import builtin
    from torchcanvas.graph.library import Library

    library = Library()
    for name in names:
        if name not in library:
            for definition in builtin(name, library):
                library.add(definition)
    return library


def chain(model: ModelGraph, nodes: list[str]) -> None:
    """Connect `nodes` one after another (first output to first free input)."""
    for src, dst in zip(nodes, nodes[1:]):
        model.connect(src, dst)


def linear_graph(
    *layers: tuple[str, dict], shape=(1, 28, 28), dtype="float32", name="Model"
) -> ModelGraph:
    """Input(shape) -> layers... -> Output."""
    model = ModelGraph(name)
    nodes = [model.add_node("Input", params={"shape": list(shape), "dtype": dtype})]
    for type_name, params in layers:
        nodes.append(model.add_node(type_name, params=params))
    nodes.append(model.add_node("Output"))
    chain(model, nodes)
    return model


def source_for(model: ModelGraph, meta: TensorMeta, name: str) -> str:
    """A node whose output is `meta`: an Input, or a Parameter (cast) for a batch-less value."""
    if meta.batch_dim == 0:
        params = {"shape": list(meta.per_sample), "dtype": meta.dtype}
        return model.add_node("Input", name=name, params=params)
    if meta.batched:  # the batch elsewhere (an LSTM state): an Input permuted into place
        order = list(meta.shape)
        node = source_for(model, TensorMeta.sample(meta.per_sample, meta.dtype), name)
        dims = [0] + [i + 1 for i in range(len(order) - 1)]
        where = order.index(None)
        dims.insert(where, dims.pop(0))
        permute = model.add_node("Permute", params={"dims": dims})
        model.connect(node, permute)
        return permute
    node = model.add_node("Parameter", name=name, params={"shape": list(meta.shape)})
    if meta.dtype == "float32":
        return node
    cast = model.add_node("Cast", params={"dtype": meta.dtype})
    model.connect(node, cast)
    return cast


def single_node_graph(spec: LayerSpec, ins: dict, params: dict, name: str = "") -> ModelGraph:
    """Sources for each input port -> the node -> one Output per output port."""
    model = ModelGraph(name or f"Net{spec.type}")
    node = model.add_node(spec.type, params=params)
    if not spec.inputs:
        model.add_node("Input", params={"shape": [1]})  # a model needs one, used or not
    for index, (port, meta) in enumerate(ins.items()):
        model.connect(source_for(model, meta, f"in{index}"), node, dst_port=port)
    if spec.kind == OUTPUT:
        return model
    for port in model.output_ports(node):
        model.connect(node, model.add_node("Output", name=f"out_{port}"), src_port=port)
    return model


def example_inputs(model: ModelGraph, batch: int = 3, seed: int = 0) -> list[torch.Tensor]:
    """Real tensors for the model's Inputs, in forward() order (ids fit every Embedding)."""
    generator = torch.Generator().manual_seed(seed)
    analysis = model.analysis()
    tensors = []
    for node in analysis.inputs:
        meta = analysis.meta(node)
        shape = meta.concrete(batch)
        if meta.dtype == "bool":
            tensors.append(torch.rand(shape, generator=generator) > 0.5)
        elif meta.dtype in ("int64", "int32"):
            limit = _id_limit(model, node)
            dtype = getattr(torch, meta.dtype)
            tensors.append(torch.randint(0, limit, shape, generator=generator, dtype=dtype))
        else:
            tensors.append(
                torch.randn(shape, generator=generator, dtype=getattr(torch, meta.dtype))
            )
    return tensors


def _id_limit(model: ModelGraph, node: str) -> int:
    analysis = model.analysis()
    limits = [
        analysis.resolved(edge.dst)["num_embeddings"]
        for edge in model.outputs(node)
        if model.node_type(edge.dst) == "Embedding" and analysis.resolved(edge.dst)
    ]
    return min(limits, default=5)
