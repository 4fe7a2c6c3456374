"""Regenerate the bundled example projects: `python assets/examples/make_examples.py`."""

from __future__ import annotations

import sys
from pathlib import Path

from torchcanvas.graph.layout import arrange
from torchcanvas.graph.model import ModelGraph
from torchcanvas.graph.project import Project, save_project
from torchcanvas.graph.settings import default_training

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
import block_examples  # noqa: E402


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
    """ResNet-18 from BasicBlocks in four nn.Sequential stages: torchvision's state_dict."""
    return Project(
        block_examples.resnet("ResNet18", "BasicBlock", (2, 2, 2, 2), "out_channels"),
        _training(data="image_folder"),
    )


def finetune_resnet18() -> Project:
    """ResNet-18 fine-tuned on your own images: a 3-class head, everything before it frozen,
    starting from data/shapes_start.pt (written by data/make_shapes.py)."""
    import networkx as nx

    from torchcanvas.app.editing.flag_edits import HOLDERS

    m = block_examples.resnet("FineTunedResNet18", "BasicBlock", (2, 2, 2, 2), "out_channels")
    m.set_param(m.id_of("input"), "shape", [3, 64, 64])
    head = m.id_of("fc")
    m.set_param(head, "out_features", 3)
    for node in nx.ancestors(m.nx_graph, head):
        if m.spec(node).kind in HOLDERS:  # as Freeze everything before this node does
            m.set_flag(node, "frozen", True)
    settings = _training(
        data="image_folder",
        data_root="data/shapes",
        weights_file="data/shapes_start.pt",
        lr=0.01,
        batch_size=32,
        epochs=8,
    )
    return Project(m, settings)


def resnet50() -> Project:
    """ResNet-50 from Bottlenecks: torchvision's state_dict."""
    return Project(
        block_examples.resnet("ResNet50", "Bottleneck", (3, 4, 6, 3), "planes"),
        _training(data="image_folder"),
    )


def mobilenet_v2() -> Project:
    """MobileNetV2 from InvertedResiduals: torchvision's state_dict."""
    return Project(block_examples.mobilenet_v2(), _training(data="image_folder"))


def densenet121() -> Project:
    """DenseNet-121 from DenseLayers: torchvision's state_dict."""
    return Project(block_examples.densenet121(), _training(data="image_folder"))


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


def text_lstm() -> Project:
    """Token ids -> Embedding -> LSTM -> last step -> Linear: a text classifier."""
    m = ModelGraph("TextLSTM")
    chain(
        m,
        ("Input", "tokens", {"shape": [32], "dtype": "int64"}),
        ("Embedding", "embedding", {"num_embeddings": 5000, "embedding_dim": 64}),
        ("LSTM", "lstm", {"hidden_size": 128}),
        ("Select", "last_step", {"dim": 1, "index": -1}),
        ("Linear", "fc", {"out_features": 2}),
        ("Output", "output", {}),
    )
    return Project(m, _training())


def transformer_classifier() -> Project:
    """Token ids -> embedding + learned positions -> two encoder layers -> mean -> Linear."""
    m = ModelGraph("TransformerClassifier")
    tokens = chain(
        m,
        ("Input", "tokens", {"shape": [32], "dtype": "int64"}),
        ("Embedding", "embedding", {"num_embeddings": 5000, "embedding_dim": 64}),
    )
    positions = m.add_node(
        "Parameter", "pos_embedding", {"shape": [1, 32, 64], "init": "trunc_normal"}
    )
    add = _append(m, tokens, "Add", "add_positions", {})
    m.connect(positions, add)
    last = add
    for index in (1, 2):
        params = {"nhead": 4, "dim_feedforward": 128, "dropout": 0.1, "activation": "gelu"}
        last = _append(m, last, "TransformerEncoderLayer", f"encoder{index}", params)
    last = _append(m, last, "Mean", "pool", {"dim": [1]})
    last = _append(m, last, "Linear", "head", {"out_features": 2})
    _append(m, last, "Output", "output", {})
    return Project(m, _training())


# torchvision's MobileNetV2 settings: expansion t, channels c, repeats n, first stride s.
def se_cnn() -> Project:
    """A CIFAR-sized CNN whose blocks end in squeeze-excitation gates (x * sigmoid(...))."""
    m = ModelGraph("SqueezeExcitationCNN")
    last = m.add_node("Input", "input", {"shape": [3, 32, 32]})
    for index, channels in enumerate((32, 64), start=1):
        last = _append(
            m,
            last,
            "Conv2d",
            f"conv{index}",
            {"out_channels": channels, "kernel_size": 3, "padding": 1, "bias": False},
        )
        last = _append(m, last, "BatchNorm2d", f"bn{index}", {})
        last = _append(m, last, "ReLU", f"relu{index}", {})
        last = _squeeze_excitation(m, last, f"se{index}", channels // 4)
        last = _append(m, last, "MaxPool2d", f"pool{index}", {"kernel_size": 2})
    last = _append(m, last, "AdaptiveAvgPool2d", "avgpool", {"output_size": 1})
    last = _append(m, last, "Flatten", "flatten", {})
    last = _append(m, last, "Linear", "fc", {"out_features": 10})
    _append(m, last, "Output", "output", {})
    return Project(m, _training(data="cifar10"))


def _squeeze_excitation(m, x, prefix, squeeze) -> str:
    scale = _append(m, x, "AdaptiveAvgPool2d", f"{prefix}_scale", {"output_size": 1})
    scale = _append(
        m, scale, "Conv2d", f"{prefix}_fc1", {"out_channels": squeeze, "kernel_size": 1}
    )
    scale = _append(m, scale, "ReLU", f"{prefix}_relu", {})
    scale = _append(
        m,
        scale,
        "Conv2d",
        f"{prefix}_fc2",
        {"out_channels": m.analysis().meta(x).per_sample[0], "kernel_size": 1},
    )
    scale = _append(m, scale, "Sigmoid", f"{prefix}_gate", {})
    mul = m.add_node("Mul", f"{prefix}_mul", {})
    m.connect(x, mul)
    m.connect(scale, mul)
    return mul


def two_inputs() -> Project:
    """An image and a vector of measurements, joined: forward(self, image, features)."""
    m = ModelGraph("ImageAndFeatures")
    image = chain(
        m,
        ("Input", "image", {"shape": [1, 28, 28]}),
        ("Conv2d", "conv", {"out_channels": 8, "kernel_size": 3, "padding": 1}),
        ("ReLU", "relu", {}),
        ("AdaptiveAvgPool2d", "pool", {"output_size": 4}),
        ("Flatten", "flatten", {}),
    )
    features = chain(
        m,
        ("Input", "features", {"shape": [12]}),
        ("Linear", "fc_features", {"out_features": 16}),
        ("ReLU", "relu_features", {}),
    )
    cat = _append(m, image, "Concat", "join", {"dim": 1})
    m.connect(features, cat)
    last = _append(m, cat, "Linear", "head", {"out_features": 10})
    _append(m, last, "Output", "output", {})
    return Project(m, _training())


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
    "finetune_resnet18": finetune_resnet18,
    "resnet50": resnet50,
    "densenet121": densenet121,
    "text_lstm": text_lstm,
    "transformer_classifier": transformer_classifier,
    "mobilenet_v2": mobilenet_v2,
    "se_cnn": se_cnn,
    "two_inputs": two_inputs,
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
