"""Helpers shared by the benchmarks: timing and the big graphs they run on."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "assets" / "examples"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from make_examples import _append, _expanded_block, _resnet_head, _resnet_stem, chain  # noqa: E402

from torchcanvas.graph.layout import arrange  # noqa: E402
from torchcanvas.graph.model import ModelGraph  # noqa: E402


def deep_resnet(blocks=(4, 6, 10, 6)) -> ModelGraph:
    """An expanded basic-block ResNet; the default has 198 nodes."""
    model = ModelGraph("DeepResNet")
    last = chain(model, *_resnet_stem())
    in_channels = 64
    for stage, count in enumerate(blocks, start=1):
        channels = 64 * 2 ** (stage - 1)
        for index in range(count):
            stride = 2 if index == 0 and stage > 1 else 1
            last = _expanded_block(
                model, last, f"layer{stage}_{index}", in_channels, channels, stride
            )
            in_channels = channels
    _resnet_head(model, last)
    arrange(model)
    return model


def long_densenet(blocks=(6, 12, 72, 50), growth: int = 32) -> ModelGraph:
    """A DenseNet deeper than DenseNet-264 drawn out flat: about 1,000 nodes by default."""
    model = ModelGraph("LongDenseNet")
    last = chain(
        model,
        ("Input", "input", {"shape": [3, 224, 224]}),
        ("Conv2d", "conv0", {"out_channels": 64, "kernel_size": 7, "stride": 2, "padding": 3}),
        ("BatchNorm2d", "norm0", {}),
        ("ReLU", "relu0", {}),
        ("MaxPool2d", "pool0", {"kernel_size": 3, "stride": 2, "padding": 1}),
    )
    channels = 64
    for block, layers in enumerate(blocks, start=1):
        for layer in range(1, layers + 1):
            last = _dense_layer(model, last, f"block{block}_layer{layer}", growth)
            channels += growth
        if block < len(blocks):
            channels //= 2
            prefix = f"transition{block}"
            last = _append(model, last, "BatchNorm2d", f"{prefix}_norm", {})
            last = _append(model, last, "ReLU", f"{prefix}_relu", {})
            conv = {"out_channels": channels, "kernel_size": 1, "bias": False}
            last = _append(model, last, "Conv2d", f"{prefix}_conv", conv)
            last = _append(model, last, "AvgPool2d", f"{prefix}_pool", {"kernel_size": 2})
    last = _append(model, last, "BatchNorm2d", "norm5", {})
    _resnet_head(model, _append(model, last, "ReLU", "relu5", {}))
    return model


def _dense_layer(model: ModelGraph, x: str, prefix: str, growth: int) -> str:
    out = _append(model, x, "BatchNorm2d", f"{prefix}_norm1", {})
    out = _append(model, out, "ReLU", f"{prefix}_relu1", {})
    bottleneck = {"out_channels": 4 * growth, "kernel_size": 1, "bias": False}
    out = _append(model, out, "Conv2d", f"{prefix}_conv1", bottleneck)
    out = _append(model, out, "BatchNorm2d", f"{prefix}_norm2", {})
    out = _append(model, out, "ReLU", f"{prefix}_relu2", {})
    conv = {"out_channels": growth, "kernel_size": 3, "padding": 1, "bias": False}
    out = _append(model, out, "Conv2d", f"{prefix}_conv2", conv)
    cat = model.add_node("Concat", f"{prefix}_cat", {"dim": 1})
    model.connect(x, cat)
    model.connect(out, cat)
    return cat


def clear_caches(model: ModelGraph | None = None) -> None:
    """Forget every cached layer analysis (and `model`'s block bodies and specs), so that
    the next analysis runs cold."""
    from torchcanvas.graph.analysis import infer_node
    from torchcanvas.graph.meta import _meta_module

    infer_node.cache_clear()
    _meta_module.cache_clear()
    library = model.library if model is not None else None
    if library is not None:
        library.analyses.clear()
        library._specs.clear()


def wide_graph(nodes: int = 300) -> ModelGraph:
    """A long MLP-style chain of about `nodes` nodes, for canvas benchmarks."""
    model = ModelGraph("Wide")
    last = model.add_node("Input", "input", {"shape": [64]})
    while len(model) < nodes - 1:
        last = _append(model, last, "Linear", model.unique_node_name("fc"), {"out_features": 64})
        last = _append(model, last, "ReLU", model.unique_node_name("relu"), {})
    _append(model, last, "Output", "output", {})
    arrange(model)
    return model


def timed(function, repeat: int = 5) -> tuple[float, object]:
    """Median wall time in ms over `repeat` runs, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def open_window():
    """A QApplication and an offscreen 1600x1000 MainWindow, for the window benchmarks."""
    import os
    import tempfile

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("TORCHCANVAS_HOME", tempfile.mkdtemp())
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from torchcanvas.app.ui.main_window import MainWindow

    window = MainWindow(remember_layout=False)
    window.resize(1600, 1000)
    window.show()
    app.processEvents()
    return app, window


def close_window(app, window) -> None:
    """Close without prompts, and let Qt delete the window while it is still running."""
    window.document.undo.set_clean()
    window.document._settings_dirty = False
    window.close()
    window.scene.detach()
    window.deleteLater()
    app.processEvents()


def wide_dag(nodes: int = 1000, seed: int = 0, fan_in: int = 3) -> ModelGraph:
    """A random wide DAG of 16-feature vectors: Linear and ReLU nodes, and Adds that read
    up to `fan_in` earlier values; every value nobody reads is summed into the Output."""
    import random

    rng = random.Random(seed)
    model = ModelGraph("WideDag")
    values = [model.add_node("Input", "input", {"shape": [16]})]
    while len(model) < nodes - 2:
        kind = rng.random() if len(values) > 1 else 0.0
        if kind < 0.4:
            node = model.add_node("Linear", None, {"out_features": 16})
            model.connect(rng.choice(values), node)
        elif kind < 0.6:
            node = model.add_node("ReLU")
            model.connect(rng.choice(values), node)
        else:
            node = model.add_node("Add")
            for source in rng.sample(values, min(len(values), rng.randint(2, fan_in))):
                model.connect(source, node)
        values.append(node)
    unread = [v for v in values if not model.outputs(v)]
    total = model.add_node("Add")
    for value in unread if len(unread) > 1 else unread + values[:1]:
        model.connect(value, total)
    model.connect(total, model.add_node("Output"))
    return model


def merge_project(adds: int, fan_in: int = 1024, sources: int = 8) -> dict:
    """A project document: a chain of `adds` Add nodes of `fan_in` inputs each."""
    # Each Add reads the one before it, then `sources` ReLUs of the Input in turn; 464 of
    # them make the 19 MB file of the many-input-merge issue.
    nodes = [_node("n1", "input", "Input", {"shape": [16]})]
    edges = []
    relus = []
    for index in range(sources):
        relus.append(f"r{index}")
        nodes.append(_node(relus[-1], f"relu{index + 1}", "ReLU"))
        edges.append({"from": "n1", "to": relus[-1]})
    last = None
    for index in range(adds):
        add = f"a{index}"
        nodes.append(_node(add, f"add{index + 1}", "Add"))
        reads = ([last] if last else []) + [relus[i % sources] for i in range(fan_in)]
        edges += [
            {"from": src, "to": add, "to_port": slot} for slot, src in enumerate(reads[:fan_in])
        ]
        last = add
    nodes.append(_node("out", "output", "Output"))
    edges.append({"from": last, "to": "out"})
    return {"format": "torchcanvas", "version": 3, "name": "Merges", "nodes": nodes, "edges": edges}


def _node(node_id: str, name: str, type_name: str, params: dict | None = None) -> dict:
    return {"id": node_id, "name": name, "type": type_name, "params": params or {}}
