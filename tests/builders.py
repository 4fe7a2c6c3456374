"""Small graphs for tests, one per layer type."""

from __future__ import annotations

from torchcanvas.graph.model import ModelGraph
from torchcanvas.graph.registry import ADD, CONCAT, INPUT, OUTPUT, LayerSpec


def chain(model: ModelGraph, names: list[str]) -> None:
    """Connect `names` one after another."""
    for src, dst in zip(names, names[1:]):
        model.connect(src, dst)


def linear_graph(*layers: tuple[str, dict], shape=(1, 28, 28), name="Model") -> ModelGraph:
    """Input(shape) -> layers... -> Output."""
    model = ModelGraph(name)
    names = [model.add_node("Input", params={"shape": list(shape)})]
    for type_name, params in layers:
        names.append(model.add_node(type_name, params=params))
    names.append(model.add_node("Output"))
    chain(model, names)
    return model


def single_layer_graph(spec: LayerSpec) -> ModelGraph | None:
    """A graph that exercises `spec` once; None for Input and Output."""
    if spec.kind in (INPUT, OUTPUT):
        return None
    if spec.kind not in (ADD, CONCAT):
        return linear_graph((spec.type, {}), shape=spec.example_shape, name=f"Net{spec.type}")
    model = ModelGraph(f"Net{spec.type}")
    source = model.add_node("Input", params={"shape": list(spec.example_shape)})
    branch = model.add_node("ReLU")
    merge = model.add_node(spec.type)
    out = model.add_node("Output")
    model.connect(source, branch)
    model.connect(branch, merge)
    model.connect(source, merge)
    model.connect(merge, out)
    return model
