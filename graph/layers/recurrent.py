"""Recurrent layers; TorchCanvas keeps the batch first (batch_first=True)."""

from __future__ import annotations

from torchcanvas.graph.layers.common import FEATURES, SEQUENCE, bias, sample
from torchcanvas.graph.params import BOOL, CHOICE, FLOAT, INT, Param
from torchcanvas.graph.ports import PortSpec, TensorMeta
from torchcanvas.graph.registry import LayerSpec, ModuleCall, register
from torchcanvas.graph.rules import ShapeError, expect_batch_first

GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


def _state_port(name: str, doc: str) -> PortSpec:
    return PortSpec(
        name,
        doc,
        ranks=(2,),
        rank_text="(layers x directions, H)",
        optional=True,
        batch_first=False,
    )


def _directions(args: dict) -> int:
    return 2 if args["bidirectional"] else 1


def _rule(type_name: str):
    def rule(args: dict, ins: dict) -> dict:
        x = ins["input"]
        expect_batch_first(x, type_name)
        hidden, layers = args["hidden_size"], args["num_layers"] * _directions(args)
        state = TensorMeta((layers, None, hidden), x.dtype)
        for port in ("h_0", "c_0"):
            if port in ins and ins[port].shape != state.shape:
                raise ShapeError(
                    f"{port} must be {state.text()} (layers x directions, batch, hidden) "
                    f"but receives {ins[port].text()}"
                )
        if type_name == "LSTM" and ("h_0" in ins) != ("c_0" in ins):
            raise ShapeError("connect both h_0 and c_0, or neither")
        out = TensorMeta((None, x.shape[1], hidden * _directions(args)), x.dtype)
        result = {"output": out, "h_n": state}
        if type_name == "LSTM":
            result["c_n"] = state
        if args["dropout"] > 0 and args["num_layers"] == 1:
            result["_warning"] = "dropout acts between layers, so with num_layers=1 it does nothing"
        return result

    return rule


def _layer_inputs(args: dict):
    hidden, directions = args["hidden_size"], _directions(args)
    for layer in range(args["num_layers"]):
        yield args["input_size"] if layer == 0 else hidden * directions


def _count(type_name: str):
    gates = GATES[type_name]

    def count(args: dict) -> int:
        hidden, directions = args["hidden_size"], _directions(args)
        total = 0
        for size in _layer_inputs(args):
            total += gates * hidden * (size + hidden) + (2 * gates * hidden if args["bias"] else 0)
        return total * directions

    return count


def _flops(type_name: str):
    gates = GATES[type_name]

    def flops(args: dict, ins: dict, outs: dict) -> int:
        steps, hidden = ins["input"].shape[1], args["hidden_size"]
        per_step = sum(2 * gates * hidden * (size + hidden) for size in _layer_inputs(args))
        return steps * per_step * _directions(args)

    return flops


def _params(type_name: str) -> tuple[Param, ...]:
    params = [
        Param(
            "input_size",
            INT,
            "Features per step of the incoming sequence.",
            required=True,
            initial=1,
            minimum=1,
            maximum=FEATURES,
            positional=True,
            auto="features",
        ),
        Param(
            "hidden_size",
            INT,
            "Features of the hidden state.",
            required=True,
            initial=64,
            minimum=1,
            maximum=FEATURES,
            positional=True,
        ),
        Param("num_layers", INT, "Stacked recurrent layers.", 1, minimum=1, maximum=64),
    ]
    if type_name == "RNN":
        params.append(
            Param("nonlinearity", CHOICE, "Activation.", "tanh", choices=("tanh", "relu"))
        )
    params += [
        bias("Learn the gate biases."),
        Param("dropout", FLOAT, "Dropout between stacked layers.", 0.0, minimum=0, maximum=1),
        Param("bidirectional", BOOL, "Also read the sequence backwards.", False),
    ]
    return tuple(params)


def _recurrent(type_name: str, doc: str) -> LayerSpec:
    lstm = type_name == "LSTM"
    states = (_state_port("h_0", "Initial hidden state."),)
    outputs = (
        PortSpec("output", "Every step's hidden state."),
        PortSpec("h_n", "Last hidden state."),
    )
    if lstm:
        states += (_state_port("c_0", "Initial cell state."),)
        outputs += (PortSpec("c_n", "Last cell state."),)
    return LayerSpec(
        type_name,
        "Recurrent",
        doc,
        type_name.lower(),
        params=_params(type_name),
        inputs=(SEQUENCE, *states),
        outputs=outputs,
        infer=_rule(type_name),
        count=_count(type_name),
        flops=_flops(type_name),
        call=ModuleCall(args=("input", ("h_0", "c_0")) if lstm else ("input", "h_0")),
        returns=("output", ("h_n", "c_n")) if lstm else ("output", "h_n"),
        fixed_kwargs=(("batch_first", True),),
        key_params=("hidden_size", "num_layers", "bidirectional"),
        examples=(
            ({"input": sample(12, 8)}, {"hidden_size": 16}),
            (
                {"input": sample(5, 3)},
                {"hidden_size": 4, "num_layers": 2, "bidirectional": True, "dropout": 0.1},
            ),
            (
                {
                    "input": sample(6, 3),
                    "h_0": TensorMeta((1, None, 5)),
                    **({"c_0": TensorMeta((1, None, 5))} if lstm else {}),
                },
                {"hidden_size": 5},
            ),
        ),
    )


register(_recurrent("RNN", "Elman recurrent network over a sequence (L, F)."))
register(_recurrent("LSTM", "Long short-term memory over a sequence (L, F)."))
register(_recurrent("GRU", "Gated recurrent unit over a sequence (L, F)."))
