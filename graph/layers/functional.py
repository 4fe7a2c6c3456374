"""Module layers that may also be written as function calls: F.relu(x), torch.flatten(x, 1).

Each such layer gets a `functional` setting. People write stateless layers both ways; an
import keeps the form the original code used, and the inspector lets anyone switch.
"""

from __future__ import annotations

from torchcanvas.graph.registry import add_function_form

FORMS = (
    ("ReLU", "F.relu", ()),
    ("Sigmoid", "torch.sigmoid", ()),
    ("Tanh", "torch.tanh", ()),
    ("GELU", "F.gelu", ()),
    ("SiLU", "F.silu", ()),
    ("Hardswish", "F.hardswish", ()),
    ("Hardsigmoid", "F.hardsigmoid", ()),
    ("ReLU6", "F.relu6", ()),
    ("LeakyReLU", "F.leaky_relu", ()),
    ("ELU", "F.elu", ()),
    ("Mish", "F.mish", ()),
    ("Softmax", "F.softmax", ()),
    ("LogSoftmax", "F.log_softmax", ()),
    ("MaxPool1d", "F.max_pool1d", ("kernel_size",)),
    ("MaxPool2d", "F.max_pool2d", ("kernel_size",)),
    ("MaxPool3d", "F.max_pool3d", ("kernel_size",)),
    ("AvgPool1d", "F.avg_pool1d", ("kernel_size",)),
    ("AvgPool2d", "F.avg_pool2d", ("kernel_size",)),
    ("AvgPool3d", "F.avg_pool3d", ("kernel_size",)),
    ("AdaptiveAvgPool1d", "F.adaptive_avg_pool1d", ("output_size",)),
    ("AdaptiveAvgPool2d", "F.adaptive_avg_pool2d", ("output_size",)),
    ("AdaptiveAvgPool3d", "F.adaptive_avg_pool3d", ("output_size",)),
    ("AdaptiveMaxPool2d", "F.adaptive_max_pool2d", ("output_size",)),
    ("Flatten", "torch.flatten", ("start_dim",)),
)

for _type, _function, _args in FORMS:
    add_function_form(_type, _function, _args)
add_function_form("Dropout", "F.dropout", (), ("training=self.training",))
