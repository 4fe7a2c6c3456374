"""The run folder is committed every few seconds, not every epoch: the first epoch, then on a
timer, and always at the end and at a pause; what is committed is one consistent epoch."""

from __future__ import annotations

import torch

from tests.conftest import EXAMPLES
from torchcanvas.app.train import loop, runfolder
from torchcanvas.app.train.checkpoint import read_checkpoint
from torchcanvas.app.train.core.records import CommitSchedule
from torchcanvas.app.train.job import job_from_project
from torchcanvas.app.train.loop import Trainer
from torchcanvas.app.train.weights import graph_hash, read_state_dict
from torchcanvas.graph.project import load_project

WINE = EXAMPLES / "wine_mlp.json"


def wine_job(out, **overrides):
    data_path = str(EXAMPLES / "data" / "wine.csv")
    return job_from_project(
        load_project(WINE), str(out), device="cpu", data_path=data_path, **overrides
    )


def spy_commits(monkeypatch) -> list[int]:
    """Record the epoch of every commit, on the training thread or the commit thread."""
    epochs, real = [], runfolder.save_epoch

    def save_epoch(folder, epoch, blobs):
        epochs.append(epoch)
        real(folder, epoch, blobs)

    monkeypatch.setattr(runfolder, "save_epoch", save_epoch)
    return epochs


def committed_pair(out, source) -> int:
    """The committed epoch, after checking model.pt is the checkpoint's model."""
    state = read_state_dict(out / "model.pt")
    checkpoint = read_checkpoint(out / "checkpoint.pt", graph_hash(source))
    assert all(torch.equal(state[k], checkpoint["model"][k]) for k in state)
    return checkpoint["epoch"]


def test_a_fast_run_commits_its_first_and_last_epoch_only(tmp_path, monkeypatch):
    monkeypatch.setattr(loop, "CommitSchedule", lambda: CommitSchedule(seconds=3600))
    commits = spy_commits(monkeypatch)
    job = wine_job(tmp_path / "run", epochs=6)
    final = Trainer(job, lambda event: None).run()
    assert final["type"] == "finished", final
    assert commits == [1, 6]
    assert committed_pair(tmp_path / "run", job.source) == 6
    assert len(read_checkpoint(tmp_path / "run", graph_hash(job.source))["history"]) == 6


def test_every_epoch_is_committed_when_the_timer_allows(tmp_path, monkeypatch):
    monkeypatch.setattr(loop, "CommitSchedule", lambda: CommitSchedule(seconds=0))
    commits = spy_commits(monkeypatch)
    job = wine_job(tmp_path / "run", epochs=4)
    assert Trainer(job, lambda event: None).run()["type"] == "finished"
    assert commits[0] == 1 and commits[-1] == 4 and commits == sorted(commits)
    assert committed_pair(tmp_path / "run", job.source) == 4


class PauseAfter:
    """A window that pauses once `epochs` epochs have ended and looks at the run folder."""

    def __init__(self, trainer_out, epochs: int) -> None:
        self.out, self.epochs, self.seen, self.paused = trainer_out, epochs, 0, None

    def emit(self, event) -> None:
        if event["type"] == "epoch":
            self.seen += 1

    def check(self) -> list:
        return [("pause",)] if self.seen == self.epochs and self.paused is None else []

    def wait_resume(self) -> list:
        self.paused = runfolder.read_manifest(self.out)["epoch"]
        return []


def test_a_pause_commits_the_latest_epoch_first(tmp_path, monkeypatch):
    monkeypatch.setattr(loop, "CommitSchedule", lambda: CommitSchedule(seconds=3600))
    out = tmp_path / "run"
    window = PauseAfter(out, 3)
    job = wine_job(out, epochs=5)
    assert Trainer(job, window.emit, window).run()["type"] == "finished"
    assert window.paused == 3, "the paused run's folder holds the epoch it paused after"
    assert committed_pair(out, job.source) == 5
