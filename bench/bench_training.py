"""Training speed: designer model vs hand-written eager, engine vs textbook loop, capture cost."""

from __future__ import annotations

import statistics
import time

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from bench.common import ROOT
from bench.references import TutorialDigitClassifier
from torchcanvas.app.train.data import DataBundle
from torchcanvas.app.train.job import job_from_project
from torchcanvas.app.train.loop import Trainer
from torchcanvas.codegen.build import build_model
from torchcanvas.graph.project import load_project

SAMPLES = 60_000
BATCH = 64


def _project():
    return load_project(ROOT / "assets" / "examples" / "digit_classifier.json")


def _step_time(model, x, y, steps: int) -> float:
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    start = time.perf_counter()
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        F.nll_loss(model(x), y).backward()
        optimizer.step()
    return (time.perf_counter() - start) / steps * 1000


def step_ratio(rounds: int = 7, steps: int = 60) -> dict:
    """(a) ms per training step, designer vs hand-written, interleaved rounds."""
    designer = build_model(_project().model, seed=0)
    hand = TutorialDigitClassifier()
    hand.load_state_dict(designer.state_dict())
    x, y = torch.randn(BATCH, 1, 28, 28), torch.randint(0, 10, (BATCH,))
    _step_time(designer, x, y, 10), _step_time(hand, x, y, 10)
    ours, theirs = [], []
    for _ in range(rounds):
        ours.append(_step_time(designer, x, y, steps))
        theirs.append(_step_time(hand, x, y, steps))
    a, b = statistics.median(ours), statistics.median(theirs)
    return {"designer_step_ms": a, "hand_step_ms": b, "step_ratio": a / b}


def _data(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(SAMPLES, 1, 28, 28, generator=generator), torch.randint(
        0, 10, (SAMPLES,), generator=generator
    )


def textbook_epoch(x, y) -> float:
    """The loop from the tutorials: DataLoader(TensorDataset), zero_grad/backward/step."""
    torch.manual_seed(0)
    model = build_model(_project().model, seed=0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(TensorDataset(x, y), batch_size=BATCH, shuffle=True)
    start = time.perf_counter()
    model.train()
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = F.nll_loss(model(xb), yb)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def engine_epoch(x, y, out_dir: str, capture: list[str]) -> float:
    """One epoch of the TorchCanvas engine on the same data (no validation split)."""
    project = _project()
    nodes = {project.model.id_of(name): name for name in capture}
    return _engine_epoch(project, x, y, out_dir, nodes)


def _engine_epoch(project, x, y, out_dir: str, capture: dict[str, str]) -> float:
    job = job_from_project(
        project,
        out_dir,
        epochs=1,
        batch_size=BATCH,
        val_split=0.0,
        loss="NLLLoss",
        optimizer="Adam",
        lr=1e-3,
        device="cpu",
        capture_nodes=capture,
    )
    bundle = DataBundle(
        "synthetic",
        (1, 28, 28),
        [str(i) for i in range(10)],
        x,
        y,
        x[:0],
        y[:0],
        mean=[0.0],
        std=[1.0],
    )
    events: list[dict] = []
    Trainer(job, events.append, data=bundle).run()
    return next(e["seconds"] for e in events if e["type"] == "epoch")


def epoch_ratios(rounds: int = 4) -> dict:
    """(b) seconds per 60k-sample epoch: textbook, engine, engine with capture on.

    Rounds alternate their order (ABC, CBA, ...) so that drift on a shared machine
    falls on every variant alike; the medians are compared.
    """
    import tempfile

    x, y = _data()
    runs = {
        "textbook": lambda d: textbook_epoch(x, y),
        "engine": lambda d: engine_epoch(x, y, d, []),
        "capture": lambda d: engine_epoch(x, y, d, CAPTURED),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    with tempfile.TemporaryDirectory() as folder:
        for index in range(rounds):
            order = list(runs) if index % 2 == 0 else list(reversed(runs))
            for name in order:
                times[name].append(runs[name](folder))
    text, eng, cap = (statistics.median(times[k]) for k in ("textbook", "engine", "capture"))
    return {
        "textbook_s": text,
        "engine_s": eng,
        "capture_s": cap,
        "engine_speedup": text / eng,
        "capture_overhead": cap / eng - 1,
        "spread": max(times["engine"]) / min(times["engine"]) - 1,
    }


CAPTURED = ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "fc"]


def capture_step_cost(rounds: int = 9, steps: int = 20) -> dict:
    """Extra milliseconds of one captured training step, measured interleaved."""
    from torchcanvas.app.train.capture import Capture

    model = build_model(_project().model, seed=0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.randn(BATCH, 1, 28, 28), torch.randint(0, 10, (BATCH,))
    capture = Capture(model, x[:1], interval=0.0)
    capture.set_nodes({name: name for name in CAPTURED})

    def block(captured: bool) -> float:
        start = time.perf_counter()
        for _ in range(steps):
            if captured:
                capture.attach()
            optimizer.zero_grad(set_to_none=True)
            F.nll_loss(model(x), y).backward()
            if captured:
                capture.finish_step(0)
            optimizer.step()
            if captured:
                capture.collect()
        return (time.perf_counter() - start) / steps * 1000

    plain, captured = [], []
    for _ in range(rounds):
        plain.append(block(False))
        captured.append(block(True))
    extra = statistics.median(captured) - statistics.median(plain)
    per_second = 1 / 0.5  # the engine's default capture interval is 0.5 s
    return {"capture_extra_ms": extra, "capture_rate_overhead": extra / 1000 * per_second}


def run() -> dict:
    """All training benchmarks."""
    torch.set_num_threads(torch.get_num_threads())
    return {**step_ratio(), **capture_step_cost(), **epoch_ratios()}


def report(f: dict) -> str:
    """Human-readable lines."""
    return "\n".join(
        [
            f"(a) training step, DigitClassifier, batch {BATCH}, CPU: designer "
            f"{f['designer_step_ms']:.2f} ms vs hand-written {f['hand_step_ms']:.2f} ms = "
            f"{f['step_ratio']:.3f}x (target <= 1.02x)",
            f"(b) one epoch of {SAMPLES:,} samples: textbook DataLoader loop "
            f"{f['textbook_s']:.2f} s, "
            f"engine {f['engine_s']:.2f} s = {f['engine_speedup']:.2f}x as fast (target >= 1.0x)",
            f"    capture on (7 nodes): {f['capture_s']:.2f} s = "
            f"{f['capture_overhead']:+.1%} over capture off (target <= +3%; engine epochs varied "
            f"by {f['spread']:.0%} between rounds on this machine)",
            f"    one captured step costs {f['capture_extra_ms']:.1f} ms more; at 2 captures/s "
            f"that is {f['capture_rate_overhead']:.1%} of training time",
        ]
    )


if __name__ == "__main__":
    print(report(run()))
