"""`torchcanvas train --tensorboard DIR`: the event files read back with TensorBoard's reader."""

from __future__ import annotations

import csv
import math
import re

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tests.conftest import EXAMPLES
from torchcanvas.app.__main__ import main
from torchcanvas.codegen.build import build_model
from torchcanvas.graph.project import load_project

PROJECT = EXAMPLES / "digits_cnn.json"
BATCH = 64
EPOCH_SCALARS = {"train_loss", "train_acc", "val_loss", "val_acc", "lr", "samples_per_s"}


def _train(tmp_path, capsys, name: str, *extra: str) -> tuple[int, str]:
    args = ["train", str(PROJECT), "--epochs", "1", "--batch-size", str(BATCH)]
    code = main([*args, "--out", str(tmp_path / name), *extra])
    return code, capsys.readouterr().out


def _losses(folder) -> list[tuple[str, str]]:
    with open(folder / "metrics.csv", newline="") as handle:
        return [(row["train_loss"], row["val_loss"]) for row in csv.DictReader(handle)]


def test_train_writes_scalars_histograms_and_the_graph(tmp_path, capsys):
    logs = tmp_path / "tb"
    code, out = _train(tmp_path, capsys, "run", "--tensorboard", str(logs))
    assert code == 0 and f"tensorboard --logdir {logs}" in out
    train_size = int(re.search(r"\((\d+) train / ", out).group(1))
    accumulator = EventAccumulator(str(logs), size_guidance={"scalars": 0, "histograms": 0})
    accumulator.Reload()
    tags = accumulator.Tags()

    assert set(tags["scalars"]) == {"train/loss"} | {f"epoch/{k}" for k in EPOCH_SCALARS}
    steps = [event.step for event in accumulator.Scalars("train/loss")]
    assert steps == list(range(1, math.ceil(train_size / BATCH) + 1))  # every step, once
    assert all(math.isfinite(e.value) for e in accumulator.Scalars("train/loss"))
    for key in EPOCH_SCALARS:
        assert [e.step for e in accumulator.Scalars(f"epoch/{key}")] == [1]
    assert 0.5 < accumulator.Scalars("epoch/val_acc")[0].value <= 1.0

    names = [name for name, _ in build_model(load_project(PROJECT).model).named_parameters()]
    assert "conv1.weight" in names and "bn2.bias" in names
    wanted = {f"{kind}/{name}" for kind in ("weights", "gradients") for name in names}
    assert set(tags["histograms"]) == wanted
    for tag in wanted:
        (event,) = accumulator.Histograms(tag)
        assert event.step == 1 and event.histogram_value.num > 0

    assert tags["graph"]
    nodes = [node.name for node in accumulator.Graph().node]
    assert any("Conv2d[conv1]" in name for name in nodes)
    assert any("Linear[fc2]" in name for name in nodes)

    # Logging changes nothing about the run: the same losses without it.
    assert _train(tmp_path, capsys, "plain")[0] == 0
    assert _losses(tmp_path / "run") == _losses(tmp_path / "plain")


def test_a_log_folder_that_cannot_be_written_stops_before_training(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    code = main(
        ["train", str(PROJECT), "--epochs", "1", "--out", str(tmp_path / "run")]
        + ["--tensorboard", str(tmp_path / "file" / "tb")]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "cannot write TensorBoard logs to" in err and "Traceback" not in err
    assert not (tmp_path / "run" / "model.pt").exists()
