"""Attention and transformer layers; TorchCanvas keeps the batch first (batch_first=True)."""

from __future__ import annotations

from torchcanvas.graph.layers.common import FEATURES, bias, num_heads, sample
from torchcanvas.graph.params import BOOL, CHOICE, FLOAT, INT, Param
from torchcanvas.graph.ports import BOOLEAN, PortSpec, TensorMeta
from torchcanvas.graph.ports import FLOAT as FLOATS
from torchcanvas.graph.registry import LayerSpec, ModuleCall, register
from torchcanvas.graph.rules import ShapeError, expect_batch_first

MASKS = BOOLEAN + FLOATS


def _sequence(name: str, doc: str, text: str = "(L, E)") -> PortSpec:
    return PortSpec(name, doc, ranks=(2,), rank_text=text)


def _padding_mask(name: str, text: str) -> PortSpec:
    doc = "True where a position is padding and must not be attended to."
    return PortSpec(name, doc, ranks=(1,), rank_text=text, dtypes=MASKS, optional=True)


def _attn_mask(name: str, text: str) -> PortSpec:
    doc = "Which positions may attend to which (True: blocked); shared by the batch."
    return PortSpec(
        name, doc, ranks=(2,), rank_text=text, dtypes=MASKS, optional=True, batched=False
    )


def _embed(name: str = "embed_dim") -> Param:
    return Param(
        name,
        INT,
        "Features per position (from the incoming tensor).",
        required=True,
        initial=1,
        minimum=1,
        maximum=FEATURES,
        positional=True,
        auto="features",
    )


def _heads_fit(embed: int, heads: int) -> None:
    if embed % heads:
        raise ShapeError(f"{embed} features do not split into {heads} heads; use a divisor")


def _mask_fits(ins: dict, port: str, rows, columns) -> None:
    meta = ins.get(port)
    if meta is None:
        return
    wanted = (None, columns) if rows is None else (rows, columns)
    if meta.shape != wanted:
        text = TensorMeta(wanted).text()
        raise ShapeError(f"{port} must be {text} but receives {meta.text()}")


def _attention(args: dict, ins: dict) -> dict:
    query, key, value = ins["query"], ins["key"], ins["value"]
    for name, meta in (("query", query), ("key", key), ("value", value)):
        expect_batch_first(meta, f"MultiheadAttention's {name}")
    embed = args["embed_dim"]
    _heads_fit(embed, args["num_heads"])
    for name, meta, size in (("key", key, args["kdim"]), ("value", value, args["vdim"])):
        if meta.shape[-1] != (size or embed):
            raise ShapeError(
                f"{name} has {meta.shape[-1]} features but the layer expects "
                f"{size or embed}; set {name[0]}dim to {meta.shape[-1]}"
            )
    if key.shape[1] != value.shape[1]:
        raise ShapeError(
            f"key and value must have the same length, not {key.shape[1]} and {value.shape[1]}"
        )
    length, source = query.shape[1], key.shape[1]
    _mask_fits(ins, "key_padding_mask", None, source)
    _mask_fits(ins, "attn_mask", length, source)
    return {
        "output": TensorMeta((None, length, embed), query.dtype),
        "attn_weights": TensorMeta((None, length, source), query.dtype),
    }


def _attention_count(args: dict) -> int:
    embed = args["embed_dim"]
    kdim, vdim = args["kdim"] or embed, args["vdim"] or embed
    biases = 4 * embed if args["bias"] else 0
    return embed * (embed + kdim + vdim) + embed * embed + biases


def _attention_flops(args: dict, ins: dict, outs: dict) -> int:
    embed, length, source = args["embed_dim"], ins["query"].shape[1], ins["key"].shape[1]
    kdim, vdim = args["kdim"] or embed, args["vdim"] or embed
    projections = 2 * embed * (length * embed + source * (kdim + vdim) + length * embed)
    return projections + 4 * length * source * embed


def _encoder(args: dict, ins: dict) -> dict:
    src = ins["src"]
    expect_batch_first(src, "TransformerEncoderLayer")
    _heads_fit(args["d_model"], args["nhead"])
    _mask_fits(ins, "src_mask", src.shape[1], src.shape[1])
    _mask_fits(ins, "src_key_padding_mask", None, src.shape[1])
    return {"output": src}


def _decoder(args: dict, ins: dict) -> dict:
    tgt, memory = ins["tgt"], ins["memory"]
    expect_batch_first(tgt, "TransformerDecoderLayer")
    expect_batch_first(memory, "TransformerDecoderLayer")
    _heads_fit(args["d_model"], args["nhead"])
    if memory.shape[-1] != args["d_model"]:
        raise ShapeError(f"memory has {memory.shape[-1]} features but d_model is {args['d_model']}")
    target, source = tgt.shape[1], memory.shape[1]
    _mask_fits(ins, "tgt_mask", target, target)
    _mask_fits(ins, "memory_mask", target, source)
    _mask_fits(ins, "tgt_key_padding_mask", None, target)
    _mask_fits(ins, "memory_key_padding_mask", None, source)
    return {"output": tgt}


def _layer_count(attentions: int):
    def count(args: dict) -> int:
        embed, hidden, has_bias = args["d_model"], args["dim_feedforward"], args["bias"]
        attention = 4 * embed * embed + (4 * embed if has_bias else 0)
        feedforward = 2 * embed * hidden + (hidden + embed if has_bias else 0)
        norms = (attentions + 1) * (2 * embed if has_bias else embed)
        return attentions * attention + feedforward + norms

    return count


def _layer_flops(args: dict, ins: dict, outs: dict) -> int:
    embed, hidden = args["d_model"], args["dim_feedforward"]
    length = ins.get("src", ins.get("tgt")).shape[1]
    total = 8 * length * embed * embed + 4 * length * length * embed
    if "memory" in ins:
        source = ins["memory"].shape[1]
        total += 4 * embed * embed * (length + source) + 4 * length * source * embed
    return total + 4 * length * embed * hidden


def _layer_params() -> tuple[Param, ...]:
    return (
        _embed("d_model"),
        num_heads(name="nhead"),
        Param(
            "dim_feedforward",
            INT,
            "Width of the feed-forward block.",
            2048,
            minimum=1,
            maximum=FEATURES,
        ),
        Param("dropout", FLOAT, "Dropout inside the layer.", 0.1, minimum=0, maximum=1),
        Param("activation", CHOICE, "Feed-forward activation.", "relu", choices=("relu", "gelu")),
        Param("layer_norm_eps", FLOAT, "LayerNorm epsilon.", 1e-5, minimum=0, maximum=1),
        Param("norm_first", BOOL, "Normalize before attention (pre-norm).", False),
        bias("Learn biases in the linear and norm layers."),
    )


_SEQ = sample(10, 16)


def decoder_inputs() -> tuple:
    """A decoder's ports, a layer's and a stack's alike: tgt, memory and their masks."""
    return (
        _sequence("tgt", "The target sequence (T, E)."),
        _sequence("memory", "The encoder output (S, E).", "(S, E)"),
        _attn_mask("tgt_mask", "(T, T)"),
        _attn_mask("memory_mask", "(T, S)"),
        _padding_mask("tgt_key_padding_mask", "(T,)"),
        _padding_mask("memory_key_padding_mask", "(S,)"),
    )


def decoder_call() -> ModuleCall:
    """`self.decoder(tgt, memory, tgt_mask=tgt_mask, ...)`: the masks by keyword."""
    masks = ("tgt_mask", "memory_mask", "tgt_key_padding_mask", "memory_key_padding_mask")
    return ModuleCall(args=("tgt", "memory"), kwargs=tuple((name, name) for name in masks))


register(
    LayerSpec(
        "MultiheadAttention",
        "Attention",
        "Multi-head attention: query attends to key/value (self-attention: one node into all).",
        "attn",
        params=(
            _embed(),
            num_heads(),
            Param("dropout", FLOAT, "Dropout on the attention weights.", 0.0, minimum=0, maximum=1),
            bias("Learn biases in the projections."),
            Param("kdim", INT, "Key features (empty: embed_dim).", None, optional=True, minimum=1),
            Param(
                "vdim", INT, "Value features (empty: embed_dim).", None, optional=True, minimum=1
            ),
        ),
        inputs=(
            PortSpec("query", "What is looked for.", ranks=(2,), rank_text="(L, E)", label="q"),
            PortSpec("key", "What is matched.", ranks=(2,), rank_text="(S, E)", label="k"),
            PortSpec("value", "What is returned.", ranks=(2,), rank_text="(S, E)", label="v"),
            _padding_mask("key_padding_mask", "(S,)"),
            _attn_mask("attn_mask", "(L, S)"),
        ),
        outputs=(
            PortSpec("output", "The attended values."),
            PortSpec("attn_weights", "Attention weights, averaged over heads.", label="weights"),
        ),
        infer=_attention,
        count=_attention_count,
        flops=_attention_flops,
        call=ModuleCall(
            args=("query", "key", "value"),
            kwargs=(("key_padding_mask", "key_padding_mask"), ("attn_mask", "attn_mask")),
            flags=(("need_weights", "attn_weights"),),
        ),
        returns=("output", "attn_weights"),
        fixed_kwargs=(("batch_first", True),),
        key_params=("embed_dim", "num_heads"),
        examples=(
            ({"query": _SEQ, "key": _SEQ, "value": _SEQ}, {}),
            (
                {
                    "query": sample(4, 8),
                    "key": sample(6, 5),
                    "value": sample(6, 3),
                    "key_padding_mask": sample(6, dtype="bool"),
                    "attn_mask": TensorMeta((4, 6), "bool"),
                },
                {"num_heads": 2, "kdim": 5, "vdim": 3},
            ),
        ),
    )
)
register(
    LayerSpec(
        "TransformerEncoderLayer",
        "Attention",
        "Self-attention and a feed-forward block, each with a residual connection and LayerNorm.",
        "encoder",
        params=_layer_params(),
        inputs=(
            _sequence("src", "The sequence (L, E)."),
            _attn_mask("src_mask", "(L, L)"),
            _padding_mask("src_key_padding_mask", "(L,)"),
        ),
        infer=_encoder,
        count=_layer_count(1),
        flops=_layer_flops,
        call=ModuleCall(
            args=("src",),
            kwargs=(("src_mask", "src_mask"), ("src_key_padding_mask", "src_key_padding_mask")),
        ),
        fixed_kwargs=(("batch_first", True),),
        key_params=("d_model", "nhead", "dim_feedforward"),
        examples=(
            ({"src": _SEQ}, {"dim_feedforward": 32}),
            (
                {"src": sample(5, 8), "src_key_padding_mask": sample(5, dtype="bool")},
                {"nhead": 2, "dim_feedforward": 16, "norm_first": True, "activation": "gelu"},
            ),
        ),
    )
)
register(
    LayerSpec(
        "TransformerDecoderLayer",
        "Attention",
        "Self-attention, attention over the encoder's memory, and a feed-forward block.",
        "decoder",
        params=_layer_params(),
        inputs=decoder_inputs(),
        infer=_decoder,
        count=_layer_count(2),
        flops=_layer_flops,
        call=decoder_call(),
        fixed_kwargs=(("batch_first", True),),
        key_params=("d_model", "nhead", "dim_feedforward"),
        examples=(
            ({"tgt": sample(6, 16), "memory": _SEQ}, {"dim_feedforward": 32}),
            (
                {
                    "tgt": sample(3, 8),
                    "memory": sample(5, 8),
                    "tgt_mask": TensorMeta((3, 3), "bool"),
                },
                {"nhead": 4, "dim_feedforward": 8, "bias": False},
            ),
        ),
    )
)
