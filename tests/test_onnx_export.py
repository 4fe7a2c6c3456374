"""ONNX export: every example through onnxruntime against torch, dynamic batch, names, faults."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime
import pytest
import torch

from tests.builders import chain, example_inputs
from tests.conftest import EXAMPLES
from torchcanvas.app.__main__ import main
from torchcanvas.app.export_onnx import ONNX_OPSET, OnnxExportError, export_onnx
from torchcanvas.codegen.build import build_model
from torchcanvas.graph.model import ModelGraph
from torchcanvas.graph.project import Project, load_project, save_project

EXAMPLE_FILES = sorted(EXAMPLES.glob("*.json"))
ATOL = 1e-4


def _run_both(model_graph, module, path, batch: int, seed: int):
    """(torch outputs, onnxruntime outputs) on the same random inputs at `batch`."""
    inputs = example_inputs(model_graph, batch, seed)
    analysis = model_graph.analysis()
    names = [analysis.names[node] for node in analysis.inputs]
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {n: t.numpy() for n, t in zip(names, inputs)})
    with torch.no_grad():
        expected = module(*inputs)
    expected = expected if isinstance(expected, tuple) else (expected,)
    return [t.numpy() for t in expected], got


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
@pytest.mark.slow
def test_every_example_runs_in_onnxruntime_as_in_torch_at_any_batch(path, tmp_path):
    model_graph = load_project(path).model
    module = build_model(model_graph, seed=1).eval()
    weights = tmp_path / "weights.pt"
    torch.save(module.state_dict(), weights)  # the weights the file must carry, not its own
    done = export_onnx(model_graph, tmp_path / "model.onnx", weights=weights)
    assert done.opset == ONNX_OPSET and done.max_difference <= ATOL
    for batch in (1, 5):  # neither is the traced batch (2) nor the checked one (3)
        expected, got = _run_both(model_graph, module, done.path, batch, seed=batch)
        for want, have in zip(expected, got, strict=True):
            assert have.shape == want.shape
            np.testing.assert_allclose(have, want, rtol=0, atol=ATOL)


def test_inputs_and_outputs_are_named_after_their_nodes_and_the_opset_is_recorded(tmp_path):
    model_graph = ModelGraph("TwoHeads")
    image = model_graph.add_node("Input", name="image", params={"shape": [8]})
    extra = model_graph.add_node("Input", name="extra", params={"shape": [8]})
    add = model_graph.add_node("Add")
    fc = model_graph.add_node("Linear", name="fc", params={"out_features": 3})
    relu = model_graph.add_node("ReLU", name="relu")
    logits = model_graph.add_node("Output", name="logits")
    features = model_graph.add_node("Output", name="features")
    model_graph.connect(image, add)
    model_graph.connect(extra, add)
    chain(model_graph, [add, fc, logits])
    chain(model_graph, [add, relu, features])
    assert model_graph.analysis().problems == []
    done = export_onnx(model_graph, tmp_path / "heads.onnx")
    assert (done.inputs, done.outputs) == (["image", "extra"], ["logits", "features"])
    saved = onnx.load(str(done.path))
    assert [i.name for i in saved.graph.input] == ["image", "extra"]
    assert [o.name for o in saved.graph.output] == ["logits", "features"]
    assert {o.version for o in saved.opset_import if o.domain in ("", "ai.onnx")} == {ONNX_OPSET}
    props = {p.key: p.value for p in saved.metadata_props}
    assert props["torchcanvas.opset"] == str(ONNX_OPSET)
    assert props["torchcanvas.class"] == "TwoHeads"
    dims = saved.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param and not dims[0].dim_value  # the batch is symbolic
    module = build_model(model_graph, seed=0).eval()
    expected, got = _run_both(model_graph, module, done.path, batch=7, seed=3)
    for want, have in zip(expected, got, strict=True):
        np.testing.assert_allclose(have, want, rtol=0, atol=ATOL)


def _conv_then(kind: str, params: dict, name: str) -> ModelGraph:
    model_graph = ModelGraph("Net")
    nodes = [
        model_graph.add_node("Input", params={"shape": [4, 12, 12]}),
        model_graph.add_node("Conv2d", name="conv1", params={"out_channels": 4, "kernel_size": 3}),
        model_graph.add_node(kind, name=name, params=params),
        model_graph.add_node("Output"),
    ]
    chain(model_graph, nodes)
    assert model_graph.analysis().problems == []
    return model_graph


FRACTIONAL = {
    "cls": "torch.nn.FractionalMaxPool2d",
    "arguments": (("kernel_size", 2), ("output_size", (4, 4))),
}


@pytest.mark.slow
def test_an_operator_without_onnx_translation_is_one_message_naming_the_node(tmp_path, capsys):
    project = tmp_path / "frac.json"
    save_project(Project(_conv_then("External", FRACTIONAL, "frac")), project)
    out = tmp_path / "frac.onnx"
    assert main(["export", str(project), "--format", "onnx", "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot export") and "frac (FractionalMaxPool2d): " in err
    assert "aten::fractional_max_pool2d" in err and "opset 18" in err
    assert "Traceback" not in err and len(err.splitlines()) == 1
    assert not out.exists()
    with pytest.raises(OnnxExportError) as caught:
        export_onnx(_conv_then("External", FRACTIONAL, "frac"), out)
    assert caught.value.node == "frac"


@pytest.mark.slow
def test_what_the_first_exporter_cannot_translate_goes_through_torch_export(tmp_path):
    # torch's TorchScript exporter refuses channel_shuffle; torch.export's translates it.
    done = export_onnx(_conv_then("ChannelShuffle", {"groups": 2}, "shuffle"), tmp_path / "s.onnx")
    assert done.exporter == "dynamo" and done.opset == ONNX_OPSET
    assert done.max_difference <= ATOL


def test_cli_writes_onnx_with_weights_and_refuses_weights_that_do_not_fit(tmp_path, capsys):
    project = EXAMPLES / "digit_classifier.json"
    module = build_model(load_project(project).model, seed=4)
    weights = tmp_path / "w.pt"
    torch.save(module.state_dict(), weights)
    out = tmp_path / "digits.onnx"
    args = ["export", str(project), "-o", str(out), "--weights", str(weights)]
    assert main(args) == 0  # the .onnx suffix chooses the format
    said = capsys.readouterr().out
    assert f"ONNX opset {ONNX_OPSET}" in said and "inputs input; outputs output" in said
    assert "note:" not in said  # weights were given
    partial = module.state_dict()
    del partial["fc.bias"]  # strict: one missing tensor refuses the file
    torch.save(partial, weights)
    out.unlink()
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "does not fit exactly" in err and "missing: bias" in err and not out.exists()
    assert main(["export", str(project), "-o", str(tmp_path / "m.py"), "--weights", "w"]) == 2


VOLUME_AND_SIGNAL = (
    "Conv3d",
    "ConvTranspose1d",
    "ConvTranspose3d",
    "MaxPool3d",
    "AvgPool3d",
    "AdaptiveAvgPool3d",
    "BatchNorm3d",
    "InstanceNorm1d",
    "InstanceNorm3d",
    "Upsample",
)


@pytest.mark.parametrize("type_name", VOLUME_AND_SIGNAL)
def test_the_one_and_three_dim_layers_run_in_onnxruntime_as_in_torch(type_name, tmp_path):
    from tests.builders import single_node_graph
    from torchcanvas.graph.registry import get_spec

    spec = get_spec(type_name)
    examples = spec.examples[:1] if type_name == "AdaptiveAvgPool3d" else spec.examples
    for index, (ins, params) in enumerate(examples):  # adaptive: to 1 only (see below)
        model_graph = single_node_graph(spec, ins, params)
        module = build_model(model_graph, seed=1).eval()
        weights = tmp_path / f"weights{index}.pt" if module.state_dict() else None
        if weights is not None:  # a layer without tensors has no weights file to give
            torch.save(module.state_dict(), weights)
        done = export_onnx(model_graph, tmp_path / f"model{index}.onnx", weights=weights)
        assert done.max_difference <= ATOL, (type_name, params)


def test_adaptive_3d_pooling_to_uneven_sizes_which_torch_onnx_cannot_translate_is_refused(
    tmp_path,
):
    from tests.builders import single_node_graph
    from torchcanvas.graph.registry import get_spec

    spec = get_spec("AdaptiveAvgPool3d")
    ins, params = spec.examples[1]  # 5x7x6 down to 1x2x3
    model_graph = single_node_graph(spec, ins, params)
    with pytest.raises(OnnxExportError, match=r"\(AdaptiveAvgPool3d\): torch's ONNX exporters"):
        export_onnx(model_graph, tmp_path / "model.onnx")
    assert not (tmp_path / "model.onnx").exists()
