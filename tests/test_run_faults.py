"""A run folder stays consistent through kills, full disks, Ctrl-C and bad checkpoints."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from tests.conftest import EXAMPLES, ROOT
from torchcanvas.app.__main__ import main
from torchcanvas.app.train.checkpoint import read_checkpoint
from torchcanvas.app.train.job import job_from_project
from torchcanvas.app.train.loop import Trainer
from torchcanvas.app.train.weights import graph_hash, read_state_dict
from torchcanvas.graph.project import load_project

DIGITS = EXAMPLES / "digits_cnn.json"
RUN_FILES = {"model.pt", "checkpoint.pt", "metrics.csv", "preprocess.json", "manifest.json"}


class Killed(BaseException):
    """Stands for SIGKILL: no handler in the trainer runs after it."""


def digits_job(out: Path, **overrides):
    return job_from_project(load_project(DIGITS), str(out), device="cpu", **overrides)


def arm_at_epoch(epoch: int, armed: list) -> callable:
    """An emit that arms the fault once the event of `epoch` arrives (its save comes next)."""

    def emit(event: dict) -> None:
        if event["type"] == "epoch" and event["epoch"] == epoch:
            armed.append(True)

    return emit


def patch_replace(monkeypatch, out: Path, armed: list, nth: int, fault) -> None:
    """Make the `nth` os.replace into `out` after arming (and, for a full disk, later ones) fail."""
    real, count = os.replace, []

    def replace(src, dst, *args, **kwargs):
        if armed and Path(dst).parent == out:
            count.append(dst)
            if len(count) == nth or (len(count) > nth and fault is not Killed):
                raise fault() if fault is Killed else OSError(errno.ENOSPC, "No space left")
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)


def assert_same_epoch(out: Path, source: str) -> int:
    """What eval and resume read from `out` is one pair: the checkpoint's model is model.pt."""
    state = read_state_dict(out / "model.pt")
    checkpoint = read_checkpoint(out / "checkpoint.pt", graph_hash(source))
    assert state.keys() == checkpoint["model"].keys()
    assert all(torch.equal(state[k], checkpoint["model"][k]) for k in state)
    return checkpoint["epoch"]


@pytest.mark.parametrize("nth", range(1, 11))  # 4 files, manifest, 4 renames, manifest
def test_a_kill_during_the_epoch_save_leaves_one_epoch_pair(tmp_path, monkeypatch, nth):
    out, armed = tmp_path / "run", []
    job = digits_job(out, epochs=2)
    patch_replace(monkeypatch, out, armed, nth, Killed)
    with pytest.raises(Killed):
        Trainer(job, arm_at_epoch(2, armed)).run()
    monkeypatch.undo()
    assert assert_same_epoch(out, job.source) in (1, 2)


@pytest.mark.parametrize("nth", [1, 2, 3, 5])
@pytest.mark.slow
def test_a_full_disk_during_the_epoch_save_keeps_the_last_complete_pair(tmp_path, monkeypatch, nth):
    out, armed = tmp_path / "run", []
    job = digits_job(out, epochs=3)
    patch_replace(monkeypatch, out, armed, nth, OSError)
    final = Trainer(job, arm_at_epoch(2, armed)).run()
    monkeypatch.undo()
    assert final["type"] == "failed" and final["kind"] == "disk", final
    assert "No space left" in final["reason"] and str(out) in final["reason"]
    epoch = assert_same_epoch(out, job.source)
    assert epoch in (1, 2)
    kept = torch.load(final["weights"], weights_only=True)
    assert all(torch.equal(kept[k], v) for k, v in read_state_dict(out / "model.pt").items())


KILL_SCRIPT = """
import os, sys
from pathlib import Path
from torchcanvas.app.train.job import job_from_project
from torchcanvas.app.train.loop import Trainer
from torchcanvas.graph.project import load_project

out, nth = Path(sys.argv[1]), int(sys.argv[2])
real, count, armed = os.replace, [], []

def replace(src, dst, *args, **kwargs):
    if armed and Path(dst).parent == out:
        count.append(dst)
        if len(count) == nth:
            os._exit(9)  # like SIGKILL: no clean-up runs, temporary files stay
    return real(src, dst, *args, **kwargs)

def emit(event):
    if event["type"] == "epoch" and event["epoch"] == 2:
        armed.append(True)

os.replace = replace
job = job_from_project(load_project(sys.argv[3]), str(out), device="cpu", epochs=2)
Trainer(job, emit).run()
"""


@pytest.mark.parametrize("nth", [2, 6])
@pytest.mark.slow
def test_leftovers_of_a_kill_are_ignored_and_cleaned_at_the_next_start(tmp_path, nth):
    out = tmp_path / "run"
    script = tmp_path / "kill.py"
    script.write_text(textwrap.dedent(KILL_SCRIPT))
    done = subprocess.run(
        [sys.executable, str(script), str(out), str(nth), str(DIGITS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 9, done.stderr
    assert {p.name for p in out.iterdir()} - RUN_FILES, "the kill left nothing behind"
    job = digits_job(out, epochs=1, max_steps=2)
    assert assert_same_epoch(out, job.source) in (1, 2)
    final = Trainer(job, lambda event: None).run()
    assert final["type"] == "finished", final
    assert {p.name for p in out.iterdir()} == RUN_FILES
    assert assert_same_epoch(out, job.source) == 0
    raw_model = torch.load(out / "model.pt", weights_only=True)
    raw_checkpoint = torch.load(out / "checkpoint.pt", weights_only=True)
    assert all(torch.equal(raw_model[k], raw_checkpoint["model"][k]) for k in raw_model)


def test_an_out_folder_that_cannot_be_created_is_refused_before_training(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    out = blocker / "run"
    code = main(["train", str(DIGITS), "--epochs", "1", "--device", "cpu", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 2
    assert "epoch" not in captured.out and "training" not in captured.out
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot write") and str(out) in lines[0]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes anywhere")
def test_a_read_only_out_folder_is_refused_before_training(tmp_path, capsys):
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o555)
    try:
        code = main(["train", str(DIGITS), "--epochs", "1", "--device", "cpu", "--out", str(out)])
    finally:
        out.chmod(0o755)
    captured = capsys.readouterr()
    assert code == 2 and "epoch" not in captured.out
    assert captured.err.count("\n") == 1 and "cannot write" in captured.err
    assert list(out.iterdir()) == []


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_saves_one_pair_and_exits_130(tmp_path):
    out = tmp_path / "run"
    process = subprocess.Popen(
        [sys.executable, "-m", "torchcanvas.app", "train", str(DIGITS)]
        + ["--epochs", "1000", "--device", "cpu", "--out", str(out)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("epoch 1/"):
            os.kill(process.pid, signal.SIGINT)
            break
    rest, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    last = rest.strip().splitlines()[-1]
    assert last.startswith("stopped") and str(out / "model.pt") in last
    job = digits_job(out)
    assert assert_same_epoch(out, job.source) >= 1


@pytest.fixture(scope="module")
def adam_checkpoint(tmp_path_factory) -> Path:
    """The checkpoint of one epoch of the digits CNN with the project's optimizer (Adam)."""
    out = tmp_path_factory.mktemp("adam") / "run"
    final = Trainer(digits_job(out, epochs=1), lambda event: None).run()
    assert final["type"] == "finished", final
    return Path(final["checkpoint"])


def resume(tmp_path, checkpoint: Path, **overrides) -> tuple[dict, list[dict]]:
    events: list[dict] = []
    job = digits_job(tmp_path / "again", resume=str(checkpoint), **overrides)
    final = Trainer(job, events.append).run()
    return final, events


@pytest.mark.slow
def test_resume_with_another_optimizer_says_what_differs(tmp_path, adam_checkpoint):
    final, events = resume(tmp_path, adam_checkpoint, optimizer="SGD", epochs=3)
    assert final["type"] == "failed" and final["kind"] == "data", final
    assert "the checkpoint was trained with Adam; the settings say SGD" in final["reason"]
    assert not any(event["type"] in ("steps", "epoch") for event in events)


def damaged(tmp_path, checkpoint: Path, change) -> Path:
    data = torch.load(checkpoint, weights_only=True)
    change(data)
    path = tmp_path / "damaged.pt"
    torch.save(data, path)
    return path


def reshape_and_drop(data: dict) -> None:
    model = data["model"]
    model["conv1.weight"] = torch.zeros(3, 1, 3, 3)
    del model["fc1.bias"]
    model["extra.weight"] = torch.zeros(2)


@pytest.mark.slow
def test_resume_with_a_model_that_does_not_fit_lists_the_tensors(tmp_path, adam_checkpoint):
    path = damaged(tmp_path, adam_checkpoint, reshape_and_drop)
    final, events = resume(tmp_path, path, epochs=3)
    assert final["type"] == "failed" and final["kind"] == "data", final
    reason = final["reason"]
    assert "does not fit the design" in reason and "missing fc1.bias" in reason
    assert "unexpected extra.weight" in reason and "conv1.weight 3x1x3x3" in reason
    assert not any(event["type"] in ("steps", "epoch") for event in events)


def wrong_state(data: dict) -> None:
    data["optimizer"]["state"][0]["exp_avg"] = torch.zeros(2, 2)


def two_groups(data: dict) -> None:
    data["optimizer"]["param_groups"].append(dict(data["optimizer"]["param_groups"][0]))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.update(epoch=10**12), "epoch 1000000000000"),
        (lambda d: d.update(epoch=-1), "epoch -1"),
        (lambda d: d.update(epoch="1"), "epoch"),
        (lambda d: d.update(epoch=True), "epoch"),
        (lambda d: d.update(history="x"), "history"),
        (lambda d: d.update(optimizer=[1]), "optimizer"),
        (lambda d: d.update(settings=None), "settings"),
        (two_groups, "2 parameter groups"),
        (wrong_state, "exp_avg of conv1.weight is 2x2"),
    ],
)
@pytest.mark.slow
def test_a_damaged_checkpoint_is_refused_before_training(
    tmp_path, capsys, adam_checkpoint, change, expected
):
    path = damaged(tmp_path, adam_checkpoint, change)
    args = ["train", str(DIGITS), "--device", "cpu", "--resume", str(path)]
    assert main([*args, "--epochs", "3", "--out", str(tmp_path / "run")]) == 2
    captured = capsys.readouterr()
    assert expected in captured.err and "epoch 2/" not in captured.out


@pytest.mark.slow
def test_a_checkpoint_at_or_past_the_epochs_asks_for_more_epochs(tmp_path, capsys, adam_checkpoint):
    args = ["train", str(DIGITS), "--device", "cpu", "--resume", str(adam_checkpoint)]
    assert main([*args, "--epochs", "1", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "already at epoch 1" in err and "--epochs" in err


@pytest.mark.slow
def test_a_run_folder_of_an_older_version_loads_and_gains_a_manifest(tmp_path, adam_checkpoint):
    legacy = tmp_path / "old"
    legacy.mkdir()
    data = torch.load(adam_checkpoint, weights_only=True)
    del data["optimizer_type"]  # older versions did not write it
    torch.save(data, legacy / "checkpoint.pt")
    torch.save(data["model"], legacy / "model.pt")
    (legacy / ".model.pt.k1ll3d.tmp").write_bytes(b"half a file")
    job = digits_job(legacy, epochs=2, resume=str(legacy / "checkpoint.pt"))
    assert assert_same_epoch(legacy, job.source) == 1
    final = Trainer(job, lambda event: None).run()
    assert final["type"] == "finished", final
    assert [row["epoch"] for row in final["history"]] == [1, 2]
    assert {p.name for p in legacy.iterdir()} == RUN_FILES
    assert assert_same_epoch(legacy, job.source) == 2
