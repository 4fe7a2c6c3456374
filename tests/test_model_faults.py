"""Graphs that check but could not run: names nn.Module itself uses."""

from __future__ import annotations

import json

import pytest
from torch import nn

from tests.conftest import EXAMPLES
from torchcanvas.graph.graphbase import GraphError
from torchcanvas.graph.naming import MODULE_ATTRIBUTES
from torchcanvas.graph.project import ProjectError, loads_project

MODULE_NAMES = sorted(
    name for name in set(dir(nn.Module())) | set(vars(nn.Module())) if not name.startswith("__")
)


def test_every_attribute_nn_module_uses_is_reserved():
    assert set(MODULE_NAMES) <= MODULE_ATTRIBUTES


@pytest.mark.parametrize("name", [n for n in MODULE_NAMES if n.startswith("_")])
def test_a_node_cannot_be_named_after_a_private_module_attribute(name):
    project = loads_project((EXAMPLES / "mlp.json").read_text())
    model = project.model
    node = next(iter(model.nodes_of_type("Linear")))
    with pytest.raises(GraphError, match="already used by nn.Module"):
        model.rename(node, name)
    document = json.loads((EXAMPLES / "mlp.json").read_text())
    document["nodes"][1]["name"] = name
    with pytest.raises(ProjectError, match="already used by nn.Module"):
        loads_project(json.dumps(document))


def _conv_net(shape, *channels):
    from torchcanvas.graph.model import ModelGraph

    model = ModelGraph("Big")
    previous = model.add_node("Input", params={"shape": list(shape)})
    for count in channels:
        conv = model.add_node(
            "Conv2d", params={"out_channels": count, "kernel_size": 3, "padding": 1}
        )
        model.connect(previous, conv)
        previous = conv
    model.connect(previous, model.add_node("Output"))
    return model


def test_an_output_too_large_to_train_is_a_warning_on_its_node():
    model = _conv_net((3, 4096, 4096), 64)
    analysis = model.analysis()
    assert analysis.ok  # a warning: it checks, and says what a real run will meet
    (problem,) = analysis.problems
    assert problem.severity == "warning" and problem.name == "conv1"
    assert "4.0 GB per sample, 128.0 GB at batch size 32" in problem.message


def test_many_moderate_outputs_add_up_to_a_warning_on_the_largest():
    model = _conv_net((3, 1024, 1024), 48, 48, 48, 48, 48, 60)
    (problem,) = model.analysis().problems
    assert problem.name == "conv6" and "activations take 1.2 GB per sample" in problem.message


def test_small_models_get_no_memory_warning():
    for path in sorted(EXAMPLES.glob("*.json")):
        assert not loads_project(path.read_text()).model.analysis().problems, path.name


def test_out_of_memory_advice_comes_from_the_real_sizes():
    from torchcanvas.app.train.faults import oom_message

    gb = 2**30
    assert "no batch size fits" in oom_message(
        64, sample_bytes=48 * 2**20 * 1024, memory_bytes=24 * gb
    )
    text = oom_message(64, sample_bytes=100 * 2**20, memory_bytes=24 * gb)
    assert "try batch size 32" in text and "300 MB to train" in text
    assert "try batch size 13" in oom_message(64, sample_bytes=300 * 2**20, memory_bytes=24 * gb)


def test_synthetic_data_too_large_to_hold_is_refused_before_it_is_made():
    from torchcanvas.app.train.data import DataError, synthetic_size

    assert synthetic_size((1, 8, 8), 64) == 1024
    assert synthetic_size((3, 512, 512), 64) == 341  # as many as fit in 1 GB
    with pytest.raises(DataError, match="takes 192 MB; two batches of 64 would take 24.0 GB"):
        synthetic_size((3, 4096, 4096), 64)


def test_a_training_job_knows_what_one_sample_takes_for_its_advice(tmp_path):
    from torchcanvas.app.train.faults import describe
    from torchcanvas.app.train.job import job_from_project

    job = job_from_project(loads_project((EXAMPLES / "small_cnn.json").read_text()), tmp_path)
    # small_cnn: 28x28 input, two conv stages: the outputs of every layer for one sample
    assert 100_000 < job.activation_bytes < 2_000_000
    fault = describe(
        MemoryError(),
        "<x>",
        {},
        64,
        sample_bytes=job.activation_bytes * 10**4,
        memory_bytes=24 * 2**30,
    )
    assert fault.kind == "oom" and "to train and this device has 24.0 GB" in str(fault)
