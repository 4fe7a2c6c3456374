"""The quick-add box's arguments: short names, numbers, k3/s2/p1, name=value, chains."""

from __future__ import annotations

import pytest

from torchcanvas.app.editing.document import NEW_INPUT_SHAPE
from torchcanvas.app.train.data import KNOWN_SHAPES
from torchcanvas.app.ui.quick_add import Entry, layer_parser
from torchcanvas.app.ui.quick_args import LayerRequest, QuickAddError, segments
from torchcanvas.graph.registry import all_specs, get_spec
from torchcanvas.graph.settings import default_training

ENTRIES = [Entry(spec.type, spec.type, spec.category) for spec in all_specs()]


def parse(text: str, current: str | None = None) -> list[LayerRequest]:
    return layer_parser(ENTRIES, get_spec)(text, current)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("conv 32 k3 p1", ("Conv2d", {"out_channels": 32, "kernel_size": 3, "padding": 1})),
        ("conv2d 16 k=3 p=1", ("Conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1})),
        ("CONV2D 8 3 s2", ("Conv2d", {"out_channels": 8, "kernel_size": 3, "stride": 2})),
        ("conv 8 kernel_size=(3,5)", ("Conv2d", {"out_channels": 8, "kernel_size": (3, 5)})),
        (
            "conv 8 k3 padding=same",
            ("Conv2d", {"out_channels": 8, "kernel_size": 3, "padding": "same"}),
        ),
        ("pool 2", ("MaxPool2d", {"kernel_size": 2})),
        ("maxpool 3 s2", ("MaxPool2d", {"kernel_size": 3, "stride": 2})),
        ("linear 10", ("Linear", {"out_features": 10})),
        ("fc 10 bias=false", ("Linear", {"out_features": 10, "bias": False})),
        ("relu", ("ReLU", {})),
        ("flatten", ("Flatten", {})),
        ("dropout 0.25", ("Dropout", {"p": 0.25})),
        ("dropout p=0.5", ("Dropout", {"p": 0.5})),
        ("linear in_features=64 10", ("Linear", {"in_features": 64, "out_features": 10})),
    ],
)
def test_one_layer_with_its_arguments(text, expected):
    assert parse(text) == [LayerRequest(*expected)]


def test_a_chain_is_the_layers_in_order():
    chain = parse("conv 16 k3 p1, relu, pool 2, conv 32 k3 p1, relu, pool 2, flatten, linear 10")
    assert [r.type for r in chain] == [
        "Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear",
    ]  # fmt: skip
    assert chain[3].params == {"out_channels": 32, "kernel_size": 3, "padding": 1}
    assert chain[-1].params == {"out_features": 10}


def test_the_row_picked_in_the_list_names_the_last_step_only():
    chain = parse("conv 4 k3, conv 8", current="Conv1d")
    assert [r.type for r in chain] == ["Conv2d", "Conv1d"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("conv 16 k0", "conv 16 k0: kernel_size must be an integer from 1"),
        ("conv 16 q3", "conv 16 q3: Conv2d has no parameter 'q' (it takes out_channels, "),
        ("conv sixteen", "conv sixteen: out_channels must be"),
        ("linear 10 20", "linear 10 20: Linear does not take '20'"),
        ("linear 10 out_features=20", "linear 10 out_features=20: out_features is given twice"),
        ("linear 10 colour=red", "linear 10 colour=red: Linear has no parameter 'colour'"),
        ("relu 3", "relu 3: ReLU does not take '3'"),
        ("dropout 1.5", "dropout 1.5: p must be at most 1"),
        ("zzz 3", "no layer called 'zzz'"),
        ("conv 8 kernel_size=3,5", "no layer called '5'"),  # a comma outside brackets splits
        ("conv 16,, relu", "an empty step between two commas"),
        ("", "type a layer"),
    ],
)
def test_bad_arguments_get_one_clear_message(text, message):
    with pytest.raises(QuickAddError) as refused:
        parse(text)
    assert str(refused.value).startswith(message), str(refused.value)


def test_segments_keep_commas_inside_brackets():
    assert segments("conv 8 k=(3, 5), relu") == ["conv 8 k=(3, 5)", "relu"]


def test_a_new_projects_input_fits_its_default_data():
    assert NEW_INPUT_SHAPE == KNOWN_SHAPES[default_training()["data"]]
