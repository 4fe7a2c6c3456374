"""Per-epoch overhead on the wine example: the engine (checkpoints, events) vs a textbook loop."""

from __future__ import annotations

import statistics
import tempfile
import time

import torch
from torch.utils.data import DataLoader, TensorDataset

from bench.common import ROOT
from torchcanvas.app.train.data import load_data
from torchcanvas.app.train.job import job_from_project
from torchcanvas.app.train.loop import Trainer
from torchcanvas.codegen.build import build_model
from torchcanvas.graph.project import load_project

WINE = ROOT / "assets" / "examples" / "wine_mlp.json"
EPOCHS_PER_ROUND = 25
ROUNDS = 10  # 250 epochs of each, in alternating order


def _setup():
    """The wine project, its training settings and its data, loaded once for both loops."""
    project = load_project(WINE)
    data_path = str(WINE.parent / project.training["data_path"])
    job = job_from_project(project, "", data_path=data_path, device="cpu")
    bundle = load_data(job.settings, job.input_shape)
    return project, job.settings, bundle


def textbook_round(project, settings, bundle, epochs: int) -> float:
    """Train and validate `epochs` epochs the tutorials' way; the seconds it took."""
    torch.manual_seed(settings["seed"])
    model = build_model(project.model, seed=settings["seed"])
    optimizer = torch.optim.Adam(model.parameters(), lr=settings["lr"])
    loss_fn = torch.nn.CrossEntropyLoss()
    train = DataLoader(
        TensorDataset(bundle.train_x, bundle.train_y),
        batch_size=settings["batch_size"],
        shuffle=True,
    )
    val = DataLoader(TensorDataset(bundle.val_x, bundle.val_y), batch_size=256)
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        for xb, yb in train:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            correct = sum(int((model(xb).argmax(1) == yb).sum()) for xb, yb in val)
        _ = correct / len(bundle.val_y)
    return time.perf_counter() - start


def engine_round(project, settings, bundle, epochs: int, folder: str) -> float:
    """The same epochs through the Trainer and the app's callbacks, writing a run folder;
    the seconds from its first step to its final event (the last save included)."""
    data_path = str(WINE.parent / project.training["data_path"])
    job = job_from_project(project, folder, data_path=data_path, device="cpu", epochs=epochs)
    marks: dict[str, float] = {}

    def emit(event) -> None:
        if event["type"] in ("started", "finished", "failed"):
            marks[event["type"]] = time.perf_counter()

    final = Trainer(job, emit, data=bundle).run()
    if final["type"] != "finished":
        raise RuntimeError(f"the engine run failed: {final['reason']}")
    return marks["finished"] - marks["started"]


def run() -> dict:
    """Interleaved rounds (engine, textbook, then textbook, engine, ...)."""
    project, settings, bundle = _setup()
    runs = {
        "engine": lambda folder: engine_round(project, settings, bundle, EPOCHS_PER_ROUND, folder),
        "textbook": lambda folder: textbook_round(project, settings, bundle, EPOCHS_PER_ROUND),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    with tempfile.TemporaryDirectory() as root:
        runs["engine"](f"{root}/warm"), runs["textbook"](root)
        for index in range(ROUNDS):
            order = list(runs) if index % 2 == 0 else list(reversed(runs))
            for name in order:
                times[name].append(runs[name](f"{root}/run{index}"))
    samples = len(bundle.train_y) * EPOCHS_PER_ROUND * ROUNDS
    engine, textbook = sum(times["engine"]), sum(times["textbook"])
    ratios = [t / e for e, t in zip(times["engine"], times["textbook"])]
    return {
        "epochs": EPOCHS_PER_ROUND * ROUNDS,
        "engine_rate": samples / engine,
        "textbook_rate": samples / textbook,
        "ratio": textbook / engine,
        "median_round_ratio": statistics.median(ratios),
        "engine_epoch_ms": engine / (EPOCHS_PER_ROUND * ROUNDS) * 1000,
        "textbook_epoch_ms": textbook / (EPOCHS_PER_ROUND * ROUNDS) * 1000,
    }


def report(f: dict) -> str:
    """Human-readable lines."""
    return "\n".join(
        [
            f"wine MLP, {f['epochs']} interleaved epochs each, CPU: engine "
            f"{f['engine_rate']:,.0f} samples/s ({f['engine_epoch_ms']:.1f} ms/epoch) vs "
            f"textbook loop {f['textbook_rate']:,.0f} samples/s "
            f"({f['textbook_epoch_ms']:.1f} ms/epoch)",
            f"engine / textbook = {f['ratio']:.2f}x (median of rounds "
            f"{f['median_round_ratio']:.2f}x; target >= 0.9x)",
        ]
    )


if __name__ == "__main__":
    print(report(run()))
