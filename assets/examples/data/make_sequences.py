"""Write a generated sequence task as .npz, and the LSTM example project that trains on it.

Run `python assets/examples/data/make_sequences.py`; the data are drawn from a fixed seed,
so the archive is the same on every run. Each sample is 20 steps of 2 noisy readings with
one of 4 short shapes hidden at a random step: a rise or a fall, in reading a or in b. The
label says which; no single step tells, so the model must look along the sequence.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from torchcanvas.graph.layout import arrange
from torchcanvas.graph.model import ModelGraph
from torchcanvas.graph.project import Project, save_project
from torchcanvas.graph.settings import coerce_training

HERE = Path(__file__).parent
EXAMPLES = HERE.parent
SAMPLES, STEPS, READINGS, SHAPE_STEPS, HEIGHT = 2000, 20, 2, 6, 2.5
CLASS_NAMES = ["rise_a", "fall_a", "rise_b", "fall_b"]


def sequences(seed: int = 0) -> dict[str, np.ndarray]:
    """sequence (N, 20, 2) float32 readings, y (N,) labels 0..3 and their class_names."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(SAMPLES, STEPS, READINGS))
    y = rng.integers(0, len(CLASS_NAMES), SAMPLES)
    ramp = np.linspace(-1.5, 1.5, SHAPE_STEPS)
    starts = rng.integers(0, STEPS - SHAPE_STEPS + 1, SAMPLES)
    for index, (label, start) in enumerate(zip(y, starts)):
        reading, sign = divmod(int(label), 2)
        x[index, start : start + SHAPE_STEPS, reading] += HEIGHT * ramp * (1 - 2 * sign)
    # two decimals keep the file small and the values exact in float32's text form
    return {
        "sequence": np.round(x, 2).astype(np.float32),
        "y": y.astype(np.int64),
        "class_names": np.array(CLASS_NAMES),
    }


def write_archive(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """A compressed .npz whose bytes depend only on the arrays (no file times inside)."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    path.write_bytes(buffer.getvalue())


def lstm_model() -> ModelGraph:
    """sequence (20, 2) -> LSTM 32 -> last step -> Linear 4 -> Output."""
    model = ModelGraph("SequenceLSTM")
    previous = None
    for type_name, name, params in (
        ("Input", "sequence", {"shape": [STEPS, READINGS]}),
        ("LSTM", "lstm", {"hidden_size": 32}),
        ("Select", "last_step", {"dim": 1, "index": -1}),
        ("Linear", "head", {"out_features": len(CLASS_NAMES)}),
        ("Output", "output", {}),
    ):
        node = model.add_node(type_name, name, params)
        if previous:
            model.connect(previous, node)
        previous = node
    arrange(model)
    return model


def project() -> None:
    """sequence_lstm.json: classification from data/sequences.npz."""
    training = coerce_training(
        {
            "task": "classification",
            "data": "npz",
            "data_path": "data/sequences.npz",
            "lr": 0.01,
            "batch_size": 32,
            "epochs": 12,
            "schedule": "cosine",
            "device": "cpu",
        }
    )
    save_project(Project(lstm_model(), training), EXAMPLES / "sequence_lstm.json")


if __name__ == "__main__":
    write_archive(HERE / "sequences.npz", sequences())
    project()
