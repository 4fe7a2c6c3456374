"""F.scaled_dot_product_attention as a ScaledDotProductAttention node."""

from __future__ import annotations

from torchcanvas.graph.fximport.calls import Unmapped, _get, _plain

_PORTS = ("query", "key", "value", "attn_mask")


def scaled_dot_product_attention(conv, node):
    """q, k, v and an optional mask as ports; dropout_p, is_causal and scale as settings.

    dropout_p is the value the code computed on the traced (eval) run: models write
    `dropout_p=self.p if self.training else 0.0`, which reads as 0 here."""
    inputs = {}
    for index, port in enumerate(_PORTS):
        arg = _get(node, index, port)
        if arg is not None:
            inputs[port] = conv.tensor(arg)
    if _plain(conv, node, 7, "enable_gqa", False):
        raise Unmapped("scaled_dot_product_attention with enable_gqa=True has no TorchCanvas node")
    scale = _plain(conv, node, 6, "scale", None)
    params = {
        "dropout_p": float(_plain(conv, node, 4, "dropout_p", 0.0)),
        "is_causal": bool(_plain(conv, node, 5, "is_causal", False)),
        "scale": None if scale is None else float(scale),
    }
    return conv.add(node, "ScaledDotProductAttention", params, inputs)
