"""nn.TransformerEncoder/Decoder and F.scaled_dot_product_attention as drawn: torch's own
modules load into the export strictly, ONNX runs them as torch does, bad wiring is one message."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tests.builders import single_node_graph
from tests.test_onnx_export import ATOL, _run_both
from torchcanvas.app.export_onnx import export_onnx
from torchcanvas.codegen.build import build_model
from torchcanvas.graph.layers.common import sample
from torchcanvas.graph.ports import TensorMeta
from torchcanvas.graph.registry import get_spec

NEW = ("TransformerEncoder", "TransformerDecoder", "ScaledDotProductAttention")


@pytest.mark.parametrize("type_name", NEW)
def test_every_example_runs_in_onnxruntime_as_in_torch_at_any_batch(type_name, tmp_path):
    spec = get_spec(type_name)
    for index, (ins, params) in enumerate(spec.examples):
        graph = single_node_graph(spec, ins, params)
        module = build_model(graph, seed=1).eval()
        weights = tmp_path / f"weights{index}.pt" if module.state_dict() else None
        if weights is not None:
            torch.save(module.state_dict(), weights)
        done = export_onnx(graph, tmp_path / f"model{index}.onnx", weights=weights)
        assert done.max_difference <= ATOL, (type_name, index)
        for batch in (1, 5):
            expected, got = _run_both(graph, module, done.path, batch, seed=batch)
            for want, have in zip(expected, got, strict=True):
                assert np.isfinite(want).all() and have.shape == want.shape
                np.testing.assert_allclose(have, want, rtol=0, atol=ATOL)


def _stack_graph(type_name: str, params: dict):
    spec = get_spec(type_name)
    ins = {"src": sample(7, 16)} if type_name == "TransformerEncoder" else {}
    if not ins:
        ins = {"tgt": sample(5, 16), "memory": sample(7, 16)}
    return single_node_graph(spec, ins, params)


@pytest.mark.parametrize("type_name", ["TransformerEncoder", "TransformerDecoder"])
def test_a_drawn_stack_takes_torchs_own_stack_strictly_and_computes_the_same(type_name):
    params = {"nhead": 2, "dim_feedforward": 24, "num_layers": 3, "norm": True}
    params |= {"norm_first": True, "activation": "gelu"}
    graph = _stack_graph(type_name, params)
    layer_class = getattr(nn, f"{type_name}Layer")
    torch.manual_seed(3)
    layer = layer_class(16, 2, 24, activation="gelu", norm_first=True, batch_first=True)
    theirs = getattr(nn, type_name)(layer, num_layers=3, norm=nn.LayerNorm(16)).eval()
    ours = build_model(graph, seed=1).eval()
    stack = next(m for m in ours.modules() if type(m) is type(theirs))
    stack.load_state_dict(theirs.state_dict(), strict=True)
    inputs = [torch.randn(2, 7, 16)] if type_name == "TransformerEncoder" else []
    inputs = inputs or [torch.randn(2, 5, 16), torch.randn(2, 7, 16)]
    with torch.no_grad():
        assert torch.equal(ours(*inputs), theirs(*inputs))
    assert graph.analysis().facts[graph.id_of("out_output")] is not None
    count = sum(p.numel() for p in theirs.parameters())
    assert graph.analysis().facts[graph.nodes_of_type(type_name)[0]].params == count


def test_attention_dropout_is_applied_in_training_only():
    spec = get_spec("ScaledDotProductAttention")
    seq = sample(2, 6, 4)
    graph = single_node_graph(spec, {"query": seq, "key": seq, "value": seq}, {"dropout_p": 0.5})
    model = build_model(graph, seed=1)
    q, k, v = (torch.randn(3, 2, 6, 4) for _ in range(3))
    expected = F.scaled_dot_product_attention(q, k, v)
    with torch.no_grad():
        assert torch.equal(model.eval()(q, k, v), expected)
        assert not torch.equal(model.train()(q, k, v), expected)


def _problems(spec_type: str, ins: dict, params: dict) -> list[str]:
    graph = single_node_graph(get_spec(spec_type), ins, params)
    return [p.message for p in graph.analysis().problems]


def test_attention_inputs_that_do_not_fit_are_one_message_each():
    seq = sample(2, 6, 4)
    wide = _problems(
        "ScaledDotProductAttention", {"query": seq, "key": sample(2, 6, 8), "value": seq}, {}
    )
    assert any("query has 4 features per position but key has 8" in m for m in wide)
    both = _problems(
        "ScaledDotProductAttention",
        {"query": seq, "key": seq, "value": seq, "attn_mask": TensorMeta((6, 6), "bool")},
        {"is_causal": True},
    )
    assert any("give either attn_mask or is_causal, not both" in m for m in both)
    mask = _problems(
        "ScaledDotProductAttention",
        {"query": seq, "key": seq, "value": seq, "attn_mask": TensorMeta((5, 6))},
        {},
    )
    assert any("does not broadcast to" in m for m in mask)
    heads = _problems("TransformerEncoder", {"src": sample(6, 10)}, {"nhead": 4})
    assert any("10 features do not split into 4 heads" in m for m in heads)
