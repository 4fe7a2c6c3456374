"""Every built-in layer type, declared once as data; importing this registers them all."""

from torchcanvas.graph.layers import (  # noqa: F401  (order: the palette's order)
    activation,
    attention,
    blocks,
    conv,
    io,
    linear,
    merge,
    norm,
    pool,
    recurrent,
    regularize,
    reshape,
    tensor_ops,
)
