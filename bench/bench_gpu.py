"""GPU fast path: the engine against a hand-written loop of the same model on the same device.

Each variant trains one epoch of CIFAR-sized synthetic images (3x32x32, 10 classes) through
the se_cnn example, once by the TorchCanvas engine and once by the loop a careful user writes
(data on the device, randperm batches, the same precision and memory format), and reports
samples/s and the ratio engine/hand. Without CUDA it says so and measures nothing, unless
`--device cpu` asks for the same comparison on the CPU (eager only).

    python bench/bench_gpu.py [--device cuda|cpu] [--samples N] [--rounds R]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from torchcanvas.app.train.data import DataBundle  # noqa: E402
from torchcanvas.app.train.job import job_from_project  # noqa: E402
from torchcanvas.app.train.loop import Trainer  # noqa: E402
from torchcanvas.codegen.build import build_model  # noqa: E402
from torchcanvas.graph.project import load_project  # noqa: E402

BATCH = 256
SHAPE = (3, 32, 32)
# name -> (amp, compile); channels_last follows the engine's rule (convolutions on CUDA)
VARIANTS = {"eager fp32": (False, False), "bf16 + channels_last": (True, False)}
COMPILED = {"bf16 + channels_last + compile": (True, True)}


def _project():
    return load_project(ROOT / "assets" / "examples" / "se_cnn.json")


def _data(samples: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(samples, *SHAPE, generator=generator)
    return x, torch.randint(0, 10, (samples,), generator=generator)


def hand_epoch(x, y, device, amp: bool, compile_model: bool) -> float:
    """Seconds for one epoch of the loop a user writes, after one warm-up epoch."""
    model = build_model(_project().model, seed=0).to(device)
    cuda = device.type == "cuda"
    if cuda:
        model = model.to(memory_format=torch.channels_last)
    step_model = torch.compile(model) if compile_model else model
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = x.to(device), y.to(device)

    def epoch() -> None:
        for index in torch.randperm(len(x), device=device).split(BATCH):
            xb = x[index]
            if cuda:
                xb = xb.contiguous(memory_format=torch.channels_last)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp and cuda):
                loss = F.cross_entropy(step_model(xb).float(), y[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

    epoch()  # warm-up: cuDNN autotuning, compilation
    _sync(device)
    start = time.perf_counter()
    epoch()
    _sync(device)
    return time.perf_counter() - start


def engine_epoch(x, y, device, amp: bool, compile_model: bool) -> float:
    """Seconds of the engine's second epoch (the first warms up as the hand loop's does)."""
    settings = dict(epochs=2, batch_size=BATCH, val_split=0.0, loss="CrossEntropyLoss")
    settings.update(optimizer="Adam", lr=1e-3, device=device.type, amp=amp, compile=compile_model)
    with tempfile.TemporaryDirectory() as folder:
        job = job_from_project(_project(), folder, **settings, capture_nodes={})
        classes = [str(i) for i in range(10)]
        bundle = DataBundle("synthetic", SHAPE, classes, x, y, x[:0], y[:0], [0.0] * 3, [1.0] * 3)
        events: list[dict] = []
        Trainer(job, events.append, data=bundle).run()
    return [e["seconds"] for e in events if e["type"] == "epoch"][-1]


def _sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def run(device: str | None = None, samples: int = 50_000, rounds: int = 3) -> dict:
    """samples/s of hand and engine per variant, medians of `rounds` alternating rounds."""
    if device is None and not torch.cuda.is_available():
        return {"skipped": "no CUDA device here; run on a GPU machine (or --device cpu)"}
    device = torch.device(device or "cuda")
    x, y = _data(samples)
    variants = dict(VARIANTS)
    if device.type == "cuda":
        variants.update(COMPILED)
    else:
        variants = {"eager fp32": (False, False)}
    figures = {"device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu"}
    for name, (amp, compile_model) in variants.items():
        times: dict[str, list[float]] = {"hand": [], "engine": []}
        for index in range(rounds):
            order = ("hand", "engine") if index % 2 == 0 else ("engine", "hand")
            for who in order:
                epoch = hand_epoch if who == "hand" else engine_epoch
                times[who].append(epoch(x, y, device, amp, compile_model))
        hand, engine = (statistics.median(times[k]) for k in ("hand", "engine"))
        figures[name] = {"hand": samples / hand, "engine": samples / engine, "ratio": hand / engine}
    return figures


def report(figures: dict) -> str:
    """A table of samples/s and engine/hand ratios."""
    if "skipped" in figures:
        return f"skipped: {figures['skipped']}"
    lines = [f"device: {figures['device']}", "variant | hand samples/s | engine samples/s | ratio"]
    for name, row in figures.items():
        if isinstance(row, dict):
            lines.append(f"{name} | {row['hand']:,.0f} | {row['engine']:,.0f} | {row['ratio']:.2f}")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("cuda", "cpu"))
    parser.add_argument("--samples", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    print(report(run(options.device, options.samples, options.rounds)))
