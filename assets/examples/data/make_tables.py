"""Write scikit-learn's diabetes and wine data as CSV, and the example projects that train on them.

Run `python assets/examples/data/make_tables.py`; it needs no network (the data ship with
scikit-learn).
"""

from __future__ import annotations

import csv
from pathlib import Path

from sklearn.datasets import load_diabetes, load_wine

from torchcanvas.graph.layout import arrange
from torchcanvas.graph.model import ModelGraph
from torchcanvas.graph.project import Project, save_project
from torchcanvas.graph.settings import coerce_training

HERE = Path(__file__).parent
EXAMPLES = HERE.parent


def write_csv(path: Path, header: list[str], rows) -> None:
    """One header row, then the rows; numbers as Python writes them (round-trip exact)."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def diabetes_table() -> None:
    """442 patients: 10 raw measurements and the disease progression a year later."""
    data = load_diabetes(scaled=False)
    rows = [[*(f"{v:g}" for v in x), f"{t:g}"] for x, t in zip(data.data, data.target)]
    write_csv(HERE / "diabetes.csv", [*data.feature_names, "progression"], rows)


def wine_table() -> None:
    """178 wines: 13 chemical measurements and the cultivar as a class name."""
    data = load_wine()
    names = [str(n) for n in data.target_names]
    rows = [[*(f"{v:g}" for v in x), names[t]] for x, t in zip(data.data, data.target)]
    write_csv(HERE / "wine.csv", [*data.feature_names, "cultivar"], rows)


def mlp(name: str, features: int, hidden: int, outputs: int) -> ModelGraph:
    """Input -> Linear -> ReLU -> Linear -> ReLU -> Linear -> Output."""
    model = ModelGraph(name)
    previous = None
    for type_name, node, params in (
        ("Input", "features", {"shape": [features]}),
        ("Linear", "fc1", {"out_features": hidden}),
        ("ReLU", "relu1", {}),
        ("Linear", "fc2", {"out_features": hidden}),
        ("ReLU", "relu2", {}),
        ("Linear", "head", {"out_features": outputs}),
        ("Output", "output", {}),
    ):
        node = model.add_node(type_name, node, params)
        if previous:
            model.connect(previous, node)
        previous = node
    arrange(model)
    return model


def projects() -> None:
    """diabetes_mlp.json (regression) and wine_mlp.json (classification with class names)."""
    diabetes = coerce_training(
        {
            "task": "regression",
            "data": "csv",
            "data_path": "data/diabetes.csv",
            "targets": ["progression"],
            "loss": "MSELoss",
            "lr": 0.01,
            "batch_size": 32,
            "epochs": 60,
            "device": "cpu",
        }
    )
    save_project(Project(mlp("DiabetesMLP", 10, 32, 1), diabetes), EXAMPLES / "diabetes_mlp.json")
    wine = coerce_training(
        {
            "task": "classification",
            "data": "csv",
            "data_path": "data/wine.csv",
            "targets": ["cultivar"],
            "lr": 0.01,
            "batch_size": 16,
            "epochs": 30,
            "device": "cpu",
        }
    )
    save_project(Project(mlp("WineMLP", 13, 32, 3), wine), EXAMPLES / "wine_mlp.json")


if __name__ == "__main__":
    diabetes_table()
    wine_table()
    projects()
