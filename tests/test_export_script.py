"""`export --format script`: a training script that runs under python and torchrun (2 CPU
processes, gloo) and whose model.pt loads strictly into the exported class."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.conftest import EXAMPLES
from tests.datafiles import write_mnist
from tests.test_multi_input import two_arrays, two_inputs_project
from torchcanvas.app.__main__ import main
from torchcanvas.codegen.build import compile_source
from torchcanvas.codegen.emit import emit_module
from torchcanvas.graph.project import load_project

BIN = Path(sys.executable).parent
RUFF = BIN / "ruff"


def export_script(tmp_path: Path, project: Path | str, name: str = "train.py") -> Path:
    out = tmp_path / name
    assert main(["export", str(project), "--format", "script", "-o", str(out)]) == 0
    return out


def run(command: list, cwd: Path, timeout: int = 120) -> str:
    """stdout of a script run with one thread per process (two processes share 2 cores)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout


def exported_class(project: Path | str):
    """The class `torchcanvas export` writes for the project."""
    result = emit_module(load_project(project).model)
    return compile_source(result.source, result.class_name, "<export>")


@pytest.mark.parametrize(
    "example", ["digits_cnn", "diabetes_mlp", "wine_mlp", "sequence_lstm", "mlp"]
)
def test_scripts_are_ruff_clean(tmp_path, example):
    script = export_script(tmp_path, EXAMPLES / f"{example}.json")
    for command in (["check", "--isolated"], ["format", "--check", "--isolated"]):
        done = subprocess.run([RUFF, *command, script], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_python_train_py_writes_weights_that_load_strictly(tmp_path, capsys):
    project = EXAMPLES / "digits_cnn.json"
    script = export_script(tmp_path, project)
    assert "torchrun --nproc_per_node=N train.py" in capsys.readouterr().out
    output = run([sys.executable, script, "--epochs", "2", "--out", "run"], tmp_path)
    assert "rank 0/1: 1438 of 1438 samples per epoch" in output
    last = output.strip().splitlines()[-1]
    assert last.startswith("epoch 2/2") and float(last.split("val accuracy ")[1].split()[0]) > 0.9
    model = exported_class(project)()
    model.load_state_dict(torch.load(tmp_path / "run" / "model.pt", weights_only=True))
    saved = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert saved["epoch"] == 2 and {"model", "optimizer", "epoch", "preprocess"} <= set(saved)


@pytest.mark.slow
def test_torchrun_trains_on_two_cpu_processes_and_rank_0_saves(tmp_path):
    project = EXAMPLES / "digits_cnn.json"
    script = export_script(tmp_path, project)
    command = [BIN / "torchrun", "--standalone", "--nproc_per_node=2", script]
    output = run([*command, "--epochs", "1", "--device", "cpu", "--out", "ddp"], tmp_path)
    assert "rank 0/2: 719 of 1438 samples per epoch" in output
    assert "rank 1/2: 719 of 1438 samples per epoch" in output
    assert output.count("epoch 1/1") == 1  # reported and saved once, by rank 0
    assert sorted(p.name for p in (tmp_path / "ddp").iterdir()) == [
        "checkpoint.pt", "manifest.json", "metrics.csv", "model.pt", "preprocess.json"
    ]  # fmt: skip
    state = torch.load(tmp_path / "ddp" / "model.pt", weights_only=True)
    assert not any(key.startswith("module.") for key in state)
    exported_class(project)().load_state_dict(state)


@pytest.mark.slow
def test_a_csv_regression_script_reports_r2(tmp_path):
    script = export_script(tmp_path, EXAMPLES / "diabetes_mlp.json")
    output = run([sys.executable, script, "--epochs", "30", "--out", "run"], tmp_path)
    last = output.strip().splitlines()[-1]
    assert "val mse" in last and "val mae" in last
    assert float(last.split("val r2 ")[1].split()[0]) > 0.2


@pytest.mark.slow
def test_two_inputs_from_an_npz_and_mnist_files_on_disk(tmp_path):
    project = two_inputs_project(tmp_path, two_arrays())
    script = export_script(tmp_path, project, "two.py")
    output = run([sys.executable, script, "--epochs", "1", "--out", "two"], tmp_path)
    assert "rank 0/1: 96 of 96 samples per epoch" in output
    exported_class(project)().load_state_dict(
        torch.load(tmp_path / "two" / "model.pt", weights_only=True)
    )
    write_mnist(tmp_path / "mnist", count=60)
    document = json.loads((EXAMPLES / "small_cnn.json").read_text())
    document["training"].update(data="mnist", data_root=str(tmp_path / "mnist"))
    (tmp_path / "cnn.json").write_text(json.dumps(document))
    script = export_script(tmp_path, tmp_path / "cnn.json", "cnn.py")
    output = run([sys.executable, script, "--epochs", "1", "--out", "cnn"], tmp_path)
    assert "rank 0/1: 48 of 48 samples per epoch" in output


def test_a_source_the_script_cannot_read_is_refused_and_nothing_written(tmp_path, capsys):
    document = json.loads((EXAMPLES / "small_cnn.json").read_text())
    document["training"].update(data="synthetic")
    (tmp_path / "p.json").write_text(json.dumps(document))
    out = tmp_path / "train.py"
    assert main(["export", str(tmp_path / "p.json"), "--format", "script", "-o", str(out)]) == 2
    assert "'synthetic' is not one of them" in capsys.readouterr().err
    assert not out.exists()
