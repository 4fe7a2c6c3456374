"""Every built-in layer type, declared once as data; importing this registers them all."""

import importlib

# Registration order is the palette's order within a category.
for _module in (
    "io",
    "conv",
    "pool",
    "linear",
    "recurrent",
    "attention",
    "transformer",
    "activation",
    "norm",
    "regularize",
    "reshape",
    "tensor_ops",
    "merge",
    "elementwise",
    "masks",
    "containers",
    "external",
    "functional",
):
    importlib.import_module(f"{__name__}.{_module}")
