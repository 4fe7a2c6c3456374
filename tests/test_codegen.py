"""Generated code: readable, ruff-clean (ruff's defaults), and the same class the app trains."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from tests.builders import chain, linear_graph
from tests.conftest import EXAMPLES
from tests.reference import assert_outputs_match_analysis, forward, ruff_problems
from torchcanvas.codegen.build import build_model, compile_model
from torchcanvas.codegen.emit import CodegenError, emit_module
from torchcanvas.graph.model import ModelGraph
from torchcanvas.graph.project import load_project


def forward_source(model) -> list[str]:
    """The lines of forward()'s body."""
    source = emit_module(model).source
    body = source[source.index("    def forward") : source.index("\n\n\nif __name__")]
    return [line.strip() for line in body.split("\n")[1:]]


def test_chain_reads_like_a_tutorial():
    project = load_project(EXAMPLES / "digit_classifier.json")
    source = emit_module(project.model).source
    assert "self.conv1 = nn.Conv2d(1, 16, kernel_size=3, padding=1)" in source
    assert "self.fc = nn.Linear(1568, 10)" in source
    assert "self.log_softmax = nn.LogSoftmax(dim=1)" in source
    body = forward_source(project.model)
    assert body[:3] == ["x = self.conv1(x)", "x = self.relu1(x)", "x = self.pool1(x)"]
    assert body[-1] == "return x"


def test_residual_reads_like_resnet():
    project = load_project(EXAMPLES / "resnet18_expanded.json")
    body = forward_source(project.model)
    assert "identity = x" in body and "x = x + identity" in body
    assert "identity = self.layer2_0_downsample_0(identity)" in body
    blocks = emit_module(load_project(EXAMPLES / "resnet18.json").model).source
    assert blocks.count("class BasicBlock(nn.Module):") == 1
    assert "BasicBlock(64, 128, stride=2)," in blocks
    assert "        if self.downsample is not None:\n" in blocks
    v1 = load_project(EXAMPLES.parent.parent / "tests" / "fixtures" / "v1" / "resnet18.json")
    assert "self.layer2_0 = ResidualBlock(64, 128, stride=2)" in emit_module(v1.model).source


def test_branches_are_named_after_the_node_that_starts_them():
    model = ModelGraph("Inception")
    x = model.add_node("Input", params={"shape": [3, 8, 8]})
    one = model.add_node("Conv2d", "branch1x1", {"out_channels": 4, "kernel_size": 1})
    five = model.add_node("Conv2d", "branch5x5_1", {"out_channels": 4, "kernel_size": 1})
    five2 = model.add_node(
        "Conv2d", "branch5x5_2", {"out_channels": 4, "kernel_size": 5, "padding": 2}
    )
    pool = model.add_node("MaxPool2d", "pool", {"kernel_size": 3, "stride": 1, "padding": 1})
    cat, out = model.add_node("Concat"), model.add_node("Output")
    for edge in (
        (x, one),
        (x, five),
        (five, five2),
        (x, pool),
        (one, cat),
        (five2, cat),
        (pool, cat),
        (cat, out),
    ):
        model.connect(*edge)
    assert forward_source(model) == [
        "branch1x1 = self.branch1x1(x)",
        "branch5x5_1 = self.branch5x5_1(x)",
        "branch5x5_1 = self.branch5x5_2(branch5x5_1)",
        "pool = self.pool(x)",
        "x = torch.cat([branch1x1, branch5x5_1, pool], dim=1)",
        "return x",
    ]


def test_a_gate_reads_x_times_scale():
    model = ModelGraph("SE")
    x = model.add_node("Input", params={"shape": [8, 4, 4]})
    squeeze = model.add_node("AdaptiveAvgPool2d", "scale")
    conv = model.add_node("Conv2d", "fc", {"out_channels": 8, "kernel_size": 1})
    gate = model.add_node("Sigmoid")
    mul, out = model.add_node("Mul"), model.add_node("Output")
    chain(model, [x, squeeze, conv, gate])
    model.connect(x, mul)
    model.connect(gate, mul)
    model.connect(mul, out)
    assert forward_source(model)[-2:] == ["x = x * scale", "return x"]


def test_unused_outputs_unpack_into_underscores():
    model = linear_graph(("LSTM", {"hidden_size": 8}), ("Select", {}), shape=(5, 3))
    assert forward_source(model)[:2] == ["x, _ = self.lstm1(x)", "x = x[:, -1]"]
    model = linear_graph(("LSTM", {"hidden_size": 8}), shape=(5, 3))
    lstm, out = model.id_of("lstm1"), model.id_of("output")
    model.disconnect(model.inputs(out)[0])
    select = model.add_node("Select", params={"dim": 0, "index": -1})
    model.connect(lstm, select, src_port="h_n")
    model.connect(select, out)
    assert forward_source(model)[:2] == ["_, (h_n, _) = self.lstm1(x)", "x = h_n[-1]"]


def test_self_attention_without_weights_says_so():
    model = linear_graph(("MultiheadAttention", {"num_heads": 2}), shape=(6, 8))
    x, attn = model.id_of("input"), model.id_of("attn1")
    model.connect(x, attn, dst_port="key")
    model.connect(x, attn, dst_port="value")
    assert forward_source(model)[0] == "x, _ = self.attn1(x, x, x, need_weights=False)"
    _, _, outputs = forward(model)
    assert_outputs_match_analysis(model, outputs)


def test_several_inputs_and_outputs_make_the_signature_and_a_tuple():
    model = ModelGraph("TwoHeads")
    image = model.add_node("Input", "image", {"shape": [3, 8, 8]})
    tokens = model.add_node("Input", "tokens", {"shape": [5], "dtype": "int64"})
    pool = model.add_node("AdaptiveAvgPool2d")
    flat = model.add_node("Flatten")
    embed = model.add_node("Embedding", params={"num_embeddings": 20, "embedding_dim": 3})
    mean = model.add_node("Mean", params={"dim": [1]})
    cat = model.add_node("Concat")
    logits = model.add_node("Linear", "logits", {"out_features": 4})
    out, aux = model.add_node("Output"), model.add_node("Output", "aux")
    chain(model, [image, pool, flat, cat])
    chain(model, [tokens, embed, mean])
    model.connect(mean, cat)
    chain(model, [cat, logits, out])
    model.connect(mean, aux)
    source = emit_module(model).source
    assert "def forward(self, image, tokens):" in source
    assert "return x, embedding1" in source
    assert '"""Inputs image (3, 8, 8) and tokens (5,) int64 -> outputs (4,) and (3,)' in source
    _, _, outputs = forward(model)
    assert_outputs_match_analysis(model, outputs)


def test_parameters_and_weight_init_are_written_in_init():
    model = linear_graph(
        ("Linear", {"out_features": 4, "weight_init": "xavier_uniform", "bias_init": "zeros"}),
        ("Add", {}),
        shape=(6,),
    )
    param = model.add_node("Parameter", "offset", {"shape": [1, 4], "init": "trunc_normal"})
    model.connect(param, model.id_of("add1"))
    source = emit_module(model).source
    assert "nn.init.xavier_uniform_(self.fc1.weight)" in source
    assert "nn.init.zeros_(self.fc1.bias)" in source
    assert "self.offset = nn.Parameter(torch.empty(1, 4))" in source
    assert "nn.init.trunc_normal_(self.offset, std=0.02)" in source
    assert "x = x + self.offset" in source
    module = build_model(model, seed=0)
    assert torch.all(module.fc1.bias == 0) and module.offset.abs().max() < 0.2


def test_invalid_graph_is_refused_with_its_problems():
    model = linear_graph(("Linear", {"in_features": 3}), ("Flatten", {}))
    with pytest.raises(CodegenError) as caught:
        emit_module(model)
    assert "fc1: expects 3 input features" in str(caught.value)


@pytest.mark.slow
def test_examples_pass_ruff_with_its_defaults_and_run(tmp_path):
    for path in sorted(EXAMPLES.glob("*.json")):
        (tmp_path / f"{path.stem}.py").write_text(emit_module(load_project(path).model).source)
    assert ruff_problems(tmp_path) == ""
    ran = subprocess.run(
        [sys.executable, "small_cnn.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert "output shape: (1, 10)" in ran.stdout and "parameters: 31530" in ran.stdout


def test_long_names_still_format_cleanly(tmp_path):
    model = ModelGraph("A" + "b" * 38)
    inp = model.add_node("Input", params={"shape": [3, 8, 8]})
    names = [model.add_node("ReLU", f"branch_{i}_" + "x" * 30) for i in range(5)]
    merge = model.add_node("Add", "merge_all_the_branches_" + "y" * 17)
    cat = model.add_node("Concat", "concatenate_everything_" + "z" * 17)
    for name in names:
        model.connect(inp, name)
        model.connect(name, merge)
        model.connect(name, cat)
    model.connect(merge, cat)
    conv = model.add_node(
        "Conv2d",
        "c" * 40,
        params={
            "out_channels": 12345,
            "kernel_size": [3, 5],
            "padding": "same",
            "dilation": 2,
            "padding_mode": "reflect",
            "bias": False,
        },
    )
    model.connect(cat, conv)
    model.connect(conv, model.add_node("Output"))
    assert model.analysis().ok, model.analysis().problems
    (tmp_path / "long.py").write_text(emit_module(model).source)
    assert ruff_problems(tmp_path) == ""


def test_the_trained_class_is_the_exported_class(tmp_path):
    model = load_project(EXAMPLES / "digits_cnn.json").model
    trained = build_model(model, seed=1)
    path = tmp_path / "digits.py"
    path.write_text(emit_module(model).source)
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    exported = namespace[model.name]()
    assert list(exported.state_dict()) == list(trained.state_dict())
    exported.load_state_dict(trained.state_dict())
    sample = torch.randn(4, 1, 8, 8)
    assert torch.equal(exported.eval()(sample), trained.eval()(sample))


def test_class_name_override_and_node_lines():
    model = linear_graph(("ReLU", {}))
    result = emit_module(model, "MyNet")
    assert "class MyNet(nn.Module):" in result.source
    lines = result.source.split("\n")
    for number, node in result.node_lines.items():
        name = model.node_name(node)
        assert name in lines[number - 1] or "return" in lines[number - 1]
    with pytest.raises(CodegenError):
        emit_module(model, "print")


def test_compiled_class_matches_the_analysis_of_every_example():
    for path in sorted(EXAMPLES.glob("*.json")):
        model = load_project(path).model
        _, _, outputs = forward(model, batch=2)
        assert_outputs_match_analysis(model, outputs, batch=2)
    assert compile_model  # the class the app trains is this compiled class


def test_a_densenet_and_a_mobilenet_export_pass_ruff_with_its_defaults(tmp_path):
    from bench.common import long_densenet

    (tmp_path / "densenet.py").write_text(emit_module(long_densenet((2, 3, 2, 2))).source)
    mobilenet = load_project(EXAMPLES / "mobilenet_v2.json").model
    (tmp_path / "mobilenet.py").write_text(emit_module(mobilenet).source)
    assert ruff_problems(tmp_path) == ""


def test_stateless_layers_can_be_written_as_calls_and_compute_the_same(tmp_path):
    layers = (
        ("Conv2d", {"out_channels": 4, "kernel_size": 3}),
        ("ReLU", {"inplace": True}),
        ("MaxPool2d", {"kernel_size": 2}),
        ("Flatten", {}),
        ("Dropout", {"p": 0.2}),
        ("Linear", {"out_features": 3}),
        ("LogSoftmax", {"dim": 1}),
    )
    modules = linear_graph(*layers, shape=(1, 8, 8))
    calls = linear_graph(
        *(
            (t, {**p, "functional": True}) if t != "Conv2d" and t != "Linear" else (t, p)
            for t, p in layers
        ),
        shape=(1, 8, 8),
    )
    assert forward_source(calls)[:8] == [
        "x = self.conv1(x)",
        "x = F.relu(x, inplace=True)",
        "x = F.max_pool2d(x, 2)",
        "x = torch.flatten(x, 1)",
        "x = F.dropout(x, p=0.2, training=self.training)",
        "x = self.fc1(x)",
        "x = F.log_softmax(x, dim=1)",
        "return x",
    ]
    source = emit_module(calls).source
    assert "import torch.nn.functional as F\n" in source and "self.relu1" not in source
    (tmp_path / "calls.py").write_text(source)
    assert not ruff_problems(tmp_path)
    first, second = build_model(modules, seed=0).eval(), build_model(calls).eval()
    second.load_state_dict(first.state_dict(), strict=True)
    sample = torch.randn(2, 1, 8, 8)
    with torch.no_grad():
        assert torch.equal(first(sample), second(sample))


def test_a_forward_with_long_input_names_splits_its_signature_as_ruff_does(tmp_path):
    for count, length in ((3, 24), (4, 30)):
        model = ModelGraph("Wide")
        inputs = [
            model.add_node("Input", f"input_{i}_" + "q" * length, params={"shape": [4]})
            for i in range(count)
        ]
        merge = model.add_node("Add")
        for name in inputs:
            model.connect(name, merge)
        model.connect(merge, model.add_node("Output"))
        source = emit_module(model).source
        assert "def forward(\n" in source
        (tmp_path / f"wide_{count}.py").write_text(source)
    assert ruff_problems(tmp_path) == ""
