"""Every built-in layer type, declared once as data."""

from __future__ import annotations

from torchcanvas.graph.blocks import RESIDUAL_BLOCK_SOURCE
from torchcanvas.graph.params import BOOL, CHOICE, FLOAT, INT, SHAPE, SIZE, Param
from torchcanvas.graph.registry import ADD, BLOCK, CONCAT, INPUT, OUTPUT, LayerSpec, register

_CHANNELS = 1 << 16
_FEATURES = 1 << 20


def _in_channels(doc: str = "Channels of the incoming tensor.") -> Param:
    return Param(
        "in_channels",
        INT,
        doc,
        required=True,
        initial=1,
        minimum=1,
        maximum=_CHANNELS,
        positional=True,
        auto="channels",
    )


def _out_channels(initial: int = 16) -> Param:
    return Param(
        "out_channels",
        INT,
        "Channels produced.",
        required=True,
        initial=initial,
        minimum=1,
        maximum=_CHANNELS,
        positional=True,
    )


def _num_features() -> Param:
    return Param(
        "num_features",
        INT,
        "Channels of the incoming tensor.",
        required=True,
        initial=1,
        minimum=1,
        maximum=_CHANNELS,
        positional=True,
        auto="channels",
    )


def _size(
    name: str,
    doc: str,
    n: int,
    default=None,
    *,
    required=False,
    initial=None,
    minimum=0,
    choices=(),
    optional=False,
    positional=False,
) -> Param:
    return Param(
        name,
        SIZE,
        doc,
        default=default,
        required=required,
        initial=initial,
        minimum=minimum,
        maximum=4096,
        length=n,
        choices=choices,
        optional=optional,
        positional=positional,
    )


def _conv_params(n: int) -> tuple[Param, ...]:
    return (
        _in_channels(),
        _out_channels(),
        _size(
            "kernel_size", "Size of the convolving kernel.", n, required=True, initial=3, minimum=1
        ),
        _size("stride", "Stride of the convolution.", n, 1, minimum=1),
        _size(
            "padding",
            "Zero padding added to both sides; 'same' keeps the size.",
            n,
            0,
            choices=("same", "valid"),
        ),
        _size("dilation", "Spacing between kernel elements.", n, 1, minimum=1),
        Param(
            "groups",
            INT,
            "Blocked connections from input to output channels.",
            1,
            minimum=1,
            maximum=_CHANNELS,
        ),
        Param("bias", BOOL, "Learn an additive bias.", True),
        Param(
            "padding_mode",
            CHOICE,
            "How the border is padded.",
            "zeros",
            choices=("zeros", "reflect", "replicate", "circular"),
        ),
    )


def _eps() -> Param:
    return Param(
        "eps", FLOAT, "Added to the variance for numerical stability.", 1e-5, minimum=0, maximum=1
    )


def _pool_window() -> tuple[Param, Param]:
    return (
        _size("kernel_size", "Size of the window.", 2, required=True, initial=2, minimum=1),
        _size(
            "stride", "Window stride; empty means kernel_size.", 2, None, minimum=1, optional=True
        ),
    )


def _batchnorm_params() -> tuple[Param, ...]:
    return (
        _num_features(),
        _eps(),
        Param("momentum", FLOAT, "Running-statistics momentum.", 0.1, minimum=0, maximum=1),
        Param("affine", BOOL, "Learn a scale and shift.", True),
        Param("track_running_stats", BOOL, "Keep running mean and variance.", True),
    )


def _activation(type_: str, doc: str, prefix: str, *params: Param) -> LayerSpec:
    return LayerSpec(
        type_,
        "Activation",
        doc,
        prefix,
        params=params,
        ranks=None,
        key_params=tuple(p.name for p in params),
    )


def _dim(doc: str) -> Param:
    return Param("dim", INT, doc, required=True, initial=1, minimum=-6, maximum=6)


_IMAGE = ((3,), "(C, H, W)")

_SPECS = [
    LayerSpec(
        "Input",
        "Input / Output",
        "The network's input; shape is per sample, without batch.",
        "input",
        INPUT,
        min_inputs=0,
        max_inputs=0,
        key_params=("shape",),
        params=(
            Param(
                "shape",
                SHAPE,
                "Per-sample input shape, e.g. [1, 28, 28].",
                required=True,
                initial=(1, 28, 28),
            ),
        ),
    ),
    LayerSpec(
        "Output",
        "Input / Output",
        "The network's output: what forward() returns.",
        "output",
        OUTPUT,
    ),
    LayerSpec(
        "Conv1d",
        "Convolution",
        "1-D convolution over a sequence (C, L).",
        "conv",
        params=_conv_params(1),
        ranks=(2,),
        rank_text="(C, L)",
        example_shape=(3, 32),
        key_params=("out_channels", "kernel_size", "stride", "padding"),
    ),
    LayerSpec(
        "Conv2d",
        "Convolution",
        "2-D convolution over an image (C, H, W).",
        "conv",
        params=_conv_params(2),
        ranks=_IMAGE[0],
        rank_text=_IMAGE[1],
        key_params=("out_channels", "kernel_size", "stride", "padding"),
    ),
    LayerSpec(
        "ConvTranspose2d",
        "Convolution",
        "Transposed 2-D convolution: learnable upsampling of an image.",
        "deconv",
        ranks=_IMAGE[0],
        rank_text=_IMAGE[1],
        key_params=("out_channels", "kernel_size", "stride"),
        params=(
            _in_channels(),
            _out_channels(),
            _size(
                "kernel_size",
                "Size of the convolving kernel.",
                2,
                required=True,
                initial=2,
                minimum=1,
            ),
            _size("stride", "Stride of the convolution.", 2, 1, minimum=1),
            _size("padding", "Implicit zero padding removed from the output.", 2, 0),
            _size("output_padding", "Extra size added to one side of the output.", 2, 0),
            Param(
                "groups",
                INT,
                "Blocked connections from input to output channels.",
                1,
                minimum=1,
                maximum=_CHANNELS,
            ),
            Param("bias", BOOL, "Learn an additive bias.", True),
            _size("dilation", "Spacing between kernel elements.", 2, 1, minimum=1),
        ),
    ),
    LayerSpec(
        "MaxPool2d",
        "Pooling",
        "Keeps the largest value in each window.",
        "pool",
        ranks=_IMAGE[0],
        rank_text=_IMAGE[1],
        key_params=("kernel_size", "stride"),
        params=(
            *_pool_window(),
            _size("padding", "Implicit negative-infinity padding.", 2, 0),
            _size("dilation", "Spacing between window elements.", 2, 1, minimum=1),
            Param("ceil_mode", BOOL, "Round the output size up.", False),
        ),
    ),
    LayerSpec(
        "AvgPool2d",
        "Pooling",
        "Averages each window.",
        "avgpool",
        ranks=_IMAGE[0],
        rank_text=_IMAGE[1],
        key_params=("kernel_size", "stride"),
        params=(
            *_pool_window(),
            _size("padding", "Implicit zero padding.", 2, 0),
            Param("ceil_mode", BOOL, "Round the output size up.", False),
            Param("count_include_pad", BOOL, "Count padding zeros in the average.", True),
        ),
    ),
    LayerSpec(
        "AdaptiveAvgPool2d",
        "Pooling",
        "Averages down to a fixed output size, whatever the input size.",
        "avgpool",
        ranks=_IMAGE[0],
        rank_text=_IMAGE[1],
        key_params=("output_size",),
        params=(
            _size(
                "output_size",
                "Target (H, W).",
                2,
                required=True,
                initial=1,
                minimum=1,
                positional=True,
            ),
        ),
    ),
    LayerSpec(
        "Linear",
        "Linear",
        "Fully connected layer: y = xW^T + b on the last dimension.",
        "fc",
        example_shape=(20,),
        key_params=("out_features",),
        params=(
            Param(
                "in_features",
                INT,
                "Features of the incoming tensor.",
                required=True,
                initial=1,
                minimum=1,
                maximum=_FEATURES,
                positional=True,
                auto="features",
            ),
            Param(
                "out_features",
                INT,
                "Features produced.",
                required=True,
                initial=10,
                minimum=1,
                maximum=_FEATURES,
                positional=True,
            ),
            Param("bias", BOOL, "Learn an additive bias.", True),
        ),
    ),
    LayerSpec(
        "Flatten",
        "Reshape",
        "Flattens each sample to a vector, e.g. (32, 7, 7) -> (1568,).",
        "flatten",
        key_params=(),
        params=(
            Param(
                "start_dim",
                INT,
                "First dimension to flatten (1 = first per sample).",
                1,
                minimum=-6,
                maximum=6,
            ),
            Param("end_dim", INT, "Last dimension to flatten.", -1, minimum=-6, maximum=6),
        ),
    ),
    LayerSpec("Identity", "Reshape", "Passes its input through unchanged.", "identity"),
    _activation("ReLU", "Rectified linear unit: max(0, x).", "relu"),
    _activation(
        "LeakyReLU",
        "ReLU with a small slope for negative inputs.",
        "lrelu",
        Param("negative_slope", FLOAT, "Slope for x < 0.", 0.01, minimum=0, maximum=1),
    ),
    _activation(
        "ELU",
        "Exponential linear unit.",
        "elu",
        Param("alpha", FLOAT, "Saturation value for negative inputs.", 1.0, minimum=0, maximum=100),
    ),
    _activation(
        "GELU",
        "Gaussian error linear unit, as in transformers.",
        "gelu",
        Param(
            "approximate", CHOICE, "Use the tanh approximation.", "none", choices=("none", "tanh")
        ),
    ),
    _activation("SiLU", "Sigmoid linear unit (swish): x * sigmoid(x).", "silu"),
    _activation("Sigmoid", "Squashes values into (0, 1).", "sigmoid"),
    _activation("Tanh", "Squashes values into (-1, 1).", "tanh"),
    _activation(
        "Softmax",
        "Turns scores into probabilities along a dimension.",
        "softmax",
        _dim("Dimension that sums to 1 (1 = first per sample)."),
    ),
    _activation(
        "LogSoftmax",
        "Log of softmax; pair it with NLLLoss.",
        "log_softmax",
        _dim("Dimension of the softmax (1 = first per sample)."),
    ),
    LayerSpec(
        "BatchNorm1d",
        "Normalization",
        "Batch normalization over (C,) or (C, L).",
        "bn",
        ranks=(1, 2),
        rank_text="(C,) or (C, L)",
        example_shape=(12,),
        params=_batchnorm_params(),
    ),
    LayerSpec(
        "BatchNorm2d",
        "Normalization",
        "Batch normalization of each image channel.",
        "bn",
        ranks=_IMAGE[0],
        rank_text=_IMAGE[1],
        params=_batchnorm_params(),
    ),
    LayerSpec(
        "LayerNorm",
        "Normalization",
        "Normalizes over the trailing dimensions of a sample.",
        "ln",
        key_params=("normalized_shape",),
        params=(
            Param(
                "normalized_shape",
                SHAPE,
                "Trailing dimensions to normalize over.",
                required=True,
                initial=(1,),
                positional=True,
                auto="last_dim",
            ),
            _eps(),
            Param("elementwise_affine", BOOL, "Learn a scale and shift.", True),
            Param("bias", BOOL, "Learn the shift (with elementwise_affine).", True),
        ),
    ),
    LayerSpec(
        "GroupNorm",
        "Normalization",
        "Normalizes groups of channels; batch-size independent.",
        "gn",
        ranks=(1, 2, 3, 4),
        rank_text="(C, ...)",
        key_params=("num_groups",),
        example_shape=(8, 6, 6),
        params=(
            Param(
                "num_groups",
                INT,
                "Number of channel groups.",
                required=True,
                initial=4,
                minimum=1,
                maximum=_CHANNELS,
                positional=True,
            ),
            Param(
                "num_channels",
                INT,
                "Channels of the incoming tensor.",
                required=True,
                initial=1,
                minimum=1,
                maximum=_CHANNELS,
                positional=True,
                auto="channels",
            ),
            _eps(),
            Param("affine", BOOL, "Learn a scale and shift.", True),
        ),
    ),
    LayerSpec(
        "Dropout",
        "Regularization",
        "Zeroes random elements while training.",
        "dropout",
        key_params=("p",),
        params=(
            Param("p", FLOAT, "Probability of zeroing an element.", 0.5, minimum=0, maximum=1),
        ),
    ),
    LayerSpec(
        "Dropout2d",
        "Regularization",
        "Zeroes whole random channels while training.",
        "dropout",
        ranks=_IMAGE[0],
        rank_text=_IMAGE[1],
        key_params=("p",),
        params=(Param("p", FLOAT, "Probability of zeroing a channel.", 0.5, minimum=0, maximum=1),),
    ),
    LayerSpec(
        "Add",
        "Merge",
        "Adds tensors of equal shape (skip connections).",
        "add",
        ADD,
        min_inputs=2,
        max_inputs=None,
    ),
    LayerSpec(
        "Concat",
        "Merge",
        "Concatenates tensors along a dimension (torch.cat).",
        "cat",
        CONCAT,
        min_inputs=2,
        max_inputs=None,
        key_params=("dim",),
        params=(
            _dim(
                "Dimension to join along (1 = channels).",
            ),
        ),
    ),
    LayerSpec(
        "ResidualBlock",
        "Blocks",
        "ResNet basic block: two 3x3 convs with batch-norm and a skip connection.",
        "block",
        BLOCK,
        ranks=_IMAGE[0],
        rank_text=_IMAGE[1],
        block_source=RESIDUAL_BLOCK_SOURCE,
        key_params=("out_channels", "stride"),
        params=(
            _in_channels(),
            _out_channels(64),
            Param(
                "stride",
                INT,
                "Stride of the first conv; 2 halves H and W.",
                1,
                minimum=1,
                maximum=8,
            ),
        ),
    ),
]

for _spec in _SPECS:
    register(_spec)
