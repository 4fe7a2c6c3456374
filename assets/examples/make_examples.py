"""Regenerate the bundled example projects: `python assets/examples/make_examples.py`."""

from __future__ import annotations

from pathlib import Path

from torchcanvas.graph.layout import arrange
from torchcanvas.graph.model import ModelGraph
from torchcanvas.graph.project import Project, save_project
from torchcanvas.graph.settings import default_training

HERE = Path(__file__).parent


def chain(model: ModelGraph, *layers) -> str:
    """Add `(type, name, params)` layers connected one after another; returns the last."""
    previous = None
    for type_name, name, params in layers:
        name = model.add_node(type_name, name, params)
        if previous:
            model.connect(previous, name)
        previous = name
    return previous


def mlp() -> Project:
    """784-256-10 with ReLU."""
    m = ModelGraph("MLP")
    chain(
        m,
        ("Input", "input", {"shape": [1, 28, 28]}),
        ("Flatten", "flatten", {}),
        ("Linear", "fc1", {"out_features": 256}),
        ("ReLU", "relu", {}),
        ("Linear", "fc2", {"out_features": 10}),
        ("Output", "output", {}),
    )
    return Project(m, _training(data="mnist"))


def mlp_batchnorm() -> Project:
    """A fully connected network with BatchNorm1d and dropout."""
    m = ModelGraph("MLPBatchNorm")
    chain(
        m,
        ("Input", "input", {"shape": [1, 28, 28]}),
        ("Flatten", "flatten", {}),
        ("Linear", "fc1", {"out_features": 256}),
        ("BatchNorm1d", "bn1", {}),
        ("ReLU", "relu1", {}),
        ("Dropout", "dropout", {"p": 0.2}),
        ("Linear", "fc2", {"out_features": 128}),
        ("BatchNorm1d", "bn2", {}),
        ("ReLU", "relu2", {}),
        ("Linear", "fc3", {"out_features": 10}),
        ("Output", "output", {}),
    )
    return Project(m, _training(data="mnist"))


def small_cnn() -> Project:
    """Conv 16 3x3, ReLU, 2x2 max-pool, linear to 10, for 28x28 digits."""
    m = ModelGraph("SmallCNN")
    chain(
        m,
        ("Input", "input", {"shape": [1, 28, 28]}),
        ("Conv2d", "conv", {"out_channels": 16, "kernel_size": 3, "padding": 1}),
        ("ReLU", "relu", {}),
        ("MaxPool2d", "pool", {"kernel_size": 2}),
        ("Flatten", "flatten", {}),
        ("Linear", "fc", {"out_features": 10}),
        ("Output", "output", {}),
    )
    return Project(m, _training(data="mnist"))


def digit_classifier() -> Project:
    """The tutorial DigitClassifier: conv1, conv2, fc, log-softmax (train with NLLLoss)."""
    m = ModelGraph("DigitClassifier")
    chain(
        m,
        ("Input", "input", {"shape": [1, 28, 28]}),
        ("Conv2d", "conv1", {"out_channels": 16, "kernel_size": 3, "padding": 1}),
        ("ReLU", "relu1", {}),
        ("MaxPool2d", "pool1", {"kernel_size": 2}),
        ("Conv2d", "conv2", {"out_channels": 32, "kernel_size": 3, "padding": 1}),
        ("ReLU", "relu2", {}),
        ("MaxPool2d", "pool2", {"kernel_size": 2}),
        ("Flatten", "flatten", {}),
        ("Linear", "fc", {"out_features": 10}),
        ("LogSoftmax", "log_softmax", {"dim": 1}),
        ("Output", "output", {}),
    )
    return Project(m, _training(data="mnist", loss="NLLLoss"))


def digits_cnn() -> Project:
    """A CNN for scikit-learn's bundled 8x8 digits: the default project."""
    m = ModelGraph("DigitsCNN")
    chain(
        m,
        ("Input", "input", {"shape": [1, 8, 8]}),
        ("Conv2d", "conv1", {"out_channels": 16, "kernel_size": 3, "padding": 1}),
        ("BatchNorm2d", "bn1", {}),
        ("ReLU", "relu1", {}),
        ("Conv2d", "conv2", {"out_channels": 32, "kernel_size": 3, "padding": 1}),
        ("BatchNorm2d", "bn2", {}),
        ("ReLU", "relu2", {}),
        ("MaxPool2d", "pool", {"kernel_size": 2}),
        ("Flatten", "flatten", {}),
        ("Linear", "fc1", {"out_features": 64}),
        ("ReLU", "relu3", {}),
        ("Dropout", "dropout", {"p": 0.25}),
        ("Linear", "fc2", {"out_features": 10}),
        ("Output", "output", {}),
    )
    return Project(m, _training(data="digits", lr=0.003, batch_size=32))


_STAGES = ((64, 1), (128, 2), (256, 2), (512, 2))


def resnet18() -> Project:
    """ResNet-18 for 3x224x224 images and 1000 classes, from ResidualBlocks."""
    m = ModelGraph("ResNet18")
    last = chain(m, *_resnet_stem())
    for stage, (channels, stride) in enumerate(_STAGES, start=1):
        for index in range(2):
            params = {"out_channels": channels}
            if index == 0 and stride != 1:
                params["stride"] = stride
            last = _append(m, last, "ResidualBlock", f"layer{stage}_{index}", params)
    _resnet_head(m, last)
    return Project(m, _training(data="image_folder"))


def resnet18_expanded() -> Project:
    """ResNet-18 with every block drawn out: convs, batch-norms and Add skip connections."""
    m = ModelGraph("ResNet18Expanded")
    last = chain(m, *_resnet_stem())
    in_channels = 64
    for stage, (channels, stride) in enumerate(_STAGES, start=1):
        for index in range(2):
            block_stride = stride if index == 0 else 1
            last = _expanded_block(
                m, last, f"layer{stage}_{index}", in_channels, channels, block_stride
            )
            in_channels = channels
    _resnet_head(m, last)
    return Project(m, _training(data="image_folder"))


def _resnet_stem():
    return (
        ("Input", "input", {"shape": [3, 224, 224]}),
        (
            "Conv2d",
            "conv1",
            {"out_channels": 64, "kernel_size": 7, "stride": 2, "padding": 3, "bias": False},
        ),
        ("BatchNorm2d", "bn1", {}),
        ("ReLU", "relu", {}),
        ("MaxPool2d", "maxpool", {"kernel_size": 3, "stride": 2, "padding": 1}),
    )


def _resnet_head(m: ModelGraph, last: str) -> None:
    last = _append(m, last, "AdaptiveAvgPool2d", "avgpool", {"output_size": 1})
    last = _append(m, last, "Flatten", "flatten", {})
    last = _append(m, last, "Linear", "fc", {"out_features": 1000})
    _append(m, last, "Output", "output", {})


def _append(m: ModelGraph, after: str, type_name: str, name: str, params: dict) -> str:
    name = m.add_node(type_name, name, params)
    m.connect(after, name)
    return name


def _expanded_block(m: ModelGraph, x: str, prefix: str, cin: int, cout: int, stride: int):
    conv = {"out_channels": cout, "kernel_size": 3, "padding": 1, "bias": False}
    first = dict(conv, stride=stride) if stride != 1 else conv
    out = _append(m, x, "Conv2d", f"{prefix}_conv1", first)
    out = _append(m, out, "BatchNorm2d", f"{prefix}_bn1", {})
    out = _append(m, out, "ReLU", f"{prefix}_relu1", {})
    out = _append(m, out, "Conv2d", f"{prefix}_conv2", conv)
    out = _append(m, out, "BatchNorm2d", f"{prefix}_bn2", {})
    identity = x
    if stride != 1 or cin != cout:
        # Named like torchvision's `downsample.0` / `downsample.1` so its weights map over.
        identity = _append(
            m,
            x,
            "Conv2d",
            f"{prefix}_downsample_0",
            {"out_channels": cout, "kernel_size": 1, "stride": stride, "bias": False},
        )
        identity = _append(m, identity, "BatchNorm2d", f"{prefix}_downsample_1", {})
    add = _append(m, out, "Add", f"{prefix}_add", {})
    m.connect(identity, add)
    return _append(m, add, "ReLU", f"{prefix}_relu2", {})


def _training(**overrides) -> dict:
    settings = default_training()
    settings.update(overrides)
    return settings


EXAMPLES = {
    "mlp": mlp,
    "mlp_batchnorm": mlp_batchnorm,
    "small_cnn": small_cnn,
    "digit_classifier": digit_classifier,
    "digits_cnn": digits_cnn,
    "resnet18": resnet18,
    "resnet18_expanded": resnet18_expanded,
}


def main() -> None:
    """Write every example next to this script."""
    for name, make in EXAMPLES.items():
        project = make()
        arrange(project.model)
        save_project(project, HERE / f"{name}.json")
        print(f"wrote {name}.json ({len(project.model)} nodes)")


if __name__ == "__main__":
    main()
