"""Examples built from blocks: ResNet-18/50, MobileNetV2 and DenseNet-121 with torchvision's
own module paths, so that torchvision's state_dicts load with strict=True."""

from __future__ import annotations

from torchcanvas.graph.blockbuild import Builder, auto_channels, bind, int_param
from torchcanvas.graph.builtin_blocks import builtin
from torchcanvas.graph.library import Library
from torchcanvas.graph.model import ModelGraph


def new_model(name: str, *blocks: str) -> ModelGraph:
    """A model whose library holds the named built-in blocks."""
    library = Library()
    for block in blocks:
        for definition in builtin(block, library):
            library.add(definition)
    return ModelGraph(name, library)


def append(m: ModelGraph, after: str | None, type_name: str, name: str, params=None) -> str:
    """Add a node after `after`."""
    node = m.add_node(type_name, name, params or {})
    if after:
        m.connect(after, node)
    return node


def container(m: ModelGraph, after: str | None, name: str, steps, named=False) -> str:
    """A Sequential node after `after` holding the chain `steps`."""
    node = append(m, after, "Sequential", name, {"named": True} if named else {})
    body = Builder("Body", m.library)
    body.chain(*steps)
    body.output()
    m.set_body(node, body.graph)
    return node


def _resnet_stem(m: ModelGraph) -> str:
    last = append(m, None, "Input", "input", {"shape": [3, 224, 224]})
    last = append(
        m,
        last,
        "Conv2d",
        "conv1",
        {"out_channels": 64, "kernel_size": 7, "stride": 2, "padding": 3, "bias": False},
    )
    last = append(m, last, "BatchNorm2d", "bn1")
    last = append(m, last, "ReLU", "relu", {"inplace": True})
    return append(m, last, "MaxPool2d", "maxpool", {"kernel_size": 3, "stride": 2, "padding": 1})


def _head(m: ModelGraph, last: str, features: int) -> None:
    last = append(m, last, "AdaptiveAvgPool2d", "avgpool", {"output_size": 1})
    last = append(m, last, "Flatten", "flatten")
    last = append(m, last, "Linear", "fc", {"out_features": 1000})
    append(m, last, "Output", "output")


def resnet(name: str, block: str, depths, width_param: str) -> ModelGraph:
    """torchvision's ResNet: a stem, four stages of blocks (nn.Sequential), a classifier."""
    m = new_model(name, block)
    last = _resnet_stem(m)
    for stage, (width, count) in enumerate(zip((64, 128, 256, 512), depths), start=1):
        steps = []
        for index in range(count):
            params = {width_param: width}
            if index == 0 and stage > 1:
                params["stride"] = 2
            steps.append((block, f"block{index}", params))
        last = container(m, last, f"layer{stage}", steps)
    _head(m, last, 512)
    return m


# torchvision's MobileNetV2 settings: expansion t, channels c, repeats n, first stride s.
MOBILENET = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


def mobilenet_v2() -> ModelGraph:
    """MobileNetV2: features (an nn.Sequential of InvertedResiduals), then the classifier."""
    m = new_model("MobileNetV2", "InvertedResidual")
    last = append(m, None, "Input", "input", {"shape": [3, 224, 224]})
    steps = [_conv_bn_relu6("stem", 32, 3, 2)]
    for t, c, n, s in MOBILENET:
        for index in range(n):
            params = {"out_channels": c, "expand_ratio": t}
            if index == 0 and s != 1:
                params["stride"] = s
            steps.append(("InvertedResidual", f"block{len(steps)}", params))
    steps.append(_conv_bn_relu6("last", 1280, 1, 1))
    last = container(m, last, "features", steps)
    last = append(m, last, "AdaptiveAvgPool2d", "avgpool", {"output_size": 1})
    last = append(m, last, "Flatten", "flatten")
    last = container(
        m,
        last,
        "classifier",
        [("Dropout", "dropout", {"p": 0.2}), ("Linear", "fc", {"out_features": 1000})],
    )
    append(m, last, "Output", "output")
    return m


def _conv_bn_relu6(name: str, out: int, kernel: int, stride: int) -> tuple:
    conv = {"out_channels": out, "kernel_size": kernel, "bias": False}
    conv.update({"stride": stride} if stride != 1 else {})
    conv.update({"padding": kernel // 2} if kernel > 1 else {})
    return (
        "Sequential",
        name,
        [("Conv2d", "conv", conv), ("BatchNorm2d", "bn", {}), ("ReLU6", "act", {"inplace": True})],
    )


def dense_block(library: Library, layers: int):
    """A DenseNet block: each layer sees the concatenation of everything before it."""
    b = Builder(f"DenseBlock{layers}", library, (64, 56, 56))
    features = b.last
    for index in range(1, layers + 1):
        params = {"growth_rate": bind("growth_rate"), "bn_size": bind("bn_size")}
        new = b.node("DenseLayer", f"denselayer{index}", params, sources=[features])
        features = b.node("Concat", f"cat{index}", {"dim": 1}, sources=[features, new])
    b.output()
    return b.build(
        (
            auto_channels(),
            int_param("growth_rate", 32, "New channels each layer adds.", positional=True),
            int_param("bn_size", 4, "Width of each layer's 1x1 conv, in growth_rates."),
        ),
        f"DenseNet block of {layers} layers.",
    )


def densenet121() -> ModelGraph:
    """DenseNet-121: features (a named nn.Sequential), ReLU, pooling and the classifier."""
    m = new_model("DenseNet121", "DenseLayer")
    channels = 64
    steps = [
        (
            "Conv2d",
            "conv0",
            {"out_channels": 64, "kernel_size": 7, "stride": 2, "padding": 3, "bias": False},
        ),
        ("BatchNorm2d", "norm0", {}),
        ("ReLU", "relu0", {"inplace": True}),
        ("MaxPool2d", "pool0", {"kernel_size": 3, "stride": 2, "padding": 1}),
    ]
    for index, layers in enumerate((6, 12, 24, 16), start=1):
        if f"DenseBlock{layers}" not in m.library:
            m.library.add(dense_block(m.library, layers))
        steps.append((f"DenseBlock{layers}", f"denseblock{index}", {}))
        channels += 32 * layers
        if index < 4:
            channels //= 2
            steps.append(
                (
                    "Sequential",
                    f"transition{index}",
                    [
                        ("BatchNorm2d", "norm", {}),
                        ("ReLU", "relu", {"inplace": True}),
                        (
                            "Conv2d",
                            "conv",
                            {"out_channels": channels, "kernel_size": 1, "bias": False},
                        ),
                        ("AvgPool2d", "pool", {"kernel_size": 2, "stride": 2}),
                    ],
                    None,
                    True,
                )
            )
    steps.append(("BatchNorm2d", "norm5", {}))
    last = append(m, None, "Input", "input", {"shape": [3, 224, 224]})
    last = container(m, last, "features", steps, named=True)
    last = append(m, last, "ReLU", "relu", {"inplace": True})
    last = append(m, last, "AdaptiveAvgPool2d", "avgpool", {"output_size": 1})
    last = append(m, last, "Flatten", "flatten")
    last = append(m, last, "Linear", "classifier", {"out_features": 1000})
    append(m, last, "Output", "output")
    return m
