"""Linear layers: fully connected and embeddings."""

from __future__ import annotations

from torchcanvas.graph.layers.common import FEATURES, bias, sample, weight_init
from torchcanvas.graph.params import INT, Param
from torchcanvas.graph.ports import INTEGER, PortSpec, TensorMeta
from torchcanvas.graph.registry import LayerSpec, register
from torchcanvas.graph.rules import ShapeError, prod


def _linear(args: dict, ins: dict) -> dict:
    x = ins["input"]
    out = {"output": TensorMeta((*x.shape[:-1], args["out_features"]), x.dtype)}
    if x.rank >= 3:
        out["_warning"] = (
            f"receives a {x.text()} tensor and acts on its last dimension only; add a "
            f"Flatten before it to use all {prod(x.per_sample)} features"
        )
    return out


def _embedding(args: dict, ins: dict) -> dict:
    pad, count = args["padding_idx"], args["num_embeddings"]
    if pad is not None and not -count <= pad < count:
        raise ShapeError(f"padding_idx {pad} is not an id below num_embeddings ({count})")
    return {"output": TensorMeta((*ins["input"].shape, args["embedding_dim"]))}


register(
    LayerSpec(
        "Linear",
        "Linear",
        "Fully connected layer: y = xW^T + b on the last dimension.",
        "fc",
        inputs=(PortSpec("input", ranks=None, rank_text="(..., F)"),),
        key_params=("out_features",),
        params=(
            Param(
                "in_features",
                INT,
                "Features of the incoming tensor.",
                required=True,
                initial=1,
                minimum=1,
                maximum=FEATURES,
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
                maximum=FEATURES,
                positional=True,
            ),
            bias(),
            *weight_init(),
        ),
        infer=_linear,
        count=lambda a: a["in_features"] * a["out_features"] + a["out_features"] * a["bias"],
        flops=lambda a, ins, outs: 2 * a["in_features"] * prod(outs["output"].per_sample),
        examples=(
            ({"input": sample(20)}, {}),
            ({"input": sample(7, 12)}, {"out_features": 5, "bias": False}),
        ),
    )
)
register(
    LayerSpec(
        "Embedding",
        "Linear",
        "Looks up a learned vector for each token id (int64 input).",
        "embedding",
        inputs=(
            PortSpec("input", dtypes=INTEGER, rank_text="token ids", doc="Token ids (int64)."),
        ),
        key_params=("num_embeddings", "embedding_dim"),
        id_limit="num_embeddings",
        params=(
            Param(
                "num_embeddings",
                INT,
                "Vocabulary size: ids run from 0 to num_embeddings - 1.",
                required=True,
                initial=1000,
                minimum=1,
                maximum=FEATURES * 8,
                positional=True,
            ),
            Param(
                "embedding_dim",
                INT,
                "Size of each vector.",
                required=True,
                initial=64,
                minimum=1,
                maximum=FEATURES,
                positional=True,
            ),
            Param(
                "padding_idx",
                INT,
                "An id whose vector stays zero and gets no gradient (empty: none).",
                None,
                optional=True,
                minimum=-(FEATURES * 8),
                maximum=FEATURES * 8,
            ),
            *weight_init(has_bias=False),
        ),
        infer=_embedding,
        count=lambda a: a["num_embeddings"] * a["embedding_dim"],
        examples=(
            ({"input": sample(12, dtype="int64")}, {"num_embeddings": 50, "embedding_dim": 8}),
            ({"input": sample(3, 4, dtype="int64")}, {"num_embeddings": 9, "padding_idx": 0}),
        ),
    )
)
