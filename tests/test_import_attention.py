"""Attention as people write it imports exactly: nn.TransformerEncoder/Decoder stacks and
F.scaled_dot_product_attention."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from tests.test_import import assert_round_trip, exported_from
from tests.test_import_fidelity import distinct_parameters, refusal
from torchcanvas.app.import_check import import_checked
from torchcanvas.codegen.emit import emit_module


class TinyViT(nn.Module):
    """A ViT on nn.TransformerEncoder: patch Conv2d, class token, learned positions."""

    def __init__(self, dim: int = 32, depth: int = 2, classes: int = 5):
        super().__init__()
        self.patch = nn.Conv2d(3, dim, kernel_size=4, stride=4)
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim))
        self.pos_embedding = nn.Parameter(torch.randn(1, 17, dim))
        layer = nn.TransformerEncoderLayer(
            dim, 4, dim_feedforward=64, activation="gelu", batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers=depth, norm=nn.LayerNorm(dim))
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], dim=1) + self.pos_embedding
        x = self.encoder(x)
        return self.head(x[:, 0])


class CausalSelfAttention(nn.Module):
    """A GPT block's attention, written as nanoGPT writes it."""

    def __init__(self, dim: int = 32, heads: int = 4):
        super().__init__()
        self.heads = heads
        self.c_attn = nn.Linear(dim, 3 * dim)
        self.c_proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)
        q = q.view(B, T, self.heads, C // self.heads).transpose(1, 2)
        k = k.view(B, T, self.heads, C // self.heads).transpose(1, 2)
        v = v.view(B, T, self.heads, C // self.heads).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class GPTBlock(nn.Module):
    def __init__(self, dim: int = 32):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = CausalSelfAttention(dim)
        self.fc, self.proj = nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, dim)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.proj(F.gelu(self.fc(self.ln_2(x))))


class Seq2Seq(nn.Module):
    """A decoder over an encoder's memory, on nn.TransformerDecoder."""

    def __init__(self, dim: int = 16):
        super().__init__()
        layer = nn.TransformerDecoderLayer(dim, 2, dim_feedforward=32, batch_first=True)
        self.decoder = nn.TransformerDecoder(layer, num_layers=3)
        self.out = nn.Linear(dim, 7)

    def forward(self, tgt, memory):
        return self.out(self.decoder(tgt, memory))


def _imports_exactly(original: nn.Module, inputs):
    torch.manual_seed(0)
    result = import_checked(original.eval(), inputs)
    assert_round_trip(original, inputs, result)
    exported = exported_from(result)
    assert exported.state_dict().keys() == original.state_dict().keys()
    assert distinct_parameters(exported) == distinct_parameters(original)
    return result


def test_a_vit_on_nn_transformer_encoder_imports_exactly():
    torch.manual_seed(0)
    result = _imports_exactly(TinyViT(), [((3, 16, 16), "float32")])
    model = result.project.model
    encoder = model.id_of("encoder")
    assert model.spec(encoder).type == "TransformerEncoder"
    params = model.params(encoder)
    assert params["num_layers"] == 2 and params["norm"] and params["norm_first"]
    source = emit_module(model).raw
    assert (
        "nn.TransformerEncoder(nn.TransformerEncoderLayer(32, 4, dim_feedforward=64, "
        "activation='gelu', norm_first=True, batch_first=True), num_layers=2, "
        "norm=nn.LayerNorm(32))"
    ) in source.replace('"', "'")


def test_a_gpt_block_with_scaled_dot_product_attention_imports_exactly():
    torch.manual_seed(0)
    result = _imports_exactly(GPTBlock(), [((6, 32), "float32")])
    source = emit_module(result.project.model).raw
    assert "F.scaled_dot_product_attention(" in source and "is_causal=True" in source


def test_a_model_on_nn_transformer_decoder_imports_exactly():
    torch.manual_seed(0)
    result = _imports_exactly(Seq2Seq(), [((5, 16), "float32"), ((9, 16), "float32")])
    model = result.project.model
    assert model.spec(model.id_of("decoder")).type == "TransformerDecoder"


def test_a_lone_transformer_decoder_layer_imports_exactly_too():
    class OneLayer(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.TransformerDecoderLayer(16, 4, 32, batch_first=True, norm_first=True)

        def forward(self, tgt, memory):
            return self.layer(tgt, memory)

    _imports_exactly(OneLayer(), [((5, 16), "float32"), ((9, 16), "float32")])


def test_a_stack_whose_layers_differ_is_refused_naming_the_layer():
    torch.manual_seed(0)
    stack = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 2)
    stack.layers[1] = nn.TransformerEncoderLayer(8, 2, 32, batch_first=True)
    text = refusal(nn.Sequential(stack), [((4, 8), "float32")])
    assert "layers.1 is configured unlike layers.0" in text


def test_a_stack_that_is_not_batch_first_is_refused_with_what_to_do():
    stack = nn.TransformerEncoder(
        nn.TransformerEncoderLayer(8, 2, 16), 2, enable_nested_tensor=False
    )
    text = refusal(nn.Sequential(stack), [((4, 8), "float32")])
    assert "batch_first=True" in text
