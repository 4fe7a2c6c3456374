"""Stacks of transformer layers (nn.TransformerEncoder/Decoder) and the attention function.

A stack is written as people write it, `nn.TransformerEncoder(nn.TransformerEncoderLayer(
...), num_layers=N, norm=nn.LayerNorm(d))`, so its state_dict keys are torch's own
(`layers.0.self_attn.in_proj_weight`, `norm.weight`).
"""

from __future__ import annotations

from torchcanvas.graph.expr import Call, literal
from torchcanvas.graph.layers.attention import (
    MASKS,
    _attn_mask,
    _decoder,
    _encoder,
    _layer_count,
    _layer_flops,
    _layer_params,
    _padding_mask,
    _sequence,
    decoder_call,
    decoder_inputs,
)
from torchcanvas.graph.layers.common import sample
from torchcanvas.graph.params import BOOL, FLOAT, INT, Param
from torchcanvas.graph.ports import PortSpec, TensorMeta
from torchcanvas.graph.registry import FUNCTION, LayerSpec, ModuleCall, register
from torchcanvas.graph.rules import ShapeError

_LAYER_PARAMS = _layer_params()
STACK_PARAMS = (
    *_LAYER_PARAMS,
    Param(
        "num_layers", INT, "How many copies of the layer run in turn.", 6, minimum=1, maximum=256
    ),
    Param("norm", BOOL, "A final LayerNorm after the last layer (pre-norm stacks).", False),
)
_NESTED = Param(
    "enable_nested_tensor",
    BOOL,
    "Skip padding positions in eval (their outputs come back as zeros).",
    True,
)


def _layer_call(layer_class: str, args: dict) -> Call:
    """`nn.TransformerEncoderLayer(64, 4, dim_feedforward=128, batch_first=True)`."""
    parts = []
    for param in _LAYER_PARAMS:
        value = args[param.name]
        if param.positional:
            parts.append(literal(value))
        elif value != param.default:
            parts.append(f"{param.name}={literal(value)}")
    return Call(layer_class, (*parts, "batch_first=True"))


def _norm_call(args: dict) -> Call:
    """The final norm, matching the layers' own (same eps, same bias)."""
    extra = []
    if args["layer_norm_eps"] != 1e-5:
        extra.append(f"eps={literal(args['layer_norm_eps'])}")
    if not args["bias"]:
        extra.append("bias=False")
    return Call("nn.LayerNorm", (literal(args["d_model"]), *extra))


def _stack_constructor(kind: str):
    def constructor(args: dict) -> tuple[Call, str]:
        keywords = [("num_layers", literal(args["num_layers"]))]
        if args["norm"]:
            keywords.append(("norm", str(_norm_call(args))))
        if not args.get("enable_nested_tensor", True):
            keywords.append(("enable_nested_tensor", "False"))
        layer = _layer_call(f"nn.Transformer{kind}Layer", args)
        return Call(f"nn.Transformer{kind}", (layer,), tuple(keywords)), ""

    return constructor


def _stack_count(attentions: int):
    layer = _layer_count(attentions)

    def count(args: dict) -> int:
        embed = args["d_model"]
        norm = (2 * embed if args["bias"] else embed) if args["norm"] else 0
        return args["num_layers"] * layer(args) + norm

    return count


def _stack_flops(args: dict, ins: dict, outs: dict) -> int:
    return args["num_layers"] * _layer_flops(args, ins, outs)


def _stack_encoder(args: dict, ins: dict) -> dict:
    renamed = dict(ins)
    if "mask" in renamed:
        renamed["src_mask"] = renamed.pop("mask")
    return _encoder(args, renamed)


_SEQ = sample(10, 16)
register(
    LayerSpec(
        "TransformerEncoder",
        "Attention",
        "num_layers TransformerEncoderLayers in turn, then an optional LayerNorm (ViT, BERT).",
        "encoder",
        params=(*STACK_PARAMS, _NESTED),
        inputs=(
            _sequence("src", "The sequence (L, E)."),
            _attn_mask("mask", "(L, L)"),
            _padding_mask("src_key_padding_mask", "(L,)"),
        ),
        infer=_stack_encoder,
        count=_stack_count(1),
        flops=_stack_flops,
        call=ModuleCall(
            args=("src",),
            kwargs=(("mask", "mask"), ("src_key_padding_mask", "src_key_padding_mask")),
        ),
        constructor=_stack_constructor("Encoder"),
        key_params=("d_model", "nhead", "num_layers"),
        examples=(
            ({"src": _SEQ}, {"dim_feedforward": 32, "num_layers": 2}),
            (
                {"src": sample(5, 8), "src_key_padding_mask": sample(5, dtype="bool")},
                {
                    "nhead": 2,
                    "dim_feedforward": 16,
                    "norm_first": True,
                    "activation": "gelu",
                    "num_layers": 3,
                    "norm": True,
                    "enable_nested_tensor": False,
                },
            ),
        ),
    )
)
register(
    LayerSpec(
        "TransformerDecoder",
        "Attention",
        "num_layers TransformerDecoderLayers over the encoder's memory, then an optional norm.",
        "decoder",
        params=STACK_PARAMS,
        inputs=decoder_inputs(),
        infer=_decoder,
        count=_stack_count(2),
        flops=_stack_flops,
        call=decoder_call(),
        constructor=_stack_constructor("Decoder"),
        key_params=("d_model", "nhead", "num_layers"),
        examples=(
            ({"tgt": sample(6, 16), "memory": _SEQ}, {"dim_feedforward": 32, "num_layers": 2}),
            (
                {
                    "tgt": sample(3, 8),
                    "memory": sample(5, 8),
                    "tgt_mask": TensorMeta((3, 3), "bool"),
                },
                {"nhead": 4, "dim_feedforward": 8, "num_layers": 2, "norm": True},
            ),
        ),
    )
)


# ----- F.scaled_dot_product_attention ----------------------------------------------------------
def _sdpa(args: dict, ins: dict) -> dict:
    query, key, value = ins["query"], ins["key"], ins["value"]
    if not len(query.shape) == len(key.shape) == len(value.shape):
        raise ShapeError(
            f"query, key and value need the same rank, not {query.text()}, {key.text()}, "
            f"{value.text()}"
        )
    if query.shape[-1] != key.shape[-1]:
        raise ShapeError(
            f"query has {query.shape[-1]} features per position but key has {key.shape[-1]}"
        )
    if key.shape[-2] != value.shape[-2]:
        raise ShapeError(f"key and value lengths differ: {key.shape[-2]} and {value.shape[-2]}")
    if query.shape[:-2] != key.shape[:-2] or key.shape[:-2] != value.shape[:-2]:
        raise ShapeError(
            f"query, key and value must agree before the last two dimensions: "
            f"{query.text()}, {key.text()}, {value.text()}"
        )
    length, source = query.shape[-2], key.shape[-2]
    mask = ins.get("attn_mask")
    if mask is not None:
        if args["is_causal"]:
            raise ShapeError("give either attn_mask or is_causal, not both")
        _mask_broadcasts(mask, query.shape[:-2] + (length, source))
    return {"output": TensorMeta(query.shape[:-1] + (value.shape[-1],), query.dtype)}


def _mask_broadcasts(mask: TensorMeta, wanted: tuple) -> None:
    """attn_mask must broadcast to (..., L, S): each of its sizes 1 or the wanted one."""
    shape = mask.shape
    fits = len(shape) <= len(wanted) and all(
        have in (1, want) or (have is None and want is None)
        for have, want in zip(reversed(shape), reversed(wanted))
    )
    if not fits:
        raise ShapeError(
            f"attn_mask {mask.text()} does not broadcast to {TensorMeta(wanted).text()}"
        )


def _sdpa_expr(values: dict, args: dict, ins: dict, used: set) -> Call:
    keywords = []
    if "attn_mask" in values:
        keywords.append(("attn_mask", values["attn_mask"]))
    if args["dropout_p"]:
        # F.scaled_dot_product_attention drops in eval too; this is how models switch it off.
        keywords.append(("dropout_p", f"{literal(args['dropout_p'])} if self.training else 0.0"))
    if args["is_causal"]:
        keywords.append(("is_causal", "True"))
    if args["scale"] is not None:
        keywords.append(("scale", literal(args["scale"])))
    parts = (values["query"], values["key"], values["value"])
    return Call("F.scaled_dot_product_attention", parts, tuple(keywords))


def _sdpa_port(name: str, doc: str, text: str) -> PortSpec:
    return PortSpec(name, doc, ranks=(2, 3, 4), rank_text=text, label=name[0])


register(
    LayerSpec(
        "ScaledDotProductAttention",
        "Attention",
        "softmax(q k^T / sqrt(E) + mask) v over the last two dimensions "
        "(F.scaled_dot_product_attention); heads stay in front.",
        "attn",
        FUNCTION,
        params=(
            Param(
                "dropout_p",
                FLOAT,
                "Dropout on the attention weights, in training only.",
                0.0,
                minimum=0,
                maximum=1,
            ),
            Param("is_causal", BOOL, "Each position attends only to itself and earlier.", False),
            Param(
                "scale",
                FLOAT,
                "Factor on q k^T (empty: 1/sqrt(E)).",
                None,
                optional=True,
                minimum=0,
            ),
        ),
        inputs=(
            _sdpa_port("query", "What is looked for (..., L, E).", "(..., L, E)"),
            _sdpa_port("key", "What is matched (..., S, E).", "(..., S, E)"),
            _sdpa_port("value", "What is returned (..., S, Ev).", "(..., S, Ev)"),
            PortSpec(
                "attn_mask",
                "Added to the scores (float) or where False, blocked (bool); broadcast.",
                dtypes=MASKS,
                optional=True,
                batched=False,
                label="mask",
            ),
        ),
        infer=_sdpa,
        expr=_sdpa_expr,
        imports=("import torch.nn.functional as F",),
        key_params=("is_causal", "dropout_p"),
        examples=(
            (
                {"query": sample(4, 10, 8), "key": sample(4, 10, 8), "value": sample(4, 10, 8)},
                {"is_causal": True},
            ),
            (
                {
                    "query": sample(2, 3, 6),
                    "key": sample(2, 5, 6),
                    "value": sample(2, 5, 4),
                    "attn_mask": sample(1, 3, 5),  # added to the scores, one per sample
                },
                {"scale": 0.5},
            ),
            (
                {
                    "query": sample(3, 6),
                    "key": sample(5, 6),
                    "value": sample(5, 4),
                    "attn_mask": TensorMeta((3, 5)),
                },
                {"dropout_p": 0.1},
            ),
        ),
    )
)
